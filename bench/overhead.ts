// What gzmem costs the application, measured on gzload's packet rate (net_null rx on its stack
// thread), as ratios from one run:
//  1. sampling: in ONE gzload process, alternate windows with gzmem sampling at 10 Hz and without;
//     ratio = median rate with / median rate without. Same process, so placement noise cancels.
//     Done for both modes: with the preload, and without it (attach reader).
//  2. the preload's presence: gzload processes with and without it, interleaved; ratio of medians.
// Run: node --import tsx bench/overhead.ts [window seconds] [windows] [process rounds]

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { liveHost } from '../src/collect/host.js';
import { readTarget } from '../src/gather/processes.js';
import { ROOT } from '../test/helpers/fixtures.js';
import { startGzload, stop, type DpdkProc } from '../test/helpers/dpdk.js';

const windowSec = Number(process.argv[2] ?? 1);
const windows = Number(process.argv[3] ?? 20);
const rounds = Number(process.argv[4] ?? 6);
const PRELOAD = join(ROOT, 'native', 'build', 'libgzmem.so');
if (!existsSync(PRELOAD)) throw new Error('build native/ first (make -C native)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mpps = (x: number) => (x / 1e6).toFixed(2);

async function packets(gz: DpdkProc): Promise<number> {
  gz.send!('truth');
  return (JSON.parse(await gz.nextLine!()) as { ipackets: number }).ipackets;
}

async function start(preload: boolean): Promise<DpdkProc> {
  const gz = await startGzload({ app: ['--stacks', '1', '--pattern', 'steady'], env: preload ? { LD_PRELOAD: PRELOAD } : {} });
  await sleep(500);
  return gz;
}

/** Packets per second over one window, optionally while gzmem takes snapshots at `hz`. */
async function window(gz: DpdkProc, hz: number): Promise<{ rate: number; snapshots: number; ms: number[] }> {
  let on = hz > 0;
  const ms: number[] = [];
  const host = liveHost();
  const sampler = (async () => {
    while (on) {
      const t0 = performance.now();
      await readTarget(host, String(gz.pid));
      ms.push(performance.now() - t0);
      await sleep(Math.max(0, 1000 / hz - (performance.now() - t0)));
    }
  })();
  const p0 = await packets(gz);
  const t0 = performance.now();
  await sleep(windowSec * 1000);
  const p1 = await packets(gz);
  const t1 = performance.now();
  on = false;
  await sampler;
  return { rate: ((p1 - p0) / (t1 - t0)) * 1000, snapshots: ms.length, ms };
}

async function samplingCost(preload: boolean): Promise<void> {
  const gz = await start(preload);
  try {
    const off: number[] = [];
    const on: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < windows; i++) {
      const w = await window(gz, i % 2 ? 10 : 0);
      (i % 2 ? on : off).push(w.rate);
      ms.push(...w.ms);
    }
    const label = preload ? 'with preload' : 'attach, no preload';
    console.log(`sampling at 10 Hz, ${label.padEnd(18)}: ${mpps(median(on))} vs ${mpps(median(off))} Mpps  ratio ${(median(on) / median(off)).toFixed(4)}  (${windows} alternating ${windowSec} s windows, ${ms.length} snapshots, median ${median(ms).toFixed(1)} ms each)`);
  } finally {
    await stop(gz);
  }
}

async function preloadPresence(): Promise<void> {
  const rate = { with: [] as number[], without: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    for (const preload of [false, true]) {
      const gz = await start(preload);
      try {
        rate[preload ? 'with' : 'without'].push((await window(gz, 0)).rate);
      } finally {
        await stop(gz);
      }
    }
  }
  console.log(`preload loaded, not sampled       : ${mpps(median(rate.with))} vs ${mpps(median(rate.without))} Mpps  ratio ${(median(rate.with) / median(rate.without)).toFixed(4)}  (${rounds} interleaved process pairs; runs without: ${rate.without.map(mpps).join(' ')}; with: ${rate.with.map(mpps).join(' ')})`);
}

console.log('gzload packet rate (net_null rx, 1 stack), ratios from one run');
await samplingCost(true);
await samplingCost(false);
await preloadPresence();
