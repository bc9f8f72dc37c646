import { StringDecoder } from 'node:string_decoder';
import { type ActedFinding, type Guard, type GuardTarget, type GuardVerdict, strongerAction } from '../guard/guard.js';
import { answerTexts } from '../guard/payload.js';
import type { RecordedFinding, Redactor } from '../guard/scanner.js';
import type { BodyTransform } from './upstream-call.js';
import { dataOf, eventEnd, type UsageFormat } from './usage.js';

/**
 * Characters of each streamed text held back from the client until more
 * arrives. Any finding shorter than this is whole in the scanned window
 * before any of it is released (proof in docs/guardrails.md); longer
 * unbroken tokens (keys, JWTs, URLs) are held whole by the rule that a cut
 * never falls inside a run of non-space characters.
 */
export const STREAM_HOLD = 48;
/** Rescan once this many new characters are pending past the hold. */
const SCAN_EVERY = 16;
/** Observing (flag only), nothing waits on a scan: scan in larger steps. */
const OBSERVE_SCAN_EVERY = 1024;
/** Released characters kept before the pending text, for context words (`SSN:`, `password=`). */
const CARRY = 64;
/** A run held back longer than this is released anyway (a stream is never held whole). */
const MAX_HOLD = 8192;

/** What inspecting one answer found: reported once, when the answer is complete or blocked. */
export interface AnswerReport {
  findings: RecordedFinding[];
  action: GuardVerdict['action'];
  blocked: string[];
}

/** The guardrails for one call's answer: who it is for and how to record and refuse. */
export interface AnswerGuard {
  guard: Guard;
  target: GuardTarget;
  /** The request's placeholders: the same value gets the same one in the answer. */
  redactor: Redactor;
  report(r: AnswerReport): void;
  /** The SSE event that tells the client its stream was cut by a guardrail, in its API's error shape. */
  blockedEvent(format: UsageFormat, types: string[]): string;
}


/**
 * One text delta in an event: which text it continues, where in it, and
 * where it sits in the event — as the span of its JSON string literal in the
 * raw event (the common shapes, read without parsing the event), or as a
 * member of the parsed event.
 */
interface Segment {
  key: string;
  where: string;
  text: string;
  start: number;
  end: number;
  literal: [number, number] | null;
  holder: Record<string, unknown> | null;
  field: string;
}

interface Held {
  raw: string;
  /** The parsed event, when it had to be parsed (null on the fast path). */
  data: unknown;
  segments: Segment[];
  /** An event repeating whole texts (Responses API summaries): redacted as a whole when released. */
  whole: boolean;
  /** After this event no text continues (a finish reason, a block's end): everything pending is released. */
  flush: boolean;
}

/** One streamed text (a choice's content, a tool call's arguments, a content block). */
class Track {
  carry = '';
  pending = '';
  /** Offset in the whole text of pending[0]; everything before it was released. */
  base = 0;
  /** Ends of the segments not yet released: where a cut may fall. */
  ends: number[] = [];
  /** Placeholders for findings in the pending text, by their offsets in the whole text. */
  reds: Array<{ start: number; end: number; placeholder: string }> = [];
  constructor(readonly where: string) {}
}

const SPACE = /\s/;

/**
 * Inspects a streamed answer as it flows: re-cuts the SSE stream at event
 * boundaries, holds back the last few dozen characters of each text so a
 * secret split across chunks is seen whole, and releases events as soon as
 * their text is known to be clean — rewritten with typed placeholders where
 * the action is redact, or replaced by an error event in the API's own shape
 * (and the stream ended) where it is block. Memory per stream is bounded by
 * the hold, never the whole answer.
 */
export class StreamAnswerGuard implements BodyTransform {
  closed = false;
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  private readonly queue: Held[] = [];
  private readonly tracks = new Map<string, Track>();
  private readonly report: AnswerReport = { findings: [], action: 'pass', blocked: [] };
  private out = '';
  /** Only flag actions apply: the stream passes as it comes and is read beside it, with no hold. */
  private readonly observe: boolean;

  constructor(
    private readonly format: UsageFormat,
    private readonly ag: AnswerGuard,
  ) {
    this.observe = !ag.guard.alters(ag.target);
  }

  /** Whether the bytes the client gets can differ from the upstream's. */
  get rewrites(): boolean {
    return !this.observe;
  }

  push(chunk: Buffer): Buffer {
    if (this.closed) return EMPTY;
    if (this.observe) {
      this.read(chunk);
      return chunk;
    }
    this.read(chunk);
    return this.take();
  }

  /** Splits the stream into events and inspects each. */
  private read(chunk: Buffer): void {
    this.text += this.decoder.write(chunk);
    const hasCr = this.text.includes('\r');
    let start = 0;
    for (let end = eventEnd(this.text, 0, hasCr); end !== -1 && !this.closed; end = eventEnd(this.text, start, hasCr)) {
      this.accept(this.text.slice(start, end));
      start = end;
    }
    this.text = this.closed ? '' : this.text.slice(start);
  }

  end(): Buffer {
    if (this.closed) return EMPTY;
    const rest = this.text + this.decoder.end();
    this.text = '';
    if (rest.trim()) this.accept(rest);
    if (!this.closed) {
      for (const t of this.tracks.values()) this.scan(t, true);
      this.release();
      this.finish();
    }
    // Observing, every byte was passed on as it came.
    return this.observe ? EMPTY : this.take();
  }

  private take(): Buffer {
    if (!this.out) return EMPTY;
    const b = Buffer.from(this.out);
    this.out = '';
    return b;
  }

  private accept(raw: string): void {
    const held = this.parse(raw);
    if (this.observe) {
      if (held) this.inspect(held);
      return;
    }
    if (!held) {
      // Nothing to inspect: straight through, unless earlier text is still held (order is kept).
      if (this.queue.length === 0) this.out += raw;
      else this.queue.push({ raw, data: null, segments: [], whole: false, flush: false });
      return;
    }
    this.queue.push(held);
    this.inspect(held);
    if (!this.closed) this.release();
  }

  /** Adds an event's text to its tracks and scans those with enough pending. */
  private inspect(held: Held): void {
    const touched = new Set<Track>();
    for (const s of held.segments) {
      const t = this.track(s.key, s.where);
      s.start = t.base + t.pending.length;
      t.pending += s.text;
      s.end = s.start + s.text.length;
      t.ends.push(s.end);
      touched.add(t);
    }
    if (held.whole || held.flush) {
      for (const t of this.tracks.values()) if (!this.closed) this.scan(t, true);
    } else {
      const every = this.observe ? OBSERVE_SCAN_EVERY : SCAN_EVERY;
      for (const t of touched) if (!this.closed && t.pending.length >= STREAM_HOLD + every) this.scan(t, false);
    }
  }

  private track(key: string, where: string): Track {
    let t = this.tracks.get(key);
    if (!t) this.tracks.set(key, (t = new Track(where)));
    return t;
  }

  /** The event's text deltas, or null when it carries none, repeats no whole text and ends nothing. */
  private parse(raw: string): Held | null {
    const f = this.format;
    const flush = f === 'chat' ? FINISHED.test(raw) : f === 'messages' ? BLOCK_END.test(raw) : false;
    if (f === 'chat' ? !raw.includes('"delta"') : f === 'messages' ? !raw.includes('content_block_delta') : !(raw.includes('.delta"') || raw.includes('.done"') || raw.includes('"response.'))) {
      return flush ? { raw, data: null, segments: [], whole: false, flush } : null;
    }
    const fast = this.fastSegment(raw);
    if (fast !== undefined) return fast || flush ? { raw, data: null, segments: fast ? [fast] : [], whole: false, flush } : null;
    let data: unknown;
    try {
      data = JSON.parse(dataOf(raw));
    } catch {
      return null;
    }
    if (!data || typeof data !== 'object') return null;
    const d = data as Record<string, unknown>;
    const segments: Segment[] = [];
    const seg = (key: string, where: string, holder: unknown, field: string) => {
      const h = holder as Record<string, unknown> | null;
      const text = h && typeof h === 'object' ? h[field] : undefined;
      if (typeof text === 'string' && text !== '') segments.push({ key, where, text, holder: h, field, literal: null, start: 0, end: 0 });
    };
    let whole = false;
    if (f === 'chat' && Array.isArray(d.choices)) {
      d.choices.forEach((c: { index?: number; delta?: { content?: unknown; tool_calls?: unknown } }, i) => {
        const ci = c?.index ?? i;
        seg(`${ci}`, `choices[${ci}].message.content`, c?.delta, 'content');
        if (Array.isArray(c?.delta?.tool_calls)) {
          c.delta.tool_calls.forEach((tc: { index?: number; function?: unknown }, j) => seg(`${ci}.t${tc?.index ?? j}`, `choices[${ci}].message.tool_calls[${tc?.index ?? j}].function.arguments`, tc?.function, 'arguments'));
        }
      });
    } else if (f === 'messages' && d.type === 'content_block_delta') {
      const delta = d.delta as Record<string, unknown> | undefined;
      const field = delta?.type === 'input_json_delta' ? 'partial_json' : 'text';
      seg(`${d.index}`, `content[${d.index}].${field === 'text' ? 'text' : 'input'}`, delta, field);
    } else if (f === 'responses' && typeof d.type === 'string') {
      if (d.type === 'response.output_text.delta' || d.type === 'response.function_call_arguments.delta') {
        seg(`${d.item_id}:${d.content_index ?? ''}`, `output[${d.output_index}]${d.type === 'response.output_text.delta' ? `.content[${d.content_index}].text` : '.arguments'}`, d, 'delta');
      } else {
        whole = d.type.endsWith('.done') || d.type === 'response.completed' || d.type === 'response.incomplete' || d.type === 'response.failed';
      }
    }
    return segments.length || whole || flush ? { raw, data, segments, whole, flush } : null;
  }

  /**
   * The one text delta of the commonest events — an OpenAI chat chunk with
   * one choice and no tool call, an Anthropic text_delta — read straight off
   * the raw event (JSON.parse of every event was most of the stream's cost);
   * null when it carries no text; undefined when the event needs a full parse.
   */
  private fastSegment(raw: string): Segment | null | undefined {
    if (this.format === 'chat') {
      if (raw.includes('"tool_calls"')) return undefined;
      const index = soleMember(raw, '"index":');
      const lit = index === undefined ? undefined : stringLiteral(raw, '"content":');
      if (index === undefined || lit === undefined) return undefined;
      if (lit === null) return null;
      const i = Number.parseInt(raw.slice(index), 10);
      if (!Number.isInteger(i)) return undefined;
      return literalSegment(raw, lit, `${i}`, `choices[${i}].message.content`, 'content');
    }
    if (this.format === 'messages') {
      if (!raw.includes('"text_delta"')) return undefined;
      const index = soleMember(raw, '"index":');
      const lit = index === undefined ? undefined : stringLiteral(raw, '"text":');
      if (index === undefined || !lit) return undefined;
      const i = Number.parseInt(raw.slice(index), 10);
      if (!Number.isInteger(i)) return undefined;
      return literalSegment(raw, lit, `${i}`, `content[${i}].text`, 'text');
    }
    return undefined;
  }

  /** Scans a track's window and releases what is known clean (all of it when `final`). */
  private scan(t: Track, final: boolean): void {
    if (t.pending.length === 0) return;
    const window = t.carry + t.pending;
    const off = t.base - t.carry.length;
    const found = this.ag.guard.findings(window, this.ag.target).filter((f) => off + f.start >= t.base);
    const cut = final ? t.base + t.pending.length : this.cutPoint(t, window, off, found);
    if (cut <= t.base) return;
    // Only what the cut releases is judged: a finding nearer the end may still grow into another type.
    const blocking = found.filter((f) => f.action === 'block' && off + f.end <= cut);
    if (blocking.length) return this.block(t, window, off, blocking);
    for (const f of found) {
      if (off + f.end > cut) continue;
      this.note(t, window, off, f);
      if (f.action === 'redact') t.reds.push({ start: off + f.start, end: off + f.end, placeholder: this.ag.redactor.placeholder(f.type, window.slice(f.start, f.end)) });
    }
    const n = cut - t.base;
    t.carry = (t.carry + t.pending.slice(0, n)).slice(-CARRY);
    t.pending = t.pending.slice(n);
    t.base = cut;
    t.ends = t.ends.filter((e) => e > cut);
  }

  /**
   * Where the pending text may be cut: at a segment end at least the hold
   * before the end, not inside a non-space run, an unterminated PEM block
   * or a finding; the base itself when there is none yet.
   */
  private cutPoint(t: Track, window: string, off: number, found: ActedFinding[]): number {
    let desired = t.base + t.pending.length - STREAM_HOLD;
    const force = t.pending.length >= MAX_HOLD;
    const pem = t.pending.lastIndexOf('-----BEGIN');
    if (!force && pem !== -1 && t.pending.indexOf('-----END', pem) === -1) desired = Math.min(desired, t.base + pem);
    for (let i = t.ends.length - 1; i >= 0; i--) {
      const e = t.ends[i]!;
      if (e > desired) continue;
      if (e <= t.base) break;
      if (found.some((f) => off + f.start < e && e < off + f.end)) continue;
      if (force || SPACE.test(window[e - off - 1] ?? ' ') || SPACE.test(window[e - off] ?? ' ')) return e;
    }
    return t.base;
  }

  private note(t: Track, window: string, off: number, f: ActedFinding): void {
    const r = this.ag.guard.record(window, t.where, f);
    this.report.findings.push({ ...r, start: off + f.start, end: off + f.end });
    this.report.action = strongerAction(this.report.action, f.action, f.category);
  }

  /** Sends every event whose text is released, in order, rewritten where placeholders apply. */
  private release(): void {
    while (this.queue.length) {
      const h = this.queue[0]!;
      if (h.segments.some((s) => s.end > this.tracks.get(s.key)!.base)) return;
      this.queue.shift();
      let raw = h.raw;
      let dirty = false;
      // Right to left, so literal spans earlier in the event stay valid.
      for (let i = h.segments.length - 1; i >= 0; i--) {
        const s = h.segments[i]!;
        const t = this.tracks.get(s.key)!;
        const next = t.reds.length ? withPlaceholders(s.text, s.start, t.reds) : s.text;
        if (next !== s.text) {
          if (s.literal) raw = raw.slice(0, s.literal[0]) + JSON.stringify(next) + raw.slice(s.literal[1]);
          else {
            s.holder![s.field] = next;
            dirty = true;
          }
        }
        if (t.reds.length) t.reds = t.reds.filter((r) => r.end > s.end);
      }
      if (h.whole) dirty = this.redactWhole(h.data) || dirty;
      this.out += dirty ? rewriteData(raw, h.data) : raw;
    }
  }

  /** Redacts a summary event's whole texts as their deltas were (its findings were recorded from the deltas). */
  private redactWhole(data: unknown): boolean {
    let changed = false;
    for (const part of answerTexts(this.format, data)) {
      const reds = this.ag.guard.findings(part.text, this.ag.target).filter((f) => f.action === 'redact');
      if (reds.length) {
        part.replace(this.ag.redactor.redact(part.text, reds));
        changed = true;
      }
    }
    return changed;
  }

  private block(t: Track, window: string, off: number, blocking: ActedFinding[]): void {
    for (const f of blocking) {
      this.note(t, window, off, f);
      if (!this.report.blocked.includes(f.type)) this.report.blocked.push(f.type);
    }
    this.closed = true;
    this.queue.length = 0;
    this.out += this.ag.blockedEvent(this.format, this.report.blocked);
    this.finish();
  }

  private finish(): void {
    this.ag.report(this.report);
  }
}

const EMPTY = Buffer.alloc(0);
/** A chat chunk with a finish reason; an Anthropic content block or message ending. */
const FINISHED = /"finish_reason":\s*"/;
const BLOCK_END = /"(?:content_block_stop|message_delta|message_stop)"/;

/** The offset just past `member` when it occurs exactly once in `raw`, else undefined. */
function soleMember(raw: string, member: string): number | undefined {
  const at = raw.indexOf(member);
  if (at === -1 || raw.indexOf(member, at + 1) !== -1) return undefined;
  return at + member.length;
}

/**
 * The span of the JSON string literal that is the value of `member` (e.g.
 * `"content":`), when `member` occurs exactly once with a string after it;
 * null when its value is not a string or is empty; undefined when absent or
 * ambiguous. A `"name":` with real quotes is always a whole key token in
 * valid JSON (a quote inside a string is escaped), unless its first quote is
 * itself escaped — checked.
 */
function stringLiteral(raw: string, member: string): [number, number] | null | undefined {
  const after = soleMember(raw, member);
  if (after === undefined || raw[after - member.length - 1] === '\\') return undefined;
  let i = after;
  while (raw[i] === ' ') i++;
  if (raw[i] !== '"') return null;
  const start = i;
  for (i++; i < raw.length && raw[i] !== '"'; i++) if (raw[i] === '\\') i++;
  if (i >= raw.length) return undefined;
  return i === start + 1 ? null : [start, i + 1];
}

function literalSegment(raw: string, lit: [number, number], key: string, where: string, field: string): Segment | undefined {
  let text: unknown;
  try {
    text = JSON.parse(raw.slice(lit[0], lit[1]));
  } catch {
    return undefined;
  }
  return typeof text === 'string' ? { key, where, text, start: 0, end: 0, literal: lit, holder: null, field } : undefined;
}

/** A segment's text with the placeholders of findings that start in it, and without the parts of findings that continue into it. */
function withPlaceholders(text: string, start: number, reds: ReadonlyArray<{ start: number; end: number; placeholder: string }>): string {
  const end = start + text.length;
  let out = '';
  let pos = start;
  let changed = false;
  for (const r of reds) {
    if (r.end <= start || r.start >= end) continue;
    changed = true;
    if (r.start > pos) out += text.slice(pos - start, r.start - start);
    if (r.start >= start) out += r.placeholder;
    pos = Math.max(pos, Math.min(r.end, end));
  }
  return changed ? out + text.slice(pos - start) : text;
}

/** The event with its data lines replaced by one line of the rewritten JSON; other fields (event:, id:) kept. */
function rewriteData(raw: string, data: unknown): string {
  const nl = raw.includes('\r\n') ? '\r\n' : '\n';
  const lines = raw.split(/\r?\n/).filter((l) => l !== '' && !l.startsWith('data:'));
  lines.push(`data: ${JSON.stringify(data)}`);
  return lines.join(nl) + nl + nl;
}
