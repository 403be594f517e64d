import { expect } from 'vitest';
import type { ImportJob } from '../../src/services/imports/jobs.js';
import type { Harness, Tenant } from './harness.js';

/** An import job as GET /v1/imports/{id} shows it. */
export type Job = ImportJob;

/** Imports through the public API as an organisation's owner (the first's by default), and reads what came of it. */
export function importer(h: Harness, tenant: Tenant = h.a) {
  const auth = { authorization: tenant.owner.apiKey };
  const get = (url: string) => h.request({ method: 'GET', url, headers: auth });
  const post = (url: string) => h.request({ method: 'POST', url, headers: auth });
  return {
    auth,
    /** Uploads a file and waits for its import to end. */
    async importFile(body: string | Buffer, query: string, contentType = 'text/csv'): Promise<Job> {
      const res = await h.request({
        method: 'POST',
        url: `/v1/imports?${query}`,
        headers: { ...auth, 'content-type': contentType },
        payload: body,
      });
      expect(res.statusCode, res.body).toBe(202);
      const actor = {
        ...(await h.services.auth.verifyBearer(tenant.owner.apiKey.slice(7))),
        surface: 'v1' as const,
      };
      await h.services.imports.settled(actor, res.json().id);
      return (await get(`/v1/imports/${res.json().id}`)).json();
    },
    /** The lines of a job's errors or warnings file, header first. */
    async report(job: Job, file: 'errors' | 'warnings'): Promise<string[]> {
      return (await get(`/v1/imports/${job.id}/${file}`)).body.trim().split('\n');
    },
    async contactsWhere(query: string) {
      return (await get(`/v1/contacts?limit=1000&${query}`)).json().items;
    },
    get,
    post,
  };
}
