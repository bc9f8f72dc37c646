/** Where a piece of text came from: what a model would read it as. */
export type TextSource = 'user' | 'system' | 'tool_result' | 'document';

/** One string of a request the model will read, with a way to replace it (redaction). */
export interface PayloadText {
  where: string;
  text: string;
  source: TextSource;
  replace(next: string): void;
}

function sourceOfRole(role: unknown): TextSource {
  if (role === 'system' || role === 'developer') return 'system';
  if (role === 'tool' || role === 'function') return 'tool_result';
  // Assistant turns are the client's to write: treated like user text.
  return 'user';
}

/**
 * Every string a model reads in an OpenAI (chat, responses, embeddings) or
 * Anthropic (messages) request, in all roles: message contents, text parts,
 * tool results, system prompts and instructions, and embedding inputs.
 * Images, audio and tool *definitions* are not collected.
 */
export function payloadTexts(body: Record<string, unknown>): PayloadText[] {
  const out: PayloadText[] = [];
  const at = (holder: Record<string, unknown> | unknown[], key: string | number, where: string, source: TextSource) => {
    const v = (holder as Record<string | number, unknown>)[key];
    if (typeof v === 'string') {
      out.push({ where, text: v, source, replace: (next) => ((holder as Record<string | number, unknown>)[key] = next) });
    } else if (Array.isArray(v)) {
      v.forEach((part, i) => content(part, v, i, `${where}[${i}]`, source));
    }
  };
  // A content part: a string, or a block with text (and, for tool results, nested content).
  const content = (part: unknown, holder: unknown[], i: number, where: string, source: TextSource) => {
    if (typeof part === 'string') return at(holder, i, where, source);
    if (!part || typeof part !== 'object') return;
    const p = part as Record<string, unknown>;
    const src = p.type === 'tool_result' || p.type === 'function_call_output' ? 'tool_result' : source;
    for (const k of ['text', 'input_text', 'output']) if (typeof p[k] === 'string') at(p, k, `${where}.${k}`, src);
    if (p.content !== undefined) at(p, 'content', `${where}.content`, src);
  };
  for (const k of ['system', 'instructions']) if (body[k] !== undefined) at(body, k, k, 'system');
  if (Array.isArray(body.messages)) {
    body.messages.forEach((m, i) => {
      if (m && typeof m === 'object') at(m as Record<string, unknown>, 'content', `messages[${i}].content`, sourceOfRole((m as { role?: unknown }).role));
    });
  }
  if (typeof body.input === 'string' || Array.isArray(body.input)) {
    if (typeof body.input === 'string') at(body, 'input', 'input', 'user');
    else
      body.input.forEach((item, i) => {
        if (typeof item === 'string') at(body.input as unknown[], i, `input[${i}]`, 'user');
        else if (item && typeof item === 'object') {
          const it = item as Record<string, unknown>;
          const src = it.type === 'function_call_output' ? 'tool_result' : sourceOfRole(it.role);
          if (it.content !== undefined) at(it, 'content', `input[${i}].content`, src);
          if (typeof it.output === 'string') at(it, 'output', `input[${i}].output`, src);
        }
      });
  }
  if (typeof body.prompt === 'string') at(body, 'prompt', 'prompt', 'user');
  return out;
}

/** The answer shapes Warden reads: OpenAI chat and responses, Anthropic messages. */
export type AnswerFormat = 'chat' | 'responses' | 'messages' | 'embeddings';

/** Collects the strings at `key` of `holder` (a string, or text parts) as PayloadTexts. */
function textAt(out: PayloadText[], holder: Record<string, unknown>, key: string, where: string): void {
  const v = holder[key];
  if (typeof v === 'string') out.push({ where, text: v, source: 'document', replace: (next) => (holder[key] = next) });
  else if (Array.isArray(v)) {
    v.forEach((part, i) => {
      if (part && typeof part === 'object' && typeof (part as Record<string, unknown>).text === 'string') textAt(out, part as Record<string, unknown>, 'text', `${where}[${i}].text`);
    });
  }
}

/** Texts of one Responses API output item: message text parts and function-call arguments. */
function outputItemTexts(out: PayloadText[], item: unknown, where: string): void {
  if (!item || typeof item !== 'object') return;
  const it = item as Record<string, unknown>;
  if (Array.isArray(it.content)) textAt(out, it, 'content', `${where}.content`);
  if (typeof it.arguments === 'string') textAt(out, it, 'arguments', `${where}.arguments`);
}

/**
 * Every string a model wrote in a non-streamed answer: chat choices'
 * contents and tool-call arguments, Responses output text and function-call
 * arguments, Anthropic text blocks. Also reads the Responses API's streamed
 * events that repeat the whole text (`*.done`, `response.completed`), so a
 * redacted stream stays redacted in its summaries.
 */
export function answerTexts(format: AnswerFormat, body: unknown): PayloadText[] {
  const out: PayloadText[] = [];
  if (!body || typeof body !== 'object') return out;
  const b = body as Record<string, unknown>;
  const each = (v: unknown, fn: (x: Record<string, unknown>, i: number) => void) => {
    if (Array.isArray(v)) v.forEach((x, i) => x && typeof x === 'object' && fn(x as Record<string, unknown>, i));
  };
  switch (format) {
    case 'chat':
      each(b.choices, (c, i) => {
        const m = c.message as Record<string, unknown> | undefined;
        if (!m || typeof m !== 'object') return;
        textAt(out, m, 'content', `choices[${i}].message.content`);
        each(m.tool_calls, (t, j) => {
          if (t.function && typeof t.function === 'object') textAt(out, t.function as Record<string, unknown>, 'arguments', `choices[${i}].message.tool_calls[${j}].function.arguments`);
        });
      });
      break;
    case 'responses': {
      // A whole response, or one of its stream events carrying whole texts.
      const r = (b.type === 'response.completed' || b.type === 'response.incomplete' || b.type === 'response.failed') && b.response && typeof b.response === 'object' ? (b.response as Record<string, unknown>) : b;
      each(r.output, (item, i) => outputItemTexts(out, item, `output[${i}]`));
      if (b.type === 'response.output_item.done') outputItemTexts(out, b.item, 'item');
      if (b.type === 'response.content_part.done' && b.part && typeof b.part === 'object') textAt(out, b.part as Record<string, unknown>, 'text', 'part.text');
      if (b.type === 'response.output_text.done') textAt(out, b, 'text', 'text');
      if (b.type === 'response.function_call_arguments.done') textAt(out, b, 'arguments', 'arguments');
      break;
    }
    case 'messages':
      each(b.content, (block, i) => {
        if (block.type === 'text') textAt(out, block, 'text', `content[${i}].text`);
        // A tool call's input is a JSON object: every string in it, as the arguments of OpenAI tool calls are read.
        else if (block.type === 'tool_use' && block.input && typeof block.input === 'object') out.push(...jsonTexts(block.input, 'document', `content[${i}].input`));
      });
      break;
    case 'embeddings':
      break;
  }
  return out;
}

/** Deepest nesting and most strings read from one JSON payload: a hostile payload cannot make the walk unbounded. */
const JSON_MAX_DEPTH = 32;
const JSON_MAX_STRINGS = 10_000;

/** `a.b` for a plain key, `a["x.y"]` for one that would read as a path: two strings never share a path. */
function keyPath(where: string, k: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(k)) return where ? `${where}.${k}` : k;
  return `${where}[${JSON.stringify(k)}]`;
}

/**
 * Whether jsonTexts reaches every string of a value: no deeper than
 * JSON_MAX_DEPTH and no more than JSON_MAX_STRINGS strings. What it cannot
 * reach is not inspected, so callers that forward a value refuse it.
 */
export function jsonInspectable(value: unknown): boolean {
  let strings = 0;
  const walk = (v: unknown, depth: number): boolean => {
    if (typeof v === 'string') return ++strings <= JSON_MAX_STRINGS;
    if (!v || typeof v !== 'object') return true;
    if (depth >= JSON_MAX_DEPTH) return false;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (!walk(x, depth + 1)) return false;
    return true;
  };
  return walk(value, 0);
}

/**
 * Every string value in a JSON payload (a trace event's payload, a tool's
 * arguments or result), with its path (`steps[2].output`) and a way to
 * replace it. Object keys are not read; nesting beyond 32 levels and strings
 * beyond the first 10,000 are left out.
 */
export function jsonTexts(value: unknown, source: TextSource, root = ''): PayloadText[] {
  const out: PayloadText[] = [];
  const walk = (holder: Record<string, unknown> | unknown[], key: string | number, where: string, depth: number): void => {
    if (out.length >= JSON_MAX_STRINGS) return;
    const v = (holder as Record<string | number, unknown>)[key];
    if (typeof v === 'string') {
      if (v) out.push({ where, text: v, source, replace: (next) => ((holder as Record<string | number, unknown>)[key] = next) });
      return;
    }
    if (!v || typeof v !== 'object' || depth >= JSON_MAX_DEPTH) return;
    if (Array.isArray(v)) v.forEach((_, i) => walk(v, i, `${where}[${i}]`, depth + 1));
    else for (const k of Object.keys(v)) walk(v as Record<string, unknown>, k, keyPath(where, k), depth + 1);
  };
  const box = { value };
  walk(box, 'value', root, 0);
  return out;
}
