#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startMockUpstream } from './index.js';

function fail(message: string): never {
  process.stderr.write(`mock-upstream: ${message}\n`);
  process.stderr.write('usage: mock-upstream [--port 9000] [--host 127.0.0.1] [--chunks 8] [--api-key KEY]\n');
  process.exit(2);
}

function integer(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) fail(`--${name} must be an integer in ${min}..${max}`);
  return value;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      chunks: { type: 'string' },
      'api-key': { type: 'string' },
    },
    strict: true,
  }));
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}

const upstream = await startMockUpstream({
  host: values.host,
  port: integer('port', values.port, 0, 65535),
  streamChunks: integer('chunks', values.chunks, 1, 10_000),
  apiKey: values['api-key'],
});
process.stdout.write(`mock upstream listening on ${upstream.url}\n`);

const stop = (): void => {
  upstream.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
