// gzmem against a real dpdk-testpmd on real hugepages, checked against testpmd's own reports.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { join } from 'node:path';
import type { Snapshot } from '../../src/model/snapshot.js';
import { ROOT } from '../helpers/fixtures.js';
import { freeHugepages, gzmem, hugepagesMissing, startTestpmd, stop, telemetryPy, type DpdkProc } from '../helpers/dpdk.js';

const skip = hugepagesMissing();
let tp: DpdkProc | undefined;
let freeBefore = 0;
let freeAfter = 0;

/** Free pages once they hold still: a process of an earlier test may still be releasing its pages. */
async function settledFreePages(): Promise<number> {
  let last = freeHugepages();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = freeHugepages();
    if (now === last) return now;
    last = now;
  }
  return last;
}

before(async () => {
  if (skip) return;
  freeBefore = await settledFreePages();
  tp = await startTestpmd({ mbufs: 16384 });
  freeAfter = await settledFreePages();
});
after(async () => stop(tp));

async function showJson(target: string): Promise<Snapshot> {
  const r = await gzmem(['show', target, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Snapshot;
}

test('reserved equals the kernel free-page delta; heap and pools equal testpmd telemetry', { skip }, async () => {
  const s = await showJson(String(tp!.pid));
  const p = s.processes[0]!;
  assert.equal(p.pid, tp!.pid);
  assert.equal(p.filePrefix, tp!.prefix);
  // The process is the only one that took pages between the two reads of free_hugepages.
  assert.equal(p.waterfall.reserved.bytes, (freeBefore - freeAfter) * 2 * 1024 * 1024);
  assert.equal(p.hugetlb.statusBytes, p.waterfall.reserved.bytes);

  const [pool, heap] = telemetryPy(tp!.prefix, ['/mempool/info,mb_pool_0', '/eal/heap_info,0']);
  const info = pool!['/mempool/info'] as Record<string, number>;
  const heapInfo = heap!['/eal/heap_info'] as Record<string, number>;
  const m = p.mempools.find((x) => x.name === 'mb_pool_0');
  assert.ok(m, 'mb_pool_0 listed');
  assert.equal(m.size, info.size);
  assert.equal(m.size, 16384);
  assert.equal(m.cacheSize, info.cache_size);
  assert.equal(m.objectBytes, info.header_size! + info.elt_size! + info.trailer_size!);
  assert.equal(m.objectsBytes, info.size! * m.objectBytes);
  assert.ok(m.memzoneBytes >= m.objectsBytes, 'memzones hold every object');
  assert.equal(p.waterfall.heap.bytes, heapInfo.Heap_size);
  assert.equal(p.heaps[0]?.heapBytes, heapInfo.Heap_size);
  assert.ok(p.waterfall.reserved.bytes! >= p.waterfall.heap.bytes!);
  assert.ok(p.waterfall.heap.bytes! >= p.waterfall.allocated.bytes!);

  const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'snapshot.schema.json'), 'utf8'));
  const validate = new Ajv.default({ strict: true }).compile(schema);
  assert.ok(validate(s), JSON.stringify(validate.errors));
});

test('heap allocation equals telemetry when testpmd is steady', { skip }, async () => {
  // Allocation can move while traffic runs: compare only when two reads around ours agree.
  for (let attempt = 0; attempt < 5; attempt++) {
    const [b] = telemetryPy(tp!.prefix, ['/eal/heap_info,0']);
    const s = await showJson(tp!.prefix);
    const [a] = telemetryPy(tp!.prefix, ['/eal/heap_info,0']);
    const alloc = (x: Record<string, unknown>) => (x['/eal/heap_info'] as Record<string, number>).Alloc_size;
    if (alloc(b!) !== alloc(a!)) continue;
    assert.equal(s.processes[0]!.waterfall.allocated.bytes, alloc(a!));
    return;
  }
  assert.fail('heap allocation never settled');
});

test('threads: names and CPUs as the kernel reports them; gzmem\'s own telemetry thread is named and not counted', { skip }, async () => {
  // The application's threads: the task list while no telemetry client is connected (steady twice).
  const tasks = () => readdirSync(`/proc/${tp!.pid}/task`).length;
  let alone = tasks();
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const again = tasks();
    if (again === alone) break;
    alone = again;
  }
  const p = (await showJson(String(tp!.pid))).processes[0]!;
  assert.equal(p.threads.filter((t) => t.role === null).length, alone);
  assert.equal(p.threads.filter((t) => t.role === 'gzmem').length, 1, 'EAL serves gzmem on a thread of its own');
  const list = await gzmem(['list', '--json']);
  const listed = (JSON.parse(list.stdout) as Snapshot).processes.find((x) => x.pid === tp!.pid)!;
  assert.equal(listed.threads.filter((t) => t.role === null).length, alone);
  // EAL names its threads differently in each release line (see the captures in test/fixtures/hosts).
  const names = { worker: ['lcore-worker-1', 'rte-worker-1', 'dpdk-worker1'], interrupts: ['eal-intr-thread', 'dpdk-intr'] };
  const worker = p.threads.find((t) => names.worker.includes(t.name));
  assert.ok(worker, `lcore 1 thread present among ${p.threads.map((t) => t.name).join(', ')}`);
  const stat = readFileSync(`/proc/${tp!.pid}/task/${worker.tid}/stat`, 'utf8');
  assert.equal(worker.cpu, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[36]));
  assert.equal(worker.affinity, '1');
  assert.ok(p.threads.some((t) => names.interrupts.includes(t.name)));
});

test('list shows testpmd with its prefix; table and csv render', { skip }, async () => {
  const r = await gzmem(['list']);
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.includes(tp!.prefix));
  assert.ok(line, r.stdout);
  assert.match(line, new RegExp(`^\\s*${tp!.pid}\\s+dpdk-testpmd`));
  const t = await gzmem(['show', tp!.prefix, '-m']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /reserved\s+hugepages mapped/);
  assert.match(t.stdout, /mb_pool_0\s+16,384/);
  const c = await gzmem(['show', String(tp!.pid), '--csv']);
  assert.match(c.stdout.split('\n')[0]!, /^pid,prefix,section,name,metric,value,unit,source$/);
  assert.ok(c.stdout.includes(`${tp!.pid},${tp!.prefix},mempool,mb_pool_0,size,16384,objects,telemetry`));
});

test('-m <file> writes the view to a file; -i repeats', { skip }, async () => {
  const file = join('/tmp', `gzmem-show-${process.pid}.txt`);
  const r = await gzmem(['show', String(tp!.pid), '-m', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(readFileSync(file, 'utf8'), /Mempools/);
  const w = await gzmem(['show', String(tp!.pid), '--json', '-i', '0.2', '3']);
  assert.equal(w.code, 0, w.stderr);
  const docs = w.stdout.trim().split('\n').map((l) => JSON.parse(l) as Snapshot);
  assert.equal(docs.length, 3);
  assert.ok(docs.every((d) => d.processes[0]!.pid === tp!.pid));
  // Watching: the mappings are walked once, then carried over while HugetlbPages stays the same,
  // and the figure stays the kernel's.
  const kib = Number(/HugetlbPages:\s+(\d+) kB/.exec(readFileSync(`/proc/${tp!.pid}/status`, 'utf8'))![1]);
  // So are telemetry's lists (memzones, pool geometry) while the heaps say nothing was reserved.
  const parts = docs.map((d) => d.processes[0]!.carriedOver.map((c) => c.part.split(' ')[0]));
  // Faster than once a second, the threads and the machine's hugepage counts are read once a second;
  // the attach reader's hugepage ranges (from maps) are carried with the mappings.
  assert.deepEqual(parts, [[], ['hugetlb', 'threads', 'attach', 'memzones,'], ['hugetlb', 'threads', 'attach', 'memzones,']]);
  assert.deepEqual(
    docs.map((d) => (d.carriedOver ?? []).map((c) => c.part.split(':')[0])),
    [[], ['machine hugepages'], ['machine hugepages']],
  );
  assert.equal(docs[2]!.carriedOver![0]!.readAt, docs[1]!.carriedOver![0]!.readAt);
  assert.ok(docs[1]!.carriedOver![0]!.readAt <= docs[0]!.takenAt);
  assert.equal(docs[2]!.processes[0]!.carriedOver[0]!.readAt, docs[1]!.processes[0]!.carriedOver[0]!.readAt);
  assert.deepEqual(docs[2]!.processes[0]!.memzones, docs[0]!.processes[0]!.memzones);
  assert.ok(docs.every((d) => d.processes[0]!.waterfall.reserved.bytes === kib * 1024));
});
