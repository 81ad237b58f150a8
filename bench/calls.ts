// What the preload's POSIX call counters add per call: instructions (valgrind's callgrind, the
// slope between two loop lengths, so start-up cancels out) and wall time per call, for a call that
// succeeds (getsockopt, read of 0 bytes) and one that fails (close(-1)), without the preload, with
// it counting, with GZMEM_CALLS=off and with GZMEM_CALLS_LATENCY=on. Wall times alternate the modes.
//   node --import tsx bench/calls.ts [rounds]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DPDK, PRELOAD } from '../test/helpers/dpdk.js';

const BENCH = join(DPDK.native, 'callbench');
const rounds = Number(process.argv[2] ?? 5);
const modes = [
  { label: 'no preload', env: {} },
  { label: 'preload, counting', env: { LD_PRELOAD: PRELOAD } },
  { label: 'preload, GZMEM_CALLS=off', env: { LD_PRELOAD: PRELOAD, GZMEM_CALLS: 'off' } },
  { label: 'preload, GZMEM_CALLS_LATENCY=on', env: { LD_PRELOAD: PRELOAD, GZMEM_CALLS_LATENCY: 'on' } },
];
const calls = ['getsockopt', 'read', 'close'];

function instructions(env: NodeJS.ProcessEnv, call: string, n: number): number {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', BENCH, call, String(n)], {
    env: { ...process.env, ...DPDK.env, ...env },
    encoding: 'utf8',
  });
  const m = /Collected : (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`callgrind: ${r.stderr.slice(-400)}`);
  return Number(m[1]);
}

function nsPerCall(env: NodeJS.ProcessEnv, call: string, n: number): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(BENCH, [call, String(n)], { env: { ...process.env, ...DPDK.env, ...env } });
  if (r.status !== 0) throw new Error(`callbench exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / n;
}

const hasValgrind = spawnSync('valgrind', ['--version']).status === 0;
for (const call of calls) {
  if (hasValgrind) {
    const per = modes.map((m) => (instructions(m.env, call, 200_000) - instructions(m.env, call, 100_000)) / 100_000);
    console.log(
      `${call}: ${per[0]!.toFixed(1)} user-space instructions per call without the preload, ` +
        `${per[1]!.toFixed(1)} counting (+${(per[1]! - per[0]!).toFixed(1)}), ${per[2]!.toFixed(1)} with GZMEM_CALLS=off (+${(per[2]! - per[0]!).toFixed(1)}), ` +
        `${per[3]!.toFixed(1)} timed (+${(per[3]! - per[0]!).toFixed(1)})`,
    );
  } else console.log(`${call}: instructions not counted (valgrind is not installed)`);
  const times: number[][] = modes.map(() => []);
  for (let r = 0; r < rounds; r++) modes.forEach((m, i) => times[i]!.push(nsPerCall(m.env, call, 1_000_000)));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(times[0]!);
  console.log(
    `${call}: ${base.toFixed(0)} ns per call without the preload (median of ${rounds} alternated runs of 1,000,000, process start included); ` +
      modes
        .slice(1)
        .map((m, i) => `${m.label} ${(median(times[i + 1]!) / base).toFixed(3)}x`)
        .join(', '),
  );
}
