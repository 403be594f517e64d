import type { Role } from '../domain/roles.js';

/** Who is acting: the user behind a credential, in their one organisation. */
export interface Actor {
  organisationId: string;
  userId: string;
  userKey: number;
  role: Role;
  credential: 'basic' | 'jwt' | 'api_key';
}

export const now = () => Date.now();
