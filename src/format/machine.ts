// Renders the machine: DPDK processes found, hugepages per size and node, orphaned files.

import type { DpdkProcess, MachineHugepages, Orphan } from '../model/snapshot.js';
import { table, section } from './table.js';
import { DASH, bytes, count, percent, text } from './units.js';

/** `problems`: sockets that did not answer (stale, refused, malformed), one line each. */
export function renderList(processes: DpdkProcess[], problems: string[]): string {
  const out: string[] = [];
  out.push(
    table(
      [
        { header: 'PID', align: 'right' },
        { header: 'COMMAND' },
        { header: 'PREFIX' },
        { header: 'DPDK' },
        { header: 'RESERVED', align: 'right' },
        { header: 'HEAP', align: 'right' },
        { header: 'ALLOCATED', align: 'right' },
        { header: 'USE', align: 'right' },
        { header: 'POOLS', align: 'right' },
        { header: 'THREADS', align: 'right' },
      ],
      processes.map((p) => [
        String(p.pid),
        p.command,
        text(p.filePrefix),
        text(p.dpdkVersion?.replace(/^DPDK /, '')),
        bytes(p.waterfall.reserved.bytes),
        bytes(p.waterfall.heap.bytes),
        bytes(p.waterfall.allocated.bytes),
        percent(p.waterfall.allocated.bytes, p.waterfall.reserved.bytes),
        String(p.mempools.length),
        String(p.threads.filter((t) => t.role === null).length),
      ]),
    ),
  );
  if (processes.length === 0) out[0] = 'no DPDK process found (no telemetry socket answered)';
  for (const p of problems) out.push(`unreachable: ${p}`);
  return out.join('\n') + '\n';
}

export function renderHugepages(h: MachineHugepages): string {
  const rows = h.sizes.map((s) => [
    'all',
    bytes(s.pageBytes),
    count(s.total),
    count(s.free),
    count(s.reserved),
    count(s.surplus),
    bytes(s.totalBytes),
    bytes(s.totalBytes - s.freeBytes),
    percent(s.totalBytes - s.freeBytes, s.totalBytes),
  ]);
  for (const n of h.nodes) {
    rows.push([
      `node ${n.node}`,
      bytes(n.pageBytes),
      count(n.total),
      count(n.free),
      DASH,
      count(n.surplus),
      bytes(n.totalBytes),
      bytes(n.totalBytes - n.freeBytes),
      percent(n.totalBytes - n.freeBytes, n.totalBytes),
    ]);
  }
  const body = table(
    [
      { header: 'NODE' },
      { header: 'PAGE', align: 'right' },
      { header: 'TOTAL', align: 'right' },
      { header: 'FREE', align: 'right' },
      { header: 'RESV', align: 'right' },
      { header: 'SURPLUS', align: 'right' },
      { header: 'SIZE', align: 'right' },
      { header: 'USED', align: 'right' },
      { header: 'USE', align: 'right' },
    ],
    rows,
  );
  const mounts = h.mounts.length
    ? h.mounts.map((m) => `${m.mountPoint} (${m.pageBytes ? bytes(m.pageBytes) : 'default size'})`).join(', ')
    : 'none';
  return section('Machine hugepages (kernel)', `${body}\nhugetlbfs: ${mounts}`);
}

export function renderOrphans(orphans: Orphan[] | null, why?: string): string {
  if (orphans === null) return section('Orphaned hugepage files', why ?? 'not looked for');
  if (orphans.length === 0) return section('Orphaned hugepage files', 'none: every hugetlbfs file is mapped or held by a live process');
  const total = orphans.reduce((s, o) => s + o.bytes, 0);
  const body = table(
    [{ header: 'PREFIX' }, { header: 'FILES', align: 'right' }, { header: 'HELD', align: 'right' }, { header: 'MOUNT' }],
    orphans.map((o) => [text(o.prefix), String(o.files), bytes(o.bytes), o.mount]),
  );
  const commands = orphans.map((o) => `  ${o.removeCommand}`).join('\n');
  return section(
    `Orphaned hugepage files: ${bytes(total)} held by files no live process maps`,
    `${body}\nTo free them (check first that no process of that prefix is about to start):\n${commands}`,
  );
}
