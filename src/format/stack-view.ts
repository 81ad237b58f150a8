// Renders the gazelle view: one row per protocol-stack thread (gazellectl's habit), then detail.

import type { GazelleView, RingTotals } from '../model/stack-view.js';
import { csv } from './csv.js';
import { table, section } from './table.js';
import { DASH, bytes, count, percent, safe, text } from './units.js';

const pct = (x: number | null) => (x === null ? DASH : `${(x * 100).toFixed(1)}%`);

/** "N entries", and the window's highest when the preload's sampler summed them. */
function ringEntries(r: RingTotals): string {
  return r.entriesPeak === null ? `${count(r.entries)} entries` : `${count(r.entries)} entries (peak ${count(r.entriesPeak)})`;
}

export function renderLstack(v: GazelleView): string {
  const p = v.params;
  const out: string[] = [];
  out.push(`pid ${v.pid}  ${safe(v.command)}  lstack.conf ${text(p.confPath)}`);
  const params: [string, string][] = [
    ['tcp_conn_count', count(p.tcpConnCount)],
    ['mbuf_count_per_conn', count(p.mbufCountPerConn)],
    ['nic_rxqueue_size', count(p.nicRxqueueSize)],
    ['nic_txqueue_size', count(p.nicTxqueueSize)],
    ['num_cpus', text(p.numCpus)],
    ['host_addr', text(p.hostAddr)],
  ];
  out.push(`params: ${params.map(([k, v]) => `${k} ${v}`).join('  ')}\n`);
  out.push(
    section(
      'Protocol stacks',
      table(
        [
          { header: 'STACK', align: 'right' },
          { header: 'NAME' },
          { header: 'TID', align: 'right' },
          { header: 'CPU_ID', align: 'right' },
          { header: 'AFFINITY' },
          { header: 'TOTAL_MEM', align: 'right' },
          { header: 'USED_MEM', align: 'right' },
          { header: 'FREE_MEM', align: 'right' },
          { header: 'MEM_USAGE', align: 'right' },
          { header: 'MBUFS IN USE', align: 'right' },
          { header: 'RINGS', align: 'right' },
          { header: 'QUEUE', align: 'right' },
        ],
        v.stacks.map((s) => [
          String(s.id),
          s.name,
          String(s.tid),
          s.cpu === null ? DASH : String(s.cpu),
          text(s.affinity),
          bytes(s.totalBytes),
          bytes(s.usedBytes),
          bytes(s.freeBytes),
          pct(s.usage),
          s.mbufs === null ? DASH : `${count(s.mbufsInUse)} / ${count(s.mbufs)}`,
          count(s.rings.count),
          String(s.nic.rxQueue),
        ]),
      ),
    ),
  );
  for (const s of v.stacks) {
    const rows = [
      ...s.pools.map((m) => [
        'pool',
        m.name,
        bytes(m.bytes),
        m.size === null ? DASH : `${count(m.inUse)} / ${count(m.size)}`,
        percent(m.inUse, m.size),
      ]),
      ...s.memzones.map((z) => ['memzone', z.name, bytes(z.bytes), '', '']),
      ...(s.rings.count ? [['rings', `${count(s.rings.count)} rte_malloc rings`, bytes(s.rings.bytes), ringEntries(s.rings), '']] : []),
      ...(s.rings.count === null ? [['rings', 'rte_malloc rings: unknown (needs the preload)', DASH, DASH, '']] : []),
      [
        'nic',
        `rx queue ${s.nic.rxQueue}, tx queue ${s.nic.txQueue}`,
        DASH,
        `${count(s.nic.rxDescriptors)} rx / ${count(s.nic.txDescriptors)} tx descriptors`,
        '',
      ],
    ];
    out.push(
      section(
        `${s.name} (tid ${s.tid})`,
        table(
          [
            { header: 'KIND' },
            { header: 'NAME' },
            { header: 'BYTES', align: 'right' },
            { header: 'IN USE', align: 'right' },
            { header: 'USE', align: 'right' },
          ],
          rows,
        ),
      ),
    );
  }
  const sh = v.shared;
  const sharedRows = [
    ...sh.pools.map((m) => ['pool', m.name, bytes(m.bytes), m.size === null ? DASH : `${count(m.inUse)} / ${count(m.size)}`, m.owner]),
    ...sh.memzones.map((z) => ['memzone', z.name, bytes(z.bytes), '', 'process']),
    ...(sh.rings.count
      ? [['rings', `${count(sh.rings.count)} rte_malloc rings`, bytes(sh.rings.bytes), `${count(sh.rings.entries)} entries`, 'process']]
      : []),
  ];
  out.push(
    section(
      `Shared by the process: ${bytes(sh.totalBytes)}`,
      sharedRows.length
        ? table(
            [
              { header: 'KIND' },
              { header: 'NAME' },
              { header: 'BYTES', align: 'right' },
              { header: 'IN USE', align: 'right' },
              { header: 'OWNER' },
            ],
            sharedRows,
          )
        : 'nothing',
    ),
  );
  for (const c of v.crossCheck) {
    const verdict =
      c.agrees === null ? 'gzmem cannot tell' : c.agrees ? 'agree' : `differ by ${count(Math.abs(c.gazellectlFree - c.gzmemFree!))}`;
    const readings = `mbuf_pool_freecnt ${count(c.gazellectlFree)}; gzmem free ${count(c.gzmemFree)} (${c.pool})`;
    out.push(`gazellectl: stack tid ${c.tid} ${readings}: ${verdict} (read moments apart)`);
  }
  for (const n of v.notes) out.push(`note: ${safe(n)}`);
  return out.join('\n') + '\n';
}

export function renderLstackCsv(v: GazelleView): string {
  return csv(
    [
      'pid',
      'stack',
      'name',
      'tid',
      'cpu_id',
      'total_mem',
      'used_mem',
      'free_mem',
      'mem_usage',
      'mbufs_in_use',
      'mbufs',
      'rings',
      'tcp_conn_count',
      'mbuf_count_per_conn',
      'nic_rxqueue_size',
      'nic_txqueue_size',
    ],
    v.stacks.map((s) => [
      v.pid,
      s.id,
      s.name,
      s.tid,
      s.cpu,
      s.totalBytes,
      s.usedBytes,
      s.freeBytes,
      s.usage === null ? null : Number((s.usage * 100).toFixed(2)),
      s.mbufsInUse,
      s.mbufs,
      s.rings.count,
      v.params.tcpConnCount,
      v.params.mbufCountPerConn,
      v.params.nicRxqueueSize,
      v.params.nicTxqueueSize,
    ]),
  );
}
