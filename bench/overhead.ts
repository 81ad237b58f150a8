// What gzmem costs the application, measured on gzload's packet rate (net_null rx on its stack
// thread), as ratios from one run:
//  1. sampling: in ONE gzload process, alternate windows with one warm `gzmem record` sampling and
//     stopped (SIGSTOP); ratio = median rate with / median rate without. Same processes, so placement
//     noise cancels.
//     The recorder is pinned with taskset to the core of gzload's stack thread: the worst case, where
//     every cycle gzmem takes is one the application loses. At 1 Hz and 10 Hz, with the preload and
//     without it (attach reader).
//  2. the preload's presence: gzload processes with and without it, interleaved; ratio of medians.
// Run: node --import tsx bench/overhead.ts [window seconds] [windows] [process rounds] [rates, e.g. 1,10] [modes: preload,attach]

import { join } from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { CLI, PRELOAD, startGzload, stop, type DpdkProc } from '../test/helpers/dpdk.js';
import { stopChild } from '../test/helpers/serve.js';

const windowSec = Number(process.argv[2] ?? 2);
/**
 * The recorder runs this long before the first window: its caches filled, its code warm. At 10 Hz
 * V8's optimizing compiler works on the recorder's functions for about the first minute (0.4 ms of
 * its threads per tick at 10 s, 0.05 after a minute); what a recorder costs for days comes after.
 */
const WARM_MS = 60_000;
const windows = Number(process.argv[3] ?? 20);
const rounds = Number(process.argv[4] ?? 6);
/** Sampling rates to measure, e.g. "1" or "1,10" (default); "0" measures only the preload's presence. */
const rates = (process.argv[5] ?? '1,10').split(',').map(Number);
/** Which readers to measure sampling with: "preload", "attach" or both (default). */
const modes = (process.argv[6] ?? 'preload,attach').split(',');
/** gzload -l 0-1 runs its one stack thread on lcore 1, pinned to core 1. */
const APP_CORE = '1';
if (!existsSync(PRELOAD)) throw new Error('build native/ first (make -C native)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mpps = (x: number) => (x / 1e6).toFixed(2);

async function packets(gz: DpdkProc): Promise<number> {
  gz.send!('truth');
  return (JSON.parse(await gz.nextLine!()) as { ipackets: number }).ipackets;
}

async function start(env: NodeJS.ProcessEnv): Promise<DpdkProc> {
  const gz = await startGzload({ app: ['--stacks', '1', '--pattern', 'steady'], env });
  await sleep(500);
  return gz;
}

/** Packets per second over one window. */
async function window(gz: DpdkProc): Promise<number> {
  const p0 = await packets(gz);
  const t0 = performance.now();
  await sleep(windowSec * 1000);
  const p1 = await packets(gz);
  return ((p1 - p0) / (performance.now() - t0)) * 1000;
}

/**
 * One recorder, started and warmed once, pinned to the application's core; windows alternate with it
 * sampling and with it stopped (SIGSTOP, SIGCONT): the steady cost of a recorder that runs for days,
 * not the cost of starting one.
 */
async function samplingCost(preload: boolean, hz: number): Promise<void> {
  const gz = await start(preload ? { LD_PRELOAD: PRELOAD } : {});
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-overhead-'));
  const rec = spawn('taskset', ['-c', APP_CORE, process.execPath, CLI, 'record', gz.prefix, '--db', join(dir, 'overhead.db'), '-i', String(1 / hz)], {
    stdio: 'ignore',
  });
  const child = { child: rec, stderr: () => '' };
  try {
    await sleep(WARM_MS);
    const off: number[] = [];
    const on: number[] = [];
    process.kill(rec.pid!, 'SIGSTOP');
    // off, on, off, ..., off: every window with the recorder has one without it on each side.
    for (let i = 0; i < windows + 1; i++) {
      if (i % 2 === 0) {
        off.push(await window(gz));
        process.kill(rec.pid!, 'SIGCONT');
        // Its first tick after a stop comes at once: let it pass, so a window sees the steady rate.
        await sleep(1000 / hz + 200);
      } else {
        on.push(await window(gz));
        process.kill(rec.pid!, 'SIGSTOP');
      }
    }
    const label = `${hz} Hz, ${preload ? 'preload' : 'attach, no preload'}`;
    // Each window with the recorder against the mean of the windows just before and after it: the
    // machine's slow drifts and bursts (other tenants) touch both sides of a pair alike.
    const paired = on.flatMap((x, i) => (off[i + 1] !== undefined ? [x / ((off[i]! + off[i + 1]!) / 2)] : []));
    console.log(
      `sampling ${label.padEnd(26)}: ${mpps(median(on))} vs ${mpps(median(off))} Mpps  ratio ${(median(on) / median(off)).toFixed(4)}` +
        `, paired ${median(paired).toFixed(4)}` +
        `  (${windows} alternating ${windowSec} s windows; on: ${on.map(mpps).join(' ')}; off: ${off.map(mpps).join(' ')})`,
    );
  } finally {
    process.kill(rec.pid!, 'SIGCONT');
    await stopChild(child);
    await stop(gz);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Processes without the preload, with it (its peak sampler on) and with the sampler off, interleaved. */
async function preloadPresence(): Promise<void> {
  const variants = {
    without: {} as NodeJS.ProcessEnv,
    preload: { LD_PRELOAD: PRELOAD } as NodeJS.ProcessEnv,
    'sampler off': { LD_PRELOAD: PRELOAD, GZMEM_PEAKS: 'off' } as NodeJS.ProcessEnv,
  };
  const rate = new Map<string, number[]>(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, env] of Object.entries(variants)) {
      const gz = await start(env);
      try {
        rate.get(name)!.push(await window(gz));
      } finally {
        await stop(gz);
      }
    }
  }
  const m = (k: string) => median(rate.get(k)!);
  const runs = [...rate].map(([k, xs]) => `${k}: ${xs.map(mpps).join(' ')}`).join('; ');
  console.log(
    `preload loaded, not sampled: ratio ${(m('preload') / m('without')).toFixed(4)}; its peak sampler on against off: ` +
      `${(m('preload') / m('sampler off')).toFixed(4)}  (${rounds} interleaved rounds; ${runs})`,
  );
}

console.log(`gzload packet rate (net_null rx, 1 stack on core ${APP_CORE}), gzmem record pinned to the same core; ratios from one run`);
for (const hz of rates.filter((x) => x > 0)) {
  if (modes.includes('preload')) await samplingCost(true, hz);
  if (modes.includes('attach')) await samplingCost(false, hz);
}
if (rounds > 0) await preloadPresence();
