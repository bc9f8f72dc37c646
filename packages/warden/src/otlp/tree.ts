import type { SpanRecord } from '../storage/index.js';
import { spanTokens } from './genai.js';

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES = ['unset', 'ok', 'error'];

/** A span as read back: its children nested, tokens summed over its subtree. */
export interface SpanNode {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  start: string;
  end: string;
  duration_ms: number;
  status: { code: string; message: string | null };
  attributes: Record<string, unknown>;
  events: unknown[];
  links: unknown[];
  scope: SpanRecord['scope'];
  /** The resource's attributes, on the roots only (a trace's spans usually share one). */
  resource?: Record<string, unknown> | null;
  run_id: string | null;
  /** gen_ai.usage.* of this span and every span below it. */
  usage: { input_tokens: number; output_tokens: number };
  children: SpanNode[];
}

/** Levels of nesting in a tree, at most. */
export const MAX_DEPTH = 100;

const iso = (ns: string): string => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();

/**
 * Spans as trees: each under its parent, siblings by start time. A span whose
 * parent was not received (or is in another trace) is a root.
 */
export function spanTree(spans: readonly SpanRecord[]): SpanNode[] {
  const nodes = new Map<string, SpanNode>();
  const key = (trace: string, span: string) => `${trace}/${span}`;
  for (const s of spans) {
    const startNs = BigInt(s.startNs);
    const endNs = BigInt(s.endNs);
    nodes.set(key(s.traceId, s.spanId), {
      trace_id: s.traceId,
      span_id: s.spanId,
      parent_span_id: s.parentSpanId,
      name: s.name,
      kind: KINDS[s.kind] ?? String(s.kind),
      start: iso(s.startNs),
      end: iso(s.endNs),
      duration_ms: endNs > startNs ? Number(endNs - startNs) / 1e6 : 0,
      status: { code: STATUSES[s.statusCode] ?? String(s.statusCode), message: s.statusMessage },
      attributes: s.attributes,
      events: s.events,
      links: s.links,
      scope: s.scope,
      resource: s.resource,
      run_id: s.runId,
      usage: (({ input_tokens, output_tokens }) => ({ input_tokens: input_tokens ?? 0, output_tokens: output_tokens ?? 0 }))(spanTokens(s.attributes)),
      children: [],
    });
  }
  const roots: SpanNode[] = [];
  /** Each nested span's parent. */
  const parentOf = new Map<SpanNode, SpanNode>();
  // Spans arrive sorted by start: children are appended in start order.
  for (const node of nodes.values()) {
    const parent = node.parent_span_id ? nodes.get(key(node.trace_id, node.parent_span_id)) : undefined;
    if (parent && parent !== node) {
      parent.children.push(node);
      parentOf.set(node, parent);
    } else roots.push(node);
  }
  // Walked without recursion: a trace is data from outside, and a chain of thousands of spans must not exhaust the stack.
  const seen = new Set<SpanNode>();
  const order: SpanNode[] = []; // every parent before its children
  const walk = (root: SpanNode): void => {
    const stack = [root];
    while (stack.length > 0) {
      const n = stack.pop()!;
      seen.add(n);
      order.push(n);
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
    }
  };
  const detach = (n: SpanNode): void => {
    const parent = parentOf.get(n)!;
    parent.children = parent.children.filter((c) => c !== n);
    parentOf.delete(n);
    roots.push(n);
  };
  for (const r of [...roots]) walk(r);
  // Spans whose parents form a loop (A under B under A) are reachable from no root: each loop is cut at one span.
  for (const node of nodes.values()) {
    if (seen.has(node)) continue;
    detach(node);
    walk(node);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    const parent = parentOf.get(n);
    if (!parent) continue;
    parent.usage.input_tokens += n.usage.input_tokens;
    parent.usage.output_tokens += n.usage.output_tokens;
  }
  // Nesting stops at MAX_DEPTH (so does a JSON encoder's stack): a deeper span is listed as a root, its parent_span_id still naming its parent.
  const depth = new Map<SpanNode, number>();
  const cut = new Set<SpanNode>();
  for (const n of order) {
    const parent = parentOf.get(n);
    let d = parent ? depth.get(parent)! + 1 : 0;
    if (d > MAX_DEPTH) {
      cut.add(n);
      d = 0;
    }
    depth.set(n, d);
  }
  const parentsOfCut = new Set<SpanNode>();
  for (const n of cut) {
    parentsOfCut.add(parentOf.get(n)!);
    parentOf.delete(n);
    roots.push(n);
  }
  for (const parent of parentsOfCut) parent.children = parent.children.filter((c) => !cut.has(c));
  // The resource is shown on roots only (a trace's spans usually share one).
  for (const n of parentOf.keys()) delete n.resource;
  return roots;
}
