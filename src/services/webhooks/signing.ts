import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret: whsec_ and base64 of 32 random bytes (Standard Webhooks). */
export const newSecret = () => PREFIX + randomBytes(32).toString('base64');

/**
 * The webhook-signature header (Standard Webhooks): "v1," and the base64 HMAC-SHA256 of
 * "id.timestamp.body" under each secret, space-separated (two while a rotated secret lasts).
 */
export function signatures(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}
