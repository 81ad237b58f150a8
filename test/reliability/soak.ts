// `gzmem record` at 100 Hz against gzload for a long time: its memory must not grow (the median RSS
// of the last 10 s within 5 MB of the first 10 s after warming up and settling) and it must not
// leak descriptors.
//   node --import tsx test/reliability/soak.ts [seconds]      (default 3600)

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { startGzload, stop } from '../helpers/dpdk.js';
import { startRecord, stopChild } from '../helpers/serve.js';

export interface SoakResult {
  seconds: number;
  samples: number;
  rssMiB: { warm: number; end: number; max: number };
  /** Fewest descriptors open over a few seconds: a tick holds a socket and /proc files only briefly. */
  fds: { warm: number; end: number };
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/**
 * V8 compiles the recorder's hot paths and sizes its heap over the first minutes: at 100 Hz, RSS
 * rises about 5 MB in the first 3-4 minutes and stays flat after, with or without the store (and
 * malloc_trim does not change that). A long soak measures from 5 minutes on; a short one, from a
 * minute (or half of it).
 */
const warmUp = (seconds: number) => (seconds >= 1200 ? 300 : Math.min(60, seconds / 2));

/**
 * Waits the warm-up, then until RSS has not risen by more than 1 MB in 20 s (at most 2.5 warm-ups in
 * all): how fast V8 sizes its heap depends on the machine (a recorder at 100 Hz went from 56 to 90
 * MiB in 40 s here, in 110 s on a slower CI machine). A leak never settles, and the window after
 * the longest wait still shows it.
 */
async function settled(pid: number, warmSeconds: number): Promise<void> {
  const rss: number[] = [];
  const deadline = Date.now() + 2.5 * warmSeconds * 1000;
  for (let i = 0; ; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(rssMiB(pid));
    if (Date.now() >= deadline) return;
    if (i + 1 >= warmSeconds && rss.length > 20 && Math.max(...rss.slice(-20)) - rss[rss.length - 21]! <= 1) return;
  }
}

export async function soak(seconds: number, warmSeconds = warmUp(seconds)): Promise<SoakResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-soak-'));
  const db = join(dir, 'soak.db');
  const gz = await startGzload({ app: ['--stacks', '2', '--pattern', 'burst'], eal: ['--lcores', '0@0,1@1,2@1'] });
  const rec = startRecord([gz.prefix, '--db', db, '-i', '0.01']);
  const pid = rec.child.pid!;
  try {
    const fewestFds = async () => {
      let n = Infinity;
      for (let i = 0; i < 20; i++) {
        n = Math.min(n, fds(pid));
        await new Promise((r) => setTimeout(r, 100));
      }
      return n;
    };
    await settled(pid, warmSeconds);
    const warmFds = await fewestFds();
    // RSS moves by a few MB with each garbage collection: compare medians of 10 s windows.
    const rss: number[] = [];
    const end = Date.now() + (seconds - warmSeconds) * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 1000));
      rss.push(rssMiB(pid));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const warm = { rss: median(rss.slice(0, 10)), fds: warmFds };
    const maxRss = Math.max(...rss);
    const last = { rss: median(rss.slice(-10)), fds: await fewestFds() };
    await stopChild(rec);
    const store = openStore(db);
    const samples = store.counts().raw;
    store.close();
    return { seconds, samples, rssMiB: { warm: warm.rss, end: last.rss, max: maxRss }, fds: { warm: warm.fds, end: last.fds } };
  } finally {
    await stopChild(rec);
    await stop(gz);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await soak(Number(process.argv[2] ?? 3600));
  console.log(`${s.seconds} s at 100 Hz: ${s.samples} raw rows kept; RSS ${s.rssMiB.warm.toFixed(1)} MiB after ${warmUp(s.seconds)} s of warm-up, ${s.rssMiB.end.toFixed(1)} at the end (max ${s.rssMiB.max.toFixed(1)}), growth ${(s.rssMiB.end - s.rssMiB.warm).toFixed(1)} MiB; fds at rest ${s.fds.warm} -> ${s.fds.end}`);
  process.exit(s.rssMiB.end - s.rssMiB.warm <= 5 && s.fds.end <= s.fds.warm ? 0 : 1);
}
