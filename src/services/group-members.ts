import { DomainError, invalid } from '../domain/errors.js';
import type { ContactInput } from '../domain/contact.js';
import type { Contact, ContactCard, Group } from '../domain/records.js';
import { requirePermission } from '../domain/roles.js';
import type { Store } from '../db/store.js';
import type { AccountsService } from './accounts.js';
import type { ContactsService } from './contacts.js';
import type { Actor } from './context.js';
import type { GroupInput, GroupsService } from './groups.js';

/**
 * A group's members given by who they are rather than by contact id: users of the organisation (by
 * user id), and people by their details. A kind left out is left as it is by an update.
 */
export interface MemberSpec {
  users?: string[];
  people?: ContactInput[];
}

/**
 * Groups with their members given as a MemberSpec. A user takes part through their linked contact,
 * created from their profile when first needed; a person reuses the live contact with the same phone,
 * then email, instead of duplicating it. Everything one call does is one transaction: an unknown user
 * or a bad phone writes nothing. An unknown user is a validation error on `users` whose details list
 * `unknown_users`; a fault in a person is reported on `people.N.field`.
 */
export class GroupMembersService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountsService,
    private readonly contacts: ContactsService,
    private readonly groups: GroupsService,
  ) {}

  create(actor: Actor, input: GroupInput, members: MemberSpec): Promise<Group> {
    requirePermission(actor.role, 'write');
    return this.store.transaction(actor, async () => {
      const group = await this.groups.create(actor, input);
      await this.replaceMembers(actor, group, members, []);
      return this.groups.get(actor, { key: group.key });
    });
  }

  /** PUT (replace) sets the whole member set; PATCH changes only the kinds of member it names. */
  update(actor: Actor, id: string, input: GroupInput, members: MemberSpec, replace: boolean): Promise<Group> {
    requirePermission(actor.role, 'write');
    return this.store.transaction(actor, async () => {
      const group = await this.groups.update(actor, { id }, input);
      const current = await this.groups.membersOf(actor, group.key);
      const kept = replace
        ? []
        : current.filter((c) =>
            c.user_id === null ? members.people === undefined : members.users === undefined,
          );
      await this.replaceMembers(
        actor,
        group,
        { users: members.users ?? [], people: members.people ?? [] },
        kept,
        current,
      );
      return this.groups.get(actor, { key: group.key });
    });
  }

  private async replaceMembers(
    actor: Actor,
    group: Group,
    members: MemberSpec,
    kept: ContactCard[],
    current: ContactCard[] = [],
  ): Promise<void> {
    const wanted = new Set(kept.map((c) => c.key));
    for (const contact of await this.userContacts(actor, members.users ?? [])) wanted.add(contact.key);
    for (const [index, input] of (members.people ?? []).entries())
      wanted.add((await this.personContact(actor, input, index)).key);
    const currentKeys = current.map((c) => c.key);
    const leaving = currentKeys.filter((k) => !wanted.has(k));
    const joining = [...wanted].filter((k) => !currentKeys.includes(k));
    if (leaving.length > 0) await this.groups.removeMembers(actor, { key: group.key }, { keys: leaving });
    if (joining.length > 0) await this.groups.addMembers(actor, { key: group.key }, { keys: joining });
  }

  private async userContacts(actor: Actor, userIds: string[]): Promise<Contact[]> {
    const users = await this.accounts.usersByIds(actor, userIds);
    const unknown = userIds.filter((id) => !users.has(id));
    if (unknown.length > 0) {
      throw new DomainError('validation', `Unknown user ids: ${unknown.join(', ')}`, {
        fields: [{ field: 'users', message: `no such user in this organisation: ${unknown.join(', ')}` }],
        unknown_users: unknown,
      });
    }
    const result: Contact[] = [];
    for (const user of users.values()) {
      const existing = await this.contacts.findExisting(actor, { user_id: user.id });
      result.push(
        existing ??
          (await this.contacts.create(actor, {
            name: user.display_name,
            email: user.email,
            user_id: user.id,
          })),
      );
    }
    return result;
  }

  private async personContact(actor: Actor, input: ContactInput, index: number): Promise<Contact> {
    const field = `people.${index}`;
    if (!input.phone && !input.email && !input.first_name && !input.last_name) {
      throw invalid(field, 'needs a name, phone or email');
    }
    try {
      const existing = await this.contacts.findExisting(actor, { phone: input.phone, email: input.email });
      return existing ?? (await this.contacts.create(actor, input));
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'validation') throw error;
      const fields = (error.details.fields ?? []).map((f) => ({ ...f, field: `${field}.${f.field}` }));
      throw new DomainError('validation', `${field}: ${error.message}`, { ...error.details, fields });
    }
  }
}
