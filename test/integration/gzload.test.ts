// gzmem against gzload, our gazelle-shaped workload, checked against what gzload reads in-process.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from '../../src/model/snapshot.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRELOAD, freeHugepages, gzmem, hugepagesMissing, startGzload, startTestpmd, stop, type DpdkProc } from '../helpers/dpdk.js';
import { startRecord, stopChild } from '../helpers/serve.js';

interface Truth {
  pid: number;
  prefix: string;
  stacks: { id: number; tid: number; lcore: number; cpu: number; name: string; held: number }[];
  pools: { name: string; size: number; in_use: number; cache_size: number; elt_size: number; header_size: number; trailer_size: number }[];
  heaps: { socket: number; heap_totalsz_bytes: number; heap_allocsz_bytes: number; alloc_count: number }[];
  memzones: { name: string; len: number }[];
  rings: { name: string; capacity: number; count: number }[];
}

const skip = hugepagesMissing();
let gz: DpdkProc | undefined;
let truth: Truth;
let snap: Snapshot;
let pagesTaken = 0;

async function ask(line: string): Promise<string> {
  gz!.send!(line);
  return gz!.nextLine!();
}

before(async () => {
  if (skip) return;
  const free = freeHugepages();
  gz = await startGzload({ eal: ['--lcores', '0@0,1@1,2@1'], app: ['--stacks', '2', '--tcp_conn_count', '32', '--pattern', 'steady', '--hold', '4'] });
  pagesTaken = free - freeHugepages();
  // Let the stacks fill their rings, then hold everything still while both sides read.
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(JSON.parse(await ask('pause')), { ok: true, paused: true });
  truth = JSON.parse(await ask('truth')) as Truth;
  const r = await gzmem(['show', String(gz.pid), '--json']);
  assert.equal(r.code, 0, r.stderr);
  snap = JSON.parse(r.stdout) as Snapshot;
});
after(async () => stop(gz));
let tp: DpdkProc | undefined;
after(async () => stop(tp));

test('the process, its prefix and the reserved hugepages', { skip }, () => {
  const p = snap.processes[0]!;
  assert.equal(p.pid, truth.pid);
  assert.equal(p.filePrefix, truth.prefix);
  assert.equal(p.command, 'gzload');
  assert.equal(p.waterfall.reserved.bytes, pagesTaken * 2 * 1024 * 1024);
});

test('heaps equal rte_malloc_get_socket_stats read in-process', { skip }, () => {
  const p = snap.processes[0]!;
  for (const h of truth.heaps) {
    const mine = p.heaps.find((x) => x.name === `socket_${h.socket}`);
    assert.ok(mine, `heap of socket ${h.socket}`);
    assert.equal(mine.heapBytes, h.heap_totalsz_bytes);
    assert.equal(mine.allocBytes, h.heap_allocsz_bytes);
    assert.equal(mine.allocCount, h.alloc_count);
  }
  assert.equal(p.waterfall.allocated.bytes, truth.heaps.reduce((s, h) => s + h.heap_allocsz_bytes, 0));
});

test('every mempool with its size and real object size', { skip }, () => {
  const p = snap.processes[0]!;
  assert.deepEqual(p.mempools.map((m) => m.name).sort(), truth.pools.map((m) => m.name).sort());
  for (const t of truth.pools) {
    const m = p.mempools.find((x) => x.name === t.name)!;
    assert.equal(m.size, t.size, t.name);
    assert.equal(m.cacheSize, t.cache_size, t.name);
    assert.equal(m.objectBytes, t.elt_size + t.header_size + t.trailer_size, t.name);
  }
  // gazelle's sizing rule: conns x mbuf_per_conn + 2 x rxq + txq + 1024
  assert.equal(p.mempools.find((m) => m.name === 'rxtx_mbuf_0')?.size, 32 * 170 + 2 * 512 + 512 + 1024);
});

test('every memzone, its length and owner', { skip }, () => {
  const p = snap.processes[0]!;
  const mine = new Map(p.memzones.map((z) => [z.name, z.lengthBytes]));
  assert.equal(p.memzones.length, truth.memzones.length);
  for (const z of truth.memzones) assert.equal(mine.get(z.name), z.len, z.name);
  for (const pool of truth.pools) {
    assert.ok(p.memzones.some((z) => z.owner.kind === 'mempool' && z.owner.name === pool.name && z.name === `MP_${pool.name}`));
  }
  // The per-connection rings are rte_malloc'd, so they are in `unattributed`, not in any memzone.
  assert.equal(truth.rings.length, 2 * 32 * 2);
  assert.ok(truth.rings.every((r) => !mine.has(`RG_${r.name}`)));
  assert.ok((p.unattributed.bytes ?? 0) > 0);
});

test('stack threads: names, tids and CPUs', { skip }, () => {
  const p = snap.processes[0]!;
  for (const s of truth.stacks) {
    const t = p.threads.find((x) => x.tid === s.tid);
    assert.ok(t, `thread ${s.tid}`);
    assert.equal(t.name, s.name);
    assert.match(t.name, /^gazellelstack0[01]$/);
    assert.equal(t.cpu, s.cpu);
    assert.equal(t.affinity, '1');
  }
});

test('list shows gzload and a testpmd side by side', { skip }, async () => {
  tp = await startTestpmd({ mbufs: 8192 });
  const r = await gzmem(['list']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^\\s*${gz!.pid}\\s+gzload\\s+${truth.prefix}\\s`, 'm'));
  assert.match(r.stdout, new RegExp(`^\\s*${tp.pid}\\s+dpdk-testpmd\\s+${tp.prefix}\\s`, 'm'));
  assert.deepEqual(JSON.parse(await ask('resume')), { ok: true, paused: false });
});

test('a recorder sampling every 10 ms while gzloads start, run and stop crashes none of them', { skip }, async () => {
  // DPDK 23.03+ crash on /mempool/info for a pool being created: what a sampler reading at every
  // heap change would ask, unless it waits for the pool's object memzone.
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-startrace-'));
  const rec = startRecord(['--db', join(dir, 'r.db'), '-i', '0.01']);
  try {
    for (let i = 0; i < 4; i++) {
      const g = await startGzload({
        eal: ['--lcores', '0@0,1@1,2@1'],
        app: ['--stacks', '2', '--tcp_conn_count', '40', '--pattern', 'steady'],
        env: i % 2 ? { LD_PRELOAD: PRELOAD } : {},
      });
      const exit = new Promise<string>((r) => g.child.once('exit', (code, signal) => r(`${code}/${signal}`)));
      await new Promise((r) => setTimeout(r, 300));
      // rte_eal_cleanup unmaps what DPDK's own telemetry commands read while its telemetry threads
      // still serve them (a DPDK bug: a heap request during the unmap crashes the process). With the
      // preload, its commands answer "closing" from then on and gzmem asks nothing more; without it,
      // gzmem cannot tell, so the recorder pauses while such a process stops.
      const withoutPreload = i % 2 === 0;
      if (withoutPreload) process.kill(rec.child.pid!, 'SIGSTOP');
      await stop(g);
      if (withoutPreload) process.kill(rec.child.pid!, 'SIGCONT');
      assert.equal(await exit, '0/null', `gzload ${i} exited cleanly`);
    }
  } finally {
    await stopChild(rec);
    rmSync(dir, { recursive: true, force: true });
  }
});
