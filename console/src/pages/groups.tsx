import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { api, must, type Group } from '../api';
import { useMe } from '../session';
import { Columns, ErrorText, PageTitle, useDebounced } from '../ui';
import { usePages } from '../pages-hook';

export function Groups() {
  const me = useMe();
  const { route } = useLocation();
  const [q, setQ] = useState('');
  const settled = useDebounced(q.trim(), 200);
  const list = usePages<Group>(
    async (cursor) =>
      must(
        await api.GET('/v1/groups', {
          params: { query: { q: settled || undefined, sort: 'name', limit: 100, cursor } },
        }),
      ),
    [settled],
  );
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>();
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const group = must(await api.POST('/v1/groups', { body: { name, description: description || null } }));
      route(`/groups/${group.id}`);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section>
      <PageTitle>Groups</PageTitle>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search groups
          <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </label>
      </form>
      <ErrorText error={list.error} />
      <table class="table">
        <Columns names={['Name', 'Members', 'Description']} />
        <tbody>
          {list.items.map((g) => (
            <tr key={g.id}>
              <td>
                <a href={`/groups/${g.id}`}>{g.name}</a>
              </td>
              <td>{g.member_count.toLocaleString()}</td>
              <td>{g.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.hasMore && (
        <button type="button" onClick={() => void list.more()}>
          Load more groups
        </button>
      )}
      {me.canWrite && (
        <form class="record" onSubmit={create} aria-labelledby="new-group">
          <h2 id="new-group">New group</h2>
          <label>
            Name
            <input name="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Description
            <input
              name="description"
              value={description}
              onInput={(e) => setDescription(e.currentTarget.value)}
            />
          </label>
          <ErrorText error={error} />
          <button type="submit">Create group</button>
        </form>
      )}
    </section>
  );
}
