// MariaDB under sysbench, four ways: nothing; libgzmem.so preloaded (POSIX call counters on); the
// preload with `gzmem record` at 1 Hz beside it; and with it at 10 Hz. Transactions per second and
// p95 latency as ratios to "nothing", over alternated rounds, for oltp_point_select and
// oltp_read_write over TCP on loopback. MariaDB is not a DPDK process: this measures what the
// counters cost on a real database's call mix, and what a recorder running beside it costs (it finds
// no DPDK process to read, so it scans and samples the machine each tick). The preload run also
// dumps the counts (GZMEM_CALLS_DUMP) to show the call mix.
//   apt-get install mariadb-server sysbench
//   node --import tsx bench/mariadb.ts [rounds] [seconds]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, DPDK, PRELOAD } from '../test/helpers/dpdk.js';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 20);
const PORT = '3399';
const dir = mkdtempSync(join(tmpdir(), 'gzmem-mariadb-'));
const data = join(dir, 'data');
const dump = join(dir, 'calls.jsonl');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const install = spawnSync('mariadb-install-db', ['--no-defaults', '--user=root', `--datadir=${data}`, '--auth-root-authentication-method=normal'], {
  encoding: 'utf8',
});
if (install.status !== 0) throw new Error(`mariadb-install-db: ${install.stderr}`);

async function startDb(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const db = spawn(
    '/usr/sbin/mariadbd',
    ['--no-defaults', '--user=root', `--datadir=${data}`, `--socket=${join(dir, 'sock')}`, `--port=${PORT}`, '--bind-address=127.0.0.1',
      '--skip-grant-tables', '--innodb-buffer-pool-size=256M', '--max-connections=64', `--pid-file=${join(dir, 'pid')}`],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...DPDK.env, ...env } },
  );
  for (let i = 0; i < 100; i++) {
    await sleep(200);
    if (spawnSync('mariadb-admin', ['--no-defaults', '-h127.0.0.1', `-P${PORT}`, '-uroot', 'ping']).status === 0) return db;
    if (db.exitCode !== null) break;
  }
  throw new Error('mariadbd did not start');
}

async function stopDb(db: ChildProcess): Promise<void> {
  const gone = new Promise((r) => db.once('exit', r));
  process.kill(db.pid!, 'SIGTERM');
  await gone;
}

const sysbench = (test: string, action: string, extra: string[] = []) =>
  spawnSync('sysbench', [test, '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${PORT}`, '--mysql-user=root', '--mysql-db=sbtest',
    '--tables=4', '--table-size=20000', ...extra, action], { encoding: 'utf8' });

function run(test: string): { tps: number; p95: number } {
  const r = sysbench(test, 'run', ['--threads=4', `--time=${seconds}`, '--percentile=95']);
  const tps = /transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(r.stdout);
  const p95 = /95th percentile:\s+([\d.]+)/.exec(r.stdout);
  if (!tps || !p95) throw new Error(`sysbench ${test}: ${r.stdout.slice(-500)} ${r.stderr}`);
  return { tps: Number(tps[1]), p95: Number(p95[1]) };
}

const modes = [
  { label: 'nothing', env: {}, recordHz: 0 },
  { label: 'preload (counters on)', env: { LD_PRELOAD: PRELOAD, GZMEM_CALLS_DUMP: dump }, recordHz: 0 },
  { label: 'preload + gzmem record at 1 Hz', env: { LD_PRELOAD: PRELOAD }, recordHz: 1 },
  { label: 'preload + gzmem record at 10 Hz', env: { LD_PRELOAD: PRELOAD }, recordHz: 10 },
];
const tests = ['oltp_point_select', 'oltp_read_write'];
const results = new Map<string, { tps: number[]; p95: number[] }>();

try {
  const db = await startDb({});
  spawnSync('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${PORT}`, '-uroot', '-e', 'CREATE DATABASE IF NOT EXISTS sbtest']);
  const prep = sysbench('oltp_read_write', 'prepare');
  if (prep.status !== 0) throw new Error(`prepare: ${prep.stderr}`);
  await stopDb(db);
  for (let round = 0; round < rounds; round++) {
    // Each round starts with a different mode, so drift over the run does not favour one.
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(k + round) % modes.length]!;
      const db2 = await startDb(mode.env);
      const rec =
        mode.recordHz > 0
          ? spawn(process.execPath, [CLI, 'record', '--db', join(dir, 'rec.db'), '-i', String(1 / mode.recordHz)], { stdio: 'ignore' })
          : undefined;
      try {
        run('oltp_point_select'); // warm the buffer pool
        for (const test of tests) {
          const r = run(test);
          const key = `${test}\t${mode.label}`;
          const acc = results.get(key) ?? { tps: [], p95: [] };
          acc.tps.push(r.tps);
          acc.p95.push(r.p95);
          results.set(key, acc);
        }
      } finally {
        if (rec) {
          const gone = new Promise((r) => rec.once('exit', r));
          process.kill(rec.pid!, 'SIGTERM');
          await gone;
        }
        await stopDb(db2);
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const test of tests) {
    const base = results.get(`${test}\tnothing`)!;
    for (const mode of modes) {
      const r = results.get(`${test}\t${mode.label}`)!;
      const spread = (xs: number[]) => `${(Math.min(...xs) / mean(base.tps)).toFixed(3)}–${(Math.max(...xs) / mean(base.tps)).toFixed(3)}`;
      console.log(
        `${test}, ${mode.label}: ${mean(r.tps).toFixed(0)} tps = ${(mean(r.tps) / mean(base.tps)).toFixed(3)} (runs ${spread(r.tps)}), ` +
          `p95 ${mean(r.p95).toFixed(2)} ms = ${(mean(r.p95) / mean(base.p95)).toFixed(3)}`,
      );
    }
  }
  // The call mix, from the preload's dump at MariaDB's exit (its last run).
  const byCall = new Map<string, number>();
  for (const line of readFileSync(dump, 'utf8').split('\n').filter(Boolean)) {
    const c = JSON.parse(line) as { call: string; calls: number };
    byCall.set(c.call, (byCall.get(c.call) ?? 0) + c.calls);
  }
  const total = [...byCall.values()].reduce((a, b) => a + b, 0);
  console.log(
    `call mix of the last counted MariaDB run (${total} calls): ` +
      [...byCall].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([c, n]) => `${c} ${((n / total) * 100).toFixed(1)} %`).join(', '),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
