// What the bulk benches share: an organisation to import into, and the import a client makes of
// the generated file (bench/import-export.mjs, bench/import-statements.mjs).
import { createReadStream } from 'node:fs';

/** A fresh organisation with an owner acting through an API key, as an import's caller is. */
export async function organisation(services, name) {
  const org = await services.accounts.createOrganisation({
    name: `${name} ${Date.now()}`,
    default_country: 'AU',
  });
  const user = await services.accounts.createUser(null, org.id, {
    username: `${name.toLowerCase().replace(/\W/g, '-')}-${Date.now()}`,
    password: 'bench-password',
    role: 'owner',
  });
  const actor = {
    organisationId: org.id,
    userId: user.id,
    userKey: user.key,
    role: 'owner',
    credential: 'api_key',
    surface: 'v1',
  };
  return { org, actor };
}

/** The CSV file imported through the services into a new group, upserting; the settled job and its seconds. */
export async function importFile(services, actor, file) {
  const started = performance.now();
  const job = await services.imports.start(actor, createReadStream(file), {
    format: 'csv',
    mode: 'upsert',
    group_ids: [],
    group_names: ['Bench'],
    dry_run: false,
    fields: {},
    unmapped: 'custom',
  });
  const done = await services.imports.settled(actor, job.id);
  return { done, seconds: (performance.now() - started) / 1000 };
}
