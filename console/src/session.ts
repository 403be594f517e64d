import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { User } from './api';

const ORDER = ['viewer', 'editor', 'admin', 'owner'] as const;

/** Who is signed in, and what their role lets the console offer (what the API would refuse, it does not). */
export interface Me {
  user: User;
  canWrite: boolean;
  canManage: boolean;
  signOut(): Promise<void>;
}

export const roleAtLeast = (role: User['role'], minimum: User['role']) =>
  ORDER.indexOf(role) >= ORDER.indexOf(minimum);

export const MeContext = createContext<Me | undefined>(undefined);
export const useMe = () => useContext(MeContext)!;
