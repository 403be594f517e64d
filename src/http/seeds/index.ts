import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services/index.js';
import { orgContactGroups } from './s000-org-contact-groups/index.js';
import { messagingContacts } from './s001-messaging-contacts/index.js';
import { unifiedCommunications } from './s002-unified-communications/index.js';
import { smsAddressBook } from './s003-sms-address-book/index.js';
import type { SeedLimits } from './whole-list.js';

/** The seed-compatible surfaces, one folder each; each maps its documented API onto the services. */
export const seedApis: ((services: Services, limits: SeedLimits) => FastifyPluginAsync)[] = [
  orgContactGroups,
  messagingContacts,
  unifiedCommunications,
  smsAddressBook,
];
