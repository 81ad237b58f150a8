// The CPU a recorder takes per second, all its threads (their schedstat), on gzload with the
// preload under steady traffic: at 10 Hz (a read a second, sub-samples between) and at 1 Hz, with
// V8's optimizing compiler and without it (as the sampling commands run); and what one wakeup of
// an idle Node event loop costs after sleeping 1, 10 and 100 ms.
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
  const gz = await startGzload({ app: ['--stacks', '1', '--pattern', 'steady'], env: { LD_PRELOAD: PRELOAD } });
  try {
    console.log(`recorder CPU, ms per second (1 stack, steady traffic, preload; ${warm} s warm-up, ${run} s measured):`);
    for (const interval of [0.1, 1]) {
      for (const optimize of [true, false]) {
        const r = await runChild(['--child', gz.prefix, String(interval), optimize ? 'opt' : 'noopt', String(warm), String(run)]);
        const label = `${interval === 1 ? ' 1' : '10'} Hz, ${optimize ? 'with the optimizing compiler   ' : 'without (as the CLI samples)   '}`;
        console.log(`  ${label}: main ${r.main!.toFixed(2)}, helpers ${r.helpers!.toFixed(2)}, all ${r.all!.toFixed(2)}`);
      }
    }
  } finally {
    await stop(gz);
  }
}
