import { useLocation, useRoute } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  CHANNELS,
  fieldIssues,
  must,
  type Channel,
  type Contact,
  type ContactWrite,
} from '../api';
import { DETAIL_ROWS } from '../contact-view';
import { History } from '../history';
import { useMe } from '../session';
import { ErrorText, formatTime, PageTitle, useLoad } from '../ui';
import { detailsBody, DetailsEditor, detailsOf, type Details, type Sent } from './contact-details';

const TEXT_FIELDS = [
  ['first_name', 'First name'],
  ['last_name', 'Last name'],
  ['nickname', 'Nickname'],
  ['company', 'Company'],
  ['title', 'Job title'],
  ['department', 'Department'],
  ['language', 'Language'],
] as const;
type TextField = (typeof TEXT_FIELDS)[number][0] | 'notes';
type Form = Record<TextField, string> & {
  details: Details;
  custom: string;
  consent: Partial<Record<Channel, string>>;
};
const NOTHING_SENT: Sent = { phones: [], emails: [], addresses: [], dates: [], urls: [] };

function formOf(contact: Contact | undefined): Form {
  return {
    ...(Object.fromEntries(
      [...TEXT_FIELDS.map(([f]) => f), 'notes' as const].map((f) => [f, contact?.[f] ?? '']),
    ) as Record<TextField, string>),
    details: detailsOf(contact),
    custom: JSON.stringify(contact?.custom ?? {}, null, 2),
    consent: Object.fromEntries(CHANNELS.map((c) => [c, contact?.consent[c]?.status ?? ''])),
  };
}

/**
 * What the form changes against `base`: the body of a merge patch (or of a create, against nothing), and which
 * rows its lists were sent from. A list is sent whole when any of its rows changed.
 */
function changesOf(form: Form, base: Form): { body: ContactWrite; sent: Sent } {
  const body: Record<string, unknown> = {};
  for (const field of [...TEXT_FIELDS.map(([f]) => f), 'notes' as const])
    if (form[field] !== base[field]) body[field] = form[field].trim() === '' ? null : form[field].trim();
  const details = detailsBody(form.details);
  const before = detailsBody(base.details).body;
  // phone/email go with their lists: they name the primary entry.
  const pairs = { phones: 'phone', emails: 'email', addresses: '', dates: '', urls: '' } as const;
  for (const [list, primary] of Object.entries(pairs) as [keyof typeof pairs, string][])
    if (JSON.stringify(details.body[list]) !== JSON.stringify(before[list])) {
      body[list] = details.body[list];
      if (primary) body[primary] = details.body[primary as 'phone' | 'email'];
    }
  if (form.custom !== base.custom) {
    let custom: unknown;
    try {
      custom = JSON.parse(form.custom || '{}');
    } catch {
      throw new ApiError(
        400,
        'Custom fields: not valid JSON (write an object such as {"city": "Perth"})',
        null,
      );
    }
    // A merge patch removes the keys it sets to null: keys taken out of the text are removed.
    const before = JSON.parse(base.custom || '{}') as Record<string, unknown>;
    body.custom = { ...Object.fromEntries(Object.keys(before).map((k) => [k, null])), ...(custom as object) };
  }
  const consent = Object.fromEntries(
    CHANNELS.filter((c) => form.consent[c] && form.consent[c] !== base.consent[c]).map((c) => [
      c,
      { status: form.consent[c], source: 'console' },
    ]),
  );
  if (Object.keys(consent).length > 0) body.consent = consent;
  return { body: body as ContactWrite, sent: details.sent };
}

function Groups({ id }: { id: string }) {
  const groups = useLoad(
    async () => must(await api.GET('/v1/contacts/{id}/groups', { params: { path: { id } } })),
    [id],
  );
  return (
    <section aria-labelledby="groups-title">
      <h2 id="groups-title">Groups</h2>
      <ErrorText error={groups.error} />
      {groups.data && groups.data.items.length === 0 && <p>In no group.</p>}
      <ul>
        {groups.data?.items.map((g) => (
          <li key={g.id}>
            <a href={`/groups/${g.id}`}>{g.name}</a>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ContactPage() {
  const { params } = useRoute();
  const id = params.id!;
  const creating = id === 'new';
  const me = useMe();
  const { route } = useLocation();
  const loaded = useLoad(
    async () =>
      creating
        ? undefined
        : must(
            await api.GET('/v1/contacts/{id}', { params: { path: { id }, query: { deleted: 'include' } } }),
          ),
    [id],
  );
  const [contact, setContact] = useState<Contact | undefined>();
  const [form, setForm] = useState<Form>(formOf(undefined));
  const [error, setError] = useState<unknown>();
  const [conflict, setConflict] = useState<Contact | undefined>();
  const [saved, setSaved] = useState('');
  const [sent, setSent] = useState<Sent>(NOTHING_SENT);
  useEffect(() => {
    setContact(loaded.data);
    setForm(formOf(loaded.data));
  }, [loaded.data]);

  const act = async (work: () => Promise<void>) => {
    setError(undefined);
    setSaved('');
    try {
      await work();
    } catch (e) {
      setError(e);
    }
  };
  /** Saves the form's changes against `base`, conditional on its version. */
  const save = (base: Contact | undefined) =>
    act(async () => {
      const changes = changesOf(form, formOf(base && contact));
      setSent(changes.sent);
      if (!base) {
        const created = must(await api.POST('/v1/contacts', { body: changes.body }));
        route(`/contacts/${created.id}`);
        return;
      }
      const result = await api.PATCH('/v1/contacts/{id}', {
        params: { path: { id } },
        body: changes.body,
        headers: { 'if-match': `"${base.version}"` },
      });
      if (result.response.status === 412) {
        setConflict(must(await api.GET('/v1/contacts/{id}', { params: { path: { id } } })));
        return;
      }
      const updated = must(result);
      setConflict(undefined);
      setContact(updated);
      setForm(formOf(updated));
      setSaved('Saved.');
    });
  const remove = () =>
    act(async () => {
      must(
        await api.DELETE('/v1/contacts/{id}', {
          params: { path: { id }, query: {} },
          headers: { 'if-match': `"${contact!.version}"` },
        }),
      );
      loaded.reload();
      setSaved('Deleted. It can be restored.');
    });
  const restore = () =>
    act(async () => {
      const restored = must(await api.POST('/v1/contacts/{id}/restore', { params: { path: { id } } }));
      setContact(restored);
      setForm(formOf(restored));
      setSaved('Restored.');
    });

  if (loaded.error) return <ErrorText error={loaded.error} />;
  if (!creating && !contact) return <p aria-live="polite">Loading…</p>;
  const editable = me.canWrite && !contact?.deleted_at;
  // A refusal's fields are shown beside the inputs they name; a 409 duplicate_phone names the contact holding it.
  const issues = fieldIssues(error);
  const holder =
    (error instanceof ApiError &&
      (error.body as { existing_contact_id?: string } | null)?.existing_contact_id) ||
    undefined;
  const issueOf = (field: string) => issues.find((i) => i.field === field);
  const describedBy = (field: string) =>
    issueOf(field) ? { 'aria-invalid': true as const, 'aria-describedby': `${field}-error` } : {};
  const fieldError = (field: string) => {
    const issue = issueOf(field);
    return issue ? (
      <span class="error field-error" id={`${field}-error`}>
        {issue.message}
      </span>
    ) : null;
  };
  return (
    <section>
      <PageTitle>{creating ? 'New contact' : contact!.name || '(no name)'}</PageTitle>
      {contact?.deleted_at && <p class="notice">Deleted on {formatTime(contact.deleted_at)}.</p>}
      {conflict && (
        <div class="conflict" role="alert">
          <h2>Changed by someone else</h2>
          <p>
            This contact was changed after you opened it. Its current values are below; your changes are still
            in the form.
          </p>
          <dl>
            {TEXT_FIELDS.map(([f, label]) => (
              <div key={f}>
                <dt>{label}</dt>
                <dd>{conflict[f] ?? '—'}</dd>
              </div>
            ))}
            {DETAIL_ROWS.map(([label, read]) => (
              <div key={label}>
                <dt>{label}</dt>
                <dd>{read(conflict).join('; ') || '—'}</dd>
              </div>
            ))}
          </dl>
          <button type="button" onClick={() => void save(conflict)}>
            Reapply my changes
          </button>
          <button
            type="button"
            onClick={() => {
              setContact(conflict);
              setForm(formOf(conflict));
              setConflict(undefined);
            }}
          >
            Discard my changes
          </button>
        </div>
      )}
      <form
        class="record"
        onSubmit={(e) => {
          e.preventDefault();
          void save(contact);
        }}
      >
        <fieldset disabled={!editable}>
          <div class="fields">
            {TEXT_FIELDS.map(([field, label]) => (
              <label key={field}>
                {label}
                <input
                  name={field}
                  readOnly={!editable}
                  value={form[field]}
                  onInput={(e) => setForm({ ...form, [field]: e.currentTarget.value })}
                  {...describedBy(field)}
                />
                {fieldError(field)}
              </label>
            ))}
          </div>
          <DetailsEditor
            details={form.details}
            onChange={(details) => setForm({ ...form, details })}
            editable={editable}
            issues={issues}
            sent={sent}
            holder={holder}
          />
          <label>
            Notes
            <textarea
              name="notes"
              rows={5}
              readOnly={!editable}
              value={form.notes}
              onInput={(e) => setForm({ ...form, notes: e.currentTarget.value })}
              {...describedBy('notes')}
            />
            {fieldError('notes')}
          </label>
          <label>
            Custom fields (JSON)
            <textarea
              name="custom"
              rows={4}
              readOnly={!editable}
              value={form.custom}
              onInput={(e) => setForm({ ...form, custom: e.currentTarget.value })}
            />
          </label>
          <fieldset class="consent">
            <legend>Consent</legend>
            {CHANNELS.map((channel) => {
              const entry = contact?.consent[channel];
              return (
                <div key={channel} class="consent-row">
                  <label>
                    Consent by {channel}
                    <select
                      value={form.consent[channel] ?? ''}
                      onChange={(e) =>
                        setForm({ ...form, consent: { ...form.consent, [channel]: e.currentTarget.value } })
                      }
                    >
                      <option value="">Not given</option>
                      <option value="subscribed">Subscribed</option>
                      <option value="unsubscribed">Unsubscribed</option>
                    </select>
                  </label>
                  {entry && (
                    <span class="meta">
                      {entry.status} via {entry.source}, {formatTime(entry.at)}
                    </span>
                  )}
                </div>
              );
            })}
          </fieldset>
        </fieldset>
        <ErrorText error={error} />
        <p aria-live="polite">{saved}</p>
        {editable && <button type="submit">{creating ? 'Create contact' : 'Save'}</button>}
        {me.canWrite && contact && !contact.deleted_at && (
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete
          </button>
        )}
        {me.canWrite && contact?.deleted_at && (
          <button type="button" onClick={() => void restore()}>
            Restore
          </button>
        )}
      </form>
      {contact && (
        <p class="meta">
          Created {formatTime(contact.created_at)} · changed {formatTime(contact.updated_at)} · version{' '}
          {contact.version}
        </p>
      )}
      {contact && <Groups id={contact.id} />}
      {contact && <History kind="contact" id={contact.id} revision={`${contact.version}`} />}
    </section>
  );
}
