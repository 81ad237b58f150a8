// History storage: database size after 1 h and 24 h of 1 Hz samples of a gzload-shaped target
// (2 stacks, 4 pools: the series `gzmem record` keeps), and the time to answer the dashboard's
// queries over those windows. Time is simulated, the database and its work are real.
// Run: node --import tsx bench/store.ts

import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type TargetSample } from '../src/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'gzmem-bench-'));
const path = join(dir, 'bench.db');
const size = () => ['', '-wal', '-shm'].reduce((a, s) => a + (existsSync(path + s) ? statSync(path + s).size : 0), 0);
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MiB`;

const store = openStore(path);
const T0 = Date.UTC(2026, 10, 24);
const sample = (i: number): TargetSample => ({
  key: 'gzbench', pid: 4242, command: 'gzload',
  values: {
    process: { reserved_bytes: 85983232, heap_bytes: 85983232, allocated_bytes: 83495616, in_use_bytes: 10_000_000 + (i % 300) * 1000 },
    stack: { gazellelstack00: 4_600_000 + (i % 120) * 500, gazellelstack01: 4_700_000 + (i % 90) * 500 },
    pool: { rxtx_mbuf_0: 250 + (i % 60), rxtx_mbuf_1: 260 + (i % 45), rpc_pool_1: 0, rpc_pool_2: 0 },
  },
});

const started = performance.now();
let at1h = 0;
for (let i = 0; i < 24 * 3600; i++) {
  const ts = T0 + i * 1000;
  store.record(ts, [sample(i)]);
  if (i % 60 === 59) store.maintain(ts);
  if (i === 3600) at1h = size();
}
const writeSec = (performance.now() - started) / 1000;
const end = T0 + 24 * 3600_000;
store.maintain(end);
const at24h = size();
const c = store.counts();

function timed(label: string, from: number, maxPoints: number): void {
  const times: number[] = [];
  let points = 0;
  let resolution = '';
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    const r = store.query({ key: 'gzbench', scope: 'process', from, to: end, maxPoints });
    times.push(performance.now() - t);
    points = r.ts.length;
    resolution = r.resolution;
  }
  times.sort((a, b) => a - b);
  console.log(`query ${label.padEnd(26)} ${resolution.padEnd(6)} ${String(points).padStart(5)} points  median ${times[2]!.toFixed(1)} ms`);
}

console.log(`10 series at 1 Hz for 24 h simulated: ${(86400 / writeSec).toFixed(0)} ticks/s written`);
console.log(`database after 1 h: ${mib(at1h)} (raw only; ~${mib(at1h * 6)} when raw retention (6 h) is full)`);
console.log(`database after 24 h: ${mib(at24h)}  rows raw ${c.raw}, minute ${c.minute}, hour ${c.hour}`);
timed('last 5 min', end - 300_000, 1500);
timed('last 6 h', end - 6 * 3600_000, 1500);
timed('last 24 h', end - 24 * 3600_000, 1500);
store.close();
rmSync(dir, { recursive: true, force: true });
