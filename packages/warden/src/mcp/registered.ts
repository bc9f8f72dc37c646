import type { SecretBox } from '../secrets/index.js';
import type { McpServerRecord } from '../storage/types.js';
import type { McpServerConfig } from './upstream.js';

/** The SecretBox context of a registered server's headers: an envelope moved to another row does not open. */
export function mcpServerAad(id: string): string {
  return `mcp_server:${id}`;
}

export function sealHeaders(box: SecretBox, orgId: string, name: string, headers: Record<string, string>): string | null {
  return Object.keys(headers).length === 0 ? null : box.seal(JSON.stringify(headers), mcpServerAad(`${orgId}/${name}`));
}

/** A registered server as the gateway runs it, its headers opened (they stay in memory only). */
export function registeredConfig(box: SecretBox, r: McpServerRecord): McpServerConfig {
  const headers = r.sealedHeaders ? (JSON.parse(box.open(r.sealedHeaders, mcpServerAad(`${r.orgId}/${r.name}`)).toString('utf8')) as Record<string, string>) : {};
  return { name: r.name, url: r.url, headers, timeout_ms: r.settings.timeout_ms, refresh_s: r.settings.refresh_s };
}
