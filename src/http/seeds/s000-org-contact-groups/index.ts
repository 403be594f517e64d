import type { SeedApi } from '../index.js';
import { errors } from './errors.js';
import { routes } from './routes.js';

/** The paths this surface answers under, its 404s included. */
export const prefixes = ['/api/v1.0/organisation'];

export const seed: SeedApi = { name: 'seed 000', routes, prefixes, errors };
