// Where a warm sample's time goes: reads one target N times under the V8 profiler and prints the
// functions with the most self time, and the CPU per sample. gzload 2 stacks x 1,500 connections
// with the preload by default; --idle for an idle 1-stack gzload.
//   node --import tsx bench/profile.ts [samples] [--idle]
import { readFileSync, readdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { liveHost } from '../src/collect/host.js';
import { machineSnapshot, readTarget } from '../src/gather/processes.js';
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

const samples = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 200);
const idle = process.argv.includes('--idle');
const gz = await startGzload(idle
  ? { app: ['--stacks', '1', '--pattern', 'idle'], env: { LD_PRELOAD: PRELOAD } }
  : { eal: ['--lcores', '0@0,1@1,2@1'], app: ['--stacks', '2', '--tcp_conn_count', '1500', '--mbuf_count_per_conn', '20', '--pattern', 'steady', '--hold', '1'], env: { LD_PRELOAD: PRELOAD } });
const host = liveHost();
// As the recorder samples: mappings and the ring list kept between samples, no attach cross-check beside the preload.
const mappings = new Map();
const ringsCache = new Map();
const session = new Session();
session.connect();
try {
  for (let i = 0; i < 20; i++) await readTarget(host, String(gz.pid), { mappings, rings: ringsCache, attachBesidePreload: false }); // warm
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const target0 = telemetryTicks(gz.pid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rings = 0;
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const p = await readTarget(host, String(gz.pid), { mappings, rings: ringsCache, attachBesidePreload: false });
    await machineSnapshot(host, [p], started);
    rings = p.rings.length;
  }
  const wall = (performance.now() - t0) / samples;
  const cpu = process.cpuUsage(cpu0);
  const targetMs = ((telemetryTicks(gz.pid) - target0) * 1000) / CLOCK_TICKS / samples;
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
  console.log(`${idle ? 'idle gzload' : 'gzload 2 stacks x 1,500 connections'}, preload, ${rings} rings: ${samples} samples, wall ${wall.toFixed(2)} ms, gzmem CPU ${((cpu.user + cpu.system) / 1000 / samples).toFixed(2)} ms per sample, the target's telemetry threads ${targetMs.toFixed(2)} ms per sample`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / samples / 1000).toFixed(3)} ms  ${k}`);
} finally {
  session.disconnect();
  await stop(gz);
}
