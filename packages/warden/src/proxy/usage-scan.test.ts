import { describe, expect, it } from 'vitest';
import { topLevelUsage } from './usage-scan.js';

const scan = (o: unknown) => topLevelUsage(Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)));
const parsedUsage = (text: string) => (JSON.parse(text) as { usage?: unknown }).usage;

describe('topLevelUsage', () => {
  it('reads the top-level usage of an OpenAI answer, matching a full parse', () => {
    const body = { id: 'x', choices: [{ message: { content: 'hi' } }], usage: { prompt_tokens: 3, completion_tokens: 5, details: { cached: 1 } } };
    expect(scan(body)).toEqual({ usage: body.usage });
  });

  it('is not fooled by "usage" in content, in a nested object, or as a string value', () => {
    const tricky = {
      usage: { prompt_tokens: 1, completion_tokens: 2 },
      choices: [{ message: { content: 'fake "usage":{"prompt_tokens":999} here' }, meta: { usage: { prompt_tokens: 777 } } }],
      kind: 'usage',
    };
    const text = JSON.stringify(tricky);
    // The last "usage" key is nested: the shortcut must refuse, and the full parse gives the real one.
    expect(scan(text)).toBeUndefined();
    expect(parsedUsage(text)).toEqual({ prompt_tokens: 1, completion_tokens: 2 });
  });

  it('takes the last top-level usage, as JSON.parse does, and handles whitespace and escapes', () => {
    const text = '{ "a": "x\\\\", "usage" : {"prompt_tokens":1},\n "b": ["}", "\\"usage\\":{"], "usage" :\t{ "prompt_tokens": 2 } }  \n';
    expect(scan(text)).toEqual({ usage: parsedUsage(text) });
    expect(scan(text)).toEqual({ usage: { prompt_tokens: 2 } });
  });

  it('leaves null, missing or malformed usage and truncated bodies to the full parse', () => {
    expect(scan({ usage: null })).toBeUndefined();
    expect(scan({ id: 1 })).toBeUndefined();
    expect(scan('{"usage":{"prompt_tokens":1}')).toBeUndefined();
    expect(scan('{"usage":{"prompt_tokens":}}')).toBeUndefined();
    expect(scan('{"usage":{"prompt_tokens":1}} trailing')).toBeUndefined();
  });
});
