import type { Role } from '../domain/roles.js';

/** Who is acting: the user behind a credential, in their one organisation. */
export interface Actor {
  organisationId: string;
  userId: string;
  userKey: number;
  role: Role;
  /**
   * How the caller proved who they are; `cli` is an operator on the machine itself, `job` a
   * background job another process started, acting as its creator (services/jobs/worker.ts).
   */
  credential: 'basic' | 'jwt' | 'api_key' | 'cli' | 'job';
  /** For a JWT: the session (refresh-token family) it belongs to, which logout revokes. */
  sessionId?: string;
}
