import type { ChangeAuthor } from '../domain/changes.js';
import type { Role } from '../domain/roles.js';

/**
 * Who is acting: the user behind a credential, in their one organisation, through one surface.
 * It is the author of the changes its transactions make (store.transaction(actor, ...)).
 */
export interface Actor extends ChangeAuthor {
  userId: string;
  userKey: number;
  role: Role;
  /** For a JWT: the session (refresh-token family) it belongs to, which logout revokes. */
  sessionId?: string;
}

/** A credential checked: the actor, before the surface it came through says its name. */
export type Authenticated = Omit<Actor, 'surface'>;

/** The author of an operator's changes from the command line, when no user acts (first start). */
export const operator = (organisationId: string): ChangeAuthor => ({
  organisationId,
  userId: null,
  credential: 'cli',
  surface: 'cli',
});
