import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** Where `npm run build:console` puts the console (console/dist), from src/http or dist/http alike. */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../console/dist/', import.meta.url));

/**
 * The paths of the console's own pages: each answers its index.html and the console's router takes over.
 * Listed rather than a catch-all, so that /v1, the seeds' prefixes and unknown paths keep their JSON 404s.
 */
export const CONSOLE_PAGES = [
  '/',
  '/sign-in',
  '/contacts',
  '/contacts/*',
  '/groups',
  '/groups/*',
  '/duplicates',
  '/duplicates/*',
  '/import',
  '/webhooks',
  '/webhooks/*',
  '/admin',
];

/**
 * The web console (console/): static files built from source, served with security headers and a
 * Content-Security-Policy that allows the console's own scripts only. Scoped to these routes: /docs keeps
 * its own (Swagger UI needs inline scripts) and the APIs' JSON answers are unchanged.
 */
export const webConsole =
  (root: string = CONSOLE_ROOT): FastifyPluginAsync =>
  async (app) => {
    const indexFile = `${root}index.html`;
    if (!existsSync(indexFile)) {
      app.log.warn({ root }, 'the console is not built (npm run build:console): / serves no page');
      return;
    }
    const index = readFileSync(indexFile);
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: true,
      // Strict-Transport-Security is for the TLS proxy in front to set: it knows whether subdomains serve HTTPS.
      hsts: false,
    });
    // Vite names every asset by its content: a name never changes meaning, so it may be cached for good.
    await app.register(fastifyStatic, {
      root: `${root}assets`,
      prefix: '/assets/',
      immutable: true,
      maxAge: '365d',
      index: false,
      wildcard: true,
    });
    for (const path of CONSOLE_PAGES)
      app.get(path, { schema: { hide: true } }, async (_request, reply) =>
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index),
      );
  };
