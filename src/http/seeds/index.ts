import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services/index.js';
import { orgContactGroups } from './s000-org-contact-groups/index.js';
import { messagingContacts } from './s001-messaging-contacts/index.js';
import { unifiedCommunications } from './s002-unified-communications/index.js';
import { smsAddressBook } from './s003-sms-address-book/index.js';

/** The seed-compatible surfaces, one folder each; each maps its documented API onto the services. */
export const seedApis: ((services: Services) => FastifyPluginAsync)[] = [
  orgContactGroups,
  messagingContacts,
  unifiedCommunications,
  smsAddressBook,
];
