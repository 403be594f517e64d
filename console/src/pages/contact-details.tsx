import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Contact, ContactWrite, FieldIssue } from '../api';
import { capitalised, dateParts, LABELS, MONTHS, type Phone } from '../contact-view';

/*
 * The contact form's lists, as an address book edits them: numbers, emails, postal addresses, dates and links, each
 * row with its label, added and removed. The server judges every value (a number's format, a day of the calendar):
 * its refusals are shown beside the row they name.
 */
type Row<T> = T & { key: number; label: string };
type PhoneRow = Row<{ number: string; primary: boolean; stored?: Phone }>;
type EmailRow = Row<{ address: string; primary: boolean }>;
const PARTS = [
  ['street', 'Street'],
  ['extended', 'Flat, suite, building'],
  ['po_box', 'PO box'],
  ['locality', 'City or town'],
  ['region', 'State or region'],
  ['postal_code', 'Postal code'],
  ['country', 'Country'],
] as const;
type Part = (typeof PARTS)[number][0];
type AddressRow = Row<Record<Part, string>>;
const partsOf = (read: (part: Part) => string) =>
  Object.fromEntries(PARTS.map(([part]) => [part, read(part)])) as Record<Part, string>;
type DateRow = Row<{ day: string; month: string; year: string }>;
type LinkRow = Row<{ url: string }>;

export interface Details {
  phones: PhoneRow[];
  emails: EmailRow[];
  addresses: AddressRow[];
  dates: DateRow[];
  urls: LinkRow[];
}
type List = keyof Details;
/** The form rows sent, by key, in the order sent: the server names a refused entry by its place (`phones[1]`). */
export type Sent = Record<List, number[]>;

let lastKey = 0;
const key = () => ++lastKey;
const blank = {
  phones: (): PhoneRow => ({ key: key(), label: '', number: '', primary: false }),
  emails: (): EmailRow => ({ key: key(), label: '', address: '', primary: false }),
  addresses: (): AddressRow => ({
    key: key(),
    label: 'home',
    ...partsOf(() => ''),
  }),
  dates: (): DateRow => ({ key: key(), label: 'birthday', day: '', month: '', year: '' }),
  urls: (): LinkRow => ({ key: key(), label: '', url: '' }),
};

/** The form's rows for a contact; a number and an email row stand ready even when it has none. */
export function detailsOf(contact: Contact | undefined): Details {
  const atLeastOne = <T,>(rows: T[], make: () => T) => (rows.length > 0 ? rows : [make()]);
  return {
    phones: atLeastOne(
      (contact?.phones ?? []).map((p) => ({
        key: key(),
        label: p.label ?? '',
        number: p.raw,
        primary: p.primary,
        stored: p,
      })),
      blank.phones,
    ),
    emails: atLeastOne(
      (contact?.emails ?? []).map((e) => ({
        key: key(),
        label: e.label ?? '',
        address: e.address,
        primary: e.primary,
      })),
      blank.emails,
    ),
    addresses: (contact?.addresses ?? []).map((a) => ({
      key: key(),
      label: a.label ?? '',
      ...partsOf((part) => a[part] ?? ''),
    })),
    dates: (contact?.dates ?? []).map((d) => {
      const { year, month, day } = dateParts(d.date);
      return { key: key(), label: d.label, year, month, day: String(Number(day)) };
    }),
    urls: (contact?.urls ?? []).map((u) => ({ key: key(), label: u.label ?? '', url: u.url })),
  };
}

const orNull = (text: string) => text.trim() || null;

/** Primary first (the server numbers a refused entry in that order), empty rows left out. */
function primaryFirst<R extends { key: number; primary: boolean }>(
  rows: R[],
  filled: (r: R) => boolean,
): R[] {
  const kept = rows.filter(filled);
  return [...kept.filter((r) => r.primary), ...kept.filter((r) => !r.primary)];
}

/**
 * The lists as a write sends them, and which rows each entry came from. `phone` and `email` name the primary entry
 * (the first when none is marked), so a patch never leaves the stored primary standing beside a new list.
 */
export function detailsBody(details: Details): { body: Partial<ContactWrite>; sent: Sent } {
  const phones = primaryFirst(details.phones, (p) => p.number.trim() !== '');
  const emails = primaryFirst(details.emails, (e) => e.address.trim() !== '');
  const addresses = details.addresses.filter((a) => PARTS.some(([part]) => a[part].trim()));
  const dates = details.dates.filter((d) => d.day.trim() || d.month || d.year.trim());
  const urls = details.urls.filter((u) => u.url.trim());
  // A number kept as it was stored is named by what the server knows it by: E.164, or its raw text when unread.
  const numberOf = (p: PhoneRow) =>
    p.stored && p.number === p.stored.raw ? (p.stored.number ?? p.stored.raw) : p.number.trim();
  const body = {
    phone: phones[0] ? numberOf(phones[0]) : null,
    phones: phones.map((p, i) => ({
      number: numberOf(p),
      label: orNull(p.label),
      ...(i === 0 && { primary: true }),
    })),
    email: emails[0]?.address.trim() ?? null,
    emails: emails.map((e, i) => ({
      address: e.address.trim(),
      label: orNull(e.label),
      ...(i === 0 && { primary: true }),
    })),
    addresses: addresses.map((a) => ({
      label: orNull(a.label),
      ...Object.fromEntries(PARTS.map(([part]) => [part, orNull(a[part])])),
    })),
    // The date as typed: a year of two digits or a 30 February is the server's to refuse, beside this row.
    dates: dates.map((d) => ({
      label: d.label.trim(),
      date: `${d.year.trim() || '-'}-${d.month}-${d.day.trim().padStart(2, '0')}`,
    })),
    urls: urls.map((u) => ({ url: u.url.trim(), label: orNull(u.label) })),
  };
  const keys = (rows: { key: number }[]) => rows.map((r) => r.key);
  return {
    body,
    sent: {
      phones: keys(phones),
      emails: keys(emails),
      addresses: keys(addresses),
      dates: keys(dates),
      urls: keys(urls),
    },
  };
}

/**
 * A select named by a label beside it rather than around it: a label around a select reads its options too
 * ("Label Birthday Anniversary"), for tools that match controls by their label's text.
 */
function Select({ id, name, children }: { id: string; name: string; children: ComponentChildren }) {
  return (
    <div class="select">
      <label for={id}>{name}</label>
      {children}
    </div>
  );
}

/**
 * A label: one of the usual words, or the address book's own (Custom…). Which of the two is the picker's own state,
 * so that typing a custom label that passes through a usual word ("Work" on the way to "Work line") keeps its input.
 */
function LabelPicker({
  id,
  kind,
  value,
  optional,
  onChange,
}: {
  id: string;
  kind: keyof typeof LABELS;
  value: string;
  optional: boolean;
  onChange: (label: string) => void;
}) {
  const usual: readonly string[] = LABELS[kind];
  const [custom, setCustom] = useState(() => value !== '' && !usual.includes(value.toLowerCase()));
  const known = usual.find((l) => l === value.toLowerCase());
  return (
    <>
      <Select id={id} name="Label">
        <select
          id={id}
          value={custom ? '*' : (known ?? '')}
          onChange={(e) => {
            const choice = e.currentTarget.value;
            setCustom(choice === '*');
            onChange(choice === '*' ? '' : choice);
          }}
        >
          {optional && <option value="">No label</option>}
          {usual.map((l) => (
            <option key={l} value={l}>
              {capitalised(l)}
            </option>
          ))}
          <option value="*">Custom…</option>
        </select>
      </Select>
      {custom && (
        <label>
          Custom label
          <input value={value} onInput={(e) => onChange(e.currentTarget.value)} />
        </label>
      )}
    </>
  );
}

interface EditorProps {
  details: Details;
  onChange: (details: Details) => void;
  editable: boolean;
  /** The refusal of the last save, and the rows it sent. */
  issues: FieldIssue[];
  sent: Sent;
  /** The contact that already holds a number (a 409 duplicate_phone). */
  holder?: string;
}

/** One list: its rows, each a named group with its own errors, and buttons to add and remove rows. */
function Rows<L extends List>({
  list,
  noun,
  title,
  label,
  props,
  children,
}: {
  list: L;
  noun: string;
  title: string;
  /** The row's label: its usual choices, and whether a row may have none. */
  label: { kind: keyof typeof LABELS; optional: boolean };
  props: EditorProps;
  children: (
    row: Details[L][number],
    update: (patch: Partial<Details[L][number]>) => void,
    describedBy: string,
    id: (part: string) => string,
  ) => ComponentChildren;
}) {
  const { details, onChange, editable, issues, sent, holder } = props;
  const rows = details[list] as Details[L][number][];
  const set = (next: Details[L][number][]) => onChange({ ...details, [list]: next });
  const update = (row: Details[L][number], patch: Partial<Details[L][number]>) =>
    set(rows.map((r) => (r.key === row.key ? { ...r, ...patch } : r)));
  const errorsOf = (rowKey: number) => {
    const at = sent[list].indexOf(rowKey);
    if (at < 0) return [];
    // `phone` and `email` are the first entries sent.
    const named = [`${list}[${at}]`, ...(at === 0 ? [list.slice(0, -1)] : [])];
    return issues.filter((i) => named.some((n) => i.field === n || i.field.startsWith(`${n}.`)));
  };
  const listWide = issues.filter((i) => i.field === list);
  // The keyboard's place after adding a row: its first input; after removing one: the Add button.
  const fieldset = useRef<HTMLFieldSetElement>(null);
  const focusNext = useRef<number | 'add' | undefined>();
  useEffect(() => {
    const next = focusNext.current;
    if (next === undefined) return;
    const target = fieldset.current?.querySelector<HTMLElement>(
      next === 'add' ? ':scope > button' : `[data-row="${next}"] input:not([type=radio])`,
    );
    // A render of something else may come first (the page's own loading): the row's render focuses it.
    if (!target) return;
    focusNext.current = undefined;
    target.focus();
  });
  return (
    <fieldset class="details" ref={fieldset}>
      <legend>{title}</legend>
      {listWide.map((i) => (
        <p key={i.field} class="error">
          {i.message}
        </p>
      ))}
      {rows.map((row, n) => {
        const errors = errorsOf(row.key);
        const errorId = `${list}-${row.key}-error`;
        return (
          <div
            key={row.key}
            class="detail-row"
            role="group"
            aria-label={`${noun} ${n + 1}`}
            data-row={row.key}
          >
            <LabelPicker
              id={`${list}-${row.key}-label`}
              {...label}
              value={row.label}
              onChange={(picked) => update(row, { label: picked } as Partial<Details[L][number]>)}
            />
            {children(
              row,
              (patch) => update(row, patch),
              errors.length ? errorId : '',
              (part) => `${list}-${row.key}-${part}`,
            )}
            {editable && (
              <button
                type="button"
                class="remove"
                aria-label={`Remove ${noun.toLowerCase()} ${n + 1}`}
                onClick={() => {
                  focusNext.current = 'add';
                  set(rows.filter((r) => r.key !== row.key));
                }}
              >
                Remove
              </button>
            )}
            {errors.length > 0 && (
              <p class="error field-error" id={errorId}>
                {errors.map((e) => `${capitalised(e.message)}.`).join(' ')}
                {holder && list === 'phones' && (
                  <>
                    {' '}
                    <a href={`/contacts/${holder}`}>Open the contact that has it</a>
                  </>
                )}
              </p>
            )}
          </div>
        );
      })}
      {editable && (
        <button
          type="button"
          onClick={() => {
            const added = blank[list]() as Details[L][number];
            focusNext.current = added.key;
            set([...rows, added]);
          }}
        >
          Add {noun.toLowerCase()}
        </button>
      )}
    </fieldset>
  );
}

/** Inputs of a row marked invalid, and described by the row's error, while it has one. */
const invalid = (describedBy: string) =>
  describedBy ? { 'aria-invalid': true as const, 'aria-describedby': describedBy } : {};

/** A labelled text input of a row. */
function RowInput({
  name,
  value,
  onValue,
  describedBy,
  layout,
  ...input
}: {
  name: string;
  value: string;
  onValue: (value: string) => void;
  describedBy: string;
  layout?: 'wide' | 'narrow';
} & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'value' | 'name'>) {
  return (
    <label class={layout}>
      {name}
      <input
        {...input}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
        {...invalid(describedBy)}
      />
    </label>
  );
}

/** Which entry of a list is the primary one: a radio per row, one group per list. */
function PrimaryChoice({ list, checked, onPick }: { list: string; checked: boolean; onPick: () => void }) {
  return (
    <label class="check">
      <input type="radio" name={`primary-${list}`} checked={checked} onChange={onPick} />
      Primary
    </label>
  );
}

export function DetailsEditor(props: EditorProps) {
  const { details, onChange } = props;
  const pick = (list: 'phones' | 'emails', rowKey: number) =>
    onChange({ ...details, [list]: details[list].map((r) => ({ ...r, primary: r.key === rowKey })) });
  // With none marked, the first entry is the primary one (the server's rule).
  const isPrimary = (rows: { primary: boolean }[], i: number) =>
    rows.some((r) => r.primary) ? rows[i]!.primary : i === 0;
  const labelled = (kind: keyof typeof LABELS) => ({ kind, optional: kind !== 'date' });
  return (
    <>
      <Rows list="phones" noun="Phone" title="Phone numbers" label={labelled('phone')} props={props}>
        {(row, update, describedBy) => (
          <>
            <RowInput
              name="Number"
              inputMode="tel"
              autoComplete="off"
              value={row.number}
              onValue={(number) => update({ number })}
              describedBy={describedBy}
            />
            <PrimaryChoice
              list="phones"
              checked={isPrimary(details.phones, details.phones.indexOf(row))}
              onPick={() => pick('phones', row.key)}
            />
            {row.stored && <StoredPhone phone={row.stored} />}
          </>
        )}
      </Rows>
      <Rows list="emails" noun="Email" title="Email addresses" label={labelled('email')} props={props}>
        {(row, update, describedBy) => (
          <>
            <RowInput
              name="Address"
              type="email"
              inputMode="email"
              autoComplete="off"
              value={row.address}
              onValue={(address) => update({ address })}
              describedBy={describedBy}
            />
            <PrimaryChoice
              list="emails"
              checked={isPrimary(details.emails, details.emails.indexOf(row))}
              onPick={() => pick('emails', row.key)}
            />
          </>
        )}
      </Rows>
      <Rows
        list="addresses"
        noun="Address"
        title="Postal addresses"
        label={labelled('address')}
        props={props}
      >
        {(row, update, describedBy) =>
          PARTS.map(([part, name]) => (
            <RowInput
              key={part}
              name={name}
              layout={part === 'street' ? 'wide' : undefined}
              value={row[part]}
              onValue={(value) => update({ [part]: value })}
              describedBy={describedBy}
            />
          ))
        }
      </Rows>
      <Rows list="dates" noun="Date" title="Dates" label={labelled('date')} props={props}>
        {(row, update, describedBy, id) => (
          <>
            <RowInput
              name="Day"
              layout="narrow"
              inputMode="numeric"
              size={2}
              value={row.day}
              onValue={(day) => update({ day })}
              describedBy={describedBy}
            />
            <Select id={id('month')} name="Month">
              <select
                id={id('month')}
                value={row.month}
                onChange={(e) => update({ month: e.currentTarget.value })}
                {...invalid(describedBy)}
              >
                <option value="">Choose</option>
                {MONTHS.map((name, m) => (
                  <option key={name} value={String(m + 1).padStart(2, '0')}>
                    {name}
                  </option>
                ))}
              </select>
            </Select>
            <RowInput
              name="Year (optional)"
              layout="narrow"
              inputMode="numeric"
              size={4}
              value={row.year}
              onValue={(year) => update({ year })}
              describedBy={describedBy}
            />
          </>
        )}
      </Rows>
      <Rows list="urls" noun="Link" title="Links" label={labelled('url')} props={props}>
        {(row, update, describedBy) => (
          <RowInput
            name="Link"
            layout="wide"
            type="url"
            inputMode="url"
            value={row.url}
            onValue={(url) => update({ url })}
            describedBy={describedBy}
          />
        )}
      </Rows>
    </>
  );
}

/** How a stored number was read: E.164 and its validity, or not read at all (kept as written, to correct). */
function StoredPhone({ phone }: { phone: Phone }) {
  if (phone.number === null)
    return (
      <p class="phone-detail unread">
        <strong class="tag">Not read</strong>: kept as written; correct it or leave it.
      </p>
    );
  return (
    <p class="phone-detail">
      Stored as <strong>{phone.number}</strong>
      {phone.valid ? ' (valid)' : ' (possible, not valid)'}
      {phone.raw !== phone.number && <> · entered as “{phone.raw}”</>}
    </p>
  );
}
