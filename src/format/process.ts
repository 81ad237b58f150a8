// Renders one DPDK process: the waterfall summary, then one section per kind of memory.

import { counterRate } from '../model/series.js';
import type { DpdkProcess, PosixCallCount, Level, Mempool, Occupancy, Snapshot } from '../model/snapshot.js';
import { csv } from './csv.js';
import { alertLine } from '../analysis/exhaustion.js';
import { table, section } from './table.js';
import { DASH, bytes, count, percent, safe, text } from './units.js';

function level(l: Level): string {
  return bytes(l.bytes);
}

const RINGS_SHOWN = 20;

function occupancySource(o: Occupancy | null): string {
  if (!o) return DASH;
  const checks = o.checks.map((c) => `${c.source} ${count(c.inUse)}`).join(', ');
  if (!checks) return o.source;
  return `${o.source} (${checks}: ${o.agrees ? 'agree' : `DIFFER beyond ±${o.tolerance}`})`;
}

export function renderWaterfall(p: DpdkProcess): string {
  const w = p.waterfall;
  const rows: [string, string, Level, Level | null, string][] = [
    ['reserved', 'hugepages mapped (kernel)', w.reserved, null, ''],
    ['heap', 'DPDK malloc heaps', w.heap, w.reserved, 'of reserved'],
    ['allocated', 'memzones, pools, rte_malloc', w.allocated, w.heap, 'of heap'],
    ['in use', 'allocated less free pool objects', w.inUse, w.allocated, 'of allocated'],
  ];
  return table(
    [
      { header: 'LEVEL' },
      { header: 'WHAT' },
      { header: 'BYTES', align: 'right' },
      { header: 'SHARE', align: 'right' },
      { header: 'SOURCE / NOTE' },
    ],
    rows.map(([name, what, l, of, ofText]) => [
      name,
      what,
      level(l),
      of && l.bytes !== null ? `${percent(l.bytes, of.bytes)} ${ofText}` : '',
      l.bytes === null ? `unknown: ${l.why ?? ''}` : (l.source ?? ''),
    ]),
  );
}

/** What the PEAK column means, or why it is empty. */
function peakNote(pools: Mempool[]): string {
  const sampled = pools.find((m) => m.peak !== null)?.peak;
  if (!sampled) return `PEAK: ${pools[0]?.peakWhy ?? 'unknown'}`;
  return `PEAK: the highest in use the preload saw, sampling ${count(sampled.hz)} times a second, since ${sampled.since}`;
}

/** The counts of an earlier frame of a watch, so the calls section can say a rate. */
export interface EarlierCalls {
  atMs: number;
  nowMs: number;
  calls: PosixCallCount[] | null;
}

export function renderProcess(p: DpdkProcess, earlier?: EarlierCalls): string {
  const out: string[] = [];
  out.push(
    `pid ${p.pid}  ${safe(p.command)}  prefix ${text(p.filePrefix)}  ${text(p.dpdkVersion)}  telemetry ${text(p.telemetrySocket)}\n`,
  );
  out.push(section('Hugepage memory', renderWaterfall(p)));
  out.push(`${safe(alertLine(p))}\n`);
  for (const w of p.warnings) out.push(`warning: ${safe(w)}\n`);

  if (p.heaps.length > 0) {
    out.push(
      section(
        'Heaps (telemetry)',
        table(
          [
            { header: 'ID', align: 'right' },
            { header: 'NAME' },
            { header: 'SIZE', align: 'right' },
            { header: 'ALLOCATED', align: 'right' },
            { header: 'USE', align: 'right' },
            { header: 'FREE', align: 'right' },
            { header: 'LARGEST FREE', align: 'right' },
            { header: 'ALLOCS', align: 'right' },
            { header: 'FREE BLOCKS', align: 'right' },
          ],
          p.heaps.map((h) => [
            String(h.id),
            h.name,
            bytes(h.heapBytes),
            bytes(h.allocBytes),
            percent(h.allocBytes, h.heapBytes),
            bytes(h.freeBytes),
            bytes(h.greatestFreeBytes),
            count(h.allocCount),
            count(h.freeCount),
          ]),
        ),
      ),
    );
  }

  if (p.mempools.length > 0) {
    out.push(
      section(
        'Mempools (telemetry)',
        table(
          [
            { header: 'NAME' },
            { header: 'OBJECTS', align: 'right' },
            { header: 'OBJ SIZE', align: 'right' },
            { header: 'CACHE', align: 'right' },
            { header: 'BYTES', align: 'right' },
            { header: 'MEMZONES', align: 'right' },
            { header: 'IN USE', align: 'right' },
            { header: 'USE', align: 'right' },
            { header: 'PEAK', align: 'right' },
            { header: 'IN CACHES', align: 'right' },
            { header: 'SOURCE (CHECKS)' },
          ],
          p.mempools.map((m) => [
            m.name,
            count(m.size),
            bytes(m.objectBytes),
            count(m.cacheSize),
            bytes(m.memzoneBytes),
            String(m.memzones.length),
            count(m.occupancy?.inUse),
            percent(m.occupancy?.inUse, m.size),
            count(m.peak?.inUse),
            count(m.occupancy?.cacheAvail),
            occupancySource(m.occupancy),
          ]),
        ) + `\n${peakNote(p.mempools)}`,
      ),
    );
  }

  if (p.rings.length > 0) {
    const shown = [...p.rings].sort((a, b) => (b.count ?? -1) - (a.count ?? -1) || a.name.localeCompare(b.name)).slice(0, RINGS_SHOWN);
    const total = p.rings.reduce((s, r) => s + r.bytes, 0);
    const entries = p.rings.reduce((s, r) => s + (r.count ?? 0), 0);
    const cut = p.rings.length > RINGS_SHOWN ? ` (fullest ${RINGS_SHOWN} shown; --json lists all)` : '';
    out.push(
      section(
        `Rings: ${p.rings.length}, ${bytes(total)}, ${count(entries)} entries held${cut}`,
        table(
          [
            { header: 'NAME' },
            { header: 'COUNT', align: 'right' },
            { header: 'CAPACITY', align: 'right' },
            { header: 'USE', align: 'right' },
            { header: 'BYTES', align: 'right' },
            { header: 'CREATOR', align: 'right' },
            { header: 'WHERE' },
            { header: 'SOURCE' },
          ],
          shown.map((r) => [
            r.name,
            count(r.count),
            count(r.capacity),
            percent(r.count, r.capacity),
            bytes(r.bytes),
            r.creatorTid === null ? DASH : String(r.creatorTid),
            r.memzone ?? 'rte_malloc',
            [r.source, ...r.checks.map((c) => `${c.source} ${c.count}`)].join('; '),
          ]),
        ),
      ),
    );
  }

  if (p.ringOwners && p.ringOwners.length > 0) {
    out.push(
      section(
        "rte_malloc rings per creating thread (the preload's sampler walks them up to 4 times a second; PEAK since its window began)",
        table(
          [
            { header: 'THREAD' },
            { header: 'TID', align: 'right' },
            { header: 'RINGS', align: 'right' },
            { header: 'ENTRIES', align: 'right' },
            { header: 'CAPACITY', align: 'right' },
            { header: 'USE', align: 'right' },
            { header: 'PEAK', align: 'right' },
          ],
          p.ringOwners.map((o) => [
            text(o.thread ?? '(exited)'),
            String(o.tid),
            count(o.rings),
            count(o.entries),
            count(o.capacity),
            percent(o.entries, o.capacity),
            count(o.peak),
          ]),
        ),
      ),
    );
  }

  if (p.memzones.length > 0) {
    out.push(
      section(
        'Memzones (telemetry)',
        table(
          [
            { header: 'ID', align: 'right' },
            { header: 'NAME' },
            { header: 'LENGTH', align: 'right' },
            { header: 'PAGES', align: 'right' },
            { header: 'PAGE', align: 'right' },
            { header: 'SOCKET', align: 'right' },
            { header: 'OWNER' },
          ],
          p.memzones.map((z) => [
            String(z.id),
            z.name,
            bytes(z.lengthBytes),
            String(z.hugepagesUsed),
            bytes(z.hugepageBytes),
            String(z.socket),
            z.owner.name ? `${z.owner.kind} ${z.owner.name}` : z.owner.kind,
          ]),
        ),
      ),
    );
    out.push(`  not in any memzone (rte_malloc and allocator overhead): ${level(p.unattributed)}\n`);
  }

  if (p.ethdevs.length > 0) {
    out.push(
      section(
        'Ethdev ports (telemetry)',
        table(
          [
            { header: 'PORT', align: 'right' },
            { header: 'NAME' },
            { header: 'RX Q', align: 'right' },
            { header: 'TX Q', align: 'right' },
            { header: 'RX DESC', align: 'right' },
            { header: 'TX DESC', align: 'right' },
            { header: 'MBUF POOLS' },
            { header: 'RX NOMBUF', align: 'right' },
            { header: 'STARTED' },
          ],
          p.ethdevs.map((e) => [
            String(e.port),
            e.name,
            String(e.rxQueues),
            String(e.txQueues),
            count(e.rxDescriptors),
            count(e.txDescriptors),
            e.mbufPools?.join(' ') ?? DASH,
            count(e.rxNombuf),
            e.started ? 'yes' : 'no',
          ]),
        ),
      ),
    );
    const why = [...new Set(p.ethdevs.map((e) => e.queuesWhy).filter((w) => w !== undefined))];
    for (const w of why) out.push(`  – : ${w}\n`);
  }

  out.push(
    section(
      'Hugetlb mappings (kernel)',
      table(
        [
          { header: 'PAGE SIZE', align: 'right' },
          { header: 'MAPPED', align: 'right' },
        ],
        p.hugetlb.byPageSize.map((s) => [bytes(s.pageBytes), bytes(s.bytes)]),
      ) +
        `\n${p.hugetlb.byNode.map((n) => `node ${n.node}: ${bytes(n.bytes)}`).join('  ') || 'no NUMA detail'}` +
        `; status HugetlbPages ${bytes(p.hugetlb.statusBytes)}; ${p.hugetlb.mappings} mappings`,
    ),
  );

  out.push(
    section(
      'Threads (kernel)',
      table(
        [
          { header: 'TID', align: 'right' },
          { header: 'NAME' },
          { header: 'CPU', align: 'right' },
          { header: 'AFFINITY' },
          { header: 'STATE' },
        ],
        p.threads.map((t) => [
          String(t.tid),
          t.role ? `${t.name} (${t.role === 'gzmem' ? "gzmem's telemetry connection" : 'telemetry client'})` : t.name,
          t.cpu === null ? DASH : String(t.cpu),
          text(t.affinity),
          text(t.state),
        ]),
      ),
    ),
  );
  out.push(renderPosixCalls(p, earlier));
  return out.join('\n');
}

/** Per thread: its calls in all, failed ones, and the calls it makes most (the preload counts them). */
export function renderPosixCalls(p: Pick<DpdkProcess, 'posixCalls' | 'posixCallsWhy'>, earlier?: EarlierCalls): string {
  if (p.posixCalls === null) return section('POSIX calls (preload)', `unknown: ${p.posixCallsWhy ?? ''}`);
  const byThread = new Map<number, { thread: string | null; rows: PosixCallCount[] }>();
  for (const r of p.posixCalls) {
    const t = byThread.get(r.tid) ?? { thread: r.thread, rows: [] };
    t.rows.push(r);
    byThread.set(r.tid, t);
  }
  const sum = (rows: { calls: number }[]) => rows.reduce((a, r) => a + r.calls, 0);
  const threads = [...byThread.entries()].sort((a, b) => sum(b[1].rows) - sum(a[1].rows));
  // In a watch, from its second frame: each thread's calls since the earlier frame, per second.
  const seconds = earlier ? (earlier.nowMs - earlier.atMs) / 1000 : 0;
  const rate = (tid: number, now: number): string => {
    const r = counterRate(earlier?.calls ? sum(earlier.calls.filter((c) => c.tid === tid)) : undefined, now, seconds);
    return r === null ? DASH : r.toFixed(1);
  };
  const withRate = earlier !== undefined;
  return section(
    'POSIX calls (preload), since each thread first called',
    table(
      [
        { header: 'TID', align: 'right' },
        { header: 'THREAD' },
        { header: 'CALLS', align: 'right' },
        ...(withRate ? [{ header: 'PER S', align: 'right' as const }] : []),
        { header: 'FAILED', align: 'right' },
        { header: 'MOST' },
      ],
      threads.map(([tid, t]) => [
        tid === 0 ? DASH : String(tid),
        t.thread ?? '(exited)',
        count(sum(t.rows)),
        ...(withRate ? [rate(tid, sum(t.rows))] : []),
        count(t.rows.reduce((a, r) => a + r.errors, 0)),
        [...t.rows]
          .sort((a, b) => b.calls - a.calls)
          .slice(0, 6)
          .map((r) => `${r.call} ${count(r.calls)}${r.errors ? ` (${count(r.errors)} failed)` : ''}${latencyNote(r.latency)}`)
          .join(', '),
      ]),
    ),
  );
}

/** " p50 < 2 µs, p99 < 64 µs" from log2 buckets (each bound is the bucket's upper edge). */
function latencyNote(buckets: PosixCallCount['latency']): string {
  if (!buckets || buckets.length === 0) return '';
  const sorted = [...buckets].sort((a, b) => (a.leNs ?? Infinity) - (b.leNs ?? Infinity));
  const total = sorted.reduce((a, b) => a + b.count, 0);
  const bound = (q: number) => {
    let seen = 0;
    for (const b of sorted) {
      seen += b.count;
      if (seen >= q * total) return b.leNs === null ? '≥ 4.2 ms' : `< ${nanoseconds(b.leNs)}`;
    }
    return DASH;
  };
  return ` [p50 ${bound(0.5)}, p99 ${bound(0.99)}]`;
}

function nanoseconds(ns: number): string {
  if (ns < 1000) return `${ns} ns`;
  if (ns < 1_000_000) return `${Math.round(ns / 1000)} µs`;
  return `${(ns / 1_000_000).toFixed(1)} ms`;
}

type Cell = string | number | null;

/** Long ("tidy") CSV: one figure per row, so every section fits one stable header. */
export function processCsvRows(p: DpdkProcess): Cell[][] {
  const rows: Cell[][] = [];
  const add = (sectionName: string, name: string, metric: string, value: number | string | null, unit: string, source: string | null) =>
    rows.push([p.pid, p.filePrefix, sectionName, name, metric, value, unit, source]);
  for (const [k, l] of Object.entries(p.waterfall)) add('waterfall', k, 'bytes', l.bytes, 'bytes', l.source);
  for (const h of p.heaps) {
    for (const [metric, v] of [
      ['heap', h.heapBytes],
      ['allocated', h.allocBytes],
      ['free', h.freeBytes],
      ['greatest_free', h.greatestFreeBytes],
    ] as const)
      add('heap', h.name, metric, v, 'bytes', 'telemetry');
    add('heap', h.name, 'alloc_count', h.allocCount, 'count', 'telemetry');
  }
  for (const r of p.rings) add('ring', r.name, 'count', r.count, 'entries', r.source);
  for (const m of p.mempools) {
    add('mempool', m.name, 'size', m.size, 'objects', m.source);
    add('mempool', m.name, 'object_size', m.objectBytes, 'bytes', m.source);
    add('mempool', m.name, 'cache_size', m.cacheSize, 'objects', m.source);
    add('mempool', m.name, 'memzone', m.memzoneBytes, 'bytes', m.source);
    add('mempool', m.name, 'in_use', m.occupancy?.inUse ?? null, 'objects', m.occupancy?.source ?? null);
    add('mempool', m.name, 'peak', m.peak?.inUse ?? null, 'objects', m.peak ? 'preload' : null);
    add('mempool', m.name, 'high_water', m.peak?.highWater ?? null, 'objects', m.peak ? 'preload' : null);
  }
  for (const z of p.memzones) add('memzone', z.name, 'length', z.lengthBytes, 'bytes', 'telemetry');
  add('unattributed', 'rte_malloc', 'bytes', p.unattributed.bytes, 'bytes', p.unattributed.source);
  for (const e of p.ethdevs) add('ethdev', e.name, 'rx_nombuf', e.rxNombuf, 'count', 'telemetry');
  for (const t of p.threads) add('thread', `${t.tid}`, 'cpu', t.cpu, 'cpu', 'kernel');
  for (const c of p.posixCalls ?? []) {
    add('posix_call', `${c.tid}/${c.call}`, 'calls', c.calls, 'count', 'preload');
    add('posix_call', `${c.tid}/${c.call}`, 'errors', c.errors, 'count', 'preload');
  }
  return rows;
}

export const CSV_HEADER = ['pid', 'prefix', 'section', 'name', 'metric', 'value', 'unit', 'source'];

export function renderCsv(processes: DpdkProcess[]): string {
  return csv(CSV_HEADER, processes.flatMap(processCsvRows));
}

export function renderJson(s: Snapshot): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}
