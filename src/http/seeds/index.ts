import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services/index.js';
import type { SurfaceErrors } from '../unknown-paths.js';
import { orgContactGroups } from './s000-org-contact-groups/index.js';
import { contactGroupErrors } from './s000-org-contact-groups/errors.js';
import { messagingContacts } from './s001-messaging-contacts/index.js';
import { messagingErrorHandler } from './s001-messaging-contacts/errors.js';
import { unifiedCommunications, unifiedCommunicationsErrors } from './s002-unified-communications/index.js';
import { smsAddressBook } from './s003-sms-address-book/index.js';
import { smsErrorHandler } from './s003-sms-address-book/errors.js';
import type { SeedLimits } from './whole-list.js';

export interface SeedApi extends SurfaceErrors {
  /** The surface's routes; they answer their errors with `errors` too. */
  routes: (services: Services, limits: SeedLimits) => FastifyPluginAsync;
}

/**
 * The seed-compatible surfaces, one folder each; each maps its documented API onto the services.
 * A path under one of a surface's prefixes that none of its routes serves is its 404.
 */
export const seedApis: SeedApi[] = [
  { routes: orgContactGroups, prefixes: ['/api/v1.0/organisation'], errors: contactGroupErrors },
  { routes: messagingContacts, prefixes: ['/contact', '/contact_groups'], errors: messagingErrorHandler },
  {
    routes: unifiedCommunications,
    prefixes: ['/api/unified-communications'],
    errors: unifiedCommunicationsErrors,
  },
  { routes: smsAddressBook, prefixes: ['/api/contact', '/api/group'], errors: smsErrorHandler },
];
