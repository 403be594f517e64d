import { generateKeyPair, decodeJwt, exportSPKI, SignJWT, type JWTPayload } from 'jose';

/** What the forgeries start from: the app's configured key and real tokens it issued. */
export interface ForgeInput {
  /** The key the app was configured with (ROSTER_JWT_SECRET). */
  secret: string;
  /** A real access token of the victim, a user of organisation A. */
  token: string;
  /** A real access token of a user of organisation B. */
  foreignToken: string;
  /** Organisation A's id, which B's token is pointed at. */
  targetOrg: string;
  /** Another user of A (the owner), whom a changed `sub` names. */
  otherUser: string;
}

/** One attack: a token that must get 401, and what is wrong with it. */
export interface Forged {
  name: string;
  token: string;
}

const encoder = new TextEncoder();
const b64 = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const seconds = () => Math.floor(Date.now() / 1000);

/** Signs claims as the app does (HS256 with its key) unless told otherwise. */
export function sign(
  claims: JWTPayload,
  key: string | Uint8Array | CryptoKey,
  header: { alg: string; [name: string]: unknown } = { alg: 'HS256', typ: 'JWT' },
): Promise<string> {
  const material = typeof key === 'string' ? encoder.encode(key) : key;
  return new SignJWT(claims).setProtectedHeader(header).sign(material);
}

/** A token with the old signature and a changed payload. */
function tampered(token: string, change: (claims: JWTPayload) => JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64(change(decodeJwt(token)))}.${signature}`;
}

const without = (claims: JWTPayload, name: string) =>
  Object.fromEntries(Object.entries(claims).filter(([key]) => key !== name));

/**
 * The well-known JWT attacks, each as a concrete token. `control` is the victim's claims
 * re-signed with the right key: it must be accepted, which shows the key is the app's and
 * that each forgery fails for its own defect only.
 */
export async function forgedTokens(input: ForgeInput): Promise<{ control: string; attacks: Forged[] }> {
  const claims = decodeJwt(input.token);
  const now = seconds();
  const right = (c: JWTPayload) => sign(c, input.secret);
  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  const rsaPublicPem = await exportSPKI(rsa.publicKey);
  const [header, payload, signature] = input.token.split('.') as [string, string, string];
  // The middle of the signature: the last base64url character has bits that decode to nothing.
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');
  const middle = Math.floor(signature.length / 2);
  const badSignature = signature.slice(0, middle) + flip(signature[middle]!) + signature.slice(middle + 1);

  const attacks: [string, string | Promise<string>][] = [
    ['alg none, unsigned', `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`],
    ['alg None, unsigned', `${b64({ alg: 'None', typ: 'JWT' })}.${payload}.`],
    ['alg none with the old signature', `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`],
    ['RS256, own key pair', sign(claims, rsa.privateKey, { alg: 'RS256', typ: 'JWT' })],
    ['ES256, own key pair', sign(claims, ec.privateKey, { alg: 'ES256', typ: 'JWT' })],
    ['HS256 keyed with an RSA public key', sign(claims, rsaPublicPem)],
    ['HS256 with another key', sign(claims, 'not the server secret, but long enough to pass')],
    ['HS384 with the right key', sign(claims, input.secret, { alg: 'HS384', typ: 'JWT' })],
    ['HS512 with the right key', sign(claims, input.secret, { alg: 'HS512', typ: 'JWT' })],
    ['expired', right({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 })],
    ['not yet valid (nbf in the future)', right({ ...claims, nbf: now + 3600, exp: now + 7200 })],
    ['issued in the future (iat)', right({ ...claims, iat: now + 3600, exp: now + 7200 })],
    ['wrong audience', right({ ...claims, aud: 'another-api' })],
    ['wrong issuer', right({ ...claims, iss: 'someone-else' })],
    ['wrong typ header', sign(claims, input.secret, { alg: 'HS256', typ: 'at+jwt' })],
    ...['sub', 'org', 'sid', 'gen', 'exp', 'iat', 'nbf', 'jti', 'iss', 'aud'].map(
      (name): [string, Promise<string>] => [`missing ${name}`, right(without(claims, name))],
    ),
    ['sub changed, old signature', tampered(input.token, (c) => ({ ...c, sub: input.otherUser }))],
    [
      'org changed, old signature',
      tampered(input.token, (c) => ({ ...c, org: decodeJwt(input.foreignToken).org })),
    ],
    ['role claim added, old signature', tampered(input.token, (c) => ({ ...c, role: 'owner' }))],
    ['exp extended, old signature', tampered(input.token, (c) => ({ ...c, exp: now + 86_400 }))],
    ['signature tampered', `${header}.${payload}.${badSignature}`],
    ['signature removed', `${header}.${payload}.`],
    ['an unknown (deleted) user', right({ ...claims, sub: '01a20000-0000-7000-8000-000000000000' })],
    ['another generation of the user', right({ ...claims, gen: Number(claims.gen) + 1 })],
    ['organisation B pointed at A', right({ ...decodeJwt(input.foreignToken), org: input.targetOrg })],
    [
      'organisation B pointed at A, old signature',
      tampered(input.foreignToken, (c) => ({ ...c, org: input.targetOrg })),
    ],
    ['oversized (a right signature over 8 KiB of claims)', right({ ...claims, pad: 'x'.repeat(8192) })],
    ['oversized garbage', 'e'.repeat(12_000)],
    ['garbage', 'garbage'],
    ['three empty parts', '..'],
    ['not base64', '!!!.???.***'],
    ['JSON that is not an object', `${b64('"x"')}.${b64('[]')}.${signature}`],
    ['header only', header],
  ];
  return {
    control: await right(claims),
    attacks: await Promise.all(attacks.map(async ([name, token]) => ({ name, token: await token }))),
  };
}
