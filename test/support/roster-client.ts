/** A parsed JSON body: each caller reads the fields it asked for. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A JSON answer from the server; a request that got no answer at all throws instead. */
export interface Answer {
  status: number;
  body: Json;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** A raw body (an import file) sent as it is. */
  raw?: Buffer;
}

/** Talks to one running server with one credential. */
export class RosterClient {
  constructor(
    public url: string,
    private readonly authorization: string,
  ) {}

  /** The same credential against another run of the server. */
  at(url: string): RosterClient {
    return new RosterClient(url, this.authorization);
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { authorization: this.authorization, ...options.headers };
    let payload: string | Uint8Array<ArrayBuffer> | undefined = options.raw && new Uint8Array(options.raw);
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.url}${path}`, { method, headers, body: payload });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** Every item of a keyset-paginated /v1 list. */
  async all(path: string): Promise<Json[]> {
    const items: Json[] = [];
    let cursor: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const page = await this.request(
        'GET',
        `${path}${separator}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      if (page.status !== 200) throw new Error(`GET ${path}: ${page.status} ${JSON.stringify(page.body)}`);
      items.push(...page.body.items);
      cursor = page.body.next_cursor;
    } while (cursor);
    return items;
  }
}

/** The bootstrap owner's API key, made through the API: cheap to check on every request, unlike a password. */
export async function ownerApiKey(url: string, username: string, password: string): Promise<RosterClient> {
  const token = await new RosterClient(url, '').request('POST', '/v1/auth/token', {
    body: { username, password },
  });
  if (token.status !== 200) throw new Error(`login failed: ${token.status}`);
  const key = await new RosterClient(url, `Bearer ${token.body.access_token}`).request(
    'POST',
    '/v1/api-keys',
    {
      body: { name: 'crash test' },
    },
  );
  if (key.status !== 201) throw new Error(`API key creation failed: ${key.status}`);
  return new RosterClient(url, `Bearer ${key.body.key}`);
}
