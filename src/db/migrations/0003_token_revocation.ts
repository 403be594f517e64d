import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { bigintType } from './columns.js';

/**
 * Access tokens that die before they expire. A user's `token_generation` is carried in
 * each token and bumped to revoke all of them at once (password change, disabling); a
 * revoked session (a refresh-token family, after logout or a replayed refresh token) is
 * listed until the last access token it issued has expired.
 */
export function tokenRevocation(dialect: Dialect): Migration {
  const bigint = bigintType(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('users')
        .addColumn('token_generation', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('revoked_sessions')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('revoked_sessions_pk', ['organisation_id', 'session_id'])
        .execute();
    },
  };
}
