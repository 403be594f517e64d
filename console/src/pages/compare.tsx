import { useLocation } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  CHANNELS,
  must,
  type Contact,
  type Merge,
  type MergeField,
  type MergePreview,
} from '../api';
import { DETAIL_ROWS } from '../contact-view';
import { useMe } from '../session';
import { ErrorText, formatTime, Lines, PageTitle, useLoad } from '../ui';

/** The fields a merge lets one choose the winner of, as the console shows them. */
const FIELDS: [MergeField, string, (c: Contact) => string][] = [
  ['name', 'Name', (c) => c.name],
  ['company', 'Company', (c) => c.company ?? ''],
  [
    'phone',
    'Phone',
    (c) => (c.phone ?? '') + (c.phone_raw && c.phone_raw !== c.phone ? ` (entered as “${c.phone_raw}”)` : ''),
  ],
  ['email', 'Email', (c) => c.email ?? ''],
  ['channel', 'Channel', (c) => c.channel ?? ''],
  ['language', 'Language', (c) => c.language ?? ''],
];
/** What a merge unites rather than chooses: shown to compare, not to pick; a line per value. */
const UNITED: [string, (c: Contact) => string[], ((c: Contact) => boolean)?][] = [
  ...DETAIL_ROWS,
  ...CHANNELS.map((ch): [string, (c: Contact) => string[]] => [
    `Consent by ${ch}`,
    (c) => {
      const entry = c.consent[ch];
      return entry ? [`${entry.status} via ${entry.source}, ${formatTime(entry.at)}`] : [];
    },
  ]),
  ['Custom fields', (c) => (Object.keys(c.custom).length ? [JSON.stringify(c.custom)] : [])],
  ['External ids', (c) => (Object.keys(c.external_ids).length ? [JSON.stringify(c.external_ids)] : [])],
  ['Created', (c) => [formatTime(c.created_at)]],
];
/** Whether a row has something to show of a contact that the rows above do not show already. */
const shows = (c: Contact, read: (c: Contact) => string[], adds?: (c: Contact) => boolean) =>
  read(c).length > 0 && (adds?.(c) ?? true);
/** A merge takes at most this many contacts into one. */
const MAX_CONTACTS = 51;

/** The contacts of a set that are still live (some may have been merged or deleted since it was listed). */
async function loadContacts(ids: string[]): Promise<{ contacts: Contact[]; gone: number }> {
  const read = await Promise.allSettled(
    ids.map(async (id) => must(await api.GET('/v1/contacts/{id}', { params: { path: { id } } }))),
  );
  const failed = read.find(
    (r) => r.status === 'rejected' && !(r.reason instanceof ApiError && r.reason.status === 404),
  );
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const contacts = read.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  return { contacts, gone: ids.length - contacts.length };
}

export function Compare() {
  const me = useMe();
  const { query } = useLocation();
  const named = (query.ids ?? '').split(',').filter(Boolean);
  const ids = named.slice(0, MAX_CONTACTS);
  const loaded = useLoad(() => loadContacts(ids), [ids.join()]);
  const contacts = loaded.data?.contacts ?? [];
  const [survivor, setSurvivor] = useState('');
  const [excluded, setExcluded] = useState<Set<string>>(new Set());
  const [chosen, setChosen] = useState<Partial<Record<MergeField, string>>>({});
  const [preview, setPreview] = useState<MergePreview | undefined>();
  const [merged, setMerged] = useState<Merge | undefined>();
  const [undone, setUndone] = useState<Merge | undefined>();
  const [error, setError] = useState<unknown>();
  // The set read again (after a 412) keeps the choices made; the oldest is kept unless one was chosen.
  useEffect(() => {
    if (!contacts.some((c) => c.id === survivor)) setSurvivor(contacts[0]?.id ?? '');
    setPreview(undefined);
  }, [loaded.data]);

  const label = (id: string) => `contact ${contacts.findIndex((c) => c.id === id) + 1}`;
  const kept = contacts.find((c) => c.id === survivor);
  const included = contacts.filter((c) => !excluded.has(c.id));
  const others = included.filter((c) => c.id !== survivor).map((c) => c.id);
  /** Any change to what is merged, and how, makes the preview stale. */
  const change = (work: () => void) => {
    work();
    setPreview(undefined);
    setError(undefined);
  };
  const request = async (dryRun: boolean) => {
    const fields = Object.fromEntries(
      Object.entries(chosen).filter(([, id]) => included.some((c) => c.id === id)),
    );
    const result = await api.POST('/v1/contacts/{id}/merge', {
      params: { path: { id: survivor }, query: { dry_run: dryRun } },
      headers: { 'if-match': `"${kept!.version}"` },
      body: { ids: others, fields },
    });
    if (result.response.status === 412) {
      loaded.reload();
      throw new ApiError(412, 'Changed by someone else since you opened it: compare again.', null);
    }
    return result;
  };
  const act = async (work: () => Promise<void>) => {
    setError(undefined);
    try {
      await work();
    } catch (e) {
      setError(e);
    }
  };
  const showPreview = () => act(async () => setPreview(must(await request(true)) as MergePreview));
  const merge = () =>
    act(async () => {
      setMerged(must(await request(false)) as Merge);
      setPreview(undefined);
    });
  const undo = () =>
    act(async () => {
      setUndone(must(await api.POST('/v1/merges/{id}/undo', { params: { path: { id: merged!.id } } })));
    });

  if (loaded.error) return <ErrorText error={loaded.error} />;
  if (!loaded.data) return <p aria-live="polite">Loading…</p>;
  const editable = me.canWrite && !merged;
  return (
    <section>
      <PageTitle>Compare duplicates</PageTitle>
      <p>
        <a href="/duplicates">Back to the candidate sets</a>
      </p>
      {loaded.data.gone > 0 && (
        <p class="notice">
          {loaded.data.gone} of this set {loaded.data.gone === 1 ? 'was' : 'were'} not found: merged or
          deleted since, or not of this organisation.
        </p>
      )}
      {named.length > ids.length && (
        <p class="notice">
          The first {ids.length} of {named.length} contacts are shown: a merge takes at most {ids.length - 1}{' '}
          into one. Merge these, then compare the rest.
        </p>
      )}
      {contacts.length < 2 && !merged && <p>Fewer than two live contacts: nothing to merge.</p>}
      <div class="scroll-x" tabIndex={0} role="region" aria-label="The contacts side by side">
        <table class="table compare">
          <thead>
            <tr>
              <th scope="col">Field</th>
              {contacts.map((c, i) => (
                <th scope="col" key={c.id}>
                  <span class="meta">Contact {i + 1}</span>
                  <br />
                  <a href={`/contacts/${c.id}`}>{c.name || '(no name)'}</a>
                  {editable && (
                    <>
                      <label class="check">
                        <input
                          type="radio"
                          name="survivor"
                          checked={survivor === c.id}
                          onChange={() =>
                            change(() => {
                              setSurvivor(c.id);
                              setExcluded(new Set([...excluded].filter((id) => id !== c.id)));
                            })
                          }
                        />
                        Keep contact {i + 1}
                      </label>
                      <label class="check">
                        <input
                          type="checkbox"
                          disabled={survivor === c.id}
                          checked={!excluded.has(c.id)}
                          onChange={(e) => {
                            const on = e.currentTarget.checked;
                            change(() =>
                              setExcluded(
                                new Set(on ? [...excluded].filter((id) => id !== c.id) : [...excluded, c.id]),
                              ),
                            );
                          }}
                        />
                        Merge contact {i + 1}
                      </label>
                    </>
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {FIELDS.filter(([, , read]) => contacts.some(read)).map(([field, name, read]) => {
              const values = included.map(read).filter(Boolean);
              const differ = new Set(values).size > 1;
              return (
                <tr key={field}>
                  <th scope="row">{name}</th>
                  {contacts.map((c, i) => (
                    <td key={c.id} class={excluded.has(c.id) ? 'excluded' : undefined}>
                      {editable && differ && read(c) && !excluded.has(c.id) ? (
                        <label class="check">
                          <input
                            type="radio"
                            name={`field-${field}`}
                            checked={chosen[field] === c.id}
                            onChange={() => change(() => setChosen({ ...chosen, [field]: c.id }))}
                          />
                          <span>
                            {read(c)}
                            <span class="visually-hidden">
                              {' '}
                              (use contact {i + 1}’s {name.toLowerCase()})
                            </span>
                          </span>
                        </label>
                      ) : (
                        read(c)
                      )}
                    </td>
                  ))}
                </tr>
              );
            })}
            {UNITED.filter(([, read, adds]) => contacts.some((c) => shows(c, read, adds))).map(
              ([name, read]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  {contacts.map((c) => (
                    <td key={c.id} class={excluded.has(c.id) ? 'excluded' : undefined}>
                      <Lines lines={read(c)} />
                    </td>
                  ))}
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
      {editable && contacts.length >= 2 && (
        <p class="hint">
          Where values differ, choose the one to keep; otherwise the kept contact’s value wins, then the
          others’ in order. Custom fields, external ids and groups are united; consent takes the most
          protective state per channel (an unsubscribe anywhere wins).
        </p>
      )}
      <ErrorText error={error} />
      {editable && others.length > 0 && (
        <button type="button" onClick={() => void showPreview()}>
          Preview merge
        </button>
      )}
      {preview && (
        <section class="notice" aria-labelledby="preview-title">
          <h2 id="preview-title" tabIndex={-1}>
            After the merge (preview)
          </h2>
          <Outcome outcome={preview} label={label} />
          <button type="submit" onClick={() => void merge()}>
            Merge {others.length} into {label(survivor)}
          </button>
        </section>
      )}
      {merged && (
        <section class="notice" aria-labelledby="merged-title">
          <h2 id="merged-title">{undone ? 'Merge undone' : 'Merged'}</h2>
          <p role="status">
            {undone
              ? `The merge was undone at ${formatTime(undone.undone_at)}.`
              : `${merged.merged_ids.length} merged into `}
            {!undone && <a href={`/contacts/${merged.contact_id}`}>{merged.contact?.name || '(no name)'}</a>}
          </p>
          {undone?.not_undone && undone.not_undone.length > 0 && (
            <>
              <h3>Left as they are</h3>
              <ul>
                {undone.not_undone.map((n) => (
                  <li key={n.contact_id}>
                    {label(n.contact_id)}: {n.reason}
                  </li>
                ))}
              </ul>
            </>
          )}
          {me.canWrite && !undone && (
            <button type="button" onClick={() => void undo()}>
              Undo merge
            </button>
          )}
        </section>
      )}
    </section>
  );
}

/** What a merge would do (or did): the kept contact's values and where each came from. */
function Outcome({ outcome, label }: { outcome: MergePreview; label: (id: string) => string }) {
  const c = outcome.contact;
  const from = (id: string | undefined) => (id ? ` (from ${label(id)})` : '');
  return (
    <dl class="facts">
      {FIELDS.filter(([, , read]) => read(c)).map(([field, name, read]) => (
        <div key={field} class="fact">
          <dt>{name}</dt>
          <dd>
            {read(c)}
            {from(outcome.fields[field])}
          </dd>
        </div>
      ))}
      {CHANNELS.filter((ch) => c.consent[ch]).map((ch) => (
        <div key={ch} class="fact">
          <dt>Consent by {ch}</dt>
          <dd>
            {c.consent[ch]!.status} via {c.consent[ch]!.source}
            {from(outcome.consent_from[ch])}
          </dd>
        </div>
      ))}
      {DETAIL_ROWS.filter(([, read, adds]) => shows(c, read, adds)).map(([name, read]) => (
        <div key={name} class="fact">
          <dt>{name}</dt>
          <dd>
            <Lines lines={read(c)} />
          </dd>
        </div>
      ))}
      <div class="fact">
        <dt>Custom fields</dt>
        <dd>{Object.keys(c.custom).length ? JSON.stringify(c.custom) : '—'}</dd>
      </div>
      <div class="fact">
        <dt>Groups joined</dt>
        <dd>{outcome.groups_added.length}</dd>
      </div>
    </dl>
  );
}
