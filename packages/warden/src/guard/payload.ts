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
