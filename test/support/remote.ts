import type { InjectOptions, LightMyRequestResponse } from 'fastify';

/**
 * An inject-style request sent over HTTP to a running server, answered in inject's shape, so the
 * matrices' helpers (test/support/operations.ts) run against real server processes unchanged.
 */
export async function remote(baseUrl: string, options: InjectOptions): Promise<LightMyRequestResponse> {
  const headers = new Headers(options.headers as Record<string, string>);
  const payload = options.payload;
  let body: BodyInit | undefined;
  if (payload === undefined || typeof payload === 'string') body = payload;
  else if (Buffer.isBuffer(payload)) body = payload as unknown as BodyInit;
  else {
    body = JSON.stringify(payload);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const res = await fetch(`${baseUrl}${options.url as string}`, {
    method: options.method ?? 'GET',
    headers,
    body,
  });
  const text = await res.text();
  return {
    statusCode: res.status,
    headers: Object.fromEntries(res.headers),
    body: text,
    payload: text,
    json: () => JSON.parse(text),
  } as unknown as LightMyRequestResponse;
}
