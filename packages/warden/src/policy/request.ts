import { createHash } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';
import type { CedarValueJson, Context, Entities, EntityUid } from '@cedar-policy/cedar-wasm/nodejs';
import { ACTION_RESOURCE, CEDAR_NAMESPACE, PRINCIPAL_TYPES } from './schema.js';
import type { AuthzContext, AuthzRequest } from './types.js';

/** A request translated into the shapes Cedar's JSON API takes, plus the cache key for it. */
export interface CedarRequest {
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: Context;
  entities: Entities;
}

/** Beyond this, nested argument values are passed as their JSON text: bounds recursion in both JS and Cedar. */
const MAX_ARGUMENT_DEPTH = 16;
/** Longer keys are hashed so a cache of big tool arguments stays bounded in memory. */
const MAX_PLAIN_KEY_LENGTH = 1024;
/** Cedar JSON escapes: a record whose only key is one of these is read as an entity, extension value or expression. */
const CEDAR_ESCAPE_KEYS = new Set(['__entity', '__extn', '__expr']);

const uid = (type: string, id: string): EntityUid => ({ type: `${CEDAR_NAMESPACE}::${type}`, id });

/**
 * The decision cache key straight from the request's inputs, without building
 * the Cedar request: a cache hit (the steady state of a proxy) then costs a
 * string join. Two requests with the same inputs get the same key; inputs
 * that differ only in ways the Cedar request normalises away (role order, an
 * IPv4-mapped address) get separate entries with equal decisions, which costs
 * hit rate, never correctness. Time is floored to the minute, as the context is.
 */
export function decisionKey(req: AuthzRequest): string {
  const { principal: p, resource: r, context: c = {} } = req;
  const now = Number.isFinite(c.now) ? c.now! : Date.now();
  const args = c.arguments === undefined ? '' : JSON.stringify(c.arguments);
  const event = c.event === undefined ? '' : `${c.event.type}\u0001${c.event.actor}\u0001${c.event.tool}`;
  // One template literal (not an array join): this runs on every proxied call.
  const key =
    `${p.type}\u0000${p.id}\u0000${p.orgId}\u0000${p.projectId ?? ''}\u0000${p.roles.join(',')}\u0000${req.action}\u0000` +
    `${r.type}\u0000${r.id}\u0000${r.provider ?? ''}\u0000${r.server ?? ''}\u0000${Math.floor(now / 60_000)}\u0000` +
    `${c.clientIp ?? ''}\u0000${c.risk ?? 0}\u0000${c.route ?? ''}\u0000${c.stream === true ? 1 : 0}\u0000${args}\u0000${event}`;
  return key.length > MAX_PLAIN_KEY_LENGTH ? `#${createHash('sha256').update(key).digest('base64')}` : key;
}

/** Returns the Cedar request, or a message saying why the request cannot be evaluated. */
export function toCedarRequest(req: AuthzRequest): CedarRequest | string {
  const { principal: p, resource: r, action } = req;
  const resourceType = ACTION_RESOURCE[action];
  if (resourceType === undefined) return `unknown action "${action}"`;
  if (!PRINCIPAL_TYPES.includes(p.type)) return `unknown principal type "${String(p.type)}"`;
  if (r.type !== resourceType) return `action "${action}" applies to ${resourceType}, not ${String(r.type)}`;

  const roles = [...new Set(p.roles)].sort();
  const project = p.projectId ?? '';
  const principal = uid(p.type, p.id);
  const resource = uid(r.type, r.id);
  // Plain loops, not map() with a callback: see v8-workaround.ts for the V8 deopt crash on this path.
  const parents = [];
  for (const role of roles) parents.push(uid('Role', role));
  parents.push(uid('Org', p.orgId));
  const entities: Entities = [
    { uid: principal, attrs: { org: p.orgId, project, roles }, parents },
    resourceEntity(r.type, resource, r.provider ?? '', r.server ?? ''),
  ];
  return { principal, action: uid('Action', action), resource, context: buildContext(req.context ?? {}), entities };
}

function resourceEntity(type: string, resource: EntityUid, provider: string, server: string): Entities[number] {
  if (type === 'Model') return { uid: resource, attrs: { provider }, parents: [] };
  if (type === 'Tool') return { uid: resource, attrs: { server }, parents: server ? [uid('McpServer', server)] : [] };
  return { uid: resource, attrs: {}, parents: [] };
}

/**
 * The context record declared in schema.ts. Keys are always built in the
 * same order (and argument keys sorted), so JSON.stringify of the result is
 * canonical and can serve as part of the cache key.
 */
export function buildContext(ctx: AuthzContext): Context {
  const now = Number.isFinite(ctx.now) ? ctx.now! : Date.now();
  const minuteMs = Math.floor(now / 60_000) * 60_000;
  const d = new Date(minuteMs);
  const clientIp = normaliseIp(ctx.clientIp ?? '');
  const risk = Number.isFinite(ctx.risk) ? Math.min(1, Math.max(0, ctx.risk!)) : 0;
  const context: Context = {
    time: { hour: d.getUTCHours(), minute: d.getUTCMinutes(), weekday: d.getUTCDay(), epoch: minuteMs / 1000 },
    client_ip: clientIp,
    risk: { __extn: { fn: 'decimal', arg: risk.toFixed(4) } },
    route: ctx.route ?? '',
    stream: ctx.stream === true,
  };
  if (cedarAcceptsIp(clientIp)) context.ip = { __extn: { fn: 'ip', arg: clientIp } };
  if (ctx.event) context.event = { type: ctx.event.type, actor: ctx.event.actor, tool: ctx.event.tool };
  if (ctx.arguments !== undefined && ctx.arguments !== null && typeof ctx.arguments === 'object') {
    // MCP arguments are an object; anything else is treated as "no named arguments".
    context.arguments = Array.isArray(ctx.arguments) ? {} : recordValue(ctx.arguments, 0);
  }
  return context;
}

/** Node reports IPv4 clients on dual-stack sockets as ::ffff:a.b.c.d; policies should see a.b.c.d. */
function normaliseIp(raw: string): string {
  const ip = raw.trim();
  if (ip.toLowerCase().startsWith('::ffff:') && isIPv4(ip.slice(7))) return ip.slice(7);
  return ip;
}

/** Cedar's ipaddr refuses zone ids and IPv4-in-IPv6 forms; an unparsable extension value would fail the whole request. */
function cedarAcceptsIp(ip: string): boolean {
  if (isIP(ip) === 0) return false;
  return isIPv4(ip) || (!ip.includes('%') && !ip.includes('.'));
}

/**
 * Maps arbitrary JSON onto Cedar values, which have no null and no floats:
 * - null/undefined are dropped (so `has` is false for them);
 * - safe integers become Long, other numbers their decimal text;
 * - arrays become sets; objects become records with sorted keys;
 * - the Cedar escape keys (`__entity`, `__extn`, `__expr`) are dropped so
 *   a caller cannot smuggle entity references or extension calls in;
 * - anything nested deeper than MAX_ARGUMENT_DEPTH becomes its JSON text.
 */
export function toCedarValue(value: unknown, depth: number): CedarValueJson | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isSafeInteger(value) ? value : String(value);
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return undefined;
      if (depth >= MAX_ARGUMENT_DEPTH) return jsonText(value);
      if (Array.isArray(value)) {
        const out: CedarValueJson[] = [];
        for (const v of value) {
          const c = toCedarValue(v, depth + 1);
          if (c !== undefined) out.push(c);
        }
        return out;
      }
      return recordValue(value as Record<string, unknown>, depth);
    default:
      return undefined;
  }
}

function recordValue(obj: Record<string, unknown>, depth: number): CedarValueJson {
  const out: Record<string, CedarValueJson> = {};
  for (const k of Object.keys(obj).sort()) {
    if (CEDAR_ESCAPE_KEYS.has(k)) continue;
    const v = toCedarValue(obj[k], depth + 1);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function jsonText(value: object): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}
