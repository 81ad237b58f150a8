// Prometheus metrics: our own prom-client registry, values computed at scrape time from the
// recorder's latest snapshots. Names in base units; labels pid, prefix, stack, pool; pools capped per process.

import { Counter, Gauge, Registry } from 'prom-client';
import type { MachineHugepages, Orphan, Snapshot } from '../model/snapshot.js';
import { MAX_POOL_SERIES } from '../model/series.js';

/** Thread-and-call series per process: a process of thousands of threads must not flood Prometheus. */
const MAX_CALL_SERIES = 2000;

/** What a scrape reads: the targets and the machine as the recorder last saw them. */
export interface MetricsSource {
  /** The latest snapshot of every target seen, by key (gone ones included). */
  latest(): Map<string, Snapshot>;
  /** Keys of the targets that answered at the last tick. */
  alive(): ReadonlySet<string>;
  /** The machine at the last tick, read even when no DPDK process runs. */
  machine(): { hugepages: MachineHugepages; orphans: Orphan[] | null } | undefined;
}

export interface Metrics {
  contentType: string;
  /** Fills every gauge from one state of the recorder, then renders the exposition text. */
  scrape(): Promise<string>;
}

export function createMetrics(source: MetricsSource): Metrics {
  const registry = new Registry();
  const g = (name: string, help: string, labelNames: string[]) => new Gauge({ name, help, labelNames, registers: [registry] });
  const proc = ['prefix', 'pid'];
  const up = g('gzmem_process_up', '1 while the process answers; 0 at the one scrape after it exited, then it is dropped', proc);
  const reserved = g('gzmem_process_hugepages_reserved_bytes', 'Hugepage bytes the kernel has mapped into the process', [
    ...proc,
    'command',
  ]);
  const heap = g('gzmem_process_heap_bytes', 'Size of the DPDK malloc heaps', proc);
  const allocated = g('gzmem_process_heap_allocated_bytes', 'Bytes allocated from the DPDK heaps', proc);
  const inUse = g('gzmem_process_in_use_bytes', 'Allocated bytes less free mempool objects', proc);
  const poolSize = g('gzmem_mempool_objects', 'Objects in the mempool', [...proc, 'pool']);
  const poolInUse = g('gzmem_mempool_objects_in_use', 'Mempool objects in use', [...proc, 'pool', 'source']);
  const poolBytes = g('gzmem_mempool_bytes', 'Bytes of the memzones the mempool occupies', [...proc, 'pool']);
  const poolPeak = g(
    'gzmem_mempool_objects_in_use_peak',
    "Highest objects in use in the recorder's last interval, as the preload's sampler saw them",
    [...proc, 'pool'],
  );
  const poolHighWater = g('gzmem_mempool_objects_in_use_high_water', 'Highest objects in use since the process started (preload)', [
    ...proc,
    'pool',
  ]);
  const stackTotal = g('gzmem_stack_memory_bytes', 'Hugepage bytes held by a gazelle protocol-stack thread', [...proc, 'stack']);
  const stackUsed = g('gzmem_stack_memory_used_bytes', 'Bytes of a stack thread in use (total less free pool objects)', [...proc, 'stack']);
  const stackFree = g('gzmem_stack_memory_free_bytes', 'Bytes of a stack thread in free pool objects', [...proc, 'stack']);
  const rxNombuf = g(
    'gzmem_port_rx_nombuf',
    "Receive mbuf allocation failures since the port started (DPDK's rx_nombuf counter): the pool ran dry",
    [...proc, 'port'],
  );
  const rings = g('gzmem_rings', 'Rings known (preload registry or memzones)', proc);
  const ringEntries = g('gzmem_ring_entries', 'Entries held in all rings', proc);
  const ownerEntries = g('gzmem_thread_ring_entries', "Entries in the rte_malloc'd rings a thread created (preload)", [
    ...proc,
    'tid',
    'thread',
  ]);
  const ownerPeak = g(
    'gzmem_thread_ring_entries_peak',
    "Highest entries in a thread's rte_malloc'd rings in the recorder's last interval, at the preload's walks (up to 4 a second)",
    [...proc, 'tid', 'thread'],
  );
  const pagesTotal = g('gzmem_hugepages_pages', 'Hugepages configured', ['page_size_bytes', 'node']);
  const pagesFree = g('gzmem_hugepages_free_pages', 'Hugepages free', ['page_size_bytes', 'node']);
  const orphan = g('gzmem_orphaned_hugepage_bytes', 'Hugepage bytes held by files no live process maps', ['prefix']);
  const duration = g('gzmem_snapshot_duration_seconds', 'Time the last snapshot of the process took', proc);
  // Counted by the process (the preload), so set from its totals at each scrape, which only grow.
  const callLabels = [...proc, 'tid', 'thread', 'call'];
  const c = (name: string, help: string) => new Counter({ name, help, labelNames: callLabels, registers: [registry] });
  const posixCalls = c('gzmem_posix_calls_total', 'POSIX calls a thread made (counted by the preload; tid 0: threads past its table)');
  const posixErrors = c('gzmem_posix_call_errors_total', 'POSIX calls of a thread that returned -1 (counted by the preload)');
  const all = [
    posixCalls,
    posixErrors,
    up,
    reserved,
    heap,
    allocated,
    inUse,
    poolSize,
    poolInUse,
    poolBytes,
    poolPeak,
    poolHighWater,
    rxNombuf,
    stackTotal,
    stackUsed,
    stackFree,
    rings,
    ringEntries,
    pagesTotal,
    pagesFree,
    orphan,
    duration,
  ];

  // Exited targets already reported with up 0; they come back in when they answer again.
  const reportedGone = new Set<string>();
  const set = (gauge: Gauge, labels: Record<string, string>, v: number | null | undefined) => {
    if (v !== null && v !== undefined) gauge.set(labels, v); // unknown is left out, never 0
  };

  const fillProcess = (s: Snapshot) => {
    for (const p of s.processes) {
      const l = { prefix: p.filePrefix ?? '', pid: String(p.pid) };
      up.set(l, 1);
      set(reserved, { ...l, command: p.command }, p.waterfall.reserved.bytes);
      set(heap, l, p.waterfall.heap.bytes);
      set(allocated, l, p.waterfall.allocated.bytes);
      set(inUse, l, p.waterfall.inUse.bytes);
      set(duration, l, s.durationMs / 1000);
      for (const m of p.mempools.slice(0, MAX_POOL_SERIES)) {
        set(poolSize, { ...l, pool: m.name }, m.size);
        set(poolBytes, { ...l, pool: m.name }, m.memzoneBytes);
        if (m.occupancy) set(poolInUse, { ...l, pool: m.name, source: m.occupancy.source }, m.occupancy.inUse);
        set(poolPeak, { ...l, pool: m.name }, m.peak?.inUse);
        set(poolHighWater, { ...l, pool: m.name }, m.peak?.highWater);
      }
      for (const e of p.ethdevs) set(rxNombuf, { ...l, port: e.name }, e.rxNombuf);
      for (const o of (p.ringOwners ?? []).slice(0, MAX_POOL_SERIES)) {
        const ol = { ...l, tid: String(o.tid), thread: o.thread ?? '' };
        set(ownerEntries, ol, o.entries);
        set(ownerPeak, ol, o.peak);
      }
      for (const x of (p.posixCalls ?? []).slice(0, MAX_CALL_SERIES)) {
        const cl = { ...l, tid: String(x.tid), thread: x.thread ?? '', call: x.call };
        posixCalls.inc(cl, x.calls);
        posixErrors.inc(cl, x.errors);
      }
      if (p.rings.length > 0) {
        set(rings, l, p.rings.length);
        set(
          ringEntries,
          l,
          p.rings.reduce((a, r) => a + (r.count ?? 0), 0),
        );
      }
    }
    for (const v of s.lstack ?? []) {
      const owner = s.processes.find((p) => p.pid === v.pid);
      const l = { prefix: owner?.filePrefix ?? '', pid: String(v.pid) };
      for (const st of v.stacks) {
        set(stackTotal, { ...l, stack: st.name }, st.totalBytes);
        set(stackUsed, { ...l, stack: st.name }, st.usedBytes);
        set(stackFree, { ...l, stack: st.name }, st.freeBytes);
      }
    }
  };

  const fillMachine = () => {
    const m = source.machine();
    for (const h of m?.hugepages.sizes ?? []) {
      set(pagesTotal, { page_size_bytes: String(h.pageBytes), node: 'all' }, h.total);
      set(pagesFree, { page_size_bytes: String(h.pageBytes), node: 'all' }, h.free);
    }
    for (const h of m?.hugepages.nodes ?? []) {
      set(pagesTotal, { page_size_bytes: String(h.pageBytes), node: String(h.node) }, h.total);
      set(pagesFree, { page_size_bytes: String(h.pageBytes), node: String(h.node) }, h.free);
    }
    // null orphans: gzmem could not tell, so nothing is exported rather than a false 0.
    for (const o of m?.orphans ?? []) set(orphan, { prefix: o.prefix ?? '' }, o.bytes);
  };

  // Filled in one place per scrape, so a scrape is one consistent state.
  const scrape = async () => {
    for (const m of all) m.reset();
    const alive = source.alive();
    for (const [key, s] of source.latest()) {
      if (alive.has(key)) {
        reportedGone.delete(key);
        fillProcess(s);
      } else if (!reportedGone.has(key)) {
        reportedGone.add(key);
        for (const p of s.processes) up.set({ prefix: p.filePrefix ?? '', pid: String(p.pid) }, 0);
      }
    }
    fillMachine();
    return registry.metrics();
  };
  return { contentType: registry.contentType, scrape };
}
