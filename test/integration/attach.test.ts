// The attach reader (no preload, no restart) against what the processes count in-process.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSampleCache, newSampleCache, readTarget } from '../../src/gather/processes.js';
import { liveHost } from '../../src/collect/host.js';
import { hugepagesMissing, showProcess, startGzload, testpmdPoolAtRest, startTestpmd, stop, type DpdkProc } from '../helpers/dpdk.js';

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
