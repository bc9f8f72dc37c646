import './v8-workaround.js';
import { performance } from 'node:perf_hooks';
import { preparsePolicySet, statefulIsAuthorized, type AuthorizationAnswer } from '@cedar-policy/cedar-wasm/nodejs';
import { LruCache } from './cache.js';
import { compileDocuments, type CompiledPolicy } from './compile.js';
import { defaultPolicies } from './defaults.js';
import { decisionKey, toCedarRequest, type CedarRequest } from './request.js';
import type { AuthzDecision, AuthzRequest, PolicyDocument, PolicyEngineHooks, ValidationIssue } from './types.js';

export interface PolicyEngineOptions {
  /** Include the built-in permits from defaults.ts (default true). */
  includeDefaults?: boolean;
  /** Decision cache capacity (default 10,000; 0 disables caching). */
  cacheSize?: number;
  hooks?: PolicyEngineHooks;
}

export interface PolicyEngineStats {
  hits: number;
  misses: number;
  size: number;
  generation: number;
}

/** The active policies: the set every org sees, plus each org's own additions. */
interface PolicySnapshot {
  generation: number;
  /** Built-ins (when enabled) and documents with orgId null. */
  global: CompiledPolicy[];
  /** Documents of one org; that org's effective set is global + these. */
  byOrg: Map<string, CompiledPolicy[]>;
  /** Orgs whose own documents did not load: every decision for them is a deny (fail closed). */
  broken: Map<string, string[]>;
}

export interface LoadResult {
  /** True when everything loaded. */
  ok: boolean;
  /** False when the global set (built-ins and files) was invalid: nothing changed. */
  applied: boolean;
  issues: ValidationIssue[];
  /** Orgs whose documents were refused (when applied): they now fail closed until fixed. */
  brokenOrgs: Map<string, ValidationIssue[]>;
}

/** Resources remembered per principal object before its map is emptied (bounds memory for callers touching many models). */
const RECENT_PER_PRINCIPAL = 64;

interface RecentDecision {
  action: string;
  type: string;
  provider: string;
  server: string;
  generation: number;
  minute: number;
  ip: string;
  risk: number;
  route: string;
  stream: boolean;
  decision: AuthzDecision;
}

/** Scope key for orgs that have no documents of their own and so share the global set. */
const GLOBAL_SCOPE = '';

/**
 * Preparsed sets live in Cedar's wasm-global cache keyed by a string, so
 * each engine needs its own prefix or two engines in one process (tests, a
 * reload) would overwrite each other's sets. The sets of an engine that is
 * dropped stay in wasm memory, so make one engine per process and load() it.
 */
let engineSerial = 0;

/**
 * Decides tool- and model-level access with Cedar.
 *
 * Evaluation uses preparsed policy sets with `statefulIsAuthorized`:
 * measured on this machine with 15 policies and a full Warden request,
 * 267 µs median per call against 738 µs for `isAuthorized` re-parsing the
 * policy text (2.8× faster). The schema is not passed at evaluation: it
 * would reject the free-form tool arguments (see schema.ts), and the policies
 * were already validated against it when loaded.
 */
export class PolicyEngine {
  readonly #builtin: CompiledPolicy[];
  readonly #cache: LruCache<string, AuthzDecision>;
  readonly #hooks: PolicyEngineHooks;
  readonly #setPrefix = `warden.${++engineSerial}`;
  #snapshot: PolicySnapshot;
  /** Scopes preparsed for the current generation → their preparsed set id. */
  #prepared = new Map<string, string>();
  #hits = 0;
  #misses = 0;
  readonly #cacheSize: number;
  #byPrincipal = new WeakMap<object, Map<string, RecentDecision>>();

  constructor(options: PolicyEngineOptions = {}) {
    this.#hooks = options.hooks ?? {};
    this.#cacheSize = options.cacheSize ?? 10_000;
    this.#cache = new LruCache(this.#cacheSize);
    this.#builtin = [];
    if (options.includeDefaults !== false) {
      const compiled = compileDocuments([defaultPolicies]);
      // The built-ins are ours and covered by tests; failing here is a bug, not bad input.
      if (compiled.issues.length > 0) throw new Error(`built-in policies are invalid: ${compiled.issues[0]!.message}`);
      this.#builtin = compiled.policies[0]!;
    }
    this.#snapshot = { generation: 0, global: this.#builtin, byOrg: new Map(), broken: new Map() };
  }

  /**
   * Parses and validates one document's text without loading it.
   * `documentId` prefixes messages and forms the ids of unannotated policies.
   */
  validate(text: string, documentId = 'policy'): { ok: boolean; issues: ValidationIssue[]; policyIds: string[] } {
    const compiled = compileDocuments([{ id: documentId, text, origin: 'api', orgId: null }]);
    const policies = compiled.policies[0]!;
    const issues = [...compiled.issues, ...duplicateIssues([this.#builtin, policies])];
    return { ok: issues.length === 0, issues, policyIds: issues.length === 0 ? policies.map((p) => p.id) : [] };
  }

  /**
   * Replaces the active policies. The global set (built-ins and documents
   * with orgId null) is all or nothing: when any of it is invalid the
   * previous set stays active. An org whose own documents are invalid does
   * not hold the others back, and is not silently left with the global
   * permits either: its decisions are denies until its documents load.
   * Success bumps the generation, which invalidates every cached decision.
   */
  load(docs: readonly PolicyDocument[]): LoadResult {
    const compiled = compileDocuments(docs);
    const global = [...this.#builtin];
    const globalIssues = duplicateDocumentIssues(docs.filter((d) => d.orgId === null));
    const orgDocs = new Map<string, number[]>();
    docs.forEach((doc, i) => {
      if (doc.orgId === null) {
        global.push(...compiled.policies[i]!);
        globalIssues.push(...compiled.issuesByDoc[i]!);
      } else {
        orgDocs.set(doc.orgId, [...(orgDocs.get(doc.orgId) ?? []), i]);
      }
    });
    globalIssues.push(...duplicateIssues([global]));
    if (globalIssues.length > 0) return { ok: false, applied: false, issues: globalIssues, brokenOrgs: new Map() };

    const byOrg = new Map<string, CompiledPolicy[]>();
    const brokenOrgs = new Map<string, ValidationIssue[]>();
    for (const [orgId, indexes] of orgDocs) {
      const own = indexes.flatMap((i) => compiled.policies[i]!);
      const issues = [
        ...duplicateDocumentIssues(indexes.map((i) => docs[i]!)),
        ...indexes.flatMap((i) => compiled.issuesByDoc[i]!),
        ...duplicateIssues([global, own], global.length),
      ];
      if (issues.length > 0) brokenOrgs.set(orgId, issues);
      else byOrg.set(orgId, own);
    }
    this.#releaseRemovedScopes(byOrg);
    const broken = new Map([...brokenOrgs].map(([org, issues]) => [org, issues.map((i) => i.message)]));
    this.#snapshot = { generation: this.#snapshot.generation + 1, global, byOrg, broken };
    this.#prepared = new Map();
    this.#cache.clear();
    this.#byPrincipal = new WeakMap();
    return { ok: brokenOrgs.size === 0, applied: true, issues: [...brokenOrgs.values()].flat(), brokenOrgs };
  }

  /**
   * Whether a deny can be lifted by a person's approval: every forbid that
   * decided it is annotated `@approval`, and without those forbids the same
   * request is allowed (a permit matches, and no policy fails to evaluate).
   * Any other forbid, an error or no permit is a plain deny.
   */
  needsApproval(req: AuthzRequest, d: AuthzDecision): boolean {
    if (d.decision !== 'deny' || d.reason !== 'forbid' || d.policyIds.length === 0 || d.errors.length > 0) return false;
    const snap = this.#snapshot;
    const orgId = req.principal.orgId;
    const approval = new Set<string>();
    for (const p of [...snap.global, ...(snap.byOrg.get(orgId) ?? [])]) if (p.approval) approval.add(p.id);
    if (!d.policyIds.every((id) => approval.has(id))) return false;
    let built: CedarRequest | string;
    try {
      built = toCedarRequest(req);
    } catch {
      return false;
    }
    if (typeof built === 'string') return false;
    const without = this.#evaluate(built, orgId, true);
    return without.decision === 'allow' && without.errors.length === 0;
  }

  /** The load issues of one org's own documents, when they did not load. */
  orgIssues(orgId: string): readonly string[] {
    return this.#snapshot.broken.get(orgId) ?? [];
  }

  /** Synchronous and never throws: anything that goes wrong is a deny with reason "error". */
  decide(req: AuthzRequest): AuthzDecision {
    const started = performance.now();
    const decision = this.#decide(req);
    const seconds = (performance.now() - started) / 1000;
    try {
      this.#hooks.onDecision?.(req.action, decision, seconds);
    } catch {
      // A metrics hook must not turn into an authorization failure.
    }
    return decision;
  }

  stats(): PolicyEngineStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#cache.size, generation: this.#snapshot.generation };
  }

  #decide(req: AuthzRequest): AuthzDecision {
    const broken = this.#snapshot.broken.get(req.principal?.orgId);
    if (broken !== undefined) return errorDecision([`this organization's policies did not load, so every call is denied until they are fixed: ${broken.join('; ')}`]);
    const recent = this.#recent(req);
    if (recent !== undefined) {
      this.#hits++;
      return recent;
    }
    let key: string;
    try {
      key = `${this.#snapshot.generation}|${decisionKey(req)}`;
    } catch (err) {
      return errorDecision([`malformed request: ${errorMessage(err)}`]);
    }
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      this.#hits++;
      return hit;
    }
    this.#misses++;
    let built: CedarRequest | string;
    try {
      built = toCedarRequest(req);
    } catch (err) {
      return errorDecision([`malformed request: ${errorMessage(err)}`]);
    }
    if (typeof built === 'string') return errorDecision([built]);
    const decision = this.#evaluate(built, req.principal.orgId);
    // Errors may come from a transient wasm failure; only cache real answers.
    if (decision.reason !== 'error') {
      const frozen = frozenCopy(decision);
      this.#cache.set(key, frozen);
      this.#remember(req, frozen);
    }
    return decision;
  }

  /**
   * The hot path's cache in front of the keyed one: by the principal object
   * itself (callers hand in the same immutable object for the same caller,
   * e.g. one per API key record) and a short resource key, checked against
   * the generation and every context field. A proxy's steady state then costs
   * a WeakMap and a Map lookup by the resource id instead of hashing a long key (measured
   * ~2.6 µs per call in the gateway). Calls with tool arguments or a trace event skip it.
   */
  #recent(req: AuthzRequest): AuthzDecision | undefined {
    const c = req.context;
    if (c?.arguments !== undefined || c?.event !== undefined || typeof req.principal !== 'object' || req.principal === null) return undefined;
    const r = req.resource;
    const e = this.#byPrincipal.get(req.principal)?.get(r.id);
    if (e === undefined || e.generation !== this.#snapshot.generation) return undefined;
    const now = c?.now ?? Date.now();
    const same =
      e.action === req.action && e.type === r.type && e.provider === (r.provider ?? '') && e.server === (r.server ?? '') &&
      e.minute === Math.floor(now / 60_000) && e.ip === (c?.clientIp ?? '') && e.risk === (c?.risk ?? 0) &&
      e.route === (c?.route ?? '') && e.stream === (c?.stream === true);
    return same ? e.decision : undefined;
  }

  #remember(req: AuthzRequest, decision: AuthzDecision): void {
    const c = req.context;
    if (c?.arguments !== undefined || c?.event !== undefined || this.#cacheSize === 0) return;
    let m = this.#byPrincipal.get(req.principal);
    if (m === undefined) this.#byPrincipal.set(req.principal, (m = new Map()));
    if (m.size >= RECENT_PER_PRINCIPAL) m.clear();
    const r = req.resource;
    // One entry per resource id: the fields below decide whether it still answers.
    m.set(r.id, {
      action: req.action,
      type: r.type,
      provider: r.provider ?? '',
      server: r.server ?? '',
      generation: this.#snapshot.generation,
      minute: Math.floor((c?.now ?? Date.now()) / 60_000),
      ip: c?.clientIp ?? '',
      risk: c?.risk ?? 0,
      route: c?.route ?? '',
      stream: c?.stream === true,
      decision,
    });
  }

  #evaluate(built: CedarRequest, orgId: string, withoutApproval = false): AuthzDecision {
    let answer: AuthorizationAnswer;
    try {
      answer = statefulIsAuthorized({
        principal: built.principal,
        action: built.action,
        resource: built.resource,
        context: built.context,
        entities: built.entities,
        preparsedPolicySetId: this.#preparedSetFor(orgId, withoutApproval),
      });
    } catch (err) {
      return errorDecision([`policy evaluation failed: ${errorMessage(err)}`]);
    }
    // Loops rather than map() callbacks on the decision path (see request.ts: a V8 deopt crash).
    const errors: string[] = [];
    if (answer.type === 'failure') {
      for (const e of answer.errors) errors.push(e.message);
      return errorDecision(errors);
    }
    const { decision, diagnostics } = answer.response;
    const policyIds = [...diagnostics.reason].sort();
    for (const e of diagnostics.errors) errors.push(`${e.policyId}: ${e.error.message}`);
    if (decision === 'allow') return { decision, policyIds, errors, cached: false, reason: 'permit' };
    return { decision, policyIds, errors, cached: false, reason: policyIds.length > 0 ? 'forbid' : 'no_permit' };
  }

  /** Preparses an org's effective set on first use in a generation. */
  #preparedSetFor(orgId: string, withoutApproval = false): string {
    const own = this.#snapshot.byOrg.get(orgId);
    const scope = own === undefined ? GLOBAL_SCOPE : orgId;
    const key = withoutApproval ? `${scope}|without-approval` : scope;
    const ready = this.#prepared.get(key);
    if (ready !== undefined) return ready;
    const policies = own === undefined ? this.#snapshot.global : [...this.#snapshot.global, ...own];
    const setId = withoutApproval ? `${this.#setIdFor(scope)}.without-approval` : this.#setIdFor(scope);
    const staticPolicies: Record<string, string> = {};
    for (const p of policies) if (!withoutApproval || !p.approval) staticPolicies[p.id] = p.text;
    const answer = preparsePolicySet(setId, { staticPolicies });
    if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
    this.#prepared.set(key, setId);
    return setId;
  }

  #setIdFor(scope: string): string {
    return scope === GLOBAL_SCOPE ? `${this.#setPrefix}.global` : `${this.#setPrefix}.org:${scope}`;
  }

  /**
   * Cedar offers no way to drop a preparsed set; overwriting one with an
   * empty set frees its memory when an org loses all its documents.
   */
  #releaseRemovedScopes(next: Map<string, CompiledPolicy[]>): void {
    for (const orgId of this.#snapshot.byOrg.keys()) {
      if (next.has(orgId)) continue;
      preparsePolicySet(this.#setIdFor(orgId), { staticPolicies: {} });
      preparsePolicySet(`${this.#setIdFor(orgId)}.without-approval`, { staticPolicies: {} });
    }
  }
}

/** Two documents with one id in the same scope would also give their unannotated policies the same ids. */
function duplicateDocumentIssues(docs: readonly PolicyDocument[]): ValidationIssue[] {
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const doc of docs) {
    const key = JSON.stringify([doc.orgId, doc.id]);
    if (seen.has(key)) issues.push({ policyId: null, message: `document id "${doc.id}" is used by more than one document` });
    seen.add(key);
  }
  return issues;
}

/**
 * Policy ids must be unique within every effective set. `skip` = how many
 * leading policies were already checked on their own (the global set), so
 * their clashes are reported once and not again for every org.
 */
function duplicateIssues(sets: CompiledPolicy[][], skip = 0): ValidationIssue[] {
  const seen = new Map<string, CompiledPolicy>();
  const issues: ValidationIssue[] = [];
  let index = 0;
  for (const p of sets.flat()) {
    const first = seen.get(p.id);
    if (first === undefined) seen.set(p.id, p);
    else if (index >= skip) {
      const where = first.documentId === p.documentId ? `twice in document "${p.documentId}"` : `in both "${first.documentId}" and "${p.documentId}"`;
      issues.push({ policyId: p.id, message: `policy id "${p.id}" is defined ${where}; policy ids must be unique` });
    }
    index++;
  }
  return issues;
}

function errorDecision(errors: string[]): AuthzDecision {
  return { decision: 'deny', policyIds: [], errors, cached: false, reason: 'error' };
}

/** Cache entries are shared by every hit, so callers must not be able to change them. */
function frozenCopy(d: AuthzDecision): AuthzDecision {
  const policyIds = Object.freeze([...d.policyIds]) as string[];
  const errors = Object.freeze([...d.errors]) as string[];
  return Object.freeze({ ...d, policyIds, errors, cached: true });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Why a denial was decided, as the end of a sentence: ` (policy a, b)`, ` (no policy permits it)` or ` (<the error>)`. */
export function denialCause(d: AuthzDecision): string {
  if (d.reason === 'error') return ` (${d.errors[0] ?? 'the decision failed'})`;
  return d.policyIds.length ? ` (policy ${d.policyIds.join(', ')})` : ' (no policy permits it)';
}
