// What the preload's peak sampler costs: the CPU of its thread (from its schedstat) over a window,
// as a share of one core, for an idle gzload and for 2 stacks x 1,500 connections (3,000 rings)
// steady and with a 20 ms spike a second; at the default rates (100 Hz while no pool fills, 1,000 Hz
// while one does) and at 1,000 Hz all the time (GZMEM_PEAK_IDLE_HZ=1000), side by side.
//   node --import tsx bench/peaks.ts [seconds]
import { readFileSync, readdirSync } from 'node:fs';
import { PRELOAD, startGzload, stop, telemetryPy } from '../test/helpers/dpdk.js';

const seconds = Number(process.argv[2] ?? 10);
/** The sampler thread's CPU time in ms: schedstat's run time is exact, where stat's ticks are sampled at 100 Hz. */
function samplerMs(pid: number): number {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() !== 'gzmem-peaks') continue;
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  }
  throw new Error(`pid ${pid} has no gzmem-peaks thread`);
}

const big = ['--stacks', '2', '--tcp_conn_count', '1500', '--mbuf_count_per_conn', '20', '--hold', '1'];
const allCases = [
  { label: 'idle gzload, 1 stack', app: ['--stacks', '1', '--pattern', 'idle'], eal: [] as string[] },
  { label: '2 stacks x 1,500 connections, steady', app: [...big, '--pattern', 'steady'], eal: ['--lcores', '0@0,1@1,2@1'] },
  { label: '2 stacks x 1,500 connections, 20 ms spike a second', app: [...big, '--pattern', 'spike'], eal: ['--lcores', '0@0,1@1,2@1'] },
];
const rates = [
  { label: 'default (100/1,000 Hz)', env: {} },
  { label: '1,000 Hz always', env: { GZMEM_PEAK_IDLE_HZ: '1000' } },
];
for (const c of allCases.slice(Number(process.env.FROM ?? 0))) {
  for (const rate of rates) {
    const gz = await startGzload({ app: c.app, eal: c.eal, env: { LD_PRELOAD: PRELOAD, ...rate.env } });
    try {
      // A reader puts the pools on the sampler's list, as a recorder's first sample does.
      telemetryPy(gz.prefix, ['/gzmem/sample,1']);
      await new Promise((r) => setTimeout(r, 2000));
      telemetryPy(gz.prefix, ['/gzmem/sample,1']);
      const t0 = samplerMs(gz.pid);
      const w0 = performance.now();
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const ms = samplerMs(gz.pid) - t0;
      const wall = performance.now() - w0;
      const s = telemetryPy(gz.prefix, ['/gzmem/sample,1'])[0]!['/gzmem/sample'] as Record<string, number>;
      const walk = s.ring_walks ? `; a walk of the rings ${(s.ring_walk_cpu_ns! / s.ring_walks / 1e3).toFixed(0)} us` : '';
      console.log(
        `${c.label}, ${rate.label}: ${((ms / wall) * 100).toFixed(2)} % of one core ` +
          `(${ms.toFixed(0)} ms in ${(wall / 1000).toFixed(1)} s; ${(s.peak_passes! / (wall / 1000)).toFixed(0)} passes a second${walk})`,
      );
    } finally {
      await stop(gz);
    }
  }
}
