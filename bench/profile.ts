// A warm sample as the recorder takes it: CPU per sample (gzmem's and the target's telemetry
// thread's), then where the time goes under the V8 profiler. gzload with the preload: idle, 1 stack x 64 connections, 2 stacks x 1,500 connections (or one of them).
//   node --import tsx bench/profile.ts [samples] [--idle|--conn64|--conn1500]
import { readFileSync, readdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { liveHost } from '../src/collect/host.js';
import { closeSampleCache, machineSnapshot, newSampleCache, readTarget } from '../src/gather/processes.js';
import { PRELOAD, startGzload, stop } from '../test/helpers/dpdk.js';

const CLOCK_TICKS = 100; // USER_HZ on Linux

const ticksOf = (stat: string) => {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};

/**
 * CPU ticks the target spent serving telemetry: the whole process (its stat counts threads that
 * ended too, such as the one that served each of our connections) less its other live threads.
 */
function telemetryTicks(pid: number): number {
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (/telemet/.test(readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8'))) continue;
      others += ticksOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      // a thread that ended meanwhile
    }
  }
  return ticksOf(readFileSync(`/proc/${pid}/stat`, 'utf8')) - others;
}

const samples = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 300);
const only = process.argv.find((a) => a.startsWith('--') && a !== '--idle') ?? (process.argv.includes('--idle') ? '--idle' : undefined);

const CASES: Record<string, { label: string; options: Parameters<typeof startGzload>[0] }> = {
  '--idle': { label: 'idle gzload, 1 stack', options: { app: ['--stacks', '1', '--pattern', 'idle'], env: { LD_PRELOAD: PRELOAD } } },
  '--conn64': {
    label: '1 stack x 64 connections',
    options: { app: ['--stacks', '1', '--tcp_conn_count', '64', '--pattern', 'steady', '--hold', '1'], env: { LD_PRELOAD: PRELOAD } },
  },
  '--conn1500': {
    label: '2 stacks x 1,500 connections',
    options: {
      eal: ['--lcores', '0@0,1@1,2@1'],
      app: ['--stacks', '2', '--tcp_conn_count', '1500', '--mbuf_count_per_conn', '20', '--pattern', 'steady', '--hold', '1'],
      env: { LD_PRELOAD: PRELOAD },
    },
  },
};

const WARM_SAMPLES = 2000;

async function sampleCase(key: string): Promise<void> {
  const { label, options } = CASES[key]!;
  const gz = await startGzload(options);
  const host = liveHost();
  // As the recorder samples: its connection and what did not change kept between samples, no attach cross-check beside the preload.
  const cache = newSampleCache();
  const sample = async () => {
    const started = performance.now();
    const p = await readTarget(host, String(gz.pid), { cache, attachBesidePreload: false });
    await machineSnapshot(host, [p], started);
    return p;
  };
  const session = new Session();
  session.connect();
  try {
    // Warm: the caches, and the JIT as a long-running sampler has it (the first case warms it most).
    for (let i = 0; i < WARM_SAMPLES; i++) await sample();
    // CPU measured without the profiler, which costs CPU of its own.
    const target0 = telemetryTicks(gz.pid);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let last = await sample();
    for (let i = 1; i < samples; i++) last = await sample();
    const wall = (performance.now() - t0) / samples;
    const cpu = process.cpuUsage(cpu0);
    const targetMs = ((telemetryTicks(gz.pid) - target0) * 1000) / CLOCK_TICKS / samples;
    console.log(
      `${label}, preload, ${last.rings.length} rings: ${samples} samples, wall ${wall.toFixed(2)} ms, gzmem CPU ${((cpu.user + cpu.system) / 1000 / samples).toFixed(2)} ms per sample (user ${(cpu.user / 1000 / samples).toFixed(2)}, sys ${(cpu.system / 1000 / samples).toFixed(2)}), the target's telemetry threads ${targetMs.toFixed(2)} ms per sample`,
    );
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    for (let i = 0; i < samples; i++) await sample();
    const { profile } = await session.post('Profiler.stop');
    const self = new Map<string, number>();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const dt = profile.timeDeltas ?? [];
    (profile.samples ?? []).forEach((id, i) => {
      const n = byId.get(id)!;
      const f = n.callFrame;
      // A native function (no url) is named with the function that called it.
      const caller = f.url ? undefined : byId.get(parent.get(id) ?? -1)?.callFrame;
      const where = (c: typeof f) => `${c.functionName || '(anonymous)'} ${c.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${c.lineNumber + 1}`;
      const key = caller && caller.url ? `${f.functionName} <- ${where(caller)}` : where(f);
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
    });
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(`  where the wall time goes under the profiler (self time; a native call is named by its caller):`);
    for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 12))
      console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / samples / 1000).toFixed(3)} ms  ${k}`);
  } finally {
    session.disconnect();
    closeSampleCache(cache);
    await stop(gz);
  }
}

for (const key of only ? [only] : Object.keys(CASES)) await sampleCase(key);
