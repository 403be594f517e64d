import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Secrets Roster must read back (webhook signing secrets) are sealed at rest with AES-256-GCM,
 * under a key that is not in the database: ROSTER_SECRET_KEY, or on SQLite a key file beside
 * the database (cli/store.ts). Sealed text: "v1:" + base64(iv | tag | ciphertext).
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string | Buffer) {
    // Any long random string will do: it is hashed to the 32 bytes AES-256 takes.
    this.key = createHash('sha256').update(secret).digest();
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`;
  }

  open(sealed: string): string {
    const bytes = Buffer.from(sealed.slice('v1:'.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/**
 * The key that seals secrets: ROSTER_SECRET_KEY, else on a SQLite file database a key file beside
 * it (made on first use, readable by its owner only: the database and its backups alone do not
 * open the secrets). PostgreSQL without ROSTER_SECRET_KEY has none, and webhooks are refused.
 */
export function secretBoxFor(config: { secretKey?: string; databaseUrl?: string }): SecretBox | undefined {
  if (config.secretKey) return new SecretBox(config.secretKey);
  const path = config.databaseUrl?.startsWith('sqlite:')
    ? config.databaseUrl.slice('sqlite:'.length)
    : undefined;
  if (!path || path === ':memory:') return undefined;
  const file = join(dirname(path), 'roster-secret.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  return new SecretBox(readFileSync(file, 'utf8').trim());
}
