import type { CrashTarget } from './crash-target.js';
import type { Json, RosterClient } from './roster-client.js';

/** What the API shows of a contact the writers made: the fields they set and whether it is in their group. */
interface State {
  id: string | undefined;
  first_name: string;
  last_name: string;
  email: string | null;
  company: string | null;
  version: number;
  deleted: boolean;
  member: boolean;
}

/** One contact, known by its number (distinct for every create), and its last acknowledged state. */
interface Entry {
  phone: string;
  owner: number;
  acked: State | null;
}

/** A write that got no answer: each contact it touches either stays as acknowledged or takes its candidate state, all of them alike. */
interface Unanswered {
  kind: string;
  changes: { entry: Entry; candidate: State }[];
}

export interface WriteFigures {
  rounds: number;
  clients: number;
  acknowledged: number;
  byKind: Record<string, number>;
  unanswered: number;
  /** Unanswered writes found committed after the restart (allowed: they may or may not be there). */
  unansweredCommitted: number;
  lost: number;
  partial: number;
  serverErrors: number;
  /** Every lost or half-written write, described. */
  problems: string[];
}

interface Group {
  id: string;
  key: number;
}

// The writers' numbers: apart from the generated import file's (+614 1...).
const PHONE_PREFIX = '+6149';
export const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

const same = (a: State | null, b: State | null) =>
  a === null || b === null
    ? a === b
    : a.first_name === b.first_name &&
      a.last_name === b.last_name &&
      a.email === b.email &&
      a.company === b.company &&
      a.version === b.version &&
      a.deleted === b.deleted &&
      a.member === b.member;

const show = (s: State | null) => (s ? JSON.stringify({ ...s, id: undefined }) : 'absent');

/**
 * Concurrent clients streaming writes (creates, creates into a group in one call, If-Match
 * patches, member additions, deletes) at a server that is killed with SIGKILL at a random
 * moment, round after round; after each restart every acknowledged write is checked.
 */
export class WriteCrashTest {
  private readonly entries = new Map<string, Entry>();
  private unanswered: Unanswered[] = [];
  private readonly sequence: number[];
  readonly figures: WriteFigures;

  private constructor(
    private readonly target: CrashTarget,
    private readonly group: Group,
    clients: number,
  ) {
    this.sequence = Array.from({ length: clients }, () => 0);
    this.figures = {
      rounds: 0,
      clients,
      acknowledged: 0,
      byKind: {},
      unanswered: 0,
      unansweredCommitted: 0,
      lost: 0,
      partial: 0,
      serverErrors: 0,
      problems: [],
    };
  }

  /** The writers' group, made first: seed 003 places a contact in it by its numeric key, /v1 names it by id. */
  static async create(target: CrashTarget, clients: number): Promise<WriteCrashTest> {
    const made = await target.client.request('POST', '/api/group/new', { body: { name: 'Crash writers' } });
    const groups = await target.client.all('/v1/groups?q=Crash');
    const id = groups.find((g) => g.name === 'Crash writers').id;
    return new WriteCrashTest(target, { key: Number(made.body.result.id), id }, clients);
  }

  /** Starts the clients; resolves when each has had a write go unanswered (the server was killed). */
  run(): Promise<void> {
    const client = this.target.client.at(this.target.server.url);
    return Promise.all(this.sequence.map((_, owner) => this.stream(client, owner))).then(() => {});
  }

  /** One client: one write at a time until one gets no answer (the server is gone). */
  private async stream(client: RosterClient, owner: number): Promise<void> {
    for (;;) {
      const write = this.nextWrite(owner);
      this.unanswered.push(write.pending);
      let answer;
      try {
        answer = await client.request(write.method, write.path, write.options);
      } catch {
        this.figures.unanswered += 1;
        return;
      }
      this.unanswered.splice(this.unanswered.indexOf(write.pending), 1);
      if (answer.status >= 500) this.figures.serverErrors += 1;
      if (answer.status >= 200 && answer.status < 300) {
        write.acknowledge(answer.body);
        this.figures.acknowledged += 1;
        this.figures.byKind[write.pending.kind] = (this.figures.byKind[write.pending.kind] ?? 0) + 1;
      }
    }
  }

  private nextWrite(owner: number) {
    const targets = [...this.entries.values()].filter(
      (e) =>
        e.owner === owner &&
        e.acked?.id !== undefined &&
        !e.acked.deleted &&
        !this.unanswered.some((u) => u.changes.some((c) => c.entry === e)),
    );
    const dice = targets.length < 3 ? 0 : Math.random();
    if (dice < 0.3) return this.create(owner, false);
    if (dice < 0.45) return this.create(owner, true);
    const pick = targets[Math.floor(Math.random() * targets.length)]!;
    if (dice < 0.75) return this.patch(owner, pick);
    const outside = targets.filter((e) => !e.acked!.member);
    if (dice < 0.95 && outside.length > 0) return this.addMembers(outside.slice(0, randomInt(1, 3)));
    return this.remove(pick);
  }

  private create(owner: number, intoGroup: boolean) {
    const seq = ++this.sequence[owner]!;
    const phone = `${PHONE_PREFIX}${String(owner).padStart(2, '0')}${String(seq).padStart(5, '0')}`;
    const entry: Entry = { phone, owner, acked: null };
    this.entries.set(phone, entry);
    const candidate: State = {
      id: undefined,
      first_name: `Writer${owner}`,
      last_name: `Number${seq}`,
      email: intoGroup ? null : `w${owner}.${seq}@crash.example`,
      company: null,
      version: 1,
      deleted: false,
      member: intoGroup,
    };
    const pending = {
      kind: intoGroup ? 'create into group (seed 003)' : 'create',
      changes: [{ entry, candidate }],
    };
    const acknowledge = (body: Json) => {
      // Seed 003 answers with the numeric key only; the id is read back at the next check.
      entry.acked = {
        ...candidate,
        id: intoGroup ? undefined : body.id,
        version: intoGroup ? 1 : body.version,
      };
    };
    const { first_name, last_name, email } = candidate;
    return intoGroup
      ? {
          pending,
          acknowledge,
          method: 'POST',
          path: '/api/contact/new',
          options: { body: { group_id: this.group.key, phone_number: phone, first_name, last_name } },
        }
      : {
          pending,
          acknowledge,
          method: 'POST',
          path: '/v1/contacts',
          options: { body: { first_name, last_name, email, phone } },
        };
  }

  private patch(owner: number, entry: Entry) {
    const before = entry.acked!;
    const candidate = {
      ...before,
      company: `Company ${owner}.${++this.sequence[owner]!}`,
      version: before.version + 1,
    };
    return {
      pending: { kind: 'patch (If-Match)', changes: [{ entry, candidate }] },
      acknowledge: (body: Json) => {
        entry.acked = { ...candidate, company: body.company, version: body.version };
      },
      method: 'PATCH',
      path: `/v1/contacts/${before.id}`,
      options: {
        body: { company: candidate.company },
        headers: { 'if-match': `"${before.version}"`, 'content-type': 'application/merge-patch+json' },
      },
    };
  }

  private addMembers(entries: Entry[]) {
    const changes = entries.map((entry) => ({ entry, candidate: { ...entry.acked!, member: true } }));
    return {
      pending: { kind: 'add members', changes },
      acknowledge: () => {
        for (const c of changes) c.entry.acked = c.candidate;
      },
      method: 'POST',
      path: `/v1/groups/${this.group.id}/members`,
      options: { body: { contact_ids: entries.map((e) => e.acked!.id) } },
    };
  }

  private remove(entry: Entry) {
    const before = entry.acked!;
    const candidate = { ...before, deleted: true, version: before.version + 1 };
    return {
      pending: { kind: 'delete', changes: [{ entry, candidate }] },
      acknowledge: () => {
        entry.acked = candidate;
      },
      method: 'DELETE',
      path: `/v1/contacts/${before.id}`,
      options: { headers: { 'if-match': `"${before.version}"` } },
    };
  }

  /** Checks every contact (all of them, deleted too, as listed after a restart): each contact as acknowledged, or as an unanswered write left it, never half. */
  async verify(contacts: Json[]): Promise<void> {
    const client = this.target.client;
    const group = this.group;
    const problem = (kind: 'lost' | 'partial', text: string) => {
      this.figures[kind] += 1;
      this.figures.problems.push(`round ${this.figures.rounds + 1}: ${text}`);
    };
    const members = new Set(
      (await client.all(`/v1/groups/${group.id}/members?deleted=include`)).map((c) => c.id),
    );
    const observed = new Map<string, State>();
    for (const c of contacts) {
      if (!c.phone?.startsWith(PHONE_PREFIX)) continue;
      if (observed.has(c.phone)) problem('partial', `two contacts with ${c.phone}`);
      observed.set(c.phone, {
        id: c.id,
        first_name: c.first_name,
        last_name: c.last_name,
        email: c.email,
        company: c.company,
        version: c.version,
        deleted: c.deleted_at !== null,
        member: members.has(c.id),
      });
    }
    const now = (entry: Entry) => observed.get(entry.phone) ?? null;
    const candidates = new Map(this.unanswered.flatMap((u) => u.changes.map((c) => [c.entry, c.candidate])));
    for (const entry of this.entries.values()) {
      const state = now(entry);
      if (same(state, entry.acked) || same(state, candidates.get(entry) ?? null)) continue;
      const older = entry.acked && (!state || state.version < entry.acked.version);
      problem(
        older ? 'lost' : 'partial',
        `${entry.phone}: acknowledged ${show(entry.acked)}, found ${show(state)}`,
      );
    }
    for (const phone of observed.keys())
      if (!this.entries.has(phone)) problem('partial', `${phone} exists but nobody wrote it`);
    for (const u of this.unanswered) {
      const landed = u.changes.filter(
        (c) => same(now(c.entry), c.candidate) && !same(now(c.entry), c.entry.acked),
      );
      if (landed.length > 0) this.figures.unansweredCommitted += 1;
      if (landed.length > 0 && landed.length < u.changes.length)
        problem('partial', `${u.kind}: ${landed.length} of ${u.changes.length} contacts changed`);
    }
    const live = contacts.filter((c) => c.deleted_at === null && members.has(c.id)).length;
    const shown = (await client.request('GET', `/v1/groups/${group.id}`)).body.member_count;
    if (shown !== live) problem('partial', `member_count ${shown}, live members ${live}`);
    // What the database holds now is the truth the next round builds on.
    for (const entry of this.entries.values()) entry.acked = now(entry);
    this.unanswered = [];
    this.figures.rounds += 1;
  }
}
