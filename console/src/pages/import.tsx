import { useEffect, useState } from 'preact/hooks';
import { api, download, must, type ImportJob } from '../api';
import { Columns, ErrorText, PageTitle } from '../ui';

const TARGETS = ['', 'first_name', 'last_name', 'name', 'phone', 'email', 'company', 'language', 'ignore'];
const ACTIVE = ['receiving', 'queued', 'running'];
type Mode = 'upsert' | 'create' | 'skip';

/** The header row of a CSV file, to offer a mapping per column (the server maps the rest by itself). */
async function headersOf(file: File): Promise<string[]> {
  if (!/\.(csv|tsv|txt)$/i.test(file.name) && !file.type.includes('csv')) return [];
  const first = (await file.slice(0, 64 * 1024).text()).split(/\r?\n/, 1)[0] ?? '';
  const separator = [',', ';', '\t'].sort((a, b) => first.split(b).length - first.split(a).length)[0]!;
  return first.split(separator).map((h) =>
    h
      .trim()
      .replace(/^"|"$/g, '')
      .replace(/^\uFEFF/, ''),
  );
}

/** Seconds left at the job's rate, from the share of the file done so far. */
function eta(job: ImportJob): string {
  if (!job.started_at || job.percent <= 0 || job.percent >= 100) return '';
  const elapsed = (Date.now() - new Date(job.started_at).getTime()) / 1000;
  return `${Math.round((elapsed * (100 - job.percent)) / job.percent)} s left`;
}

function Progress({ job }: { job: ImportJob }) {
  return (
    <div class="progress">
      <label>
        {job.dry_run ? 'Preview' : 'Import'} progress
        <progress max={100} value={job.percent} />
      </label>
      <p aria-live="polite">
        {job.status} · {job.percent}% · {job.rows_read.toLocaleString()} rows
        {job.rows_per_second !== null && ` · ${job.rows_per_second.toLocaleString()} rows/s`} {eta(job)}
      </p>
      <table class="table report">
        <caption>{job.dry_run ? 'What the import would do' : 'What the import did'}</caption>
        <Columns names={['Created', 'Updated', 'Unchanged', 'Skipped', 'Rejected']} />
        <tbody>
          <tr>
            <td>{job.created}</td>
            <td>{job.updated}</td>
            <td>{job.unchanged}</td>
            <td>{job.skipped}</td>
            <td>{job.failed}</td>
          </tr>
        </tbody>
      </table>
      {job.error && <p class="error">{job.error}</p>}
      {job.rollback && (
        <p>
          Rolled back {job.rollback.rolled_back} rows; {job.rollback.not_rolled_back.length} could not be
          undone.
        </p>
      )}
    </div>
  );
}

export function Import() {
  const [file, setFile] = useState<File | undefined>();
  const [headers, setHeaders] = useState<string[]>([]);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [mode, setMode] = useState<Mode>('upsert');
  const [groupName, setGroupName] = useState('');
  const [job, setJob] = useState<ImportJob | undefined>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    if (!job || !ACTIVE.includes(job.status)) return;
    const timer = setTimeout(async () => {
      try {
        setJob(must(await api.GET('/v1/imports/{id}', { params: { path: { id: job.id } } })));
      } catch (e) {
        setError(e);
      }
    }, 400);
    return () => clearTimeout(timer);
  }, [job]);

  const choose = async (chosen: File | undefined) => {
    setFile(chosen);
    setJob(undefined);
    setMapping({});
    setHeaders(chosen ? await headersOf(chosen) : []);
  };
  const start = async (dryRun: boolean) => {
    if (!file) return;
    setError(undefined);
    const chosen = Object.fromEntries(Object.entries(mapping).filter(([, v]) => v));
    try {
      const result = await api.POST('/v1/imports', {
        params: {
          query: {
            dry_run: dryRun,
            mode,
            filename: file.name,
            ...(groupName && { group_name: [groupName] }),
            ...(Object.keys(chosen).length > 0 && { mapping: JSON.stringify(chosen) }),
          },
        },
        body: file as never,
        bodySerializer: (body: unknown) => body as File,
        headers: { 'content-type': 'application/octet-stream' },
      });
      setJob(must(result) as ImportJob);
    } catch (e) {
      setError(e);
    }
  };
  const act = (action: 'cancel' | 'resume' | 'rollback') => async () => {
    setError(undefined);
    try {
      const path = `/v1/imports/{id}/${action}` as '/v1/imports/{id}/cancel';
      setJob(must(await api.POST(path, { params: { path: { id: job!.id } } })) as ImportJob);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section>
      <PageTitle>Import contacts</PageTitle>
      <form class="record" onSubmit={(e) => e.preventDefault()}>
        <label>
          File (CSV, vCard or JSON Lines)
          <input
            type="file"
            accept=".csv,.tsv,.txt,.vcf,.vcard,.jsonl,.ndjson"
            onChange={(e) => void choose(e.currentTarget.files?.[0])}
          />
        </label>
        <label>
          When a row matches a contact
          <select value={mode} onChange={(e) => setMode(e.currentTarget.value as Mode)}>
            <option value="upsert">Update it</option>
            <option value="skip">Leave it alone</option>
            <option value="create">Create another (fails on a taken phone)</option>
          </select>
        </label>
        <label>
          Add to group (created if missing)
          <input value={groupName} onInput={(e) => setGroupName(e.currentTarget.value)} />
        </label>
        {headers.length > 0 && (
          <fieldset>
            <legend>Columns</legend>
            <p class="meta">Leave a column on “automatic” to let Roster map it by its header.</p>
            {headers.map((h) => (
              <label key={h} class="mapping">
                {h}
                <select
                  value={mapping[h] ?? ''}
                  onChange={(e) => setMapping({ ...mapping, [h]: e.currentTarget.value })}
                >
                  {TARGETS.map((t) => (
                    <option key={t} value={t}>
                      {t || 'automatic'}
                    </option>
                  ))}
                </select>
              </label>
            ))}
          </fieldset>
        )}
        <button type="button" disabled={!file} onClick={() => void start(true)}>
          Preview (dry run)
        </button>
        <button
          type="button"
          disabled={!file || (job && ACTIVE.includes(job.status))}
          onClick={() => void start(false)}
        >
          Run import
        </button>
      </form>
      <ErrorText error={error} />
      {job && (
        <section aria-labelledby="job-title">
          <h2 id="job-title">
            {job.dry_run ? 'Preview' : 'Import'} of {file?.name} (detected format: {job.format})
          </h2>
          <Progress job={job} />
          {ACTIVE.includes(job.status) && (
            <button type="button" onClick={act('cancel')}>
              Cancel
            </button>
          )}
          {['cancelled', 'interrupted'].includes(job.status) && (
            <button type="button" onClick={act('resume')}>
              Resume
            </button>
          )}
          {!job.dry_run && job.status === 'completed' && (
            <button type="button" class="danger" onClick={act('rollback')}>
              Roll back
            </button>
          )}
          {job.failed > 0 && (
            <button
              type="button"
              onClick={() =>
                download(`/v1/imports/${job.id}/errors`, {}, 'rejected-rows.csv').catch(setError)
              }
            >
              Download rejected rows
            </button>
          )}
        </section>
      )}
    </section>
  );
}
