import { resolve } from 'node:path';
import type { Config } from '../config/index.js';
import type { Directory, PolicyVersionRecord, Storage } from '../storage/types.js';
import type { GatewayMetrics } from '../telemetry/index.js';
import { type LoadResult, PolicyEngine } from './engine.js';
import { PolicyFiles } from './files.js';
import type { PolicyDocument, ValidationIssue } from './types.js';

export interface PolicyLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Invalid policy files at start-up: the gateway refuses to serve (exit 2, like a bad config). */
export class PolicyLoadError extends Error {}

const apiDocument = (p: PolicyVersionRecord): PolicyDocument => ({ id: p.name, text: p.text ?? '', origin: 'api', orgId: p.orgId });

/**
 * The active policy set: policy files (every org) plus each org's
 * API-managed policies, loaded into the engine all or nothing. A change made
 * through the API reloads this process at once; other processes follow
 * within `pollMs` through the policies revision in the database.
 */
export class PolicyService {
  #revision = -1;
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<LoadResult> | undefined;
  #issues: ValidationIssue[] = [];

  constructor(
    readonly engine: PolicyEngine,
    private readonly directory: Directory,
    private readonly files: PolicyFiles | null,
    private readonly log: PolicyLog,
    private readonly includeDefaults: boolean,
  ) {}

  /** Problems of the last load: a refused global set (the previous one stayed active), or orgs failing closed. */
  get issues(): readonly ValidationIssue[] {
    return this.#issues;
  }

  /**
   * Loads the policies before the gateway serves. Invalid files (or
   * built-ins) stop the start: serving with fewer forbids than the operator
   * wrote would fail open. An org whose stored policies do not load fails
   * closed (all its calls denied) and is logged.
   */
  async start(pollMs = 1000): Promise<void> {
    const first = await this.reload();
    if (!first.applied) {
      throw new PolicyLoadError(`the policy files are invalid, so Warden will not start: ${first.issues.map((i) => i.message).join('; ')}`);
    }
    this.files?.start();
    this.#timer = setInterval(() => {
      void this.directory.policiesRevision().then(
        (rev) => (rev !== this.#revision ? this.reload() : undefined),
        () => undefined, // storage trouble: keep the current set, retry next tick
      );
    }, pollMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.files?.close();
  }

  /** Re-reads files and stored policies; one reload at a time. */
  reload(): Promise<LoadResult> {
    this.#reloading ??= this.#reload().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  async #reload(): Promise<LoadResult> {
    const revision = await this.directory.policiesRevision();
    const docs = await this.#documents();
    const r = this.engine.load(docs);
    this.#issues = r.issues;
    if (!r.applied) {
      this.log.error({ issues: r.issues }, 'policies: the policy files are invalid; the previous set stays active');
      return r;
    }
    this.#revision = revision;
    for (const [orgId, issues] of r.brokenOrgs) {
      this.log.error({ org_id: orgId, issues }, "policies: an organization's policies did not load; its calls are denied until they are fixed");
    }
    this.log.info({ documents: docs.length, generation: this.engine.stats().generation }, 'policies loaded');
    return r;
  }

  /**
   * Would the org's policies still load with `text` as policy `name` (null:
   * deleted)? Checked on a scratch engine with everything else that is
   * active, so clashing ids across documents are caught before anything is
   * stored.
   */
  async check(orgId: string, name: string, text: string | null): Promise<{ ok: boolean; issues: ValidationIssue[]; policyIds: string[] }> {
    if (text !== null) {
      const alone = this.engine.validate(text, name);
      if (!alone.ok) return alone;
    }
    // Only the global documents and this org's: another org's trouble is neither
    // this org's to fix nor its to read about.
    const docs = (await this.#documents()).filter((d) => d.orgId === null || (d.orgId === orgId && d.id !== name));
    if (text !== null) docs.push({ id: name, text, origin: 'api', orgId });
    const scratch = new PolicyEngine({ includeDefaults: this.includeDefaults, cacheSize: 0 });
    const r = scratch.load(docs);
    const issues = r.applied ? (r.brokenOrgs.get(orgId) ?? []) : r.issues;
    const ok = issues.length === 0;
    return { ok, issues, policyIds: text === null || !ok ? [] : this.engine.validate(text, name).policyIds };
  }

  async #documents(): Promise<PolicyDocument[]> {
    const fileDocs = this.files?.read() ?? [];
    return [...fileDocs, ...(await this.directory.currentPolicies()).map(apiDocument)];
  }

  /** The file documents as last read (read-only through the API). */
  fileDocuments(): PolicyDocument[] {
    return this.files?.read() ?? [];
  }
}

/** The policy stage from config: the engine (with metrics), the watched policy directory, stored policies. */
export function buildPolicies(config: Config, storage: Storage, log: PolicyLog, metrics: GatewayMetrics): PolicyService {
  const engine = new PolicyEngine({
    includeDefaults: config.policy.defaults,
    cacheSize: config.policy.cache_size,
    hooks: { onDecision: (action, d, seconds) => metrics.authzDecision(action, d.decision, d.cached, seconds) },
  });
  // The listener runs only after start(), by when `service` exists.
  const files = config.policy.dir ? new PolicyFiles(resolve(config.policy.dir), () => void service.reload()) : null;
  const service = new PolicyService(engine, storage.directory, files, log, config.policy.defaults);
  return service;
}
