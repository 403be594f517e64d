import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services/index.js';
import type { SurfaceErrors } from '../unknown-paths.js';
import { seed as s000 } from './s000-org-contact-groups/index.js';
import { seed as s001 } from './s001-messaging-contacts/index.js';
import { seed as s002 } from './s002-unified-communications/index.js';
import { seed as s003 } from './s003-sms-address-book/index.js';
import type { SeedLimits } from './whole-list.js';

/**
 * A seed-compatible surface. Each is a folder of the same files: index.ts (its `seed`: name,
 * `prefixes`, `routes`, `errors`), routes.ts, schemas.ts, mapping.ts (its shapes onto Roster's
 * records and back) and errors.ts (its error handler); docs/architecture.md says how to add one.
 */
export interface SeedApi extends SurfaceErrors {
  /** How tests and logs name it, "seed NNN" after its document in /work/shared/seeds/. */
  name: `seed ${string}`;
  /** The surface's routes; they answer their errors with `errors` too. */
  routes: (services: Services, limits: SeedLimits) => FastifyPluginAsync;
}

/**
 * The seed-compatible surfaces, one folder each; each maps its documented API onto the services.
 * A path under one of a surface's prefixes that none of its routes serves is its 404.
 */
export const seedApis: SeedApi[] = [s000, s001, s002, s003];
