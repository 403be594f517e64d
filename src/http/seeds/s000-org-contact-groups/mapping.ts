import type { Organisation, Translations } from '../../../domain/records.js';
import type { GroupPatch } from './schemas.js';

/* Seed 000's translations onto Roster's and back. */

/** A plain string is the name in the organisation's default language. */
export const byLanguage = <T>(value: string | Record<string, T>, org: Organisation) =>
  typeof value === 'string' ? { [org.default_language]: { name: value } } : value;

/** Every language with both of its fields; a description not given is none. */
export const complete = (t: Translations): Record<string, { name: string; description: string | null }> =>
  Object.fromEntries(
    Object.entries(t).map(([lang, v]) => [lang, { name: v.name, description: v.description ?? null }]),
  );

/** PATCH changes only the languages, and within them only the fields, that it sends. */
export function translationsPatched(
  current: Translations,
  value: GroupPatch['translations'],
  org: Organisation,
) {
  const merged: Translations = { ...current };
  // A language new to the group without a name is refused by the service, which checks every name.
  for (const [lang, t] of Object.entries(byLanguage(value ?? {}, org)))
    merged[lang] = { ...current[lang], ...t } as Translations[string];
  return merged;
}
