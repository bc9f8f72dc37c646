import { randomBytes, randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { hashPassword, passwordProblem } from '../identity/index.js';
import { masterKeyRing, providerKeyAad } from '../identity/services.js';
import { mcpServerAad } from '../mcp/registered.js';
import { SecretBox, dropPreviousKeys, rotateMasterKey, verifySealedRecords, writeRotatedKeyFile, type SealedRecord } from '../secrets/index.js';
import { ROLES, type Role, type SealedRow, type Storage } from '../storage/types.js';
import { UsageError, cliEvent, resolveConfig, withStorage } from './shared.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function roles(list: string): Role[] {
  const out = list.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = out.find((r) => !ROLES.includes(r as Role));
  if (bad !== undefined || out.length === 0) throw new UsageError(`--role must be one or more of ${ROLES.join(', ')} (comma-separated), got "${list}"`);
  return out as Role[];
}

async function requireOrg(s: Storage, id: string): Promise<void> {
  if (!(await s.directory.getOrg(id))) throw new UsageError(`there is no organization "${id}"; create it with "warden orgs create"`);
}

export function registerIdentityCommands(program: Command, out: (s: string) => void): void {
  const orgs = program.command('orgs').description('create and list organizations (tenants)');
  orgs
    .command('create')
    .requiredOption('--name <name>', 'display name, unique')
    .option('--id <id>', 'stable id (lowercase letters, digits, - and _); default: generated')
    .option('--config <file>', 'config file naming the store')
    .action(async (o: { name: string; id?: string; config?: string }) => {
      const id = o.id ?? `org_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id)) throw new UsageError(`--id must be lowercase letters, digits, - and _, got "${id}"`);
      await withStorage(resolveConfig(o.config), async (s) => {
        if ((await s.directory.listOrgs()).some((x) => x.id === id || x.name === o.name)) throw new UsageError('an organization with this id or name exists');
        await s.directory.createOrg({ id, name: o.name, createdAt: Date.now(), disabledAt: null });
        await s.appendEvents([cliEvent('admin.org.create', { target: { org_id: id }, after: { id, name: o.name } })]);
      });
      out(`Created organization ${id} ("${o.name}").`);
    });
  orgs
    .command('list')
    .option('--config <file>', 'config file naming the store')
    .action(async (o: { config?: string }) => {
      for (const org of await withStorage(resolveConfig(o.config), (s) => s.directory.listOrgs())) out(`${org.id}\t${org.name}`);
    });

  const users = program.command('users').description('create and list users (people who sign in with POST /auth/token)');
  users
    .command('create')
    .description('create a user; without --password-stdin a password is generated and printed once, alone on the last line')
    .requiredOption('--username <name>', 'unique sign-in name, e.g. an email address')
    .option('--role <roles>', `comma-separated, of ${ROLES.join(', ')}`, 'user')
    .option('--org <id>', 'organization', 'default')
    .option('--password-stdin', 'read the password from standard input')
    .option('--config <file>', 'config file naming the store')
    .action(async (o: { username: string; role: string; org: string; passwordStdin?: boolean; config?: string }) => {
      const r = roles(o.role);
      const generated = !o.passwordStdin;
      const password = generated ? randomBytes(18).toString('base64url') : await readStdin();
      const problem = passwordProblem(password);
      if (problem) throw new UsageError(problem);
      const id = `usr_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      await withStorage(resolveConfig(o.config), async (s) => {
        await requireOrg(s, o.org);
        if (await s.directory.findUserByUsername(o.username)) throw new UsageError(`the username "${o.username}" is taken`);
        await s.directory.createUser({
          id,
          orgId: o.org,
          projectId: null,
          username: o.username,
          displayName: null,
          passwordHash: await hashPassword(password),
          roles: r,
          failedLogins: 0,
          lockedUntil: null,
          createdAt: Date.now(),
          disabledAt: null,
        });
        await s.appendEvents([cliEvent('admin.user.create', { target: { user_id: id }, after: { id, org_id: o.org, username: o.username, roles: r } })]);
      });
      out(`Created user ${id} ("${o.username}", org ${o.org}, roles ${r.join(',')}).`);
      if (generated) {
        out('Password (shown once):');
        out(password);
      }
    });
  users
    .command('list')
    .option('--org <id>', 'organization', 'default')
    .option('--config <file>', 'config file naming the store')
    .action(async (o: { org: string; config?: string }) => {
      for (const u of await withStorage(resolveConfig(o.config), (s) => s.directory.listUsers(o.org))) {
        out(`${u.id}\t${u.username}\t${u.roles.join(',')}${u.disabledAt ? '\tdisabled' : ''}`);
      }
    });

  registerSecretCommands(program, out);
}

const aadOf = (r: SealedRow) => (r.table === 'signing_secrets' ? `signing_secret:${r.id}` : r.table === 'mcp_servers' ? mcpServerAad(r.id) : `system_secret:${r.id}`);

function registerSecretCommands(program: Command, out: (s: string) => void): void {
  const secrets = program.command('secrets').description('secrets at rest');
  secrets
    .command('seal')
    .description('encrypt a provider API key read from standard input with the master key; put the printed value in the provider\'s api_key')
    .requiredOption('--provider <name>', 'the provider (its name in the config) the key is for: the value opens only there')
    .option('--config <file>', 'config file (names the store, hence the master key file)')
    .action(async (o: { provider: string; config?: string }) => {
      const value = await readStdin();
      if (!value) throw new UsageError('nothing on standard input: pipe the API key in, e.g. printf %s "$KEY" | warden secrets seal --provider openai');
      const { ring } = masterKeyRing(resolveConfig(o.config));
      out(new SecretBox(ring).seal(value, providerKeyAad(o.provider)));
    });
  secrets
    .command('rotate-master-key')
    .description(
      'put a new master key first in the key file (old keys kept as previous), then re-seal every stored secret with it. ' +
        'Restart running gateways after the key file changes so they seal with the new key.',
    )
    .option('--resume', 'do not add a key: re-seal with the current one (after an interrupted run)')
    .option('--drop-previous', 'after verifying nothing is sealed by an old key, remove the old keys from the file')
    .option('--config <file>', 'config file naming the store')
    .action(async (o: { resume?: boolean; dropPrevious?: boolean; config?: string }) => {
      const config = resolveConfig(o.config);
      let { ring } = masterKeyRing(config);
      if (ring.source.kind === 'env') {
        throw new UsageError(
          'the master key comes from WARDEN_MASTER_KEY: set the new key there and the old one in WARDEN_MASTER_KEY_PREVIOUS, restart, then run this with --resume',
        );
      }
      if (ring.source.kind === 'memory') throw new UsageError('an in-memory database has no stored secrets to rotate');
      if (!o.resume) {
        ring = writeRotatedKeyFile(ring.source.path);
        out(`New master key ${ring.current.id} written to ${ring.source.kind === 'file' ? ring.source.path : ''} (previous: ${ring.previous.map((k) => k.id).join(', ')}).`);
      }
      const box = new SecretBox(ring);
      await withStorage(config, async (s) => {
        const rows = await s.directory.listSealed();
        const byId = new Map(rows.map((r) => [`${r.table}:${r.id}`, r]));
        const records: SealedRecord[] = rows.map((r) => ({ id: `${r.table}:${r.id}`, aad: aadOf(r), envelope: r.sealed }));
        const report = await rotateMasterKey({
          box,
          records,
          save: async (id, envelope) => {
            const row = byId.get(id)!;
            await s.directory.updateSealed({ ...row, sealed: envelope });
          },
        });
        out(`Checked ${report.checked} secret(s), re-sealed ${report.resealed}.`);
        for (const f of report.failed) out(`  failed ${f.id}: ${f.reason}: ${f.message}`);
        await s.appendEvents([cliEvent('admin.secrets.rotate_master_key', { key_id: ring.current.id, checked: report.checked, resealed: report.resealed, failed: report.failed.length })]);
        if (report.failed.length > 0) throw new Error(`${report.failed.length} secret(s) could not be re-sealed; fix them and run again with --resume`);
        if (!o.dropPrevious) return;
        const fresh = (await s.directory.listSealed()).map((r) => ({ id: `${r.table}:${r.id}`, aad: aadOf(r), envelope: r.sealed }));
        // Sealed provider keys live in the config file, which this command does not rewrite: they block the drop until re-sealed.
        for (const p of config.providers) {
          if (p.api_key && box.isSealed(p.api_key)) fresh.push({ id: `config:providers.${p.name}.api_key`, aad: providerKeyAad(p.name), envelope: p.api_key });
        }
        const v = await verifySealedRecords({ box, records: fresh });
        if (v.stale.length || v.failed.length) throw new Error(`not dropping old keys: ${v.stale.length + v.failed.length} secret(s) still need them`);
        if (ring.source.kind === 'file' || ring.source.kind === 'generated') dropPreviousKeys(ring.source.path);
        out('Old master keys removed from the key file.');
      });
    });
}
