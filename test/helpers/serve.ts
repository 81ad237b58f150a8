// Starts the built `gzmem serve` or `gzmem record`, or a fake telemetry server, as a child process; stops it by PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { ROOT } from './fixtures.js';

export interface Child {
  child: ChildProcess;
  stderr: () => string;
}

export interface Served extends Child {
  url: string;
}

const CLI = join(ROOT, 'bin', 'gzmem.js');

export async function startServe(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gzmem serve did not start: ${err}`)), 15000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /serving (http:\/\/\S+\/)/.exec(l);
      if (m) { clearTimeout(t); resolve(m[1]!); }
    });
    child.once('exit', (c) => reject(new Error(`gzmem serve exited ${c}: ${err}`)));
  });
  return { child, url, stderr: () => err };
}

export function startRecord(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [CLI, 'record', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  return { child, stderr: () => err };
}

/** SIGTERM by pid, as a user's service manager would; resolves with the exit code. */
export async function stopChild(c: Child | undefined): Promise<number | null> {
  if (!c || c.child.exitCode !== null) return c?.child.exitCode ?? null;
  const done = new Promise<number | null>((r) => c.child.once('exit', (code) => r(code)));
  process.kill(c.child.pid!, 'SIGTERM');
  return done;
}

/**
 * Starts test/helpers/fake-telemetry.ts serving `<runtimeDir>/<prefix>/dpdk_telemetry.v2` in `mode`,
 * as root or (user given) as that user; resolves once it listens. The caller stops it by PID.
 */
export async function startFakeTelemetry(runtimeDir: string, prefix: string, mode: string, user?: { uid: string; gid: string }): Promise<ChildProcess> {
  const node = [process.execPath, '--import', 'tsx', join(ROOT, 'test/helpers/fake-telemetry.ts'), join(runtimeDir, prefix, 'dpdk_telemetry.v2'), mode];
  const [cmd, ...args] = user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', ...node] : node;
  const child = spawn(cmd!, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (c) => reject(new Error(`fake telemetry server (${mode}) exited ${c}`)));
  });
  return child;
}
