import { randomBytes } from 'node:crypto';
import { DomainError, invalid, notFound, forbidden } from '../domain/errors.js';
import { isCountryCode } from '../domain/phone.js';
import { isUuid, uuidv7 } from '../domain/ids.js';
import type { ApiKey, Organisation, User } from '../domain/records.js';
import { ROLES, requirePermission, type Role } from '../domain/roles.js';
import * as instance from '../db/repositories/instance.js';
import * as credentials from '../db/repositories/credentials.js';
import * as users from '../db/repositories/users.js';
import * as contacts from '../db/repositories/contacts.js';
import type { TenantScope } from '../db/scope.js';
import type { Store } from '../db/store.js';
import { isUniqueViolation } from '../db/errors.js';
import { API_KEY_PREFIX, sha256 } from './auth.js';
import { operator, type Actor } from './context.js';
import { hashPassword, MIN_PASSWORD_LENGTH } from './passwords.js';
import { changedMeanwhile, checkVersion } from './versions.js';

export interface OrganisationInput {
  name: string;
  default_country?: string;
  default_language?: string;
  allow_duplicate_phones?: boolean;
}

export interface UserInput {
  username: string;
  password: string;
  display_name?: string;
  email?: string | null;
  role: Role;
}

export interface UserPatch {
  display_name?: string;
  email?: string | null;
  role?: Role;
  is_active?: boolean;
  password?: string;
}

function checkCountry(country: string): string {
  const upper = country.toUpperCase();
  if (!isCountryCode(upper))
    throw invalid('default_country', 'must be an ISO 3166-1 alpha-2 country code such as US or AU');
  return upper;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw invalid('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
}

/** Organisations, their users and API keys. */
export class AccountsService {
  constructor(private readonly store: Store) {}

  /** Whether the instance has no organisation yet: a first start, which the CLI bootstraps. */
  async isEmpty(): Promise<boolean> {
    return (await instance.countOrganisations(this.store.db)) === 0;
  }

  async createOrganisation(input: OrganisationInput): Promise<Organisation> {
    const now = Date.now();
    const row = await instance.insertOrganisation(this.store.db, {
      id: uuidv7(),
      name: input.name,
      default_country: checkCountry(input.default_country ?? 'US'),
      default_language: input.default_language ?? 'en',
      allow_duplicate_phones: input.allow_duplicate_phones ? 1 : 0,
      created_at: now,
      updated_at: now,
      version: 1,
    });
    return instance.toOrganisation(row);
  }

  async organisationById(id: string): Promise<Organisation> {
    const row = isUuid(id) ? await instance.findOrganisationRow(this.store.db, id) : undefined;
    if (!row) throw notFound('Organisation');
    return instance.toOrganisation(row);
  }

  getOrganisation(actor: Actor): Promise<Organisation> {
    return this.organisationById(actor.organisationId);
  }

  async updateOrganisation(
    actor: Actor,
    patch: Partial<OrganisationInput>,
    expectedVersion?: number,
  ): Promise<Organisation> {
    requirePermission(actor.role, 'manage_users');
    const current = await this.getOrganisation(actor);
    checkVersion(current.version, expectedVersion);
    return this.store.transaction(actor, async (scope) => {
      const currentRow = (await instance.findOrganisationRow(this.store.db, actor.organisationId))!;
      checkVersion(currentRow.version, expectedVersion);
      if (
        patch.allow_duplicate_phones !== undefined &&
        patch.allow_duplicate_phones !== current.allow_duplicate_phones
      ) {
        await setPhoneUniqueness(scope, !patch.allow_duplicate_phones);
      }
      const row = await instance.updateOrganisationRow(scope, currentRow, {
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.default_country !== undefined && { default_country: checkCountry(patch.default_country) }),
        ...(patch.default_language !== undefined && { default_language: patch.default_language }),
        ...(patch.allow_duplicate_phones !== undefined && {
          allow_duplicate_phones: patch.allow_duplicate_phones ? 1 : 0,
        }),
        updated_at: Date.now(),
      });
      if (!row) throw changedMeanwhile('organisation');
      return instance.toOrganisation(row);
    });
  }

  /** Creates a user. Used by admins through the API and by the CLI (actor null) when bootstrapping. */
  async createUser(actor: Actor | null, organisationId: string, input: UserInput): Promise<User> {
    if (actor) {
      requirePermission(actor.role, 'manage_users');
      if (input.role === 'owner') requirePermission(actor.role, 'own');
    }
    if (!ROLES.includes(input.role)) throw invalid('role', `must be one of ${ROLES.join(', ')}`);
    checkPassword(input.password);
    await this.organisationById(organisationId);
    const now = Date.now();
    const passwordHash = await hashPassword(input.password);
    try {
      const row = await this.store.transaction(actor ?? operator(organisationId), (scope) =>
        users.insertUser(scope, {
          id: uuidv7(),
          username: input.username,
          display_name: input.display_name ?? input.username,
          email: input.email ?? null,
          password_hash: passwordHash,
          role: input.role,
          is_active: 1,
          created_at: now,
          updated_at: now,
          version: 1,
        }),
      );
      return users.toUser(row);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new DomainError('conflict', 'That username is taken', {
          fields: [{ field: 'username', message: 'is taken' }],
        });
      throw error;
    }
  }

  async listUsers(actor: Actor, limit: number, afterKey?: number) {
    requirePermission(actor.role, 'read');
    const page = await users.listUserRows(this.store.scope(actor.organisationId), limit, afterKey);
    return { items: page.items.map(users.toUser), next: page.next };
  }

  async getUser(actor: Actor, id: string): Promise<User> {
    return users.toUser(await this.userRow(actor, id));
  }

  private async userRow(actor: Actor, id: string): Promise<users.UserRow> {
    const row = isUuid(id)
      ? await users.findUserRow(this.store.scope(actor.organisationId), { id })
      : undefined;
    if (!row) throw notFound('User');
    return row;
  }

  /**
   * Acts for an organisation from the command line, where an operator has no credential of
   * the organisation's own: as its first active owner, so records show a real creator.
   */
  async operatorActor(organisationId: string): Promise<Actor> {
    await this.organisationById(organisationId);
    const owner = await users.firstActiveOwner(this.store.scope(organisationId));
    if (!owner) throw new DomainError('conflict', 'The organisation has no active owner to act as');
    return {
      organisationId,
      userId: owner.id,
      userKey: owner.key,
      role: 'owner',
      credential: 'cli',
      surface: 'cli',
    };
  }

  /**
   * Whom a job taken over from another process acts as: its creator as they are now. A creator
   * since disabled or removed ends the job (undefined), as their own requests would be refused.
   */
  async jobActor(organisationId: string, createdBy: string | null): Promise<Actor | undefined> {
    const scope = this.store.scope(organisationId);
    const row = createdBy === null ? undefined : await users.findUserRow(scope, { id: createdBy });
    if (!row || row.is_active !== 1) return undefined;
    // Jobs are started through /v1; an import's own writes name the import as their author anyway.
    return {
      organisationId,
      userId: row.id,
      userKey: row.key,
      role: row.role as Role,
      credential: 'job',
      surface: 'v1',
    };
  }

  /** Users of the organisation by id, in one query: for surfaces that show who created what. */
  async usersByIds(actor: Actor, ids: (string | null)[]): Promise<Map<string, User>> {
    requirePermission(actor.role, 'read');
    const wanted = [...new Set(ids.filter((id): id is string => id !== null && isUuid(id)))];
    const rows = await users.findUserRowsByIds(this.store.scope(actor.organisationId), wanted);
    return new Map(rows.map((row) => [row.id, users.toUser(row)]));
  }

  /** Admins change anyone below owner; everyone may change their own name, email and password, never their own role. */
  async updateUser(actor: Actor, id: string, patch: UserPatch, expectedVersion?: number): Promise<User> {
    const self = id === actor.userId;
    if (!self) requirePermission(actor.role, 'manage_users');
    if (self && (patch.role !== undefined || patch.is_active !== undefined))
      throw forbidden('You cannot change your own role or status');
    const target = await this.userRow(actor, id);
    checkVersion(target.version, expectedVersion);
    if ((target.role === 'owner' || patch.role === 'owner') && !self) requirePermission(actor.role, 'own');
    if (patch.password !== undefined) checkPassword(patch.password);
    if (patch.role !== undefined && !ROLES.includes(patch.role))
      throw invalid('role', `must be one of ${ROLES.join(', ')}`);
    return this.store.transaction(actor, async (scope) => {
      const demotesOwner =
        target.role === 'owner' && ((patch.role && patch.role !== 'owner') || patch.is_active === false);
      if (demotesOwner && (await users.countOwners(scope)) <= 1)
        throw new DomainError('conflict', 'An organisation keeps at least one active owner');
      const now = Date.now();
      const row = await users.updateUserRow(scope, target, {
        ...(patch.display_name !== undefined && { display_name: patch.display_name }),
        ...(patch.email !== undefined && { email: patch.email }),
        ...(patch.role !== undefined && { role: patch.role }),
        ...(patch.is_active !== undefined && { is_active: patch.is_active ? 1 : 0 }),
        ...(patch.password !== undefined && { password_hash: await hashPassword(patch.password) }),
        updated_at: now,
      });
      if (!row) throw changedMeanwhile('user');
      if (patch.password !== undefined || patch.is_active === false)
        await credentials.revokeUserTokens(scope, row.id, now);
      return users.toUser(row);
    });
  }

  /** Creates an API key for a user of the organisation; the key itself is returned this once only. */
  async createApiKey(
    actor: Actor | null,
    organisationId: string,
    input: { name: string; user_id?: string },
  ): Promise<ApiKey & { key: string }> {
    if (actor) requirePermission(actor.role, 'manage_users');
    const scope = this.store.scope(organisationId);
    const userId = input.user_id ?? actor?.userId;
    const user = userId && isUuid(userId) ? await users.findUserRow(scope, { id: userId }) : undefined;
    if (!user) throw invalid('user_id', 'is not a user of this organisation');
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const row = await this.store.transaction(actor ?? operator(organisationId), (tx) =>
      credentials.insertApiKey(tx, {
        id: uuidv7(),
        user_id: user.id,
        name: input.name,
        prefix: key.slice(0, API_KEY_PREFIX.length + 6),
        secret_hash: sha256(key),
        last_used_at: null,
        revoked_at: null,
        created_at: Date.now(),
      }),
    );
    return { ...credentials.toApiKey(row), key };
  }

  async listApiKeys(actor: Actor): Promise<ApiKey[]> {
    requirePermission(actor.role, 'manage_users');
    return (await credentials.listApiKeyRows(this.store.scope(actor.organisationId))).map(
      credentials.toApiKey,
    );
  }

  async revokeApiKey(actor: Actor, id: string): Promise<ApiKey> {
    requirePermission(actor.role, 'manage_users');
    const scope = this.store.scope(actor.organisationId);
    if (!isUuid(id) || !(await credentials.findApiKeyRow(scope, id))) throw notFound('API key');
    await this.store.transaction(actor, (tx) => credentials.revokeApiKey(tx, id, Date.now()));
    return credentials.toApiKey((await credentials.findApiKeyRow(scope, id))!);
  }
}

/** Switching duplicates off is refused while two live contacts share any number, primary or other. */
async function setPhoneUniqueness(scope: TenantScope, unique: boolean): Promise<void> {
  const shared = () =>
    new DomainError(
      'conflict',
      'Some live contacts share a phone number; merge them before forbidding duplicates',
    );
  try {
    await contacts.setPhoneUniqueness(scope, unique);
  } catch (error) {
    if (isUniqueViolation(error)) throw shared();
    throw error;
  }
  if (unique && (await contacts.sharedOtherNumber(scope)) !== undefined) throw shared();
}
