import { useEffect, useState } from 'preact/hooks';
import { api, must, type ApiKey, type Organisation, type User } from '../api';
import { usePages } from '../pages-hook';
import { useMe } from '../session';
import { Columns, ErrorText, formatTime, PageTitle, useLoad } from '../ui';

const ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;

function OrganisationSettings() {
  const me = useMe();
  const loaded = useLoad(async () => must(await api.GET('/v1/organisation')), []);
  const [org, setOrg] = useState<Organisation | undefined>();
  const [error, setError] = useState<unknown>();
  const [status, setStatus] = useState('');
  useEffect(() => setOrg(loaded.data), [loaded.data]);
  if (!org) return <ErrorText error={loaded.error} />;
  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const saved = must(
        await api.PATCH('/v1/organisation', {
          headers: { 'if-match': `"${loaded.data!.version}"` },
          body: {
            name: org.name,
            default_country: org.default_country,
            allow_duplicate_phones: org.allow_duplicate_phones,
          },
        }),
      );
      setStatus('Saved.');
      setOrg(saved);
      loaded.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="org-title">
      <h2 id="org-title">Organisation</h2>
      <form class="record" onSubmit={save}>
        <fieldset disabled={!me.canManage}>
          <label>
            Organisation name
            <input value={org.name} onInput={(e) => setOrg({ ...org, name: e.currentTarget.value })} />
          </label>
          <label>
            Default country
            <input
              value={org.default_country}
              size={3}
              maxLength={2}
              onInput={(e) => setOrg({ ...org, default_country: e.currentTarget.value.toUpperCase() })}
            />
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={org.allow_duplicate_phones}
              onChange={(e) => setOrg({ ...org, allow_duplicate_phones: e.currentTarget.checked })}
            />
            Allow several contacts with the same phone
          </label>
        </fieldset>
        <ErrorText error={error} />
        <p aria-live="polite">{status}</p>
        {me.canManage && <button type="submit">Save settings</button>}
      </form>
    </section>
  );
}

function Users() {
  const me = useMe();
  const users = usePages<User>(
    async (cursor) => must(await api.GET('/v1/users', { params: { query: { limit: 100, cursor } } })),
    [],
  );
  const [form, setForm] = useState({
    username: '',
    display_name: '',
    password: '',
    role: 'viewer' as User['role'],
  });
  const [error, setError] = useState<unknown>();
  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      must(await api.POST('/v1/users', { body: { ...form, display_name: form.display_name || undefined } }));
      setForm({ username: '', display_name: '', password: '', role: 'viewer' });
      void users.reload();
    } catch (e) {
      setError(e);
    }
  };
  const setRole = async (user: User, role: User['role']) => {
    setError(undefined);
    try {
      must(
        await api.PATCH('/v1/users/{id}', {
          params: { path: { id: user.id } },
          headers: { 'if-match': `"${user.version}"` },
          body: { role },
        }),
      );
      void users.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      <ErrorText error={error ?? users.error} />
      <table class="table">
        <Columns names={['Username', 'Name', 'Role']} />
        <tbody>
          {users.items.map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>{u.display_name}</td>
              <td>
                {me.canManage && u.id !== me.user.id ? (
                  <select
                    aria-label={`Role of ${u.username}`}
                    value={u.role}
                    onChange={(e) => void setRole(u, e.currentTarget.value as User['role'])}
                  >
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                ) : (
                  u.role
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {me.canManage && (
        <form class="record" onSubmit={create} aria-label="New user">
          <h3>New user</h3>
          <label>
            New username
            <input
              required
              value={form.username}
              onInput={(e) => setForm({ ...form, username: e.currentTarget.value })}
            />
          </label>
          <label>
            Display name
            <input
              value={form.display_name}
              onInput={(e) => setForm({ ...form, display_name: e.currentTarget.value })}
            />
          </label>
          <label>
            Initial password
            <input
              type="password"
              autocomplete="new-password"
              required
              value={form.password}
              onInput={(e) => setForm({ ...form, password: e.currentTarget.value })}
            />
          </label>
          <label>
            Role
            <select
              value={form.role}
              onChange={(e) => setForm({ ...form, role: e.currentTarget.value as User['role'] })}
            >
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <button type="submit">Create user</button>
        </form>
      )}
    </section>
  );
}

function ApiKeys() {
  const keys = useLoad(async () => must(await api.GET('/v1/api-keys')).items, []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<ApiKey | undefined>();
  const [error, setError] = useState<unknown>();
  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      setCreated(must(await api.POST('/v1/api-keys', { body: { name } })));
      setName('');
      keys.reload();
    } catch (e) {
      setError(e);
    }
  };
  const revoke = async (key: ApiKey) => {
    try {
      must(await api.DELETE('/v1/api-keys/{id}', { params: { path: { id: key.id } } }));
      keys.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <ErrorText error={error ?? keys.error} />
      {created?.key && (
        <div class="notice" role="status">
          <p>
            The key <strong>{created.name}</strong>, shown this once only: copy it now.
          </p>
          <code class="secret">{created.key}</code>
        </div>
      )}
      <table class="table">
        <Columns names={['Name', 'Starts with', 'Last used', 'State']} />
        <tbody>
          {keys.data?.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}</code>
              </td>
              <td>{formatTime(k.last_used_at) || 'never'}</td>
              <td>
                {k.revoked_at ? (
                  `revoked ${formatTime(k.revoked_at)}`
                ) : (
                  <button
                    type="button"
                    class="danger"
                    onClick={() => void revoke(k)}
                    aria-label={`Revoke ${k.name}`}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="record" onSubmit={create}>
        <label>
          Key name
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit">Create API key</button>
      </form>
    </section>
  );
}

export function Admin() {
  const me = useMe();
  return (
    <section>
      <PageTitle>Administration</PageTitle>
      <OrganisationSettings />
      <Users />
      {me.canManage && <ApiKeys />}
    </section>
  );
}
