import { DomainError } from '../domain/errors.js';
import { eachOnce, withPrimary } from '../domain/contact-details.js';
import { normaliseEmail } from '../domain/email.js';
import {
  normalisePhone,
  readPhoneLeniently,
  type NormalisedPhone,
  type UnreadPhone,
} from '../domain/phone.js';
import type { Organisation } from '../domain/records.js';
import type { WarningSink } from '../domain/warnings.js';
import { validateContactText, withoutInvalidText, type ContactInput } from '../domain/contact.js';
import {
  encodeContact,
  storedPhones,
  type ContactFields,
  type ContactRow,
} from '../db/repositories/contact-codec.js';

/*
 * How a contact's numbers and email addresses are read from what a client or a file gives: each
 * number to E.164 (or kept unread by an import), each address normalised, the primary first.
 */

/** How an input is read: against the row it updates, and, for imports, keeping what it can with warnings. */
export interface ReadOptions {
  /** The stored row an update starts from: a number left as stored keeps its reading. */
  stored?: ContactRow;
  /**
   * Given (imports), a field that breaks its rule does not refuse the input: a number that
   * cannot be read is kept raw, anything else is left out, and each is reported here.
   */
  onWarning?: WarningSink;
}

/**
 * A number left as stored (an update's input holds the stored E.164, or the raw text of a
 * number an import kept unread) keeps the reading it was stored with: its raw form is how it
 * was typed, which reading the E.164 again would lose.
 */
export function phoneOf(
  input: string,
  org: Organisation,
  { stored, onWarning, field }: ReadOptions & { field: string },
): NormalisedPhone | UnreadPhone {
  const kept = stored && storedPhones(stored).get(input);
  if (kept) return kept;
  if (!onWarning) return normalisePhone(input, org.default_country, field);
  const { phone, warning } = readPhoneLeniently(input, org.default_country);
  if (warning) onWarning({ ...warning, field, value: input });
  return phone;
}

/** An address, or for an import none, with a warning, when it is not one. */
export function emailOf(input: string, field: string, onWarning: WarningSink | undefined): string | null {
  try {
    return normaliseEmail(input, field);
  } catch (error) {
    if (!onWarning || !(error instanceof DomainError)) throw error;
    onWarning({
      kind: 'email_invalid',
      field,
      value: input,
      reason: `${error.details.fields?.[0]?.message ?? error.message}; left out`,
    });
    return null;
  }
}

/**
 * A list's entries as read, with `primary` (read too) first: withPrimary on what the values read
 * as, so a number given in two spellings ("0412 345 678", "+61412345678") is one number, kept
 * once. Entries that read as nothing (blank, or an address an import left out) are left out.
 */
export function primaryFirst<R extends object>(
  entries: { read: R | null; label?: string | null; primary?: boolean }[],
  primary: R | null | undefined,
  keyOf: (read: R) => string,
): (R & { label: string | null })[] {
  const read = entries.filter((e): e is (typeof entries)[number] & { read: R } => e.read !== null);
  const ordered = withPrimary(read, primary && keyOf(primary), {
    valueOf: (e) => keyOf(e.read),
    isPrimary: (e) => e.primary === true,
    make: (_, old) => ({ read: primary!, label: old?.label ?? null }),
  });
  return eachOnce(
    ordered.map((e) => ({ ...e.read, label: e.label ?? null })),
    keyOf,
  );
}

/**
 * An input read and checked into the columns stored: every number and address read, the primary
 * first, text checked (or, for an import, fields that break their rule left out with a warning).
 * No I/O: an import runs it on a thread of its own. The contacts service adds the one check
 * that reads the database (`user_id`).
 */
export function settleFields(
  org: Organisation,
  given: ContactInput,
  options: ReadOptions = {},
): ContactFields {
  const { onWarning } = options;
  const input = onWarning ? withoutInvalidText(given, onWarning) : (validateContactText(given), given);
  // An empty string is no value; any other is read (blank text is refused as it always was).
  const readPhone = (number: string, field: string) =>
    number ? phoneOf(number, org, { ...options, field }) : null;
  const readEmail = (address: string, field: string) => {
    const read = address ? emailOf(address, field, onWarning) : null;
    return read === null ? null : { address: read };
  };
  // `phone` is read once, as `phone`, where `phones` gives it too (an import warns once about it).
  const phone = input.phone == null ? input.phone : readPhone(input.phone, 'phone');
  const phones = primaryFirst(
    (input.phones ?? []).map((p, i) => ({
      ...p,
      read: p.number === input.phone ? phone! : readPhone(p.number, `phones[${i}].number`),
    })),
    phone,
    (p) => p.e164 ?? p.raw,
  );
  const emailRead = input.email == null ? input.email : readEmail(input.email, 'email');
  const emails = primaryFirst(
    (input.emails ?? []).map((e, i) => ({
      ...e,
      read: e.address === input.email ? emailRead! : readEmail(e.address, `emails[${i}].address`),
    })),
    // An address an import could not read is left out, the list's primary kept; an empty one clears it.
    input.email && emailRead === null ? undefined : emailRead,
    (e) => e.address,
  );
  return encodeContact({ input, phones, emails, uniquePhones: !org.allow_duplicate_phones });
}
