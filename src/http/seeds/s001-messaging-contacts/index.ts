import type { SeedApi } from '../index.js';
import { errors } from './errors.js';
import { routes } from './routes.js';

/** The paths this surface answers under, its 404s included. */
export const prefixes = ['/contact', '/contact_groups'];

export const seed: SeedApi = { name: 'seed 001', routes, prefixes, errors };
