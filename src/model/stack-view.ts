// The gazelle view: a DPDK snapshot grouped by protocol-stack thread (pure).
// gazelle names what belongs to stack N after its queue (`rxtx_mbuf_<queue>` in 2024 builds,
// `mbuf_pool_<stack>` later) or after the stack thread's kernel tid (`<LWIP POOL>_<tid>`);
// `rpc_pool_<tid>` belongs to the thread that issues RPCs. Anything unmatched stays shared.

import type { ConfigGroup } from '../collect/libconfig.js';
import type { GazellectlReading } from '../collect/gazellectl.js';
import type { DpdkProcess, Mempool, OccupancyReading } from './snapshot.js';

export interface LstackParams {
  confPath: string | null;
  tcpConnCount: number | null;
  mbufCountPerConn: number | null;
  nicRxqueueSize: number | null;
  nicTxqueueSize: number | null;
  numCpus: string | null;
  hostAddr: string | null;
  /** See gazelleMbufsPerStack. */
  expectedMbufsPerStack: number | null;
}

export interface StackItem {
  name: string;
  bytes: number;
  inUse: number | null;
  size: number | null;
}

export interface StackView {
  /** gazellelstackNN's NN: the stack id and its NIC queue. */
  id: number;
  name: string;
  tid: number;
  cpu: number | null;
  affinity: string | null;
  totalBytes: number;
  usedBytes: number | null;
  freeBytes: number | null;
  usage: number | null;
  mbufsInUse: number | null;
  mbufs: number | null;
  pools: StackItem[];
  memzones: StackItem[];
  rings: RingTotals;
  nic: { rxQueue: number; txQueue: number; rxDescriptors: number | null; txDescriptors: number | null };
}

export interface SharedView {
  totalBytes: number;
  pools: (StackItem & { owner: string })[];
  memzones: StackItem[];
  rings: RingTotals;
}

/** rte_malloc'd rings (gazelle's per-connection rings): only the preload can list them. */
export interface RingTotals {
  count: number | null;
  bytes: number | null;
  entries: number | null;
  /** Highest entries at the preload sampler's walks in the snapshot's window; null with `peakWhy`. */
  entriesPeak: number | null;
  why?: string;
  peakWhy?: string;
}

export interface GazelleView {
  pid: number;
  command: string;
  params: LstackParams;
  stacks: StackView[];
  shared: SharedView;
  /** gazellectl's figures next to ours, where it ran. */
  /** Read moments apart, so they agree only at rest. */
  crossCheck: { tid: number; gazellectlFree: number; gzmemFree: number | null; pool: string; agrees: boolean | null }[];
  notes: string[];
}

const STACK_THREAD = /^gazellelstack(\d+)$/;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * gazelle's mbuf pool per stack (2024 sources): the stack's share of tcp_conn_count x
 * mbuf_count_per_conn, the NIC's rx and tx descriptors, and a reserve of one more rx queue and 1024.
 */
export function gazelleMbufsPerStack(conns: number, perConn: number, rx: number, tx: number, stacks: number): number {
  return Math.floor((conns * perConn) / stacks) + 2 * rx + tx + 1024;
}

export function lstackParams(config: ConfigGroup | undefined, confPath: string | null): LstackParams {
  const c = config ?? {};
  const conns = num(c.tcp_conn_count);
  const perConn = num(c.mbuf_count_per_conn);
  const rx = num(c.nic_rxqueue_size);
  const tx = num(c.nic_txqueue_size);
  // One stack per CPU of num_cpus ("1,3" or "2-5").
  let stacks = 1;
  try {
    if (typeof c.num_cpus === 'string') stacks = parseCpuList(c.num_cpus).length || 1;
  } catch {
    // A num_cpus gazelle would refuse: size as for one stack.
  }
  return {
    confPath,
    tcpConnCount: conns,
    mbufCountPerConn: perConn,
    nicRxqueueSize: rx,
    nicTxqueueSize: tx,
    numCpus: typeof c.num_cpus === 'string' ? c.num_cpus : null,
    hostAddr: typeof c.host_addr === 'string' ? c.host_addr : null,
    expectedMbufsPerStack:
      conns !== null && perConn !== null && rx !== null && tx !== null ? gazelleMbufsPerStack(conns, perConn, rx, tx, stacks) : null,
  };
}

/** "1,3-5" → [1, 3, 4, 5] */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return cpus;
}

/** Stack threads by id: `gazellelstackNN` → NN. */
export function stackThreads(p: DpdkProcess): { id: number; tid: number; name: string; cpu: number | null; affinity: string | null }[] {
  return p.threads
    .map((t) => ({ t, m: STACK_THREAD.exec(t.name) }))
    .filter((x) => x.m)
    .map(({ t, m }) => ({ id: Number(m![1]), tid: t.tid, name: t.name, cpu: t.cpu, affinity: t.affinity }))
    .sort((a, b) => a.id - b.id);
}

/** The stack id a pool belongs to by its name, or the tid in an `rpc_pool_<tid>` name. */
export function poolOwner(name: string): { stackId: number } | { tid: number } | undefined {
  const mbuf = /^(?:rxtx_mbuf|mbuf_pool)_(\d+)$/.exec(name);
  if (mbuf) return { stackId: Number(mbuf[1]) };
  const rpc = /^rpc_pool_(\d+)$/.exec(name);
  if (rpc) return { tid: Number(rpc[1]) };
  return undefined;
}

export function isMbufPool(name: string): boolean {
  return /^(?:rxtx_mbuf|mbuf_pool)_\d+$/.test(name);
}

/** gazellectl's mbuf_pool_freecnt as an occupancy reading of the stack's mbuf pool. */
export function gazellectlOccupancy(p: DpdkProcess, g: GazellectlReading): Map<string, OccupancyReading> {
  const out = new Map<string, OccupancyReading>();
  const byTid = new Map(stackThreads(p).map((s) => [s.tid, s.id]));
  for (const s of g.stacks) {
    const id = byTid.get(s.tid);
    const free = s.counters.mbuf_pool_freecnt;
    if (id === undefined || free === undefined) continue;
    const pool = p.mempools.find(
      (m) => isMbufPool(m.name) && poolOwner(m.name) !== undefined && (poolOwner(m.name) as { stackId: number }).stackId === id,
    );
    if (pool) out.set(pool.name, { inUse: pool.size - free, commonPoolAvail: null, cacheAvail: null, source: 'gazellectl' });
  }
  return out;
}

function poolItem(m: Mempool): StackItem {
  return { name: m.name, bytes: m.memzoneBytes, inUse: m.occupancy?.inUse ?? null, size: m.size };
}

function freeBytes(pools: Mempool[]): number | null {
  let free = 0;
  for (const m of pools) {
    if (!m.occupancy) return null;
    free += (m.size - m.occupancy.inUse) * m.objectBytes;
  }
  return free;
}

export function buildGazelleView(p: DpdkProcess, params: LstackParams, gazellectl?: GazellectlReading): GazelleView {
  const stacks = stackThreads(p);
  const byTid = new Map(stacks.map((s) => [s.tid, s]));
  const byId = new Map(stacks.map((s) => [s.id, s]));
  const threadName = new Map(p.threads.map((t) => [t.tid, t.name]));
  const notes: string[] = [];
  if (stacks.length === 0) notes.push('no gazellelstackNN thread: not a gazelle process, or its stacks have not started');

  const stackPools = new Map<number, Mempool[]>();
  const sharedPools: (StackItem & { owner: string })[] = [];
  for (const m of p.mempools) {
    const owner = poolOwner(m.name);
    const stack = owner && 'stackId' in owner ? byId.get(owner.stackId) : owner && 'tid' in owner ? byTid.get(owner.tid) : undefined;
    if (stack) stackPools.set(stack.id, [...(stackPools.get(stack.id) ?? []), m]);
    else {
      const who = owner && 'tid' in owner ? `thread ${owner.tid} ${threadName.get(owner.tid) ?? '(gone)'}` : 'process';
      sharedPools.push({ ...poolItem(m), owner: who });
    }
  }

  // Memzones that no pool owns, named <NAME>_<tid> after the stack thread that made them.
  const stackZones = new Map<number, StackItem[]>();
  const sharedZones: StackItem[] = [];
  for (const z of p.memzones) {
    if (z.owner.kind === 'mempool') continue;
    const tid = /_(\d+)$/.exec(z.name);
    const stack = tid ? byTid.get(Number(tid[1])) : undefined;
    const item = { name: z.name, bytes: z.lengthBytes, inUse: null, size: null };
    if (stack) stackZones.set(stack.id, [...(stackZones.get(stack.id) ?? []), item]);
    else sharedZones.push(item);
  }

  // Rings outside memzones are rte_malloc'd: count their bytes here (memzone rings are in the memzones).
  // No memzone list shows them, so without the preload their number is unknown, not 0.
  const preloaded = p.sources.some((s) => s.name === 'preload' && s.ok);
  const ringTotals = (): RingTotals =>
    preloaded
      ? { count: 0, bytes: 0, entries: 0, entriesPeak: null, peakWhy: p.ringOwnersWhy ?? 'summed per creating thread only' }
      : {
          count: null,
          bytes: null,
          entries: null,
          entriesPeak: null,
          why: 'rte_malloc rings are seen only with the preload (libgzmem.so)',
          peakWhy: 'needs the preload (libgzmem.so)',
        };
  const stackRings = new Map<number, RingTotals>();
  const sharedRings = ringTotals();
  for (const r of preloaded ? p.rings : []) {
    if (r.memzone !== null) continue;
    const stack = r.creatorTid !== null ? byTid.get(r.creatorTid) : undefined;
    const t = stack ? (stackRings.get(stack.id) ?? stackRings.set(stack.id, ringTotals()).get(stack.id)!) : sharedRings;
    t.count! += 1;
    t.bytes! += r.bytes;
    t.entries! += r.count ?? 0;
  }
  if (!preloaded) notes.push('per-stack totals leave out rte_malloc rings (per-connection rings): they are seen only with the preload');
  // The sampler's sums per creating thread are fresher than a ring list carried over between samples.
  for (const o of p.ringOwners ?? []) {
    const stack = byTid.get(o.tid);
    if (!stack) continue;
    const t = stackRings.get(stack.id) ?? stackRings.set(stack.id, ringTotals()).get(stack.id)!;
    t.entries = o.entries;
    t.entriesPeak = o.peak;
    delete t.peakWhy;
  }

  const views: StackView[] = stacks.map((s) => {
    const pools = stackPools.get(s.id) ?? [];
    const zones = stackZones.get(s.id) ?? [];
    const rings = stackRings.get(s.id) ?? ringTotals();
    const total = pools.reduce((a, m) => a + m.memzoneBytes, 0) + zones.reduce((a, z) => a + z.bytes, 0) + (rings.bytes ?? 0);
    const free = freeBytes(pools);
    const mbufPools = pools.filter((m) => isMbufPool(m.name));
    const mbufsInUse = mbufPools.every((m) => m.occupancy) ? mbufPools.reduce((a, m) => a + m.occupancy!.inUse, 0) : null;
    return {
      id: s.id,
      name: s.name,
      tid: s.tid,
      cpu: s.cpu,
      affinity: s.affinity,
      totalBytes: total,
      usedBytes: free === null ? null : total - free,
      freeBytes: free,
      usage: free === null || total === 0 ? null : (total - free) / total,
      mbufsInUse: mbufPools.length ? mbufsInUse : null,
      mbufs: mbufPools.length ? mbufPools.reduce((a, m) => a + m.size, 0) : null,
      pools: pools.map(poolItem),
      memzones: zones,
      rings,
      nic: { rxQueue: s.id, txQueue: s.id, rxDescriptors: params.nicRxqueueSize, txDescriptors: params.nicTxqueueSize },
    };
  });

  const crossCheck: GazelleView['crossCheck'] = [];
  for (const g of gazellectl?.stacks ?? []) {
    const s = byTid.get(g.tid);
    const pool = s ? (stackPools.get(s.id) ?? []).find((m) => isMbufPool(m.name)) : undefined;
    const free = g.counters.mbuf_pool_freecnt;
    if (!pool || free === undefined) continue;
    const mine = pool.occupancy && pool.occupancy.source !== 'gazellectl' ? pool.size - pool.occupancy.inUse : null;
    crossCheck.push({ tid: g.tid, gazellectlFree: free, gzmemFree: mine, pool: pool.name, agrees: mine === null ? null : mine === free });
  }
  for (const v of views) {
    const expected = params.expectedMbufsPerStack;
    if (expected !== null && v.mbufs !== null && v.mbufs !== expected) {
      notes.push(`${v.name}: pool holds ${v.mbufs} mbufs, lstack.conf sizes it at ${expected}`);
    }
  }

  const sharedTotal =
    sharedPools.reduce((a, m) => a + m.bytes, 0) + sharedZones.reduce((a, z) => a + z.bytes, 0) + (sharedRings.bytes ?? 0);
  return {
    pid: p.pid,
    command: p.command,
    params,
    stacks: views,
    shared: { totalBytes: sharedTotal, pools: sharedPools, memzones: sharedZones, rings: sharedRings },
    crossCheck,
    notes,
  };
}
