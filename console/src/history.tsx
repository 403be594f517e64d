import { api, must, type Change } from './api';
import { usePages } from './pages-hook';
import { useMe } from './session';
import { LIST_WORDS } from './contact-view';
import { Columns, ErrorText, formatTime, Lines } from './ui';

const CREDENTIALS: Record<Change['actor']['credential']['kind'], string> = {
  basic: 'a password',
  jwt: 'a session',
  api_key: 'an API key',
  cli: 'the command line',
  import: 'an import',
};

/** What happened, in words; a type not listed here is shown as it is. */
const WHAT: Partial<Record<Change['type'], string>> = {
  'contact.created': 'Created',
  'contact.updated': 'Changed',
  'contact.deleted': 'Deleted',
  'contact.restored': 'Restored',
  'contact.erased': 'Erased',
  'contact.merged': 'Merged',
  'consent.updated': 'Consent changed',
  'group.created': 'Created',
  'group.updated': 'Changed',
  'group.deleted': 'Deleted',
  'group.members_added': 'Members added',
  'group.members_removed': 'Members removed',
};

const SURFACES: Record<Change['surface'], string> = {
  v1: 'the API',
  'seed-000': 'the seed 000 API',
  'seed-001': 'the seed 001 API',
  'seed-002': 'the seed 002 API',
  'seed-003': 'the seed 003 API',
  import: 'an import',
  cli: 'the command line',
};

/** A field's value: text as it is, a contact's numbers, addresses, dates... in words, anything else as JSON. */
function Shown({ field, value }: { field: string; value: unknown }) {
  if (value === null || value === undefined) return <>—</>;
  if (typeof value === 'string') return <>{value}</>;
  const words = LIST_WORDS[field as keyof typeof LIST_WORDS] as ((entry: unknown) => string) | undefined;
  if (words && Array.isArray(value)) return <Lines lines={value.map(words)} />;
  return <>{JSON.stringify(value)}</>;
}

/**
 * The change log of one contact or group (GET /v1/{kind}s/{id}/history), newest first, 20 at a time; read again
 * when `revision` changes (the record was saved).
 */
export function History({ kind, id, revision }: { kind: 'contact' | 'group'; id: string; revision: string }) {
  const me = useMe();
  const list = usePages<Change>(
    async (cursor) => {
      const query = { limit: 20, cursor };
      return must(
        kind === 'contact'
          ? await api.GET('/v1/contacts/{id}/history', { params: { path: { id }, query } })
          : await api.GET('/v1/groups/{id}/history', { params: { path: { id }, query } }),
      );
    },
    [kind, id, revision],
  );
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <ErrorText error={list.error} />
      {list.items.length === 0 && !list.error && <p>No changes kept.</p>}
      <ol class="history">
        {list.items.map((change) => (
          <li key={change.seq}>
            <p>
              <strong>{WHAT[change.type] ?? change.type}</strong> · {formatTime(change.occurred_at)}
              {change.version !== null && <> · version {change.version}</>}
              <br />
              <span class="meta">
                by{' '}
                {change.actor.user_id === me.user.id
                  ? 'you'
                  : change.actor.user_id
                    ? 'another user'
                    : 'no user'}{' '}
                with {CREDENTIALS[change.actor.credential.kind]}, through {SURFACES[change.surface]}
              </span>
            </p>
            {change.changes && Object.keys(change.changes).length > 0 && (
              <table class="table">
                <caption class="visually-hidden">Fields changed</caption>
                <Columns names={['Field', 'Before', 'After']} />
                <tbody>
                  {Object.entries(change.changes).map(([field, { old, new: now }]) => (
                    <tr key={field}>
                      <th scope="row">{field}</th>
                      <td>
                        <Shown field={field} value={old} />
                      </td>
                      <td>
                        <Shown field={field} value={now} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {change.contact_ids && <p>{change.contact_ids.length.toLocaleString()} contacts</p>}
          </li>
        ))}
      </ol>
      {list.hasMore && (
        <button type="button" onClick={() => void list.more()}>
          Older changes
        </button>
      )}
    </section>
  );
}
