// What gzmem costs the application: gzload's packet rate (net_null rx on its stack thread) with and
// without the preload library, and while gzmem samples it at 10 Hz. Runs are interleaved
// (A B C D, repeated) so machine noise falls on every mode alike; figures are ratios to mode A.
// Run: node --import tsx bench/overhead.ts [seconds per run] [rounds]

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { liveHost } from '../src/collect/host.js';
import { readTarget } from '../src/snapshot.js';
import { ROOT } from '../test/helpers/fixtures.js';
import { startGzload, stop } from '../test/helpers/dpdk.js';

const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 4);
const PRELOAD = join(ROOT, 'native', 'build', 'libgzmem.so');
if (!existsSync(PRELOAD)) throw new Error('build native/ first (make -C native)');

interface Mode { label: string; preload: boolean; sampleHz: number }
const modes: Mode[] = [
  { label: 'A plain', preload: false, sampleHz: 0 },
  { label: 'B preload', preload: true, sampleHz: 0 },
  { label: 'C preload + gzmem 10 Hz', preload: true, sampleHz: 10 },
  { label: 'D attach (gzmem 10 Hz, no preload)', preload: false, sampleHz: 10 },
];

async function packets(send: (l: string) => void, next: () => Promise<string>): Promise<number> {
  send('truth');
  return (JSON.parse(await next()) as { ipackets: number }).ipackets;
}

async function run(mode: Mode): Promise<{ rate: number; samples: number }> {
  const gz = await startGzload({ app: ['--stacks', '1', '--pattern', 'steady'], env: mode.preload ? { LD_PRELOAD: PRELOAD } : {} });
  try {
    await new Promise((r) => setTimeout(r, 500));
    let sampling = mode.sampleHz > 0;
    let samples = 0;
    const host = liveHost();
    const sampler = (async () => {
      while (sampling) {
        const t0 = performance.now();
        await readTarget(host, String(gz.pid));
        samples++;
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 / mode.sampleHz - (performance.now() - t0))));
      }
    })();
    const p0 = await packets(gz.send!, gz.nextLine!);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const p1 = await packets(gz.send!, gz.nextLine!);
    const t1 = performance.now();
    sampling = false;
    await sampler;
    return { rate: ((p1 - p0) / (t1 - t0)) * 1000, samples };
  } finally {
    await stop(gz);
  }
}

const rates = new Map<string, number[]>(modes.map((m) => [m.label, []]));
const sampleCounts = new Map<string, number>();
for (let r = 0; r < rounds; r++) {
  for (const m of modes) {
    const { rate, samples } = await run(m);
    rates.get(m.label)!.push(rate);
    sampleCounts.set(m.label, (sampleCounts.get(m.label) ?? 0) + samples);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(rates.get(modes[0]!.label)!);
console.log(`gzload packet rate, ${rounds} interleaved rounds of ${seconds} s per mode (median)`);
for (const m of modes) {
  const med = median(rates.get(m.label)!);
  console.log(`${m.label.padEnd(38)} ${(med / 1e6).toFixed(2)} Mpps  ratio ${(med / base).toFixed(4)}  snapshots ${sampleCounts.get(m.label)}  runs ${rates.get(m.label)!.map((x) => (x / 1e6).toFixed(2)).join(' ')}`);
}
