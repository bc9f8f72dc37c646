import { ErrorCode, McpError, type GetPromptResult, type Prompt, type ReadResourceResult, type Resource } from '@modelcontextprotocol/sdk/types.js';
import { jsonInspectable } from '../guard/index.js';
import type { McpCaller, ToolCallDeps } from './call.js';
import { findingSummary, inspectMcp, mcpEvent, type McpOutcome, msSince } from './events.js';
import { recordedCopy } from './record.js';
import { errorText, NAME_SEPARATOR, passedOn, rpcError, type ToolDirectory } from './tools.js';
import type { McpUpstream } from './upstream.js';

type Deps = Pick<ToolCallDeps, 'policies' | 'guard' | 'writer'>;

/**
 * Resources and prompts, governed like tools: a server's are listed, read
 * and fetched only where Cedar allows `resources/read` or `prompts/get` on
 * that `Warden::McpServer`; what comes back is scanned by the guardrails as
 * a document (planted instructions weigh more); each read is an event.
 * Prompt names are namespaced at /mcp like tool names; resource URIs are
 * the servers' own (at /mcp, the first server listing a URI serves it).
 */
export class ContentPipeline {
  constructor(private readonly deps: Deps) {}

  async listResources(caller: McpCaller, scope: string | null, dir: ToolDirectory): Promise<Resource[]> {
    const started = process.hrtime.bigint();
    const { items, hidden, failed } = await this.#gather(caller, scope, dir, 'resources/read', (s) => s.resources());
    this.#discovery(caller, started, scope, 'resources/list', items.length, hidden, failed);
    return items.map(({ item }) => item);
  }

  async listPrompts(caller: McpCaller, scope: string | null, dir: ToolDirectory): Promise<Prompt[]> {
    const started = process.hrtime.bigint();
    const { items, hidden, failed } = await this.#gather(caller, scope, dir, 'prompts/get', (s) => s.prompts());
    this.#discovery(caller, started, scope, 'prompts/list', items.length, hidden, failed);
    return items.map(({ server, item }) => (scope ? item : { ...item, name: `${server.name}${NAME_SEPARATOR}${item.name}` }));
  }

  async readResource(caller: McpCaller, scope: string | null, dir: ToolDirectory, uri: string, signal: AbortSignal): Promise<ReadResourceResult> {
    const started = process.hrtime.bigint();
    const server = await this.#serverOfUri(caller, scope, dir, uri);
    return this.#fetch(caller, started, server, 'resources/read', 'mcp.resource_read', { uri }, () => server.readResource(uri, signal));
  }

  async getPrompt(caller: McpCaller, scope: string | null, dir: ToolDirectory, name: string, args: Record<string, string>, signal: AbortSignal): Promise<GetPromptResult> {
    const started = process.hrtime.bigint();
    let server: McpUpstream | undefined;
    let prompt = name;
    const orgId = caller.principal.orgId;
    if (scope) server = dir.server(orgId, scope);
    else {
      const cut = name.indexOf(NAME_SEPARATOR);
      if (cut > 0) {
        server = dir.server(orgId, name.slice(0, cut));
        prompt = name.slice(cut + NAME_SEPARATOR.length);
      }
    }
    if (!server) throw rpcError(ErrorCode.InvalidParams, `There is no prompt "${name}": names at /mcp are the server's name, "${NAME_SEPARATOR}", then the prompt's.`);
    const s = server;
    return this.#fetch(caller, started, s, 'prompts/get', 'mcp.prompt_get', { prompt, arguments: recordedCopy(structuredClone(args), this.#argFindings(caller, s, prompt, args), 'user') }, () => s.getPrompt(prompt, args, signal));
  }

  /** Findings in a prompt's arguments, for the redacted copy its event keeps (prompt arguments are not blocked: they fill a template). */
  #argFindings(caller: McpCaller, s: McpUpstream, prompt: string, args: Record<string, string>) {
    return inspectMcp(this.deps.guard, caller, `${s.name}/${prompt}`, structuredClone(args), 'request', 'user')?.findings ?? [];
  }

  async #fetch<T extends object>(caller: McpCaller, started: bigint, server: McpUpstream, action: 'resources/read' | 'prompts/get', kind: string, meta: Record<string, unknown>, send: () => Promise<T>): Promise<T> {
    const emit = (o: McpOutcome, detail: Record<string, unknown>) => mcpEvent(this.deps.writer, caller, kind, started, server.name, o, { server: server.name, ...meta, ...detail });
    const decided = this.#decide(caller, server, action);
    if (decided.decision === 'deny' || decided.errors.length > 0) {
      emit({ decision: 'deny', reason: decided.reason, errorCode: 'policy_denied' }, {});
      throw rpcError(ErrorCode.InvalidRequest, `A policy does not allow ${action} on the MCP server "${server.name}".`);
    }
    const sent = process.hrtime.bigint();
    let result: T;
    try {
      result = await send();
    } catch (err) {
      const message = err instanceof McpError ? err.message : `The MCP server "${server.name}" could not answer ${action}: ${errorText(err)}.`;
      emit({ decision: 'allow', reason: decided.reason, errorCode: err instanceof McpError ? 'server_error' : 'upstream_unavailable' }, { upstream_ms: msSince(sent), error: message });
      throw err instanceof McpError ? passedOn(err) : rpcError(ErrorCode.InternalError, message);
    }
    const upstreamMs = msSince(sent);
    if (this.deps.guard && !jsonInspectable(result)) {
      emit({ decision: 'deny', reason: 'guardrail', errorCode: 'content_blocked' }, { upstream_ms: upstreamMs });
      throw rpcError(ErrorCode.InvalidRequest, `What the MCP server "${server.name}" returned nests too deep or holds too many strings for the guardrails to inspect, so it is withheld.`);
    }
    const original = structuredClone(result);
    const label = `${server.name}/${typeof meta.uri === 'string' ? meta.uri : String(meta.prompt)}`;
    const v = inspectMcp(this.deps.guard, caller, label, result, 'response', 'document');
    const common = { upstream_ms: upstreamMs, result_bytes: Buffer.byteLength(JSON.stringify(original)), ...(v && v.findings.length ? { guard_result: findingSummary(v) } : {}) };
    if (v?.action === 'block') {
      emit({ decision: 'deny', reason: 'guardrail', errorCode: 'content_blocked' }, common);
      throw rpcError(ErrorCode.InvalidRequest, `What the MCP server "${server.name}" returned was blocked by a guardrail: it contains ${v.blocked.join(', ')}.`);
    }
    emit({ decision: 'allow', reason: decided.reason }, { ...common, result: recordedCopy(original, v?.findings ?? [], 'document') });
    return result;
  }

  async #serverOfUri(caller: McpCaller, scope: string | null, dir: ToolDirectory, uri: string): Promise<McpUpstream> {
    const orgId = caller.principal.orgId;
    if (scope) {
      const s = dir.server(orgId, scope);
      if (!s) throw rpcError(ErrorCode.InvalidParams, `The MCP server "${scope}" is no longer registered.`);
      return s;
    }
    // Only the servers whose resources the caller may read: the others' URIs are not told apart from unknown ones.
    for (const s of dir.serversFor(orgId).filter((x) => this.#decide(caller, x, 'resources/read').decision === 'allow')) {
      const listed = await s.resources().catch(() => [] as Resource[]);
      if (listed.some((r) => r.uri === uri)) return s;
    }
    throw rpcError(ErrorCode.InvalidParams, `No MCP server lists the resource "${uri}" (resources/list shows them).`);
  }

  async #gather<T>(caller: McpCaller, scope: string | null, dir: ToolDirectory, action: 'resources/read' | 'prompts/get', list: (s: McpUpstream) => Promise<T[]>) {
    const orgId = caller.principal.orgId;
    const one = scope ? dir.server(orgId, scope) : undefined;
    const servers = scope ? (one ? [one] : []) : dir.serversFor(orgId);
    const allowed = servers.filter((s) => {
      const d = this.#decide(caller, s, action);
      return d.decision === 'allow' && d.errors.length === 0;
    });
    const lists = await Promise.allSettled(allowed.map(list));
    const items: Array<{ server: McpUpstream; item: T }> = [];
    const failed: Array<{ server: string; error: string }> = [];
    lists.forEach((r, i) => {
      if (r.status === 'fulfilled') for (const item of r.value) items.push({ server: allowed[i]!, item });
      else failed.push({ server: allowed[i]!.name, error: errorText(r.reason) });
    });
    return { items, hidden: servers.length - allowed.length, failed };
  }

  #discovery(caller: McpCaller, started: bigint, scope: string | null, method: string, listed: number, hiddenServers: number, failed: Array<{ server: string; error: string }>): void {
    mcpEvent(this.deps.writer, caller, 'mcp.discovery', started, null, { decision: 'allow', reason: 'policy' }, { server: scope, method, listed, hidden_servers: hiddenServers, ...(failed.length ? { unreachable: failed } : {}) });
  }

  #decide(caller: McpCaller, server: McpUpstream, action: 'resources/read' | 'prompts/get') {
    return this.deps.policies.engine.decide({
      principal: caller.principal,
      action,
      resource: { type: 'McpServer', id: server.name },
      context: { clientIp: caller.clientIp, route: caller.route },
    });
  }
}
