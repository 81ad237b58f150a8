// The attach reader (no preload, no restart) against what the processes count in-process.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { startRecord, stopChild } from '../helpers/serve.js';
import { closeSampleCache, newSampleCache, readTarget } from '../../src/gather/processes.js';
import { liveHost } from '../../src/collect/host.js';
import { readAttach } from '../../src/collect/attach.js';
import { readProcess } from '../../src/collect/process.js';
import { burstRuns, hugepagesMissing, showProcess, startGzload, testpmdPoolAtRest, startTestpmd, stop, type DpdkProc } from '../helpers/dpdk.js';

const skip = hugepagesMissing();
const started: DpdkProc[] = [];
after(async () => { for (const p of started) await stop(p); });

interface TruthPool { name: string; size: number; avail: number; in_use: number; cache_len: { lcore: number; len: number }[] }

test('gzload at rest: attach equals the in-process counts of every pool, caches included', { skip }, async () => {
  const gz = await startGzload({ eal: ['--lcores', '0@0,1@1,2@1'], app: ['--stacks', '2', '--tcp_conn_count', '48', '--pattern', 'steady', '--hold', '5'] });
  started.push(gz);
  await new Promise((r) => setTimeout(r, 400));
  gz.send!('pause');
  await gz.nextLine!();
  gz.send!('truth');
  const truth = JSON.parse(await gz.nextLine!()) as { pools: TruthPool[]; stacks: { held: number }[] };
  const p = await showProcess(String(gz.pid));
  assert.equal(p.sources.find((s) => s.name === 'attach')?.ok, true);
  for (const t of truth.pools) {
    const m = p.mempools.find((x) => x.name === t.name)!;
    assert.equal(m.occupancy?.source, 'attach', t.name);
    assert.equal(m.occupancy?.inUse, t.in_use, t.name);
    const cached = t.cache_len.reduce((a, c) => a + c.len, 0);
    assert.equal(m.occupancy?.cacheAvail, cached, t.name);
    assert.equal(m.occupancy?.commonPoolAvail, t.avail - cached, t.name);
  }
  // The stacks hold exactly what the pattern says, and that is what is in use.
  assert.deepEqual(truth.stacks.map((s) => s.held), [48 * 5, 48 * 5]);
  assert.equal(p.mempools.find((m) => m.name === 'rxtx_mbuf_0')?.occupancy?.inUse, 48 * 5);
  assert.notEqual(p.waterfall.inUse.bytes, null);
  assert.ok(p.waterfall.inUse.bytes! < p.waterfall.allocated.bytes!);
  // A sampler reads maps once while the hugetlb mappings stay: its next read carries the ranges
  // over, says so, and counts the same.
  const cache = newSampleCache();
  try {
    const first = await readTarget(liveHost(), String(gz.pid), { cache });
    const second = await readTarget(liveHost(), String(gz.pid), { cache });
    const carried = (x: typeof first) => x.carriedOver.some((c) => /attach reader's hugepage ranges/.test(c.part));
    assert.equal(carried(first), false);
    assert.equal(carried(second), true, JSON.stringify(second.carriedOver));
    for (const t of truth.pools) assert.equal(second.mempools.find((x) => x.name === t.name)?.occupancy?.inUse, t.in_use, t.name);
    // Through process_vm_readv and through /proc/<pid>/mem: the same counts.
    const told = cache.telemetry.get(gz.pid)!;
    const hugeStarts = (await readProcess(liveHost(), gz.pid)).numa.map((m) => m.start);
    const request = { version: told.hello.version, pools: told.mempools, memzones: told.memzones, hugeStarts };
    for (const through of [undefined, 'mem'] as const) {
      const read = await readAttach(liveHost(), gz.pid, { ...request, ...(through ? { through } : {}) });
      assert.deepEqual(read.refused, [], `through ${through ?? 'process_vm_readv'}`);
      for (const t of truth.pools) assert.equal(read.pools.find((x) => x.name === t.name)?.inUse, t.in_use, `${t.name}, through ${through ?? 'process_vm_readv'}`);
    }
  } finally {
    closeSampleCache(cache);
  }
});

test("testpmd: attach equals size - common_pool_count - total_cache_count of its own dump_mempool", { skip }, async () => {
  const tp = await startTestpmd({ interactive: true, mbufs: 16384 });
  started.push(tp);
  const { size, common, cached } = await testpmdPoolAtRest(tp);
  const p = await showProcess(String(tp.pid));
  const m = p.mempools.find((x) => x.name === 'mb_pool_0')!;
  assert.equal(m.occupancy?.source, 'attach');
  assert.equal(m.occupancy?.inUse, size - common - cached);
  assert.equal(m.occupancy?.commonPoolAvail, common);
  assert.equal(m.occupancy?.cacheAvail, cached);
  // From 23.03 telemetry counts too: at rest it must say exactly what attach read.
  const told = m.occupancy?.checks.find((c) => c.source === 'telemetry-occupancy');
  const [major = 0, minor = 0] = (/DPDK (\d+)\.(\d+)/.exec(p.dpdkVersion ?? '') ?? []).slice(1).map(Number);
  if (major * 100 + minor >= 2303) {
    assert.equal(told?.inUse, size - common - cached);
    assert.equal(m.occupancy?.agrees, true);
  } else {
    assert.equal(told, undefined, `${p.dpdkVersion} telemetry has no occupancy`);
  }
});

test('--no-attach leaves occupancy unknown, and says why', { skip }, async () => {
  const gz = started[0]!;
  const p = await showProcess(String(gz.pid), ['--no-attach']);
  // From 23.03 telemetry itself counts; before, nothing else can tell.
  if (p.mempools.every((m) => m.occupancy === null)) assert.equal(p.waterfall.inUse.bytes, null);
  else assert.ok(p.mempools.every((m) => m.occupancy?.source === 'telemetry-occupancy' && m.occupancy.checks.length === 0));
  assert.match(p.sources.find((s) => s.name === 'attach')?.detail ?? '', /--no-attach/);
});

test('a recorder at -i 0.1 without the preload reads the pools 10 times a second, and the rest once a second', { skip }, async () => {
  const g = await startGzload({ app: ['--stacks', '1', '--tcp_conn_count', '50', '--pattern', 'burst', '--hold', '8'] });
  started.push(g);
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-attach-rows-'));
  const db = join(dir, 'rows.db');
  const from = Date.now();
  try {
    const rec = startRecord([g.prefix, '--db', db, '-i', '0.1', '--keep-snapshots']);
    await new Promise((r) => setTimeout(r, 7000));
    assert.equal(await stopChild(rec), 0, rec.stderr());
    g.send!('truth');
    const truth = JSON.parse(await g.nextLine!()) as { stacks: { pool: string; max_in_use: number }[] };
    const { pool, max_in_use: max } = truth.stacks[0]!;
    // burst: every receive ring filled to 4 x hold for 2 s, then emptied for 2 s
    const held = 50 * 4 * 8;
    assert.equal(max, held);
    const store = openStore(db);
    try {
      const inUse = store.query({ key: g.prefix, scope: 'pool', from, to: Date.now(), maxPoints: 10_000 });
      const values = inUse.series.find((s) => s.name === pool)!.values;
      const shown = `${JSON.stringify(values)} (gzload's maximum ${max})`;
      const spacing = inUse.ts.slice(1).map((t, i) => t - inUse.ts[i]!).sort((a, b) => a - b);
      assert.ok(values.length >= 50, `${values.length} samples in 7 s: ${shown}`);
      assert.ok(spacing[Math.floor(spacing.length / 2)]! >= 80 && spacing[Math.floor(spacing.length / 2)]! <= 120, `spacing ${JSON.stringify(spacing)}`);
      // Whole snapshots come with the whole reads only: once a second.
      const whole = store.counts().snapshots;
      assert.ok(whole >= 5 && whole <= 9, `${whole} whole reads in 7 s`);
      // Each row is an instant's occupancy: never above gzload's own maximum plus one receive burst
      // (it measures after a receive's mbufs went into the rings), and both phases show whole.
      values.forEach((v, i) => assert.ok(v !== null && v <= max + 32, `row ${i}: ${shown}`));
      const { high, low } = burstRuns(values, held);
      assert.ok(high >= 15 && low >= 15, `runs high ${high}, low ${low}: ${shown}`);
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stop(g);
  }
});
