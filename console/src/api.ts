import createClient from 'openapi-fetch';
import type { paths } from './schema';

/** The body of an operation's 2xx answer, from Roster's OpenAPI document. */
type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
export type Contact = Json<paths['/v1/contacts/{id}']['get']['responses'][200]>;
export type ContactPage = Json<paths['/v1/contacts']['get']['responses'][200]>;
export type ContactQuery = NonNullable<paths['/v1/contacts']['get']['parameters']['query']>;
export type ContactWrite = NonNullable<
  paths['/v1/contacts']['post']['requestBody']
>['content']['application/json'];
export type Group = Json<paths['/v1/groups/{id}']['get']['responses'][200]>;
export type MemberJob = Json<paths['/v1/groups/{id}/members/matching/{job_id}']['get']['responses'][200]>;
export type ImportJob = Json<paths['/v1/imports/{id}']['get']['responses'][200]>;
export type User = Json<paths['/v1/users/{id}']['get']['responses'][200]>;
export type ApiKey = Json<paths['/v1/api-keys']['post']['responses'][201]>;
export type Organisation = Json<paths['/v1/organisation']['get']['responses'][200]>;
export type Candidates = Json<paths['/v1/duplicates']['get']['responses'][200]>['items'][number];
export type Merge = Json<paths['/v1/contacts/{id}/merge']['post']['responses'][201]>;
export type MergePreview = Json<paths['/v1/contacts/{id}/merge']['post']['responses'][200]>;
export type MergeField = keyof Merge['fields'];
export type Change = Json<paths['/v1/contacts/{id}/history']['get']['responses'][200]>['items'][number];
export type Webhook = Json<paths['/v1/webhooks/{id}']['get']['responses'][200]>;
export type WebhookDelivery = Json<
  paths['/v1/webhooks/{id}/deliveries']['get']['responses'][200]
>['items'][number];
export type Channel = 'sms' | 'whatsapp' | 'email' | 'voice';
export const CHANNELS: Channel[] = ['sms', 'whatsapp', 'email', 'voice'];

/** An error answer, told in the words of its problem+json detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

let accessToken: string | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;

export const api = createClient<paths>({ baseUrl: location.origin });
api.use({
  onRequest({ request }) {
    if (accessToken) request.headers.set('authorization', `Bearer ${accessToken}`);
    // Tells the server to challenge a 401 with Bearer only: a Basic challenge would open the browser's password prompt.
    request.headers.set('x-roster-console', '1');
    return request;
  },
});

/** The words of an error answer: its problem+json detail, else its title, else the status. */
export function problemText(status: number, body: unknown): string {
  const problem = (body ?? {}) as {
    detail?: string;
    title?: string;
    errors?: { field: string; message: string }[];
  };
  const fields = problem.errors?.map((e) => `${e.field}: ${e.message}`).join('; ');
  return problem.detail || fields || problem.title || `The server answered ${status}`;
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** The fields an error answer names, all in the domain's form: `dates[0].date`, also for Ajv's `dates.0.date`. */
export function fieldIssues(error: unknown): FieldIssue[] {
  const body = (error instanceof ApiError ? error.body : null) as { errors?: FieldIssue[] } | null;
  return (body?.errors ?? []).map((issue) => ({
    field: issue.field.replace(/\.(\d+)(?=\.|$)/g, '[$1]'),
    message: issue.message,
  }));
}

/** The data of a 2xx answer, else an ApiError in words. */
export function must<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  throw new ApiError(result.response.status, problemText(result.response.status, result.error), result.error);
}

/** The console's session endpoints take a custom header: the server's CSRF protection. */
async function session(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<Response> {
  return fetch(`/v1/console/session${path}`, {
    method,
    credentials: 'same-origin',
    headers: { 'x-roster-console': '1', ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function keep(response: Response): Promise<void> {
  const body = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiError(response.status, problemText(response.status, body), body);
  const tokens = body as { access_token: string; expires_in: number };
  accessToken = tokens.access_token;
  clearTimeout(refreshTimer);
  // A minute before the access token expires, the cookie's refresh token gets a new one.
  refreshTimer = setTimeout(
    () =>
      void session('POST', '/refresh')
        .then(keep)
        .catch(() => (accessToken = undefined)),
    Math.max(10, tokens.expires_in - 60) * 1000,
  );
}

export const signIn = async (username: string, password: string) =>
  keep(await session('POST', '', { username, password }));

/** Whether the cookie still holds a session (after a reload): then an access token is in memory again. */
export async function resume(): Promise<boolean> {
  try {
    await keep(await session('POST', '/refresh'));
    return true;
  } catch {
    return false;
  }
}

export async function signOut(): Promise<void> {
  clearTimeout(refreshTimer);
  accessToken = undefined;
  await session('DELETE', '');
}

/** The signed-in user's id, from the access token's subject. */
export function currentUserId(): string | undefined {
  const payload = accessToken?.split('.')[1];
  if (!payload) return undefined;
  return (JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { sub: string }).sub;
}

/** A file download from an authenticated GET (a plain link could not send the access token). */
export async function download(path: string, query: Record<string, string>, filename: string): Promise<void> {
  const response = await fetch(`${path}?${new URLSearchParams(query)}`, {
    headers: { authorization: `Bearer ${accessToken}`, 'x-roster-console': '1' },
  });
  if (!response.ok) {
    const body = await response.json().catch(() => undefined);
    throw new ApiError(response.status, problemText(response.status, body), body);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
