import { forbidden } from './errors.js';

export const ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** What a role may do; each role may do everything the roles before it may. */
export type Permission = 'read' | 'write' | 'manage_users' | 'own';
const MINIMUM: Record<Permission, Role> = {
  read: 'viewer',
  write: 'editor',
  manage_users: 'admin',
  own: 'owner',
};

export const can = (role: Role, permission: Permission) =>
  ROLES.indexOf(role) >= ROLES.indexOf(MINIMUM[permission]);

export function requirePermission(role: Role, permission: Permission): void {
  if (!can(role, permission)) throw forbidden();
}
