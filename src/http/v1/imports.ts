import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { CHANNELS } from '../../domain/contact.js';
import { invalid } from '../../domain/errors.js';
import { FILE_MEDIA_TYPES, formatOf, type ImportFormat } from '../../domain/formats/index.js';
import type { Services } from '../../services/index.js';
import { IMPORT_STATUSES } from '../../services/imports/jobs.js';
import type { ImportOptions } from '../../services/imports/options.js';
import { consentFilter, ContactListQuery } from './contacts.js';
import { Count, Nullable, Text, Timestamp, Uuid } from '../openapi.js';
import { Country, CREATES, IdParam, withErrors } from './schemas.js';

const tags = ['Imports and exports'];
const Format = Type.Union([Type.Literal('csv'), Type.Literal('vcf'), Type.Literal('jsonl')]);
const Mode = Type.Union([Type.Literal('create'), Type.Literal('upsert'), Type.Literal('skip')]);

const literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const ImportJob = Type.Object({
  id: Uuid,
  status: literals(IMPORT_STATUSES),
  format: Format,
  mode: Mode,
  dry_run: Type.Boolean(),
  bytes: Count,
  rows_read: Count,
  created: Count,
  updated: Count,
  unchanged: Count,
  skipped: Count,
  skipped_in_file: Count,
  failed: Count,
  warnings: Type.Record(Type.String({ maxLength: 40 }), Count, {
    description:
      'Warnings by kind (phone_unreadable, phone_extension, email_invalid, field_invalid, encoding_guessed): rows imported with a field kept raw or left out; listed in /imports/{id}/warnings',
  }),
  encoding: Nullable(
    Type.Object({
      name: Text(40),
      how: literals(['given', 'byte-order mark', 'utf-8', 'detected']),
      confidence: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: 100 })),
    }),
  ),
  country_hint: Nullable(
    Type.Object(
      {
        given: Text(2),
        suggested: Text(2),
        sampled: Count,
        valid_given: Count,
        valid_suggested: Count,
      },
      {
        description:
          'Set when most local numbers of the file are valid in another country than the one they were read in: import again with country=<suggested>',
      },
    ),
  ),
  percent: Type.Integer({ format: 'int32', minimum: 0, maximum: 100 }),
  rows_per_second: Nullable(Count),
  error: Nullable(Text(2000)),
  rollback: Nullable(
    Type.Object({
      rolled_back: Count,
      not_rolled_back: Type.Array(
        Type.Object({ row: Count, contact_id: Nullable(Uuid), reason: Text(500) }),
        { description: 'One entry per row the import changed that could not be undone' },
      ),
    }),
  ),
  created_at: Timestamp,
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
});

const ImportQuery = Type.Object(
  {
    format: Type.Optional(Format),
    filename: Type.Optional(
      Type.String({ maxLength: 255, description: 'Used to tell the format when the content type does not' }),
    ),
    mode: Type.Optional({ ...Mode, default: 'upsert' }),
    match: Type.Optional(
      Type.Union([Type.Literal('phone_email'), Type.Literal('external_id')], {
        default: 'phone_email',
        description:
          'What makes a row the same contact: its normalised phone, then email; or its external id',
      }),
    ),
    external_key: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_.-]{1,64}$',
        maxLength: 64,
        description: 'The external_ids key the id column is kept and matched under (default import)',
      }),
    ),
    group_id: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
    group_name: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 20 })),
    country: Type.Optional(Country),
    dry_run: Type.Optional(Type.Boolean({ default: false })),
    unmapped: Type.Optional(
      Type.Union([Type.Literal('custom'), Type.Literal('drop')], { default: 'custom' }),
    ),
    mapping: Type.Optional(
      Type.String({
        maxLength: 10_000,
        description: 'JSON: {"Header": "phone" | "custom:key" | "ignore", ...}',
      }),
    ),
    fields: Type.Optional(
      Type.String({
        maxLength: 2000,
        description:
          'JSON: {"email": "fill_empty", "company": "keep", "phones": "overwrite", ...}: overwrite (the default for a field), fill_empty, keep, or add (the default for the lists phones, emails, addresses, dates, urls: the row\'s entries join the stored ones)',
      }),
    ),
    consent: Type.Optional(
      Type.String({
        maxLength: 500,
        description: `JSON: {"sms": "subscribed"}; channels: ${CHANNELS.join(', ')}`,
      }),
    ),
    encoding: Type.Optional(
      Type.String({
        maxLength: 40,
        pattern: '^[A-Za-z0-9_.:-]+$',
        description:
          "The file's text encoding (shift_jis, windows-1251, euc-kr, ...); found from its bytes when not given",
      }),
    ),
  },
  { additionalProperties: false },
);

function json<T>(name: string, value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as T;
  } catch {
    // reported below
  }
  throw invalid(name, 'must be a JSON object');
}

const FORMAT_NAMES: Record<ImportFormat, string> = { csv: 'CSV', vcf: 'vCard', jsonl: 'JSON Lines' };

/**
 * The file an import reads, as the body's content type or a form's file part carries it.
 * No `type`: the route gets the bytes as a stream, which the import reads row by row (OpenAPI
 * 3.1 describes a file body by its media type alone), so the schema holds nothing to validate.
 */
const file = (contentType: string) => {
  const format = formatOf(contentType);
  return Type.Unsafe<Readable>({
    contentMediaType: contentType,
    description: format
      ? `The file, read as ${FORMAT_NAMES[format]} unless format= says otherwise`
      : 'The file; say which format with format=, or name it with filename= (.csv, .tsv, .txt, .vcf, .jsonl, ...)',
  });
};

/**
 * What POST /imports reads: the file as the raw body, in one of the media types it is streamed
 * from, or as the one file of a multipart form (the form's other fields are not read). The
 * form's part says its format by its own content type or file name, as a raw body does by
 * the request's; format= overrides either.
 */
const ImportBody = {
  content: {
    ...Object.fromEntries(FILE_MEDIA_TYPES.map((type) => [type, { schema: file(type) }])),
    'multipart/form-data': {
      schema: Type.Unsafe({
        type: 'object',
        properties: {
          file: {
            ...file('application/octet-stream'),
            description:
              "The file. Its format is format= if given, else its part's content type (as for a raw body), else its file name's extension",
          },
        },
        required: ['file'],
      }),
    },
  },
};

/** A streamed file: its size is the organisation's data, not a constant. */
function download(types: string | string[], description: string) {
  const media = { schema: Type.Unsafe<Readable>({ type: 'string', description: 'The file' }) };
  return { description, content: Object.fromEntries([types].flat().map((t) => [t, media])) };
}

/** A report streamed as CSV, a row at a time. */
async function sendCsv<T>(
  reply: FastifyReply,
  header: string[],
  rows: AsyncIterable<T>,
  cells: (row: T) => unknown[],
) {
  // csv-stringify is loaded by the first call, not by every server's start.
  const { stringify } = await import('csv-stringify/sync');
  const lines = async function* () {
    yield stringify([header]);
    for await (const row of rows) yield stringify([cells(row)]);
  };
  return reply.type('text/csv; charset=utf-8').send(Readable.from(lines()));
}

const EXPORT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  vcf: 'text/vcard; charset=utf-8',
  jsonl: 'application/x-ndjson',
} as const;

export const importRoutes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    // Files are streamed to the import as they arrive, never held whole in memory: as the raw
    // body, or as the one file of a multipart form.
    app.addContentTypeParser([...FILE_MEDIA_TYPES], (_request, payload, done) => done(null, payload));
    // The import service bounds a file's size (ROSTER_IMPORT_MAX_BYTES, 413), as for a raw body.
    // Left to its default (the 1 MiB body limit), multipart ended a larger file early without
    // an error, and the import completed with the rows before the cut.
    await app.register(multipart, { limits: { files: 1, fields: 20, fileSize: Infinity } });

    app.post(
      '/imports',
      {
        schema: withErrors(
          {
            tags,
            summary:
              'Import contacts from a CSV, vCard or JSON Lines file, sent as the body or as the file of a multipart form',
            querystring: ImportQuery,
            body: ImportBody,
            response: { 202: ImportJob },
          },
          CREATES,
        ),
      },
      async (request, reply) => {
        const q = request.query;
        const upload = request.isMultipart() ? await request.file() : undefined;
        if (request.isMultipart() && !upload) throw invalid('file', 'the form holds no file');
        const format: ImportFormat | undefined =
          q.format ??
          (upload
            ? formatOf(upload.mimetype, upload.filename)
            : formatOf(request.headers['content-type'], q.filename));
        if (!format)
          throw invalid(
            'format',
            'say format=csv, vcf or jsonl, or send a text/csv, text/vcard or application/x-ndjson body',
          );
        const options: ImportOptions = {
          format,
          mode: q.mode ?? 'upsert',
          match: q.match ?? 'phone_email',
          external_key: q.external_key ?? 'import',
          group_ids: q.group_id ?? [],
          group_names: q.group_name ?? [],
          default_country: q.country,
          dry_run: q.dry_run ?? false,
          unmapped: q.unmapped ?? 'custom',
          mapping: json('mapping', q.mapping),
          fields: json('fields', q.fields) ?? {},
          consent: json('consent', q.consent),
          encoding: q.encoding,
        };
        const body = upload?.file ?? request.body;
        if (!(body instanceof Readable))
          throw invalid('body', 'send the file as the request body with its content type (e.g. text/csv)');
        const length = upload ? Number.NaN : Number(request.headers['content-length']);
        const job = await services.imports.start(
          request.actor,
          body,
          options,
          Number.isFinite(length) ? length : undefined,
        );
        return reply.code(202).header('location', `/v1/imports/${job.id}`).send(job);
      },
    );

    app.get(
      '/imports/:id',
      {
        schema: withErrors({
          tags,
          summary: "An import's status and progress",
          params: IdParam,
          response: { 200: ImportJob },
        }),
      },
      async (request) => services.imports.get(request.actor, request.params.id),
    );

    app.get(
      '/imports/:id/errors',
      {
        schema: withErrors({
          tags,
          summary: 'The rows an import could not take, as CSV: row, reason, raw',
          params: IdParam,
          response: { 200: download('text/csv', 'The failed rows: row, reason, raw') },
        }),
      },
      async (request, reply) => {
        await services.imports.get(request.actor, request.params.id);
        const errors = services.imports.errors(request.actor, request.params.id);
        return sendCsv(reply, ['row', 'reason', 'raw'], errors, (e) => [e.row_number, e.reason, e.raw]);
      },
    );

    app.get(
      '/imports/:id/warnings',
      {
        schema: withErrors({
          tags,
          summary:
            'What an import kept of rows but could not read as written, as CSV: row (0 for the whole file), kind, field, value, reason',
          params: IdParam,
          response: { 200: download('text/csv', 'The warnings: row, kind, field, value, reason') },
        }),
      },
      async (request, reply) => {
        await services.imports.get(request.actor, request.params.id);
        const warnings = services.imports.warnings(request.actor, request.params.id);
        return sendCsv(reply, ['row', 'kind', 'field', 'value', 'reason'], warnings, (w) => [
          w.row_number,
          w.kind,
          w.field,
          w.value,
          w.reason,
        ]);
      },
    );

    for (const action of ['cancel', 'resume', 'rollback'] as const) {
      const summary = {
        cancel: 'Stop an import after its current batch',
        resume: 'Continue an interrupted import after its last committed batch',
        rollback: 'Undo an import as far as nothing has changed its records since',
      }[action];
      app.post(
        `/imports/:id/${action}`,
        { schema: withErrors({ tags, summary, params: IdParam, response: { 200: ImportJob } }, CREATES) },
        async (request) => services.imports[action](request.actor, request.params.id),
      );
    }

    app.get(
      '/contacts/export',
      {
        schema: withErrors({
          tags,
          summary: 'Export contacts as CSV, vCard or JSON Lines, streamed; takes the contact list filters',
          querystring: Type.Composite(
            [
              Type.Omit(ContactListQuery, ['limit', 'cursor']),
              Type.Object({
                format: Type.Optional(Format),
                bom: Type.Optional(
                  Type.Boolean({ description: 'Start a CSV with a byte-order mark, for Excel' }),
                ),
              }),
            ],
            { additionalProperties: false },
          ),
          response: {
            200: download(Object.values(EXPORT_TYPES), 'The contacts, streamed in the format asked for'),
          },
        }),
      },
      async (request, reply) => {
        const { format = 'csv', bom = false, consent, ...query } = request.query;
        const exported = services.contacts.export(request.actor, {
          ...query,
          consent: consentFilter(consent),
          format,
          bom,
        });
        const chunks = exported[Symbol.asyncIterator]();
        // The first chunk (the header) comes after the filters are checked: a bad one is a 4xx, not a cut stream.
        const first = await chunks.next();
        const body = async function* () {
          if (!first.done) yield first.value.text;
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value.text;
        };
        return reply
          .type(EXPORT_TYPES[format])
          .header('content-disposition', `attachment; filename="contacts.${format}"`)
          .send(Readable.from(body()));
      },
    );
  };
