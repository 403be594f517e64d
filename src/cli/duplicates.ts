import { DomainError } from '../domain/errors.js';
import type { Services } from '../services/index.js';

/** `roster duplicates --org ORG_ID [--min-score S]`: candidate sets as JSON Lines; returns how many. */
export async function printDuplicates(
  services: Services,
  flags: Record<string, unknown>,
  write: (chunk: string) => void,
): Promise<number> {
  const org = flags.org;
  if (typeof org !== 'string') throw new DomainError('validation', '--org is required');
  const minScore = flags['min-score'] === undefined ? undefined : Number(flags['min-score']);
  if (minScore !== undefined && !(minScore >= 0 && minScore <= 1))
    throw new DomainError('validation', '--min-score must be a number from 0 to 1');
  const actor = await services.accounts.operatorActor(org);
  let count = 0;
  for await (const set of services.duplicates.all(actor, { min_score: minScore })) {
    write(JSON.stringify(set) + '\n');
    count++;
  }
  return count;
}
