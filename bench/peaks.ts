// What the preload's peak sampler costs: the CPU of its thread (from its task stat) over a window,
// as a share of one core, for an idle gzload and for 2 stacks x 1,500 connections under traffic;
// and at 1,000 Hz against 100 Hz, to tell the cost of waking from the cost of reading pools.
//   node --import tsx bench/peaks.ts [seconds]
import { readFileSync, readdirSync } from 'node:fs';
import { PRELOAD, startGzload, stop, telemetryPy } from '../test/helpers/dpdk.js';

const seconds = Number(process.argv[2] ?? 10);
const CLOCK_TICKS = 100; // USER_HZ

function samplerTicks(pid: number): number {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() !== 'gzmem-peaks') continue;
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  }
  throw new Error(`pid ${pid} has no gzmem-peaks thread`);
}

const cases = [
  { label: 'idle gzload, 1 stack', app: ['--stacks', '1', '--pattern', 'idle'], eal: [] as string[] },
  {
    label: '2 stacks x 1,500 connections, steady',
    app: ['--stacks', '2', '--tcp_conn_count', '1500', '--mbuf_count_per_conn', '20', '--pattern', 'steady', '--hold', '1'],
    eal: ['--lcores', '0@0,1@1,2@1'],
  },
];
for (const [c, hz] of cases.flatMap((c) => [[c, '1000'], [c, '100']] as const)) {
  const gz = await startGzload({ app: c.app, eal: c.eal, env: { LD_PRELOAD: PRELOAD, GZMEM_PEAK_HZ: hz } });
  try {
    // A reader puts the pools on the sampler's list, as a recorder's first sample does.
    telemetryPy(gz.prefix, ['/gzmem/peaks,1']);
    await new Promise((r) => setTimeout(r, 2000));
    const t0 = samplerTicks(gz.pid);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const ms = ((samplerTicks(gz.pid) - t0) * 1000) / CLOCK_TICKS;
    const wall = performance.now() - w0;
    console.log(`${c.label}, ${hz} Hz: the sampler thread used ${ms.toFixed(0)} ms of CPU in ${(wall / 1000).toFixed(1)} s = ${((ms / wall) * 100).toFixed(2)} % of one core`);
  } finally {
    await stop(gz);
  }
}
