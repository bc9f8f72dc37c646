import { Command, CommanderError } from 'commander';
import { openStorage, redactUrl } from '../storage/index.js';
import { VERSION } from '../version.js';
import { registerIdentityCommands } from './identity.js';
import { registerKeyCommands } from './keys.js';
import { runDemo, runStart } from './serve.js';
import { UsageError, exitCodeFor, resolveConfig, withStorage } from './shared.js';

export function buildProgram(out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Command {
  const program = new Command('warden')
    .description('Warden: a security and observability gateway for AI agents')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError();

  program
    .command('demo')
    .description('run the gateway with a built-in mock upstream, SQLite under ./.warden and fresh demo keys')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8600')
    .option('--data-dir <dir>', 'where the SQLite store lives', './.warden')
    .option('--config <file>', "use this file's settings (storage, logs, …); its providers are replaced by the mock")
    .action(async (o: { host: string; port: string; dataDir: string; config?: string }) => {
      const port = Number(process.env.WARDEN_PORT ?? o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got "${o.port}"`);
      await runDemo({ host: process.env.WARDEN_HOST ?? o.host, port, dataDir: o.dataDir, config: o.config }, out);
    });

  program
    .command('start')
    .description('run the gateway')
    .option('--config <file>', 'YAML config file (default: $WARDEN_CONFIG or ./warden.yaml)')
    .action(async (o: { config?: string }) => runStart(resolveConfig(o.config)));

  program
    .command('check-config')
    .description('validate the config and exit: 0 when valid, 2 naming each bad key otherwise')
    .option('--config <file>', 'YAML config file')
    .action((o: { config?: string }) => {
      const c = resolveConfig(o.config);
      for (const w of c.warnings) out(`warning: ${w}`);
      out(`config OK (${c.source}): listening on ${c.server.host}:${c.server.port}, storage ${redactUrl(c.storage.url)}, ${c.providers.length} provider(s)${c.providers.length ? `: ${c.providers.map((p) => p.name).join(', ')}` : ''}`);
    });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .option('--config <file>', 'YAML config file')
    .action(async (o: { config?: string }) => {
      const c = resolveConfig(o.config);
      const { applied, status } = await migrateStore(c.storage.url);
      out(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database is up to date');
      out(`${status.applied.length} migration(s) applied in total, ${status.pending.length} pending`);
    });

  registerKeyCommands(program, out);
  registerIdentityCommands(program, out);

  const audit = program.command('audit').description('audit trail tools');
  audit
    .command('verify')
    .description('recompute the audit hash chain; exit 1 and name the first tampered record if it is broken')
    .option('--config <file>', 'YAML config file')
    .action(async (o: { config?: string }) => {
      const r = await withStorage(resolveConfig(o.config), (s) => s.verifyAudit());
      if (r.ok) {
        out(`audit chain OK: ${r.checked} record(s) verified, head ${r.headHash}`);
        return;
      }
      const why = r.firstBad?.reason === 'hash_mismatch' ? 'its contents were changed after it was written' : 'it does not link to the record before it (a record was removed or reordered)';
      throw new AuditBroken(`audit chain BROKEN at seq ${r.firstBad?.seq} (id ${r.firstBad?.id}): ${r.firstBad?.reason}: ${why}; ${r.checked - 1} record(s) before it verified`);
    });
  return program;
}

class AuditBroken extends Error {}

async function migrateStore(url: string) {
  const s = await openStorage(url);
  try {
    const applied = await s.migrate();
    return { applied, status: await s.migrationStatus() };
  } finally {
    await s.close();
  }
}

/** Entry point for bin/warden.js. Sets process.exitCode; never prints a stack for expected errors. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage mistakes exit 2 (commander already printed the message).
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`warden: ${(err as Error).message}\n`);
    process.exitCode = exitCodeFor(err);
  }
}
