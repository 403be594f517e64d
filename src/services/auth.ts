import { createHash, createHmac, randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { DomainError } from '../domain/errors.js';
import { uuidv7 } from '../domain/ids.js';
import type { Role } from '../domain/roles.js';
import * as instance from '../db/repositories/instance.js';
import * as credentials from '../db/repositories/credentials.js';
import { findUserRow, type UserRow } from '../db/repositories/users.js';
import type { Store } from '../db/store.js';
import type { Actor, Authenticated } from './context.js';
import { LoginThrottle, THROTTLE_DEFAULTS, type ThrottleStore } from './login-throttle.js';
import { decoyHash, verifyPassword } from './passwords.js';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface AuthOptions {
  jwtSecret: string;
  /** Failed password checks per username; this process's memory unless given (Redis, shared). */
  throttle?: ThrottleStore;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

const ISSUER = 'roster';
const AUDIENCE = 'roster-api';
const BASIC_CACHE_TTL_MS = 5 * 60 * 1000;
const CREDENTIAL_CACHE_MAX = 10_000;
const API_KEY_TOUCH_INTERVAL_MS = 60 * 1000;
/** Roster's own tokens are about 500 characters; anything far longer is refused before it is parsed. */
const MAX_BEARER_LENGTH = 4096;
const CLOCK_TOLERANCE_MS = 5_000;
/** Access tokens whose signature was checked, kept until they expire (about 600 bytes each). */
const VERIFIED_TOKENS_MAX = 10_000;

interface VerifiedClaims {
  sub: string;
  org: string;
  sid: string;
  gen: number;
  exp: number;
}

export const API_KEY_PREFIX = 'rst_';
const REFRESH_PREFIX = 'rrt_';

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const unauthenticated = (message = 'Invalid credentials') => new DomainError('unauthenticated', message);

/**
 * Turns credentials into an Actor. Every path ends with a lookup of the user's current
 * row (on SQLite for an API key or a token, unless nothing was written since), so a disabled
 * user or a changed role takes effect on the next request.
 */
export class AuthService {
  private readonly key: Uint8Array;
  /** Keyed by an HMAC of the credential, never the credential itself; see verifyBasic. */
  private readonly basicCache = new Map<
    string,
    { userId: string; organisationId: string; passwordHash: string; expires: number }
  >();
  private readonly cacheKey = randomBytes(32);
  /** Password checks in progress, by the same HMAC: concurrent requests with one credential share one check. */
  private readonly basicChecks = new Map<string, Promise<UserRow>>();
  private readonly apiKeyTouched = new Map<string, number>();
  /**
   * Credentials verified while the database has not changed since (SQLite's Store.changeMark), by
   * an API key's hash or a token's session: any write, a revocation or a disabled user among them,
   * by this process or another, makes the next request read them again. None on PostgreSQL, which
   * has no such mark.
   */
  private readonly verified = new Map<string, { mark: string; authenticated: Authenticated }>();
  private readonly verifiedTokens = new Map<string, VerifiedClaims>();
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly store: Store,
    private readonly options: AuthOptions,
  ) {
    this.key = new TextEncoder().encode(options.jwtSecret);
    this.throttle = new LoginThrottle(THROTTLE_DEFAULTS, options.throttle);
  }

  /** How long a refresh token lasts: what a cookie holding one should last too. */
  get refreshTokenTtlSeconds(): number {
    return this.options.refreshTokenTtlSeconds;
  }

  /**
   * A slow password hash must not make a hot Basic client slow: after one successful
   * check, the same credential costs a row lookup until the TTL ends or the password
   * hash or the user changes (the cached hash must still equal the stored one).
   */
  async verifyBasic(username: string, password: string): Promise<Authenticated> {
    const cacheKey = createHmac('sha256', this.cacheKey)
      .update(username)
      .update('\0')
      .update(password)
      .digest('base64');
    const cached = this.basicCache.get(cacheKey);
    if (cached && cached.expires > Date.now()) {
      const row = await findUserRow(this.store.scope(cached.organisationId), { id: cached.userId });
      if (row && row.is_active === 1 && row.password_hash === cached.passwordHash)
        return this.actorOf(row, 'basic');
      this.basicCache.delete(cacheKey);
    }
    let check = this.basicChecks.get(cacheKey);
    if (!check) {
      check = this.checkAndCache(cacheKey, username, password);
      this.basicChecks.set(cacheKey, check);
    }
    return this.actorOf(await check, 'basic');
  }

  /**
   * A client that opens many connections at once sends the same credential on all of them;
   * without sharing, each would run its own scrypt (16 MiB, ~120 ms) before the first one fills the cache.
   */
  private async checkAndCache(cacheKey: string, username: string, password: string): Promise<UserRow> {
    try {
      const row = await this.checkPassword(username, password);
      if (this.basicCache.size >= CREDENTIAL_CACHE_MAX)
        this.basicCache.delete(this.basicCache.keys().next().value!);
      this.basicCache.set(cacheKey, {
        userId: row.id,
        organisationId: row.organisation_id,
        passwordHash: row.password_hash,
        expires: Date.now() + BASIC_CACHE_TTL_MS,
      });
      return row;
    } finally {
      this.basicChecks.delete(cacheKey);
    }
  }

  async login(username: string, password: string): Promise<TokenPair> {
    const row = await this.checkPassword(username, password);
    return this.issueTokens(row, uuidv7());
  }

  async verifyBearer(token: string): Promise<Authenticated> {
    if (token.length > MAX_BEARER_LENGTH) throw unauthenticated('Invalid access token');
    if (token.startsWith(API_KEY_PREFIX)) return this.verifyApiKey(token);
    return this.verifyJwt(token);
  }

  /** Rotates a refresh token. Reusing a spent one ends its whole session: it was stolen or replayed. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const row = await this.findRefresh(refreshToken);
    const scope = this.store.scope(row.organisation_id);
    const now = Date.now();
    if (row.revoked_at !== null || row.expires_at <= now) {
      if (row.revoked_at !== null) await this.revokeSession(row.organisation_id, row.family_id);
      throw unauthenticated('Refresh token is expired or revoked');
    }
    if (!(await credentials.consumeRefreshToken(scope, row.id, now))) {
      await this.revokeSession(row.organisation_id, row.family_id);
      throw unauthenticated('Refresh token is expired or revoked');
    }
    const user = await findUserRow(scope, { id: row.user_id });
    if (!user || user.is_active !== 1) throw unauthenticated('User is disabled');
    return this.issueTokens(user, row.family_id);
  }

  /**
   * Ends the session of the access token the caller sent and of the refresh token given,
   * whichever are there: their access tokens are refused from now on, their refresh tokens
   * too. `everywhere` ends every session of the caller's user.
   */
  async logout(
    actor: Actor | undefined,
    refreshToken: string | undefined,
    everywhere = false,
  ): Promise<void> {
    const row = refreshToken === undefined ? undefined : await this.findRefresh(refreshToken);
    if (!actor && !row) throw new DomainError('unauthenticated', 'Send the access token or a refresh token');
    if (actor?.sessionId) await this.revokeSession(actor.organisationId, actor.sessionId);
    if (row) await this.revokeSession(row.organisation_id, row.family_id);
    const user = actor ?? (row && { organisationId: row.organisation_id, userId: row.user_id });
    if (everywhere && user)
      await this.store.transaction(user.organisationId, (scope) =>
        credentials.revokeUserTokens(scope, user.userId, Date.now()),
      );
  }

  /**
   * A session is a refresh-token family; its access tokens carry its id. Revoking it spends
   * the family and lists the id until the last access token it can have issued expires.
   */
  private async revokeSession(organisationId: string, sessionId: string): Promise<void> {
    const now = Date.now();
    await this.store.transaction(organisationId, async (scope) => {
      await credentials.revokeRefreshFamily(scope, sessionId, now);
      await credentials.revokeSession(scope, sessionId, now + this.options.accessTokenTtlSeconds * 1000, now);
    });
  }

  private async findRefresh(refreshToken: string) {
    if (!refreshToken.startsWith(REFRESH_PREFIX)) throw unauthenticated('Invalid refresh token');
    const row = await instance.findRefreshTokenByHash(this.store.db, sha256(refreshToken));
    if (!row) throw unauthenticated('Invalid refresh token');
    return row;
  }

  private async checkPassword(username: string, password: string): Promise<UserRow> {
    await this.throttle.beforeAttempt(username);
    const row = await instance.findUserByUsername(this.store.db, username);
    const ok = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
    if (!row || !ok || row.is_active !== 1) {
      await this.throttle.recordFailure(username);
      throw unauthenticated('Invalid username or password');
    }
    await this.throttle.recordSuccess(username);
    return row;
  }

  /** What `read` gives, read again only once the database has changed since it was kept under `key`. */
  private async whileUnchanged(key: string, read: () => Promise<Authenticated>): Promise<Authenticated> {
    // Taken before the read: a write between the two leaves an entry that is never used.
    const mark = this.store.changeMark();
    const kept = mark === undefined ? undefined : this.verified.get(key);
    if (kept && kept.mark === mark) return { ...kept.authenticated };
    const authenticated = await read();
    if (mark !== undefined) {
      if (this.verified.size >= CREDENTIAL_CACHE_MAX)
        this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, { mark, authenticated: { ...authenticated } });
    }
    return authenticated;
  }

  private async verifyApiKey(token: string): Promise<Authenticated> {
    const hash = sha256(token);
    const authenticated = await this.whileUnchanged(`key ${hash}`, () => this.readApiKey(hash));
    const now = Date.now();
    // last_used_at is shown to admins, not audited: one write a minute a key is precise enough.
    const keyId = authenticated.credentialId!;
    if ((this.apiKeyTouched.get(keyId) ?? 0) + API_KEY_TOUCH_INTERVAL_MS < now) {
      this.apiKeyTouched.set(keyId, now);
      await credentials.touchApiKey(this.store.scope(authenticated.organisationId), keyId, now);
    }
    return authenticated;
  }

  private async readApiKey(hash: string): Promise<Authenticated> {
    const key = await instance.findApiKeyWithUser(this.store.db, hash);
    if (!key || key.revoked_at !== null) throw unauthenticated('Invalid or revoked API key');
    const { user } = key;
    if (user.is_active !== 1) throw unauthenticated('The API key belongs to a disabled user');
    return { ...this.actorOf(user, 'api_key'), credentialId: key.id };
  }

  private async verifyJwt(token: string): Promise<Authenticated> {
    const { sub, org, sid, gen } = await this.verifiedClaims(token);
    return this.whileUnchanged(`session ${org} ${sub} ${sid} ${gen}`, async () => {
      const scope = this.store.scope(org);
      const user = await findUserRow(scope, { id: sub });
      if (!user || user.is_active !== 1) throw unauthenticated('User is disabled');
      if (user.token_generation !== gen || (await credentials.isSessionRevoked(scope, sid)))
        throw unauthenticated('Access token revoked');
      return { ...this.actorOf(user, 'jwt'), sessionId: sid, credentialId: sid };
    });
  }

  /**
   * A client sends the same token with every request until it expires: its signature and
   * claims are checked once, then the token is known by its exact text until its expiry.
   * Revocation is not cached here: the caller reads the user and the session again whenever the
   * database has changed.
   */
  private async verifiedClaims(token: string): Promise<VerifiedClaims> {
    const known = this.verifiedTokens.get(token);
    if (known && known.exp * 1000 > Date.now()) return known;
    if (known) this.verifiedTokens.delete(token);
    const claims = await this.verifySignature(token);
    if (this.verifiedTokens.size >= VERIFIED_TOKENS_MAX)
      this.verifiedTokens.delete(this.verifiedTokens.keys().next().value!);
    this.verifiedTokens.set(token, claims);
    return claims;
  }

  private async verifySignature(token: string): Promise<VerifiedClaims> {
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        typ: 'JWT',
        requiredClaims: ['sub', 'jti', 'iat', 'nbf', 'exp'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        throw new DomainError('unauthenticated', 'Access token expired', { expired: true });
      throw unauthenticated('Invalid access token');
    }
    const { sub, org, sid, gen, iat, exp } = claims;
    if (
      typeof sub !== 'string' ||
      typeof org !== 'string' ||
      typeof sid !== 'string' ||
      typeof gen !== 'number' ||
      !Number.isSafeInteger(gen) ||
      // jose accepts any past iat; one in the future is a forgery or a broken clock.
      iat! * 1000 > Date.now() + CLOCK_TOLERANCE_MS
    )
      throw unauthenticated('Invalid access token');
    return { sub, org, sid, gen, exp: exp! };
  }

  private async issueTokens(user: UserRow, familyId: string): Promise<TokenPair> {
    const now = Date.now();
    const accessToken = await new SignJWT({
      org: user.organisation_id,
      sid: familyId,
      gen: user.token_generation,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setNotBefore(Math.floor(now / 1000))
      .setJti(uuidv7())
      .setExpirationTime(Math.floor(now / 1000) + this.options.accessTokenTtlSeconds)
      .sign(this.key);
    const refreshToken = REFRESH_PREFIX + randomBytes(32).toString('base64url');
    await credentials.insertRefreshToken(this.store.scope(user.organisation_id), {
      id: uuidv7(),
      user_id: user.id,
      family_id: familyId,
      token_hash: sha256(refreshToken),
      expires_at: now + this.options.refreshTokenTtlSeconds * 1000,
      revoked_at: null,
      created_at: now,
    });
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: this.options.accessTokenTtlSeconds,
    };
  }

  private actorOf(row: UserRow, credential: Actor['credential']): Authenticated {
    return {
      organisationId: row.organisation_id,
      userId: row.id,
      userKey: row.key,
      role: row.role as Role,
      credential,
    };
  }
}
