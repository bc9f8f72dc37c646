import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_STDERR_LINE, STDERR_BURST, STDERR_PER_SECOND, StderrLog } from './stderr.js';

function recorder(secrets: string[] = []) {
  const lines: Array<Record<string, unknown>> = [];
  const clock = { t: 0 };
  const log = { info: () => {}, warn: (obj: object) => void lines.push(obj as Record<string, unknown>) };
  return { lines, clock, stderr: new StderrLog('files', log, secrets, () => clock.t) };
}

async function feed(stderr: StderrLog, chunks: Array<string | Buffer>): Promise<void> {
  const stream = new PassThrough();
  stderr.attach(stream);
  const ended = new Promise((r) => stream.on('end', r));
  for (const c of chunks) stream.write(c);
  stream.end();
  await ended;
}

describe('StderrLog', () => {
  it('logs each line as { mcp_server, stderr }, joining lines split across chunks and skipping blank ones', async () => {
    const { lines, stderr } = recorder();
    await feed(stderr, ['starting', ' up\r\nready\n\n  \n', Buffer.from('last, no newline')]);
    expect(lines).toEqual([
      { mcp_server: 'files', stderr: 'starting up' },
      { mcp_server: 'files', stderr: 'ready' },
      { mcp_server: 'files', stderr: 'last, no newline' },
    ]);
  });

  it('keeps a multi-byte character split across chunks whole', async () => {
    const { lines, stderr } = recorder();
    const bytes = Buffer.from('größe €\n');
    await feed(stderr, [bytes.subarray(0, 3), bytes.subarray(3, 9), bytes.subarray(9)]);
    expect(lines[0]!.stderr).toBe('größe €');
  });

  it('cuts a long line, marks it truncated, and drops the rest of it however many chunks it spans', async () => {
    const { lines, stderr } = recorder();
    await feed(stderr, ['x'.repeat(1500), 'y'.repeat(1500), 'z'.repeat(5000), '\nnext\n']);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ truncated: true });
    expect((lines[0]!.stderr as string).length).toBe(MAX_STDERR_LINE);
    expect(lines[0]!.stderr).toBe('x'.repeat(1500) + 'y'.repeat(500));
    expect(lines[1]).toEqual({ mcp_server: 'files', stderr: 'next' });
  });

  it('bounds the rate: past a burst, lines are dropped and counted in one line when logging resumes', () => {
    const { lines, clock, stderr } = recorder();
    for (let i = 0; i < STDERR_BURST + 50; i++) stderr.line(`line ${i}`);
    expect(lines).toHaveLength(STDERR_BURST);
    clock.t += 1000;
    stderr.line('after the flood');
    expect(lines[STDERR_BURST]).toEqual({ mcp_server: 'files', stderr_dropped: 50 });
    expect(lines[STDERR_BURST + 1]).toEqual({ mcp_server: 'files', stderr: 'after the flood' });
    // A second later, the bucket has refilled by STDERR_PER_SECOND lines only.
    for (let i = 0; i < 100; i++) stderr.line(`again ${i}`);
    expect(lines.filter((l) => typeof l.stderr === 'string' && l.stderr.startsWith('again'))).toHaveLength(STDERR_PER_SECOND - 1);
  });

  it('replaces the values of the server\'s configured env in what it prints', async () => {
    const { lines, stderr } = recorder(['tok-8812-secret', 'on']);
    await feed(stderr, ['auth with tok-8812-secret failed; retry on\n']);
    expect(lines[0]!.stderr).toBe('auth with [redacted] failed; retry on');
  });
});
