import type { Command } from 'commander';
import { newKey, publicKey } from '../identity/index.js';
import { ROLES, type Role } from '../storage/types.js';
import { UsageError, cliEvent, resolveConfig, withStorage } from './shared.js';

export function registerKeyCommands(program: Command, out: (s: string) => void): void {
  const keys = program.command('keys').description('create, list and revoke API keys');

  keys
    .command('create')
    .description('create a key; prints it once, alone on the last line')
    .requiredOption('--name <name>', 'a name people recognise, e.g. the agent or team')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'agent')
    .option('--models <globs>', 'comma-separated model patterns the key may use (default: all)')
    .option('--org <id>', 'the organization the key belongs to', 'default')
    .option('--project <id>', 'a project of that organization')
    .option('--config <file>', 'config file naming the store')
    .action(async (o: { name: string; role: string; models?: string; org: string; project?: string; config?: string }) => {
      if (!ROLES.includes(o.role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${o.role}"`);
      const models = o.models ? o.models.split(',').map((s) => s.trim()).filter(Boolean) : null;
      const { key, record } = newKey(o.name, o.role as Role, models && models.length ? models : null, o.org, Date.now(), o.project ?? null);
      await withStorage(resolveConfig(o.config), async (s) => {
        if (!(await s.directory.getOrg(o.org))) throw new UsageError(`there is no organization "${o.org}"; create it with "warden orgs create"`);
        if (o.project && !(await s.directory.getProject(o.org, o.project))) throw new UsageError(`organization "${o.org}" has no project "${o.project}"`);
        await s.createKey(record);
        await s.appendEvents([cliEvent('admin.key.create', { target_key_id: record.id, name: record.name, role: record.role, models: record.models })]);
      });
      out(`Created key ${record.id} (name "${record.name}", role ${record.role}${models ? `, models ${models.join(',')}` : ''}).`);
      out('Store it now: it is not shown again.');
      out(key);
    });

  keys
    .command('list')
    .description('list keys (never the secrets)')
    .option('--json', 'one JSON object per line')
    .option('--config <file>', 'config file naming the store')
    .action(async (o: { json?: boolean; config?: string }) => {
      const list = await withStorage(resolveConfig(o.config), (s) => s.listKeys());
      if (o.json) {
        for (const k of list) out(JSON.stringify(publicKey(k)));
        return;
      }
      const rows = list.map((k) => [k.id, k.name, k.role, `${k.prefix}…`, new Date(k.createdAt).toISOString(), k.revokedAt ? `revoked ${new Date(k.revokedAt).toISOString()}` : 'active', k.models?.join(',') ?? '*']);
      out(table(['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'STATUS', 'MODELS'], rows));
    });

  keys
    .command('revoke')
    .description('revoke a key; running gateways refuse it from the next request')
    .argument('<id>', 'the key id (key_…) from "warden keys list"')
    .option('--config <file>', 'config file naming the store')
    .action(async (id: string, o: { config?: string }) => {
      const rec = await withStorage(resolveConfig(o.config), async (s) => {
        const r = await s.revokeKey(id, Date.now());
        if (r) await s.appendEvents([cliEvent('admin.key.revoke', { target_key_id: id })]);
        return r;
      });
      if (!rec) throw new Error(`there is no key with id "${id}"`);
      out(`Revoked key ${rec.id} (name "${rec.name}").`);
    });
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
