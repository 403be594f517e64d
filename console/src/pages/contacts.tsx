import { useEffect, useRef, useState } from 'preact/hooks';
import { api, CHANNELS, download, must, type ContactQuery } from '../api';
import { useMe } from '../session';
import { ErrorText, PageTitle, useDebounced, useLoad } from '../ui';
import { VirtualList } from '../virtual-list';

/** What a row shows: kept small, so 100,000 loaded rows stay a few megabytes. */
interface Row {
  id: string;
  name: string;
  /** Job title and company, under the name. */
  role: string;
  /** The primary number: E.164, or as written when an import could not read it (then `unread`). */
  phone: string | null;
  unread: boolean;
  /** How many numbers besides the primary one. */
  morePhones: number;
  email: string | null;
  deleted: boolean;
}
export type Filters = Pick<ContactQuery, 'q' | 'group_id' | 'consent' | 'deleted' | 'sort' | 'order'>;

const FIRST_PAGE = 100;
const NEXT_PAGES = 1000;

/** The list's query, without what is empty. */
export function queryOf(filters: Filters): Record<string, string> {
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== '')) as Record<
    string,
    string
  >;
}

/** Pages through the contacts matching `filters` by cursor, a page at a time as the list asks. */
function useContactPages(filters: Filters) {
  const [rows, setRows] = useState<Row[]>([]);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(false);
  const cursor = useRef<string | null | undefined>(undefined);
  const busy = useRef(false);
  const round = useRef(0);
  const more = async () => {
    if (busy.current || cursor.current === null) return;
    busy.current = true;
    const mine = round.current;
    try {
      const page = must(
        await api.GET('/v1/contacts', {
          params: {
            query: {
              ...(queryOf(filters) as Filters),
              limit: cursor.current === undefined ? FIRST_PAGE : NEXT_PAGES,
              cursor: cursor.current,
            },
          },
        }),
      );
      if (mine !== round.current) return;
      cursor.current = page.next_cursor;
      setDone(page.next_cursor === null);
      setRows((old) => [
        ...old,
        ...page.items.map((c) => ({
          id: c.id,
          name: c.name,
          role: [c.title, c.company].filter(Boolean).join(', '),
          phone: c.phone ?? c.phones[0]?.raw ?? null,
          unread: c.phone === null && c.phones.length > 0,
          morePhones: Math.max(0, c.phones.length - 1),
          email: c.email,
          deleted: c.deleted_at !== null,
        })),
      ]);
    } catch (e) {
      if (mine === round.current) setError(e);
    } finally {
      if (mine === round.current) busy.current = false;
    }
  };
  useEffect(() => {
    round.current++;
    busy.current = false;
    cursor.current = undefined;
    setRows([]);
    setDone(false);
    setError(undefined);
    void more();
  }, [JSON.stringify(filters)]);
  return { rows, error, done, more };
}

export function Contacts() {
  const me = useMe();
  const [filters, setFilters] = useState<Filters>({ sort: 'name', order: 'asc', deleted: 'exclude' });
  const [q, setQ] = useState('');
  const settledQ = useDebounced(q, 200);
  const effective = { ...filters, q: settledQ.trim() || undefined };
  const { rows, error, done, more } = useContactPages(effective);
  const groups = useLoad(
    async () => must(await api.GET('/v1/groups', { params: { query: { limit: 1000, sort: 'name' } } })),
    [],
  );
  const [exportError, setExportError] = useState<unknown>();
  const set = (patch: Partial<Filters>) => setFilters({ ...filters, ...patch });
  const exportAs = (format: 'csv' | 'vcf' | 'jsonl') =>
    download('/v1/contacts/export', { ...queryOf(effective), format }, `contacts.${format}`).then(
      () => setExportError(undefined),
      setExportError,
    );
  return (
    <section>
      <div class="title-row">
        <PageTitle>Contacts</PageTitle>
        {me.canWrite && (
          <a class="button" href="/contacts/new">
            New contact
          </a>
        )}
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            value={q}
            onInput={(e) => setQ(e.currentTarget.value)}
            placeholder="Name, phone, email"
          />
        </label>
        <label>
          Group
          <select
            value={filters.group_id ?? ''}
            onChange={(e) => set({ group_id: e.currentTarget.value || undefined })}
          >
            <option value="">Any group</option>
            {groups.data?.items.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Consent
          <select
            value={filters.consent ?? ''}
            onChange={(e) => set({ consent: e.currentTarget.value || undefined })}
          >
            <option value="">Any consent</option>
            {CHANNELS.flatMap((channel) =>
              ['subscribed', 'unsubscribed'].map((status) => (
                <option key={`${channel}:${status}`} value={`${channel}:${status}`}>
                  {channel} {status}
                </option>
              )),
            )}
          </select>
        </label>
        <label>
          Deleted
          <select
            value={filters.deleted}
            onChange={(e) => set({ deleted: e.currentTarget.value as Filters['deleted'] })}
          >
            <option value="exclude">Hide deleted</option>
            <option value="include">Include deleted</option>
            <option value="only">Only deleted</option>
          </select>
        </label>
        <label>
          Sort
          <select
            value={`${filters.sort}:${filters.order}`}
            onChange={(e) => {
              const [sort, order] = e.currentTarget.value.split(':') as [Filters['sort'], Filters['order']];
              set({ sort, order });
            }}
          >
            <option value="name:asc">Name A–Z</option>
            <option value="name:desc">Name Z–A</option>
            <option value="created_at:desc">Newest first</option>
            <option value="created_at:asc">Oldest first</option>
            <option value="updated_at:desc">Recently changed</option>
          </select>
        </label>
      </form>
      <div class="export" role="group" aria-label="Export these contacts">
        Export:{' '}
        <button type="button" onClick={() => exportAs('csv')}>
          CSV
        </button>
        <button type="button" onClick={() => exportAs('vcf')}>
          vCard
        </button>
        <button type="button" onClick={() => exportAs('jsonl')}>
          JSON Lines
        </button>
      </div>
      <ErrorText error={error ?? exportError ?? groups.error} />
      <p class="count" aria-live="polite">
        {done
          ? `${rows.length.toLocaleString()} contacts`
          : `${rows.length.toLocaleString()}+ contacts loaded`}
      </p>
      <VirtualList
        count={rows.length}
        rowHeight={48}
        label="Contacts"
        onNearEnd={() => void more()}
        row={(i, inTabOrder) => {
          const c = rows[i]!;
          return (
            <a class="contact-row" href={`/contacts/${c.id}`} tabIndex={inTabOrder ? 0 : -1}>
              <span class="person">
                <span class="name">
                  {c.name || '(no name)'}
                  {c.deleted && <span class="tag"> deleted</span>}
                </span>
                {c.role && <span class="role">{c.role}</span>}
              </span>
              <span class="phone">
                {c.phone}
                {c.unread && <span class="more"> (not read)</span>}
                {c.morePhones > 0 && (
                  <span class="more" title={`${c.morePhones} more`}>
                    {' '}
                    +{c.morePhones}
                    <span class="visually-hidden"> more</span>
                  </span>
                )}
              </span>
              <span class="email">{c.email}</span>
            </a>
          );
        }}
      />
    </section>
  );
}
