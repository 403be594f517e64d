// The machine's limit: a bare node:http server answering every request with one constant JSON
// body (of the size of a contact), as cheaply as Node can. With LIMIT_FRAMEWORK=fastify, the
// framework's own floor: Fastify answering the same body from one route, with nothing of
// Roster's. Run as its own process; prints its port.
import { createServer } from 'node:http';

const body = Buffer.from(process.env.LIMIT_BODY ?? '{}');
const type = 'application/json; charset=utf-8';

async function listen() {
  if (process.env.LIMIT_FRAMEWORK === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ keepAliveTimeout: 60_000 });
    app.get('/', (_request, reply) => reply.type(type).send(body));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: app.server.address().port, close: () => app.close() };
  }
  const headers = { 'content-type': type, 'content-length': body.length };
  const server = createServer((_request, response) => {
    response.writeHead(200, headers);
    response.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
}

const { port, close } = await listen();
console.log(JSON.stringify({ port }));
process.on('SIGTERM', () => close().then(() => process.exit(0)));
