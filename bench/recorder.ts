// The CPU a recorder takes per second, all its threads (their schedstat), on gzload under steady
// traffic, at 10 Hz and 1 Hz: with the preload (at 10 Hz a read a second, sub-samples between),
// with V8's optimizing compilers and without them (as the sampling commands run); without the
// preload (at 10 Hz the pools alone between reads); and what one wakeup of an idle Node event
// loop costs after sleeping 1, 10 and 100 ms.
// Run: node --import tsx bench/recorder.ts [warm-up seconds] [measured seconds]

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveHost } from '../src/collect/host.js';
import { startRecorder } from '../src/gather/recorder.js';
import { openStore } from '../src/store/store.js';
import { withoutOptimizingCompilers } from '../src/cli/runtime.js';
import { PRELOAD, startGzload, stop } from '../test/helpers/dpdk.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU ns of each of this process's threads. */
function threadsNs(): Map<string, number> {
  return new Map(
    readdirSync('/proc/self/task').map((t) => [t, Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0])]),
  );
}

/** In a child: a recorder of `prefix` every `intervalSec`; prints main and helper threads' ms per second. */
async function child(prefix: string, intervalSec: number, optimize: boolean, warmSec: number, runSec: number): Promise<void> {
  if (!optimize) withoutOptimizingCompilers();
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-bench-recorder-'));
  const store = openStore(join(dir, 'bench.db'), undefined, { commitEveryMs: 1000 });
  const rec = startRecorder(liveHost(), store, { intervalSec, targets: [prefix] });
  try {
    await sleep(warmSec * 1000);
    const before = threadsNs();
    const t0 = performance.now();
    await sleep(runSec * 1000);
    const after = threadsNs();
    const seconds = (performance.now() - t0) / 1000;
    const used = (tid: string) => ((after.get(tid) ?? 0) - (before.get(tid) ?? 0)) / 1e6 / seconds;
    const main = used(String(process.pid));
    const all = [...after.keys()].reduce((a, tid) => a + used(tid), 0);
    console.log(JSON.stringify({ main, helpers: all - main, all }));
  } finally {
    await rec.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** In a child: ms of CPU per wakeup of an event loop that only sleeps `periodMs` at a time. */
async function wakeChild(periodMs: number): Promise<void> {
  const main = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  for (let i = 0; i < 1000 / periodMs; i++) await sleep(periodMs);
  const n = Math.max(20, 2000 / periodMs);
  const m0 = main();
  for (let i = 0; i < n; i++) await sleep(periodMs);
  console.log(JSON.stringify({ perWakeMs: (main() - m0) / n / 1e6 }));
}

function runChild(args: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>)
        : reject(new Error(`child exited ${code}`)),
    );
  });
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === '--child') {
  const [prefix, interval, optimize, warm, run] = rest;
  await child(prefix!, Number(interval), optimize === 'opt', Number(warm), Number(run));
} else if (mode === '--wake') {
  await wakeChild(Number(rest[0]));
} else {
  const warm = Number(mode ?? 60);
  const run = Number(rest[0] ?? 20);
  for (const period of [1, 10, 100]) {
    const r = await runChild(['--wake', String(period)]);
    console.log(`an idle event loop sleeping ${String(period).padStart(3)} ms: ${r.perWakeMs!.toFixed(3)} ms of CPU per wakeup`);
  }
  // The preload's sub-samples, with and without the optimizing compilers; then a target without
  // the preload (the attach reader: its pools read at every tick, the rest once a second).
  const runs = [
    { preload: true, interval: 0.1, optimize: true },
    { preload: true, interval: 0.1, optimize: false },
    { preload: true, interval: 1, optimize: true },
    { preload: true, interval: 1, optimize: false },
    { preload: false, interval: 0.1, optimize: false },
    { preload: false, interval: 1, optimize: false },
  ];
  console.log(`recorder CPU, ms per second (gzload: 1 stack, steady traffic; ${warm} s warm-up, ${run} s measured):`);
  for (const preload of [true, false]) {
    const gz = await startGzload({ app: ['--stacks', '1', '--pattern', 'steady'], env: preload ? { LD_PRELOAD: PRELOAD } : {} });
    try {
      for (const r of runs.filter((x) => x.preload === preload)) {
        const used = await runChild(['--child', gz.prefix, String(r.interval), r.optimize ? 'opt' : 'noopt', String(warm), String(run)]);
        const label = [
          preload ? 'preload' : 'attach ',
          r.interval === 1 ? ' 1 Hz' : '10 Hz',
          r.optimize ? 'with the optimizing compilers ' : 'without (as the CLI samples)  ',
        ].join(', ');
        console.log(`  ${label}: main ${used.main!.toFixed(2)}, helpers ${used.helpers!.toFixed(2)}, all ${used.all!.toFixed(2)}`);
      }
    } finally {
      await stop(gz);
    }
  }
}
