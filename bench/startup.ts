// One-shot commands as a user runs them, whole process: wall time and peak RSS, median of
// alternated rounds, beside `node -e 0` and DPDK's own dpdk-telemetry.py sending the same commands.
//   node --import tsx bench/startup.ts [rounds]     (needs /usr/bin/time)
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, DPDK, PRELOAD, startGzload, startTestpmd, stop, telemetryPy } from '../test/helpers/dpdk.js';

const rounds = Number(process.argv[2] ?? 15);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * NODE_EXTRA_CA_CERTS makes every Node start read and parse a certificate bundle (40 ms of a 60 ms
 * `node -e 0` on a machine that sets it), before any of gzmem's code runs; gzmem opens no TLS
 * connection. Where the environment sets it, the rounds run both with it and without it (as a
 * user's shell usually is).
 */
const environments: [string, NodeJS.ProcessEnv][] = [['', process.env]];
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
  const without = { ...process.env };
  delete without.NODE_EXTRA_CA_CERTS;
  environments.splice(0, 1, [' (this environment: NODE_EXTRA_CA_CERTS set)', process.env], [' (without NODE_EXTRA_CA_CERTS)', without]);
}
let runEnv: NodeJS.ProcessEnv = process.env;

/** Wall ms and peak RSS KiB of one run, through GNU time. */
function run(argv: string[], input?: string): { ms: number; kib: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], { input, encoding: 'utf8', env: runEnv });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-300)}`);
  return { ms, kib: Number(r.stderr.trim().split('\n').at(-1)) };
}

const dir = mkdtempSync(join(tmpdir(), 'gzmem-startup-'));
const conf = join(dir, 'lstack.conf');
writeFileSync(conf, 'tcp_conn_count = 64\nmbuf_count_per_conn = 170\nnic_rxqueue_size = 512\nnic_txqueue_size = 512\nnum_cpus = "1"\nhost_addr = "192.0.2.1"\n');
const tp = await startTestpmd({ mbufs: 16384 });
const gz = await startGzload({ app: ['--stacks', '1'], env: { LD_PRELOAD: PRELOAD, LSTACK_CONF_PATH: conf } });
try {
  // The commands `gzmem show --json` sends to this testpmd, for DPDK's own client to send too.
  const [lists] = [telemetryPy(tp.prefix, ['/eal/heap_list', '/eal/memzone_list', '/mempool/list', '/ethdev/list'])];
  const heaps = (lists[0]?.['/eal/heap_list'] as number[]) ?? [];
  const zones = (lists[1]?.['/eal/memzone_list'] as number[]) ?? [];
  const pools = (lists[2]?.['/mempool/list'] as string[]) ?? [];
  const ports = (lists[3]?.['/ethdev/list'] as number[]) ?? [];
  const commands = ['/eal/params', '/eal/heap_list', ...heaps.map((h) => `/eal/heap_info,${h}`), '/eal/memzone_list', ...zones.map((z) => `/eal/memzone_info,${z}`),
    '/mempool/list', ...pools.map((p) => `/mempool/info,${p}`), '/ethdev/list', ...ports.flatMap((p) => [`/ethdev/info,${p}`, `/ethdev/stats,${p}`]), '/gzmem/info'];
  const cases: [string, () => { ms: number; kib: number }][] = [
    ['node -e 0', () => run([process.execPath, '-e', '0'])],
    ['gzmem --version', () => run([process.execPath, CLI, '--version'])],
    [`gzmem show --json (testpmd, ${commands.length} commands)`, () => run([process.execPath, CLI, 'show', String(tp.pid), '--json'])],
    ['dpdk-telemetry.py, the same commands', () => run([DPDK.telemetryPy, '-f', tp.prefix], `${commands.join('\n')}\n`)],
    ['gzmem lstack show -m (gzload, preload)', () => run([process.execPath, CLI, 'lstack', 'show', String(gz.pid), '-m'])],
  ];
  for (const [label, env] of environments) {
    runEnv = env;
    const results = new Map(cases.map(([name]) => [name, { ms: [] as number[], kib: [] as number[] }]));
    for (let i = 0; i < rounds; i++) {
      for (const [name, f] of cases) {
        const r = f();
        results.get(name)!.ms.push(r.ms);
        results.get(name)!.kib.push(r.kib);
      }
    }
    const m = (name: string) => median(results.get(name)!.ms);
    console.log(`${rounds} alternated rounds, median wall time and peak RSS${label}:`);
    for (const [name, r] of results) console.log(`  ${name.padEnd(44)} ${median(r.ms).toFixed(0).padStart(5)} ms  ${(median(r.kib) / 1024).toFixed(1).padStart(6)} MiB`);
    console.log(`ratios: gzmem --version / node -e 0 = ${(m('gzmem --version') / m('node -e 0')).toFixed(2)}; ` +
      `gzmem show --json / dpdk-telemetry.py = ${(m(cases[2]![0]) / m(cases[3]![0])).toFixed(2)}`);
  }
} finally {
  await stop(gz);
  await stop(tp);
  rmSync(dir, { recursive: true, force: true });
}
