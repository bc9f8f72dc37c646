import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { blankEvent, eventJson } from '../events/index.js';
import { RequestLog } from './request-log.js';

function setup(level: string) {
  const writes: string[] = [];
  const dest = { write: (s: string) => void writes.push(s) };
  const log = new RequestLog(pino({ level }, dest), dest);
  return { writes, log };
}

const ev = (n: number) => eventJson({ ...blankEvent(), id: `e${n}`, ts: n, requestId: `r${n}`, kind: 'llm.request', status: 200, model: 'gpt-4o-mini' });

describe('RequestLog', () => {
  it('writes one pino-shaped line per request, gathered into one write shortly after', async () => {
    const { writes, log } = setup('info');
    log.write(ev(1));
    log.write(ev(2));
    expect(writes).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 30));
    expect(writes).toHaveLength(1);
    const lines = writes[0]!.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', service: 'warden', id: 'e1', requestId: 'r1', status: 200, model: 'gpt-4o-mini', msg: 'request' });
    expect(new Date(lines[1]!.time as string).getTime()).toBeGreaterThan(0);
    expect(lines[1]).not.toHaveProperty('errorType');
  });

  it('flush() writes what is pending at once (shutdown)', () => {
    const { writes, log } = setup('info');
    log.write(ev(1));
    log.flush();
    expect(writes).toHaveLength(1);
    log.flush();
    expect(writes).toHaveLength(1);
  });

  it('writes nothing when the level is above info', async () => {
    const { writes, log } = setup('warn');
    log.write(ev(1));
    log.flush();
    expect(writes).toHaveLength(0);
  });
});
