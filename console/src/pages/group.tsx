import { useLocation, useRoute } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { api, must, type Contact, type Group, type MemberJob } from '../api';
import { History } from '../history';
import { usePages } from '../pages-hook';
import { useMe } from '../session';
import { ErrorText, PageTitle, useDebounced, useLoad } from '../ui';

type Translations = { lang: string; name: string; description: string }[];

function GroupForm({ group, onSaved }: { group: Group; onSaved: (g: Group) => void }) {
  const me = useMe();
  const { route } = useLocation();
  const [name, setName] = useState(group.name);
  const [description, setDescription] = useState(group.description ?? '');
  const [translations, setTranslations] = useState<Translations>(
    Object.entries(group.translations).map(([lang, t]) => ({
      lang,
      name: t.name,
      description: t.description ?? '',
    })),
  );
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const saved = must(
        await api.PATCH('/v1/groups/{id}', {
          params: { path: { id: group.id } },
          headers: { 'if-match': `"${group.version}"` },
          body: {
            name,
            description: description || null,
            translations: Object.fromEntries(
              translations
                .filter((t) => t.lang && t.name)
                .map((t) => [t.lang, { name: t.name, description: t.description || null }]),
            ),
          },
        }),
      );
      setStatus('Saved.');
      onSaved(saved);
    } catch (e) {
      setError(e);
    }
  };
  const remove = async () => {
    try {
      must(
        await api.DELETE('/v1/groups/{id}', {
          params: { path: { id: group.id } },
          headers: { 'if-match': `"${group.version}"` },
        }),
      );
      route('/groups');
    } catch (e) {
      setError(e);
    }
  };
  const setTranslation = (i: number, patch: Partial<Translations[number]>) =>
    setTranslations(translations.map((t, j) => (i === j ? { ...t, ...patch } : t)));
  if (!me.canWrite)
    return (
      <dl class="facts">
        <dt>Description</dt>
        <dd>{group.description ?? '—'}</dd>
        {Object.entries(group.translations).map(([lang, t]) => (
          <div key={lang}>
            <dt>Name ({lang})</dt>
            <dd>{t.name}</dd>
          </div>
        ))}
      </dl>
    );
  return (
    <form class="record" onSubmit={save}>
      <label>
        Name
        <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Description
        <textarea
          name="description"
          rows={2}
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
      </label>
      <fieldset>
        <legend>Translations</legend>
        {translations.map((t, i) => (
          <div class="translation" key={i}>
            <label>
              Language
              <input
                value={t.lang}
                size={6}
                onInput={(e) => setTranslation(i, { lang: e.currentTarget.value })}
              />
            </label>
            <label>
              Translated name
              <input value={t.name} onInput={(e) => setTranslation(i, { name: e.currentTarget.value })} />
            </label>
            <label>
              Translated description
              <input
                value={t.description}
                onInput={(e) => setTranslation(i, { description: e.currentTarget.value })}
              />
            </label>
            <button type="button" onClick={() => setTranslations(translations.filter((_, j) => j !== i))}>
              Remove translation
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setTranslations([...translations, { lang: '', name: '', description: '' }])}
        >
          Add translation
        </button>
      </fieldset>
      <ErrorText error={error} />
      <p aria-live="polite">{status}</p>
      <button type="submit">Save group</button>
      <button type="button" class="danger" onClick={() => void remove()}>
        Delete group
      </button>
    </form>
  );
}

function AddMembers({ group, onAdded }: { group: Group; onAdded: () => void }) {
  const [q, setQ] = useState('');
  const settled = useDebounced(q.trim(), 200);
  const found = useLoad(
    async () =>
      settled
        ? must(await api.GET('/v1/contacts', { params: { query: { q: settled, limit: 20, sort: 'name' } } }))
            .items
        : [],
    [settled],
  );
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  const add = async (contacts: Contact[]) => {
    try {
      const result = must(
        await api.POST('/v1/groups/{id}/members', {
          params: { path: { id: group.id } },
          body: { contact_ids: contacts.map((c) => c.id) },
        }),
      );
      setStatus(`Added ${result.added ?? 0}; ${result.already_members ?? 0} already members.`);
      onAdded();
    } catch (e) {
      setError(e);
    }
  };
  const [job, setJob] = useState<MemberJob | undefined>();
  useEffect(() => {
    if (job?.status !== 'running') return;
    const timer = setTimeout(async () => {
      try {
        const next = must(
          await api.GET('/v1/groups/{id}/members/matching/{job_id}', {
            params: { path: { id: group.id, job_id: job.id } },
          }),
        );
        setJob(next);
        if (next.status !== 'running') onAdded();
      } catch (e) {
        setError(e);
      }
    }, 400);
    return () => clearTimeout(timer);
  }, [job]);
  const addAll = async () => {
    setError(undefined);
    try {
      setJob(
        must(
          await api.POST('/v1/groups/{id}/members/matching', {
            params: { path: { id: group.id } },
            body: { q: settled },
          }),
        ),
      );
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="add-title" class="add-members">
      <h2 id="add-title">Add members</h2>
      <label>
        Find contacts to add
        <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      </label>
      {settled && (
        <button type="button" disabled={job?.status === 'running'} onClick={() => void addAll()}>
          Add all contacts matching “{settled}”
        </button>
      )}
      {job && (
        <p class="job" aria-live="polite">
          {job.status === 'running' ? 'Adding…' : job.status === 'completed' ? 'Done:' : 'Stopped:'}{' '}
          {job.matched.toLocaleString()} matching contacts read, {job.added.toLocaleString()} added.{' '}
          {job.error}
        </p>
      )}
      <ErrorText error={error ?? found.error} />
      <p aria-live="polite">{status}</p>
      <ul class="plain">
        {found.data?.map((c) => (
          <li key={c.id}>
            {c.name} {c.phone}{' '}
            <button type="button" onClick={() => void add([c])} aria-label={`Add ${c.name}`}>
              Add
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function GroupPage() {
  const { params } = useRoute();
  const id = params.id!;
  const me = useMe();
  const loaded = useLoad(
    async () => must(await api.GET('/v1/groups/{id}', { params: { path: { id } } })),
    [id],
  );
  const [group, setGroup] = useState<Group | undefined>();
  useEffect(() => setGroup(loaded.data), [loaded.data]);
  const members = usePages<Contact>(
    async (cursor) =>
      must(
        await api.GET('/v1/groups/{id}/members', {
          params: { path: { id }, query: { sort: 'name', limit: 100, cursor } },
        }),
      ),
    [id],
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>();
  const refresh = () => {
    loaded.reload();
    void members.reload();
  };
  const removeSelected = async () => {
    try {
      must(
        await api.DELETE('/v1/groups/{id}/members', {
          params: { path: { id } },
          body: { contact_ids: [...selected] },
        }),
      );
      setSelected(new Set());
      refresh();
    } catch (e) {
      setError(e);
    }
  };
  if (loaded.error) return <ErrorText error={loaded.error} />;
  if (!group) return <p aria-live="polite">Loading…</p>;
  const toggle = (contactId: string) => {
    const next = new Set(selected);
    if (next.has(contactId)) next.delete(contactId);
    else next.add(contactId);
    setSelected(next);
  };
  return (
    <section>
      <PageTitle>{group.name}</PageTitle>
      <p class="count">{group.member_count.toLocaleString()} members</p>
      <GroupForm key={group.version} group={group} onSaved={setGroup} />
      {me.canWrite && <AddMembers group={group} onAdded={refresh} />}
      <section aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <ErrorText error={error ?? members.error} />
        {me.canWrite && (
          <button type="button" disabled={selected.size === 0} onClick={() => void removeSelected()}>
            Remove selected ({selected.size})
          </button>
        )}
        <ul class="plain members">
          {members.items.map((c) => (
            <li key={c.id}>
              {me.canWrite && (
                <input
                  type="checkbox"
                  aria-label={`Select ${c.name}`}
                  checked={selected.has(c.id)}
                  onChange={() => toggle(c.id)}
                />
              )}
              <a href={`/contacts/${c.id}`}>{c.name || '(no name)'}</a> <span class="phone">{c.phone}</span>
            </li>
          ))}
        </ul>
        {members.hasMore && (
          <button type="button" onClick={() => void members.more()}>
            Load more members
          </button>
        )}
      </section>
      <History kind="group" id={group.id} revision={`${group.version}:${group.member_count}`} />
    </section>
  );
}
