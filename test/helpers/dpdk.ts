// Real DPDK processes for integration tests: started with a unique --file-prefix, stopped by PID.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './fixtures.js';
import type { DpdkProcess, Snapshot } from '../../src/model/snapshot.js';

/**
 * The DPDK under test: Debian's package, or one of the version matrix when scripts/test-matrix.sh
 * sets GZMEM_TEST_DPDK (its install prefix) and GZMEM_TEST_NATIVE (native/ built against it).
 */
export const DPDK = ((prefix: string | undefined) => prefix
  ? {
    name: basename(dirname(prefix)),
    testpmd: join(prefix, 'bin', 'dpdk-testpmd'),
    telemetryPy: join(prefix, 'bin', 'dpdk-telemetry.py'),
    env: { LD_LIBRARY_PATH: join(prefix, 'lib') } as NodeJS.ProcessEnv,
    native: process.env.GZMEM_TEST_NATIVE ?? join(ROOT, 'native', 'build', basename(dirname(prefix))),
  }
  : { name: 'system', testpmd: '/usr/bin/dpdk-testpmd', telemetryPy: 'dpdk-telemetry.py', env: {} as NodeJS.ProcessEnv, native: join(ROOT, 'native', 'build') }
)(process.env.GZMEM_TEST_DPDK);

export const GZLOAD = join(DPDK.native, 'gzload');
export const PRELOAD = join(DPDK.native, 'libgzmem.so');
export const CALLCOUNT = join(DPDK.native, 'callcount');
export const GZFAKE = join(DPDK.native, 'libgzfake.so');
/** The built CLI, as users run it (make test builds it first). */
export const CLI = join(ROOT, 'bin', 'gzmem.js');

let counter = 0;
export function uniquePrefix(tag: string): string {
  return `gzt${tag}${process.pid}x${counter++}`;
}

/** Why real-hugepage tests cannot run here, or undefined when they can. In CI this is a failure. */
export function hugepagesMissing(): string | undefined {
  const nr = Number(readFileSync('/proc/sys/vm/nr_hugepages', 'utf8').trim());
  const mounted = readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'hugetlbfs');
  const why = nr < 256 ? `only ${nr} hugepages configured` : !mounted ? 'no hugetlbfs mounted' : !existsSync(DPDK.testpmd) ? `${DPDK.testpmd} not installed` : !existsSync(GZLOAD) ? `${GZLOAD} not built` : undefined;
  if (why && process.env.CI === 'true') throw new Error(`CI needs real hugepages: ${why}`);
  return why;
}

export function freeHugepages(): number {
  return Number(readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages', 'utf8').trim());
}

export interface DpdkProc {
  child: ChildProcess;
  pid: number;
  prefix: string;
  stderr: () => string;
  /** testpmd -i only: a command at its prompt, and what it printed. */
  console?: (command: string) => Promise<string>;
  /** gzload only: next JSON line on stdout. */
  nextLine?: () => Promise<string>;
  send?: (line: string) => void;
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function telemetryReady(prefix: string): boolean {
  const r = spawnSync(DPDK.telemetryPy, ['-f', prefix], { input: '/info\n', encoding: 'utf8', timeout: 3000 });
  return r.status === 0 && r.stdout.includes('"pid"');
}

export interface TestpmdOptions {
  prefix?: string;
  unlink?: boolean;
  mbufs?: number;
  /** Interactive (-i): forwarding stopped until `start`; `console` then talks to its prompt. */
  interactive?: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function startTestpmd(options: TestpmdOptions = {}): Promise<DpdkProc> {
  const prefix = options.prefix ?? uniquePrefix('tp');
  const args = ['-l', '0-1', '--no-pci', '--vdev', `net_null_${prefix}`, '--file-prefix', prefix, ...(options.unlink === false ? [] : ['--huge-unlink']),
    '--', '--forward-mode=io', `--total-num-mbufs=${options.mbufs ?? 16384}`, ...(options.interactive ? ['-i'] : [])];
  // Non-interactive testpmd runs until its stdin ends: keep the pipe open.
  // stdbuf: testpmd's printf output must not lag behind the prompt it writes directly (stdbuf execs, same pid).
  const child = spawn('stdbuf', ['-oL', DPDK.testpmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...DPDK.env, ...options.env } });
  let err = '';
  let out = '';
  child.stderr!.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-8000); });
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise((r) => child.once('exit', r));
  void exited;
  try {
    await waitFor(() => child.exitCode !== null || telemetryReady(prefix), 20000, `testpmd ${prefix} telemetry`);
    if (child.exitCode !== null) throw new Error(`testpmd exited ${child.exitCode}: ${err}`);
  } catch (e) {
    await killStarted(child, prefix); // a start that fails must not leave the process behind
    throw e;
  }
  /** Sends one command at the testpmd> prompt and returns what it printed up to the next prompt. */
  const console = async (command: string): Promise<string> => {
    const from = out.length;
    child.stdin!.write(`${command}\n`);
    await waitFor(() => out.indexOf('testpmd> ', from) >= 0, 10000, `testpmd: ${command}`);
    return out.slice(from, out.indexOf('testpmd> ', from));
  };
  return { child, pid: child.pid!, prefix, stderr: () => err, console };
}

export interface GzloadOptions {
  /** Another program that speaks gzload's stdin/stdout lines (native/callcount). */
  binary?: string;
  prefix?: string;
  eal?: string[];
  app?: string[];
  env?: NodeJS.ProcessEnv;
}

export async function startGzload(options: GzloadOptions = {}): Promise<DpdkProc> {
  const prefix = options.prefix ?? uniquePrefix('gl');
  const args = [...(options.eal ?? ['-l', '0-1']), '--no-pci', '--file-prefix', prefix, '--huge-unlink', '--', ...(options.app ?? [])];
  const child = spawn(options.binary ?? GZLOAD, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...DPDK.env, ...options.env } });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-8000); });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else lines.push(l);
  });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const queued = lines.shift();
      if (queued !== undefined) return resolve(queued);
      const t = setTimeout(() => reject(new Error(`gzload ${prefix}: no output; stderr: ${err.slice(-500)}`)), 20000);
      waiters.push((l) => { clearTimeout(t); resolve(l); });
    });
  try {
    const ready = JSON.parse(await nextLine()) as { ready?: boolean };
    if (!ready.ready) throw new Error(`gzload did not start: ${JSON.stringify(ready)} ${err}`);
  } catch (e) {
    await killStarted(child, prefix); // a start that fails must not leave the process behind
    throw e;
  }
  return { child, pid: child.pid!, prefix, stderr: () => err, nextLine, send: (l) => child.stdin!.write(`${l}\n`) };
}

/**
 * gzload's burst pattern, as a series of pool occupancies shows it: the longest run of rows at the
 * held level (every receive ring filled) and the longest near empty.
 */
export function burstRuns(values: (number | null)[], held: number): { high: number; low: number } {
  const longest = (match: (v: number) => boolean) => {
    let best = 0;
    let run = 0;
    for (const v of values) best = Math.max(best, (run = v !== null && match(v) ? run + 1 : 0));
    return best;
  };
  return { high: longest((v) => v >= held), low: longest((v) => v < held / 10) };
}

async function killStarted(child: ChildProcess, prefix: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
  rmSync(join('/var/run/dpdk', prefix), { recursive: true, force: true });
}

/** Stops a process we started, by its PID; SIGKILL if it does not stop in time. */
export async function stop(p: DpdkProc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const gone = new Promise((r) => p.child.once('exit', r));
  process.kill(p.pid, 'SIGTERM');
  const timer = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch { /* already gone */ } }, 10000);
  await gone;
  clearTimeout(timer);
  // EAL leaves config and fbarray files in the runtime dir even on a clean exit.
  rmSync(join('/var/run/dpdk', p.prefix), { recursive: true, force: true });
}

/** Removes hugetlbfs files a test's prefix left behind (after a SIGKILL without --huge-unlink). */
export function removeHugeFiles(prefix: string): void {
  for (const f of readdirSync('/dev/hugepages')) if (f.startsWith(`${prefix}map_`)) rmSync(join('/dev/hugepages', f));
  rmSync(join('/var/run/dpdk', prefix), { recursive: true, force: true });
}

/** Ground truth through DPDK's own client, not ours. */
export function telemetryPy(prefix: string, commands: string[]): Record<string, unknown>[] {
  const r = spawnSync(DPDK.telemetryPy, ['-f', prefix], { input: commands.join('\n') + '\n', encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`dpdk-telemetry.py failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would (a child process), optionally under another uid. */
export function gzmem(args: string[], env: NodeJS.ProcessEnv = {}, asUser?: string): Promise<CliResult> {
  if (!existsSync(join(ROOT, 'dist', 'bin', 'main.js'))) throw new Error('dist/ is missing: run make build');
  const node = [process.execPath, CLI, ...args];
  const [cmd, ...rest] = asUser ? ['setpriv', `--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', ...node] : node;
  return new Promise((resolve) => {
    const child = spawn(cmd!, rest, { env: { ...process.env, ...env }, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `gzmem show <target> --json` through the built CLI; fails the test unless it exits 0. */
export async function showProcess(target: string, extra: string[] = []): Promise<DpdkProcess> {
  const r = await gzmem(['show', target, '--json', ...extra]);
  if (r.code !== 0) throw new Error(`gzmem show ${target} exited ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Snapshot).processes[0]!;
}

/**
 * Lets an interactive testpmd forward a moment (so its worker's cache holds mbufs), stops it, and
 * returns mb_pool_0's counts from testpmd's own `dump_mempool`: the figures at rest.
 */
export async function testpmdPoolAtRest(tp: DpdkProc): Promise<{ size: number; common: number; cached: number }> {
  await tp.console!('start');
  await new Promise((r) => setTimeout(r, 500));
  await tp.console!('stop');
  const dump = await tp.console!('dump_mempool');
  const field = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(dump)![1]);
  return { size: field('size'), common: field('common_pool_count'), cached: field('total_cache_count') };
}
