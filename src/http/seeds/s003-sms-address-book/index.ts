import type { SeedApi } from '../index.js';
import { errors } from './errors.js';
import { routes } from './routes.js';

/** The paths this surface answers under, its 404s included. */
export const prefixes = ['/api/contact', '/api/group'];

export const seed: SeedApi = { name: 'seed 003', routes, prefixes, errors };
