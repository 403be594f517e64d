import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { DomainError, notFound } from '../../../domain/errors.js';
import type { Services } from '../../../services/index.js';
import { authenticate } from '../../auth.js';
import { concurrencyLimit } from '../../concurrency.js';
import { withDrfErrors } from '../drf-errors.js';
import { errors } from './errors.js';
import { groupIn, groupText, membersError, membersIn, pageJson, pageUrl } from './mapping.js';
import { GroupOut, GroupPage, GroupPatch, GroupWrite, IdParams, PageQuery } from './schemas.js';

const PATH = '/api/unified-communications/contact-groups';
const tags = ['Seed 002: unified-communications contact groups'];
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

/**
 * Pages written at once. A page is written in pieces as its client reads them, so 64 clients
 * would each hold a group's member cards while waiting on their sockets; those outlive a few
 * young-generation collections and are promoted, and the heap grows with them (see
 * docs/performance.md, Memory). One thread does the work either way.
 */
const PAGES_AT_ONCE = 2;

/**
 * A client that stops reading keeps its page's turn: after this long with nothing written to
 * its socket, the connection is closed and the turn passes on, so two stalled clients cannot
 * hold up every other one's list for good.
 */
const STALLED_READER_MS = 30_000;

/** Answers are JSON text made by mapping.ts (the route schemas document them; they do not serialise them). */
const sendJson = (reply: FastifyReply, body: string | Readable) =>
  reply.type('application/json; charset=utf-8').send(body);

const invalidPage = () => new DomainError('not_found', 'Invalid page.', { detail: 'Invalid page.' });

/** DRF's page-number rules: a bad or missing page_size falls back to the default, a large one is capped. */
function pageSizeOf(raw: string | undefined): number {
  const size = Number(raw);
  return Number.isInteger(size) && size > 0 ? Math.min(size, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
}

function pageOf(raw: string | undefined): number {
  if (raw === undefined || raw === 'last') return raw === 'last' ? -1 : 1;
  const page = Number(raw);
  if (!Number.isInteger(page) || page < 1) throw invalidPage();
  return page;
}

/** Seed 002: a church platform's contact groups that hold platform users and hand-entered contacts. */
export const routes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { groups, groupMembers } = services;
    const listPages = concurrencyLimit(PAGES_AT_ONCE);
    app.setErrorHandler(errors);
    app.addHook('onRequest', async (request) => {
      await authenticate(services, request, { surface: 'seed-002' });
    });

    const shown = async (actor: Parameters<typeof groups.get>[0], key: number, reply: FastifyReply) => {
      const group = await groups.get(actor, { key });
      return sendJson(reply, groupText(group, await groups.membersOf(actor, key)));
    };
    const groupById = async (actor: Parameters<typeof groups.get>[0], id: string) => {
      try {
        return await groups.get(actor, { id });
      } catch (error) {
        throw error instanceof DomainError && error.code === 'not_found' ? notFound('Contact group') : error;
      }
    };

    app.get(
      PATH,
      {
        schema: withDrfErrors({
          tags,
          summary: 'List contact groups, a page at a time',
          querystring: PageQuery,
          response: { 200: GroupPage },
        }),
      },
      async (request, reply) => {
        const size = pageSizeOf(request.query.page_size);
        let page = pageOf(request.query.page);
        if (page === -1)
          page = Math.max(1, Math.ceil((await groups.pageByNumber(request.actor, 1, 1)).total / size));
        const { items, total } = await groups.pageByNumber(request.actor, page, size);
        const lastPage = Math.max(1, Math.ceil(total / size));
        if (page > lastPage) throw invalidPage();
        const head = {
          count: total,
          next: page < lastPage ? pageUrl(request, page + 1) : null,
          previous: page > 1 ? pageUrl(request, page - 1) : null,
        };
        // A page embeds every member of its groups (megabytes): streamed, it is never held whole.
        const socket = request.raw.socket as { setTimeout?: (ms: number) => void } | undefined;
        socket?.setTimeout?.(STALLED_READER_MS);
        const body = listPages(() =>
          pageJson(
            head,
            items,
            groups.memberCards(
              request.actor,
              items.map((g) => g.key),
            ),
          ),
        );
        return sendJson(reply, Readable.from(body, { objectMode: false }));
      },
    );

    app.post(
      PATH,
      {
        schema: withDrfErrors(
          {
            tags,
            summary: 'Create a contact group',
            body: GroupWrite,
            response: { 201: GroupOut },
          },
          [409],
        ),
      },
      async (request, reply) => {
        const group = await groupMembers
          .create(request.actor, groupIn(request.body, request.actor.organisationId), membersIn(request.body))
          .catch(membersError);
        return shown(request.actor, group.key, reply.code(201));
      },
    );

    app.get(
      `${PATH}/:id`,
      {
        schema: withDrfErrors({
          tags,
          summary: 'Get a contact group',
          params: IdParams,
          response: { 200: GroupOut },
        }),
      },
      async (request, reply) => {
        const group = await groupById(request.actor, request.params.id);
        return shown(request.actor, group.key, reply);
      },
    );

    for (const method of ['put', 'patch'] as const) {
      const replace = method === 'put';
      app[method](
        `${PATH}/:id`,
        {
          schema: withDrfErrors(
            {
              tags,
              summary: replace ? 'Replace a contact group and its members' : 'Update a contact group',
              params: IdParams,
              body: replace ? GroupWrite : GroupPatch,
              response: { 200: GroupOut },
            },
            [409],
          ),
        },
        async (request, reply) => {
          const current = await groupById(request.actor, request.params.id);
          // PUT is a full update: optional fields not sent are cleared, as DRF does.
          const body = replace
            ? { legacy_id: null, nextgen_legacy_id: null, thumbnail: null, ...request.body }
            : request.body;
          const input = groupIn(body, request.actor.organisationId, current);
          const group = await groupMembers
            .update(request.actor, current.id, input, membersIn(body), replace)
            .catch(membersError);
          return shown(request.actor, group.key, reply);
        },
      );
    }

    app.delete(
      `${PATH}/:id`,
      {
        schema: withDrfErrors({
          tags,
          summary: 'Delete a contact group (its contacts stay)',
          params: IdParams,
          response: { 204: { type: 'null' } },
        }),
      },
      async (request, reply) => {
        const group = await groupById(request.actor, request.params.id);
        await groups.delete(request.actor, { key: group.key });
        return reply.code(204).send(null);
      },
    );
  };
