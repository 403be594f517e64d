// The machine's limit: a bare node:http server answering every request with one constant JSON
// body (of the size of a contact), as cheaply as Node can. Run as its own process; prints its port.
import { createServer } from 'node:http';

const body = Buffer.from(process.env.LIMIT_BODY ?? '{}');
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length };
const server = createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
