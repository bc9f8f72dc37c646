#!/usr/bin/env node
// The benchmark's "floor" target: a bare proxy from the same HTTP stack Warden uses
// (fastify 5 in front, an undici 7 Pool to the upstream) with none of Warden's pipeline:
// no auth, routing, events, audit chain, logs, metrics or usage accounting. Started as
// its own process by bench/run.mjs.
//
//   node bench/lib/bare-proxy.mjs --upstream http://127.0.0.1:PORT --api-key KEY [--host H] [--port P]
import Fastify from 'fastify';
import { Pool } from 'undici';

function parseArgs(argv) {
  const opts = { upstream: '', apiKey: '', host: '127.0.0.1', port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--upstream': opts.upstream = next(); break;
      case '--api-key': opts.apiKey = next(); break;
      case '--host': opts.host = next(); break;
      case '--port': opts.port = Number(next()); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!opts.upstream) throw new Error('--upstream URL is required');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('--port must be 0..65535');
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`bare-proxy: ${err.message}\n`);
  process.exit(2);
}

const upstream = new URL(opts.upstream);
const path = `${upstream.pathname.replace(/\/+$/, '')}/v1/chat/completions`;
const pool = new Pool(upstream.origin, { connections: 256, keepAliveTimeout: 30_000 });
const upstreamHeaders = { 'content-type': 'application/json', authorization: `Bearer ${opts.apiKey}` };

const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

app.post('/v1/chat/completions', async (req, reply) => {
  let res;
  try {
    res = await pool.request({ path, method: 'POST', headers: upstreamHeaders, body: req.body });
  } catch (err) {
    return reply.code(502).send({ error: { message: `upstream: ${err?.message ?? err}` } });
  }
  const ct = res.headers['content-type'] ?? 'application/json';
  if (String(ct).startsWith('text/event-stream')) {
    return reply.code(res.statusCode).header('content-type', ct).send(res.body);
  }
  const buf = Buffer.from(await res.body.arrayBuffer());
  return reply.code(res.statusCode).header('content-type', ct).send(buf);
});

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(1), 5000).unref();
  try {
    await app.close();
    await pool.close();
  } finally {
    process.exit(0);
  }
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

try {
  await app.listen({ host: opts.host, port: opts.port });
  const { port } = app.server.address();
  process.stdout.write(`bare proxy listening on http://${opts.host}:${port}\n`);
} catch (err) {
  process.stderr.write(`bare-proxy: ${err?.stack ?? err}\n`);
  process.exit(1);
}
