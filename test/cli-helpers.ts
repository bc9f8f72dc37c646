import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const BIN = join(resolve(import.meta.dirname, '..'), 'packages/warden/bin/warden.js');

export interface WardenProcess {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/**
 * Starts `warden start --config FILE` as its own process; resolves with its URL once it logs that it listens.
 * `asCommand`: run the bin itself (its sh line re-executes it with its Node flags), as npm and installed bins do.
 */
export function startWarden(config: string, cwd: string, env: NodeJS.ProcessEnv = process.env, asCommand = false): Promise<WardenProcess> {
  const args = ['start', '--config', config];
  const proc = asCommand ? spawn(BIN, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env }) : spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`server did not start: ${buf}`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(buf);
      if (m) {
        clearTimeout(timer);
        res({ proc, url: m[1]!, exited });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (buf += d.toString()));
    proc.once('exit', () => rej(new Error(`server exited: ${buf}`)));
  });
}
