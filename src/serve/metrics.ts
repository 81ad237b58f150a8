// Prometheus metrics: our own prom-client registry, values computed at scrape time from the
// latest snapshots. Names in base units; labels pid, prefix, stack, pool; pools capped per process.

import { Gauge, Registry } from 'prom-client';
import type { Snapshot } from '../model/snapshot.js';
import { MAX_POOL_SERIES } from '../model/series.js';

export function createMetrics(latest: () => Snapshot[]): Registry {
  const registry = new Registry();
  const g = (name: string, help: string, labelNames: string[], collect?: () => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
  const proc = ['prefix', 'pid'];
  // The first metric's collect fills every gauge from the same snapshots, so a scrape is consistent.
  const reserved = g('gzmem_process_hugepages_reserved_bytes', 'Hugepage bytes the kernel has mapped into the process', [...proc, 'command'], () => fill());
  const heap = g('gzmem_process_heap_bytes', 'Size of the DPDK malloc heaps', proc);
  const allocated = g('gzmem_process_heap_allocated_bytes', 'Bytes allocated from the DPDK heaps', proc);
  const inUse = g('gzmem_process_in_use_bytes', 'Allocated bytes less free mempool objects', proc);
  const poolSize = g('gzmem_mempool_objects', 'Objects in the mempool', [...proc, 'pool']);
  const poolInUse = g('gzmem_mempool_objects_in_use', 'Mempool objects in use', [...proc, 'pool', 'source']);
  const poolBytes = g('gzmem_mempool_bytes', 'Bytes of the memzones the mempool occupies', [...proc, 'pool']);
  const stackTotal = g('gzmem_stack_memory_bytes', 'Hugepage bytes held by a gazelle protocol-stack thread', [...proc, 'stack']);
  const stackUsed = g('gzmem_stack_memory_used_bytes', 'Bytes of a stack thread in use (total less free pool objects)', [...proc, 'stack']);
  const stackFree = g('gzmem_stack_memory_free_bytes', 'Bytes of a stack thread in free pool objects', [...proc, 'stack']);
  const rings = g('gzmem_rings', 'Rings known (preload registry or memzones)', proc);
  const ringEntries = g('gzmem_ring_entries', 'Entries held in all rings', proc);
  const pagesTotal = g('gzmem_hugepages_pages', 'Hugepages configured', ['page_size_bytes', 'node']);
  const pagesFree = g('gzmem_hugepages_free_pages', 'Hugepages free', ['page_size_bytes', 'node']);
  const orphan = g('gzmem_orphaned_hugepage_bytes', 'Hugepage bytes held by files no live process maps', ['prefix']);
  const duration = g('gzmem_snapshot_duration_seconds', 'Time the last snapshot of the process took', proc);

  const all = [reserved, heap, allocated, inUse, poolSize, poolInUse, poolBytes, stackTotal, stackUsed, stackFree, rings, ringEntries, pagesTotal, pagesFree, orphan, duration];
  function fill(): void {
      for (const m of all) m.reset();
      const snapshots = latest();
      const set = (gauge: Gauge, labels: Record<string, string>, v: number | null | undefined) => {
        if (v !== null && v !== undefined) gauge.set(labels, v); // unknown is left out, never 0
      };
      for (const s of snapshots) {
        for (const p of s.processes) {
          const l = { prefix: p.filePrefix ?? '', pid: String(p.pid) };
          set(reserved, { ...l, command: p.command }, p.waterfall.reserved.bytes);
          set(heap, l, p.waterfall.heap.bytes);
          set(allocated, l, p.waterfall.allocated.bytes);
          set(inUse, l, p.waterfall.inUse.bytes);
          set(duration, l, s.durationMs / 1000);
          for (const m of p.mempools.slice(0, MAX_POOL_SERIES)) {
            set(poolSize, { ...l, pool: m.name }, m.size);
            set(poolBytes, { ...l, pool: m.name }, m.memzoneBytes);
            if (m.occupancy) set(poolInUse, { ...l, pool: m.name, source: m.occupancy.source }, m.occupancy.inUse);
          }
          if (p.rings.length > 0) {
            set(rings, l, p.rings.length);
            set(ringEntries, l, p.rings.reduce((a, r) => a + (r.count ?? 0), 0));
          }
        }
        for (const v of s.lstack ?? []) {
          const proc0 = s.processes.find((p) => p.pid === v.pid);
          const l = { prefix: proc0?.filePrefix ?? '', pid: String(v.pid) };
          for (const st of v.stacks) {
            set(stackTotal, { ...l, stack: st.name }, st.totalBytes);
            set(stackUsed, { ...l, stack: st.name }, st.usedBytes);
            set(stackFree, { ...l, stack: st.name }, st.freeBytes);
          }
        }
      }
      // The machine is the same in every snapshot: take the newest.
      const newest = [...snapshots].sort((a, b) => b.takenAt.localeCompare(a.takenAt))[0];
      for (const h of newest?.hugepages.sizes ?? []) {
        set(pagesTotal, { page_size_bytes: String(h.pageBytes), node: 'all' }, h.total);
        set(pagesFree, { page_size_bytes: String(h.pageBytes), node: 'all' }, h.free);
      }
      for (const h of newest?.hugepages.nodes ?? []) {
        set(pagesTotal, { page_size_bytes: String(h.pageBytes), node: String(h.node) }, h.total);
        set(pagesFree, { page_size_bytes: String(h.pageBytes), node: String(h.node) }, h.free);
      }
      for (const o of newest?.orphans ?? []) set(orphan, { prefix: o.prefix ?? '' }, o.bytes);
  }
  return registry;
}
