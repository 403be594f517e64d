import { useRoute } from 'preact-iso';
import { useState } from 'preact/hooks';
import { api, must, type Webhook, type WebhookDelivery } from '../api';
import { usePages } from '../pages-hook';
import { Columns, ErrorText, formatTime, PageTitle, useLoad } from '../ui';

/** The events field as written: comma-separated change types, or * for all. */
const eventsOf = (text: string) =>
  text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);

/** A signing secret just made: the only time it is shown. */
function Secret({ secret, url }: { secret: string; url: string }) {
  return (
    <div class="notice" role="status">
      <p>
        The signing secret of <strong>{url}</strong>, shown this once only: copy it now.
      </p>
      <code class="secret">{secret}</code>
    </div>
  );
}

/** Webhook endpoints (admins and owners): add (the secret shown once), enable or disable, rotate, test, remove. */
export function Webhooks() {
  const endpoints = useLoad(async () => must(await api.GET('/v1/webhooks')).items, []);
  const [form, setForm] = useState({ url: '', events: '*', description: '' });
  const [secret, setSecret] = useState<{ secret: string; url: string } | undefined>();
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>();
  const act = (work: () => Promise<void>) => async () => {
    setError(undefined);
    setStatus('');
    try {
      await work();
      endpoints.reload();
    } catch (e) {
      setError(e);
    }
  };
  const create = (event: Event) => {
    event.preventDefault();
    void act(async () => {
      const made = must(
        await api.POST('/v1/webhooks', {
          body: { url: form.url, events: eventsOf(form.events), description: form.description || null },
        }),
      );
      setSecret({ secret: made.secret, url: made.url });
      setForm({ url: '', events: '*', description: '' });
    })();
  };
  const setEnabled = (endpoint: Webhook, enabled: boolean) =>
    act(async () => {
      must(
        await api.PATCH('/v1/webhooks/{id}', {
          params: { path: { id: endpoint.id } },
          headers: { 'if-match': `"${endpoint.version}"` },
          body: { enabled },
        }),
      );
      setStatus(`${endpoint.url} ${enabled ? 'enabled' : 'disabled'}.`);
    });
  const rotate = (endpoint: Webhook) =>
    act(async () => {
      const rotated = must(
        await api.POST('/v1/webhooks/{id}/rotate', { params: { path: { id: endpoint.id } } }),
      );
      setSecret({ secret: rotated.secret, url: rotated.url });
    });
  const test = (endpoint: Webhook) =>
    act(async () => {
      must(await api.POST('/v1/webhooks/{id}/test', { params: { path: { id: endpoint.id } } }));
      setStatus(`A test event is on its way to ${endpoint.url}.`);
    });
  const remove = (endpoint: Webhook) =>
    act(async () => {
      must(await api.DELETE('/v1/webhooks/{id}', { params: { path: { id: endpoint.id } } }));
      setStatus(`${endpoint.url} removed.`);
    });
  return (
    <section>
      <PageTitle>Webhooks</PageTitle>
      <p>
        Roster sends each change of the kinds an endpoint asks for, signed as the Standard Webhooks
        specification says (docs/changes.md shows how to verify it).
      </p>
      <ErrorText error={error ?? endpoints.error} />
      <p aria-live="polite">{status}</p>
      {secret && <Secret {...secret} />}
      <table class="table">
        <Columns names={['Endpoint', 'Events', 'State', 'Actions']} />
        <tbody>
          {endpoints.data?.map((w) => (
            <tr key={w.id}>
              <td>
                <a href={`/webhooks/${w.id}`}>{w.url}</a>
                {w.description && <div class="meta">{w.description}</div>}
              </td>
              <td>{w.events.join(', ')}</td>
              <td>
                {w.enabled ? 'enabled' : `disabled${w.disabled_reason ? `: ${w.disabled_reason}` : ''}`}
                {w.previous_secret_expires_at && (
                  <div class="meta">old secret signs until {formatTime(w.previous_secret_expires_at)}</div>
                )}
              </td>
              <td>
                <button
                  type="button"
                  onClick={setEnabled(w, !w.enabled)}
                  aria-label={`${w.enabled ? 'Disable' : 'Enable'} ${w.url}`}
                >
                  {w.enabled ? 'Disable' : 'Enable'}
                </button>
                <button type="button" onClick={rotate(w)} aria-label={`Rotate the secret of ${w.url}`}>
                  Rotate secret
                </button>
                <button type="button" onClick={test(w)} aria-label={`Send a test event to ${w.url}`}>
                  Send test
                </button>
                <button type="button" class="danger" onClick={remove(w)} aria-label={`Remove ${w.url}`}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="record" onSubmit={create} aria-labelledby="new-webhook">
        <h2 id="new-webhook">New endpoint</h2>
        <label>
          Endpoint URL
          <input
            type="url"
            required
            value={form.url}
            placeholder="https://example.com/roster-webhooks"
            onInput={(e) => setForm({ ...form, url: e.currentTarget.value })}
          />
        </label>
        <label>
          Events
          <input
            required
            value={form.events}
            aria-describedby="events-hint"
            onInput={(e) => setForm({ ...form, events: e.currentTarget.value })}
          />
        </label>
        <p class="hint" id="events-hint">
          Change types separated by commas (contact.created, group.members_added…, listed in docs/changes.md),
          or * for every change.
        </p>
        <label>
          Description
          <input
            value={form.description}
            onInput={(e) => setForm({ ...form, description: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Add endpoint</button>
      </form>
    </section>
  );
}

/** One endpoint's deliveries, newest first: each attempt's outcome, and a redelivery. */
export function WebhookDeliveries() {
  const { params } = useRoute();
  const id = params.id!;
  const endpoint = useLoad(
    async () => must(await api.GET('/v1/webhooks/{id}', { params: { path: { id } } })),
    [id],
  );
  const [round, setRound] = useState(0);
  const deliveries = usePages<WebhookDelivery>(
    async (cursor) =>
      must(
        await api.GET('/v1/webhooks/{id}/deliveries', {
          params: { path: { id }, query: { limit: 50, cursor } },
        }),
      ),
    [id, round],
  );
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>();
  const redeliver = async (delivery: WebhookDelivery) => {
    setError(undefined);
    try {
      must(
        await api.POST('/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver', {
          params: { path: { id, delivery_id: delivery.id } },
        }),
      );
      setStatus(`Delivery ${delivery.id} queued again.`);
      setRound((r) => r + 1);
    } catch (e) {
      setError(e);
    }
  };
  if (endpoint.error) return <ErrorText error={endpoint.error} />;
  if (!endpoint.data) return <p aria-live="polite">Loading…</p>;
  return (
    <section>
      <PageTitle>Deliveries to {endpoint.data.url}</PageTitle>
      <p>
        <a href="/webhooks">Back to the endpoints</a>
      </p>
      <ErrorText error={error ?? deliveries.error} />
      <p aria-live="polite">{status}</p>
      <button type="button" onClick={() => setRound((r) => r + 1)}>
        Refresh
      </button>
      <div class="scroll-x" tabIndex={0} role="region" aria-label="Deliveries">
        <table class="table deliveries">
          <Columns
            names={['Event', 'Status', 'Attempts', 'Last answer', 'Next attempt', 'Created']}
            action="Redeliver"
          />
          <tbody>
            {deliveries.items.map((d) => (
              <tr key={d.id}>
                <td>
                  {d.type}
                  {d.seq !== null && <div class="meta">change {d.seq}</div>}
                </td>
                <td>{d.status}</td>
                <td>{d.attempts}</td>
                <td>
                  {d.last_status ?? ''} {d.last_error ?? ''}
                  {d.response_excerpt && <div class="meta">{d.response_excerpt}</div>}
                </td>
                <td>{formatTime(d.next_attempt_at)}</td>
                <td>{formatTime(d.created_at)}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => void redeliver(d)}
                    aria-label={`Redeliver ${d.type} ${d.id}`}
                  >
                    Redeliver
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {deliveries.items.length === 0 && !deliveries.error && <p>No deliveries yet.</p>}
      {deliveries.hasMore && (
        <button type="button" onClick={() => void deliveries.more()}>
          Older deliveries
        </button>
      )}
    </section>
  );
}
