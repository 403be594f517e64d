import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

/** What a receiver got: the raw body and headers, as the signature covers them. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real local receiver: answers each request as `answer` says (status, delay, body). */
export class Receiver {
  readonly received: Received[] = [];
  answer: (n: number) => { status: number; delayMs?: number; body?: string } = () => ({ status: 204 });
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        this.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        const { status, delayMs = 0, body = '' } = this.answer(this.received.length);
        setTimeout(() => {
          if (!response.destroyed) response.writeHead(status).end(body);
        }, delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
  }

  /** Waits until `count` requests came (at most 15 s). */
  async waitFor(count: number): Promise<Received[]> {
    for (let i = 0; i < 600 && this.received.length < count; i++) await new Promise((r) => setTimeout(r, 25));
    return this.received;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Verifies a delivery with the specification's own library, not Roster's signing code. */
export function verify(secret: string, received: Received) {
  return new Webhook(secret).verify(received.body, {
    'webhook-id': received.headers['webhook-id'] as string,
    'webhook-timestamp': received.headers['webhook-timestamp'] as string,
    'webhook-signature': received.headers['webhook-signature'] as string,
  }) as {
    type: string;
    timestamp: string;
    data: Record<string, unknown> & { seq: number; resource: object; contact_ids?: string[] };
  };
}
