// Pure derivations: raw readings -> Snapshot parts. No I/O here.

import type { HugepageReading } from '../collect/hugepages.js';
import type { HugetlbfsFile, HugetlbfsMount } from '../collect/hugetlbfs.js';
import type { ProcessReading } from '../collect/process.js';
import type { MempoolReading, MemzoneReading, TelemetryReadings } from '../collect/telemetry.js';
import type { PreloadReading, PreloadRing } from '../collect/preload.js';
import type { AttachReading } from '../collect/attach.js';
import { exhaustionAlerts } from '../analysis/exhaustion.js';
import {
  OCCUPANCY_PRIORITY,
  type DpdkProcess,
  type EthdevPort,
  type Heap,
  type Level,
  type MachineHugepages,
  type Mempool,
  type Memzone,
  type MemzoneOwnerKind,
  type Occupancy,
  type OccupancyReading,
  type Orphan,
  type PoolPeak,
  type Ring,
  type Source,
  type Thread,
  type Waterfall,
} from './snapshot.js';

export function buildMachineHugepages(reading: HugepageReading, mounts: HugetlbfsMount[]): MachineHugepages {
  const withBytes = <T extends { pageBytes: number; total: number; free: number; reserved?: number; surplus: number }>(c: T) => ({
    pageBytes: c.pageBytes,
    total: c.total,
    free: c.free,
    reserved: c.reserved ?? null,
    surplus: c.surplus,
    totalBytes: c.total * c.pageBytes,
    freeBytes: c.free * c.pageBytes,
  });
  return {
    sizes: reading.sizes.map(withBytes),
    nodes: reading.nodes.map((n) => ({ node: n.node, ...withBytes(n) })),
    mounts: mounts.map((m) => ({ mountPoint: m.mountPoint, pageBytes: m.pageBytes ?? null })),
  };
}

/**
 * Which pool, ring or device a memzone belongs to, from the names EAL gives them:
 * `MP_<pool>` (header), `RG_MP_<pool>` (the pool's ring), `MP_<pool>_<n>` (object chunks),
 * `RG_<ring>` (named ring), `eth_p<port>_q<queue>_*` and `rte_eth_dev_data` (ethdev).
 */
export function memzoneOwner(name: string, poolNames: readonly string[]): { kind: MemzoneOwnerKind; name: string | null } {
  for (const pool of poolNames) {
    if (name === `MP_${pool}` || name === `RG_MP_${pool}`) return { kind: 'mempool', name: pool };
  }
  // Longest pool name first, so pool `a` does not claim the chunks of pool `a_1`.
  const chunkOwner = [...poolNames]
    .sort((a, b) => b.length - a.length)
    .find((pool) => name.startsWith(`MP_${pool}_`) && /^\d+$/.test(name.slice(pool.length + 4)));
  if (chunkOwner !== undefined) return { kind: 'mempool', name: chunkOwner };
  if (name.startsWith('RG_')) return { kind: 'ring', name: name.slice(3) };
  const eth = /^eth_p(\d+)_q\d+_/.exec(name);
  if (eth) return { kind: 'ethdev', name: `port ${eth[1]}` };
  if (name === 'rte_eth_dev_data') return { kind: 'ethdev', name: null };
  return { kind: 'other', name: null };
}

export function buildMemzones(zones: MemzoneReading[], poolNames: readonly string[]): Memzone[] {
  return zones.map((z) => ({
    id: z.id,
    name: z.name,
    lengthBytes: z.lengthBytes,
    address: z.address,
    socket: z.socket,
    hugepageBytes: z.hugepageBytes,
    hugepagesUsed: z.hugepagesUsed,
    owner: memzoneOwner(z.name, poolNames),
  }));
}

/**
 * Two readings taken moments apart may differ by what moved in between: up to 1.5 x cache size
 * per lcore cache (the flush threshold) plus a 32-mbuf burst per lcore.
 */
export function occupancyTolerance(cacheSize: number, activeLcores: number): number {
  return Math.max(1, activeLcores) * (Math.ceil(cacheSize * 1.5) + 32);
}

/** The best source is the figure; the others are kept as checks, and a disagreement is flagged. */
export function reconcileOccupancy(readings: OccupancyReading[], cacheSize: number, activeLcores: number): Occupancy | null {
  const ranked = [...readings].sort((a, b) => OCCUPANCY_PRIORITY.indexOf(a.source) - OCCUPANCY_PRIORITY.indexOf(b.source));
  const primary = ranked[0];
  if (!primary) return null;
  const tolerance = occupancyTolerance(cacheSize, activeLcores);
  const checks = ranked.slice(1).map((r) => ({ source: r.source, inUse: r.inUse }));
  return {
    ...primary,
    checks,
    agrees: checks.length === 0 ? null : checks.every((c) => Math.abs(c.inUse - primary.inUse) <= tolerance),
    tolerance,
  };
}

/** Every source's occupancy reading of one pool. */
export function occupancyReadings(p: MempoolReading, preload?: PreloadReading, attach?: AttachReading): OccupancyReading[] {
  const out: OccupancyReading[] = [];
  const pre = preload?.pools.find((x) => x.name === p.name);
  if (pre) out.push({ inUse: pre.inUse, commonPoolAvail: pre.common, cacheAvail: pre.cache, source: 'preload' });
  const att = attach?.pools.find((x) => x.name === p.name);
  if (att) out.push({ inUse: att.inUse, commonPoolAvail: att.common, cacheAvail: att.cache, source: 'attach' });
  if (p.commonPoolCount !== undefined && p.totalCacheCount !== undefined) {
    out.push({
      inUse: p.size - p.commonPoolCount - p.totalCacheCount,
      commonPoolAvail: p.commonPoolCount,
      cacheAvail: p.totalCacheCount,
      source: 'telemetry-occupancy',
    });
  }
  return out;
}

/** Below this share of its passes, a peak may have missed a burst: the snapshot says so. */
const PEAK_COVERAGE_WARNING = 0.9;

/** A pool's true peak from the preload's sampler, or why there is none. */
export function poolPeak(name: string, preload: PreloadReading | undefined): { peak: PoolPeak | null; why?: string } {
  if (!preload) return { peak: null, why: 'needs the preload (libgzmem.so): without it, peaks are only the sampled values' };
  const peaks = preload.peaks;
  if (!peaks) return { peak: null, why: 'this libgzmem.so has no peak sampler' };
  if (peaks.hz === 0) return { peak: null, why: "the preload's peak sampler is off (GZMEM_PEAKS=off)" };
  const p = peaks.pools.get(name);
  if (!p) return { peak: null, why: 'not sampled by the preload yet (a new pool, or beyond its 256 pools)' };
  const since = new Date(Math.max(peaks.since.getTime(), p.sampledSince.getTime()));
  // The occupancy read with the peaks ends their window: a sampler's last pass may have come before it rose.
  const now = preload.pools.find((x) => x.name === name)?.inUse ?? 0;
  return {
    peak: {
      inUse: Math.max(p.peak, now),
      since: since.toISOString(),
      highWater: Math.max(p.highWater, now),
      highWaterSince: p.sampledSince.toISOString(),
      hz: peaks.hz,
      idleHz: peaks.idleHz,
      coverage: Math.round(peaks.coverage * 1000) / 1000,
    },
  };
}

/** Each thread's ring entries from the preload's sampler, or why there are none. */
export function ringOwners(preload: PreloadReading | undefined, threads: Thread[]): Pick<DpdkProcess, 'ringOwners' | 'ringOwnersWhy'> {
  const why = (ringOwnersWhy: string) => ({ ringOwners: null, ringOwnersWhy });
  if (!preload) return why('needs the preload (libgzmem.so)');
  const peaks = preload.peaks;
  if (peaks?.hz === 0) return why("the preload's peak sampler is off (GZMEM_PEAKS=off)");
  const walk = peaks?.ringOwners;
  if (!walk) return why('this libgzmem.so does not sum ring entries per thread');
  if (walk.errno !== 0) return why(`the preload's sampler could not copy the rings' headers (process_vm_readv: errno ${walk.errno})`);
  if (walk.walks === 0) return why("the preload's sampler has not walked its rings yet");
  const names = new Map(threads.map((t) => [t.tid, t.name]));
  const since = peaks!.since.toISOString();
  return {
    ringOwners: walk.owners.map((o) => ({
      tid: o.tid,
      thread: names.get(o.tid) ?? null,
      rings: o.rings,
      capacity: o.capacity,
      entries: o.inUse,
      peak: o.peak,
      since,
      highWater: o.highWater,
      walkedAt: walk.walkedAt.toISOString(),
      walkPeriodMs: walk.periodMs,
    })),
  };
}

export function buildMempool(
  p: MempoolReading,
  zones: Memzone[],
  readings: OccupancyReading[] = [],
  activeLcores = 1,
  peak: { peak: PoolPeak | null; why?: string } = { peak: null, why: 'needs the preload (libgzmem.so)' },
): Mempool {
  const own = zones.filter((z) => z.owner.kind === 'mempool' && z.owner.name === p.name);
  const objectBytes = p.headerSize + p.eltSize + p.trailerSize;
  const occupancy = reconcileOccupancy(readings, p.cacheSize, activeLcores);
  return {
    name: p.name,
    socket: p.socket,
    size: p.size,
    populated: p.populatedSize,
    cacheSize: p.cacheSize,
    eltBytes: p.eltSize,
    headerBytes: p.headerSize,
    trailerBytes: p.trailerSize,
    privateDataBytes: p.privateDataSize,
    objectBytes,
    objectsBytes: p.size * objectBytes,
    memzoneBytes: own.reduce((s, z) => s + z.lengthBytes, 0),
    memzones: own.map((z) => z.name),
    opsIndex: p.opsIndex,
    occupancy,
    peak: peak.peak,
    ...(peak.why !== undefined ? { peakWhy: peak.why } : {}),
    source: 'telemetry',
  };
}

export function buildHeaps(t: TelemetryReadings): Heap[] {
  return t.heaps.map((h) => ({
    id: h.id,
    name: h.name,
    heapBytes: h.heapBytes,
    allocBytes: h.allocBytes,
    freeBytes: h.freeBytes,
    greatestFreeBytes: h.greatestFreeBytes,
    allocCount: h.allocCount,
    freeCount: h.freeCount,
  }));
}

/** EAL's telemetry v2 listener: `telemetry-v2` up to 22.11, `dpdk-telemet-v2` from 23.11 (see the captures). */
const TELEMETRY_LISTENER = /^(telemetry-v2|dpdk-telemet-v2)$/;

/**
 * The process's threads. EAL serves each telemetry client on a thread of its own that inherits the
 * listener's name; those are not the application's. The newest is gzmem's own connection when gzmem
 * is connected (it is while it reads the threads).
 */
export function buildThreads(p: ProcessReading, connected: boolean): Thread[] {
  const listeners = p.threads
    .filter((t) => TELEMETRY_LISTENER.test(t.name))
    .map((t) => t.tid)
    .sort((a, b) => a - b);
  const clients = listeners.slice(1);
  const ours = connected ? clients.at(-1) : undefined;
  return p.threads.map((t) => ({
    tid: t.tid,
    name: t.name,
    cpu: t.lastCpu ?? null,
    affinity: t.affinity ?? null,
    state: t.state ?? null,
    role: t.tid === ours ? 'gzmem' : clients.includes(t.tid) ? 'telemetry-client' : null,
  }));
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

function known(bytes: number, source: Source): Level {
  return { bytes, source };
}

function unknown(why: string): Level {
  return { bytes: null, source: null, why };
}

/** The EAL option value of `--file-prefix`, from the process's EAL params. */
export function filePrefixFromParams(params: readonly string[]): string | undefined {
  for (let i = 0; i < params.length; i++) {
    const a = params[i]!;
    if (a === '--file-prefix') return params[i + 1];
    if (a.startsWith('--file-prefix=')) return a.slice('--file-prefix='.length);
  }
  return undefined;
}

export function buildWaterfall(p: ProcessReading, t: TelemetryReadings | undefined, pools: Mempool[], telemetryWhy: string): Waterfall {
  const mapped = p.rollupHugetlbBytes ?? p.statusHugetlbBytes;
  const reserved = mapped !== undefined ? known(mapped, 'kernel') : unknown('the kernel reports no hugetlb figure for this process');
  if (!t) {
    return { reserved, heap: unknown(telemetryWhy), allocated: unknown(telemetryWhy), inUse: unknown(telemetryWhy) };
  }
  if (t.unanswered.includes('/eal/heap_list')) {
    const why = `${t.hello.version} does not answer /eal/heap_list`;
    return { reserved, heap: unknown(why), allocated: unknown(why), inUse: unknown(why) };
  }
  const allocated = sum(t.heaps.map((h) => h.allocBytes));
  const blind = pools.filter((m) => m.occupancy === null).map((m) => m.name);
  const inUse =
    blind.length > 0
      ? unknown(`occupancy unknown for ${blind.join(', ')}: ${t.hello.version} telemetry reports pool capacity only`)
      : known(allocated - sum(pools.map((m) => (m.size - m.occupancy!.inUse) * m.objectBytes)), 'derived');
  return {
    reserved,
    heap: known(sum(t.heaps.map((h) => h.heapBytes)), 'telemetry'),
    allocated: known(allocated, 'telemetry'),
    inUse,
  };
}

/** rte_ring_get_memsize for 8-byte entries: the 384-byte header plus the slots, cache-line aligned. */
export function ringBytes(capacity: number): number {
  let size = 1;
  while (size < capacity + 1) size *= 2;
  return Math.ceil((384 + size * 8) / 64) * 64;
}

/** The preload's POSIX call counts, each with its thread's name (tid 0: threads past its slot table). */
export function posixCalls(preload: PreloadReading | undefined, threads: Thread[]): Pick<DpdkProcess, 'posixCalls' | 'posixCallsWhy'> {
  if (!preload) return { posixCalls: null, posixCallsWhy: 'needs the preload (libgzmem.so)' };
  if (!preload.calls) return { posixCalls: null, posixCallsWhy: 'this libgzmem.so does not count calls' };
  if (!preload.calls.counting) return { posixCalls: null, posixCallsWhy: 'counting is off in the process (GZMEM_CALLS=off)' };
  const names = new Map(threads.map((x) => [x.tid, x.role === 'gzmem' ? `${x.name} (serving gzmem)` : x.name]));
  const latency = new Map<string, { leNs: number | null; count: number }[]>();
  for (const l of preload.calls.latency ?? []) {
    const key = `${l.tid}/${l.call}`;
    latency.set(key, [...(latency.get(key) ?? []), { leNs: l.leNs, count: l.count }]);
  }
  return {
    posixCalls: preload.calls.rows.map((r) => ({
      ...r,
      ...(preload.calls!.latency ? { latency: latency.get(`${r.tid}/${r.call}`) ?? [] } : {}),
      // An exited thread keeps its counts and loses its name.
      thread: r.tid === 0 ? 'other threads' : (names.get(r.tid) ?? null),
    })),
  };
}

/** Rings from the preload's registry (all of them) and the attach reader (memzone rings), merged by name. */
export function buildRings(preload: PreloadReading | undefined, attach: AttachReading | undefined, zones: Memzone[]): Ring[] {
  const zoneNames = new Set(zones.map((z) => z.name));
  const rings = new Map<string, Ring>();
  const ring = (
    r: { name: string; capacity: number; count: number; address: string },
    from: Pick<Ring, 'creatorTid' | 'memzone' | 'source'>,
  ): Ring => ({
    name: r.name,
    capacity: r.capacity,
    count: r.count,
    bytes: ringBytes(r.capacity),
    address: r.address,
    ...from,
    checks: [],
  });
  for (const r of preload?.rings ?? []) {
    rings.set(
      r.name,
      ring(r, { creatorTid: r.creatorTid, memzone: zoneNames.has(`RG_${r.name}`) ? `RG_${r.name}` : null, source: 'preload' }),
    );
  }
  for (const r of attach?.rings ?? []) {
    const known = rings.get(r.name);
    if (known) known.checks.push({ source: 'attach', count: r.count });
    else rings.set(r.name, ring(r, { creatorTid: null, memzone: `RG_${r.name}`, source: 'attach' }));
  }
  return [...rings.values()];
}

export function buildEthdevs(t: TelemetryReadings): EthdevPort[] {
  return t.ethdevs.map((e) => ({
    port: e.port,
    name: e.name,
    rxQueues: e.rxQueues,
    txQueues: e.txQueues,
    rxDescriptors: null,
    txDescriptors: null,
    mbufPools: null,
    // No version of the matrix reports queue descriptors or the pool a queue draws from in telemetry.
    queuesWhy: `${t.hello.version} telemetry reports neither descriptor counts nor the pools queues draw from`,
    rxNombuf: e.rxNombuf ?? null,
    started: e.started,
    socket: e.socket,
    mtu: e.mtu,
  }));
}

/**
 * A sampler carries a ring list over between samples (thousands of rings under gazelle): the rings
 * built from it are kept with it, and built again only when the list or the memzones are read again.
 */
const builtRings = new WeakMap<PreloadRing[], { memzones: MemzoneReading[] | undefined; rings: Ring[] }>();

function ringsOfListing(preload: PreloadReading | undefined, zoneReadings: MemzoneReading[] | undefined, zones: Memzone[]): Ring[] {
  if (!preload) return [];
  const kept = builtRings.get(preload.rings);
  if (kept && kept.memzones === zoneReadings) return kept.rings;
  const rings = buildRings(preload, undefined, zones);
  builtRings.set(preload.rings, { memzones: zoneReadings, rings });
  return rings;
}

export interface ProcessInput {
  process: ProcessReading;
  telemetry?: TelemetryReadings;
  preload?: PreloadReading;
  attach?: AttachReading;
  /** Why the attach reader gave nothing, when it was tried. */
  attachError?: string;
  /** Occupancy from elsewhere (gazellectl), by pool name. */
  extraOccupancy?: Map<string, OccupancyReading>;
  /** Why telemetry is absent, when it is. */
  telemetryError?: string;
  socketPath?: string;
  socketPrefix?: string;
}

function buildMempools(input: ProcessInput, memzones: Memzone[]): Mempool[] {
  const { preload, attach } = input;
  return (input.telemetry?.mempools ?? []).map((m) => {
    const readings = occupancyReadings(m, preload, attach);
    const extra = input.extraOccupancy?.get(m.name);
    return buildMempool(
      m,
      memzones,
      extra ? [...readings, extra] : readings,
      attach?.pools.find((a) => a.name === m.name)?.cacheLens.length ?? 1,
      poolPeak(m.name, preload),
    );
  });
}

/**
 * `built` (made by buildProcess from `input`) with its pools and the figures that derive from them
 * rebuilt from another reading of the same pools (a sub-sample's): the rest, read together with
 * the pools, is as `built` has it, alerts included.
 */
export function withPoolsOf(built: DpdkProcess, input: ProcessInput): DpdkProcess {
  const mempools = buildMempools(input, built.memzones);
  return {
    ...built,
    mempools,
    waterfall: buildWaterfall(input.process, input.telemetry, mempools, input.telemetryError ?? 'no telemetry socket'),
  };
}

export function buildProcess(input: ProcessInput): DpdkProcess {
  const { process: p, telemetry: t } = input;
  const telemetryWhy = input.telemetryError ?? 'no telemetry socket';
  const poolNames = t?.mempools.map((m) => m.name) ?? [];
  const memzones = t ? buildMemzones(t.memzones, poolNames) : [];
  const { preload, attach } = input;
  const mempools = buildMempools(input, memzones);
  const waterfall = buildWaterfall(p, t, mempools, telemetryWhy);
  const byPage = new Map<number, number>();
  const byNode = new Map<number, number>();
  for (const m of p.numa) {
    for (const [node, pages] of Object.entries(m.pagesByNode)) {
      byNode.set(Number(node), (byNode.get(Number(node)) ?? 0) + pages * m.pageBytes);
      byPage.set(m.pageBytes, (byPage.get(m.pageBytes) ?? 0) + pages * m.pageBytes);
    }
  }
  const warnings: string[] = [
    ...(t?.truncated.map((c) => `${c} reached the telemetry array cap; some entries are not shown`) ?? []),
    ...(t?.notAsked ?? []),
  ];
  const coverage = preload?.peaks?.coverage;
  if (coverage !== undefined && coverage < PEAK_COVERAGE_WARNING && preload!.peaks!.hz > 0)
    warnings.push(
      `the preload's peak sampler made ${Math.round(coverage * 100)} % of its passes (kept off the CPU): a burst may have been missed`,
    );
  const walk = preload?.peaks?.ringOwners;
  if (walk && walk.total > walk.owners.length)
    warnings.push(`rings have ${walk.total} creating threads; the entries of the first ${walk.owners.length} are shown`);
  if (walk?.untrackedRings)
    warnings.push(`the preload's sampler sums the rings of 64 threads: ${walk.untrackedRings} rings of others are left out`);
  if (preload?.ringsDropped) warnings.push(`the preload's ring registry is full: ${preload.ringsDropped} rings are not listed`);
  for (const m of mempools) {
    if (m.occupancy?.agrees === false) {
      const readings = [m.occupancy, ...m.occupancy.checks].map((c) => `${c.source} ${c.inUse}`).join(', ');
      warnings.push(`${m.name}: sources disagree on objects in use: ${readings} (tolerance ${m.occupancy.tolerance})`);
    }
  }
  if (t?.params.includes('--no-huge')) warnings.push('runs with --no-huge: its heap is ordinary memory, not hugepages');
  const threads = buildThreads(p, t !== undefined);
  const built: Omit<DpdkProcess, 'alerts'> = {
    pid: p.pid,
    command: p.comm,
    cmdline: p.cmdline,
    filePrefix: (t ? filePrefixFromParams(t.params) : undefined) ?? input.socketPrefix ?? null,
    telemetrySocket: input.socketPath ?? null,
    dpdkVersion: t?.hello.version ?? null,
    ealParams: t?.params ?? [],
    waterfall,
    hugetlb: {
      byPageSize: [...byPage].sort((a, b) => a[0] - b[0]).map(([pageBytes, bytes]) => ({ pageBytes, bytes })),
      byNode: [...byNode].sort((a, b) => a[0] - b[0]).map(([node, bytes]) => ({ node, bytes })),
      statusBytes: p.statusHugetlbBytes ?? null,
      mappings: p.numa.length,
    },
    heaps: t ? buildHeaps(t) : [],
    memzones,
    mempools,
    ethdevs: t ? buildEthdevs(t) : [],
    rings: attach === undefined ? ringsOfListing(preload, t?.memzones, memzones) : buildRings(preload, attach, memzones),
    unattributed: unattributed(t, memzones, telemetryWhy),
    threads,
    ...posixCalls(preload, threads),
    ...ringOwners(preload, threads),
    carriedOver: [
      ...(p.mappingsCarriedOver && p.mappingsReadAt
        ? [{ part: 'hugetlb mappings (smaps_rollup, numa_maps): HugetlbPages unchanged since', readAt: p.mappingsReadAt.toISOString() }]
        : []),
      ...(p.threadsReadAt
        ? [{ part: 'threads (names, states, last CPUs): a sampler reads them once a second', readAt: p.threadsReadAt.toISOString() }]
        : []),
      ...(preload?.ringsCarriedOver
        ? [{ part: 'ring list (preload registry): no ring created or freed since', readAt: preload.ringsReadAt.toISOString() }]
        : []),
      ...(attach?.mapsReadAt
        ? [{ part: "attach reader's hugepage ranges (maps): hugetlb mappings unchanged since", readAt: attach.mapsReadAt.toISOString() }]
        : []),
      ...(preload?.callsReadAt
        ? [{ part: 'POSIX call counts (preload): a sampler reads them once a second', readAt: preload.callsReadAt.toISOString() }]
        : []),
      ...(t?.carriedOver
        ? [
            {
              part: 'memzones, pool geometry, EAL parameters, port info (telemetry): heap allocation counts unchanged since',
              readAt: t.listedAt.toISOString(),
            },
          ]
        : []),
    ],
    sources: [
      { name: 'kernel', ok: true },
      t
        ? { name: 'telemetry', ok: true, ...(t.unanswered.length ? { detail: `no reply (null) to ${t.unanswered.join(', ')}` } : {}) }
        : { name: 'telemetry', ok: false, detail: telemetryWhy },
      preload ? { name: 'preload', ok: true } : { name: 'preload', ok: false, detail: 'libgzmem.so is not loaded in this process' },
      attach
        ? {
            name: 'attach',
            ok: true,
            ...(attach.refused.length ? { detail: attach.refused.map((r) => `${r.name}: ${r.why}`).join('; ') } : {}),
          }
        : { name: 'attach', ok: false, detail: input.attachError ?? 'not tried' },
    ],
    warnings,
  };
  return { ...built, alerts: exhaustionAlerts(built) };
}

/** Heap allocations that belong to no memzone (rte_malloc): unknown unless both lists were answered. */
function unattributed(t: TelemetryReadings | undefined, memzones: Memzone[], telemetryWhy: string): Level {
  if (!t) return unknown(telemetryWhy);
  const missing = t.unanswered.filter((c) => c === '/eal/heap_list' || c === '/eal/memzone_list');
  if (missing.length) return unknown(`${t.hello.version} does not answer ${missing.join(' or ')}`);
  return known(sum(t.heaps.map((h) => h.allocBytes)) - sum(memzones.map((z) => z.lengthBytes)), 'derived');
}

/** Files that no live process maps or holds open, grouped by mount and EAL prefix. */
export function findOrphans(files: HugetlbfsFile[], users: Map<string, Set<number>>): Orphan[] {
  const usedPrefixes = new Set(files.filter((f) => users.has(f.path)).map((f) => `${f.mount}\0${f.prefix ?? ''}`));
  const groups = new Map<string, HugetlbfsFile[]>();
  for (const f of files) {
    if (users.has(f.path)) continue;
    const key = `${f.mount}\0${f.prefix ?? ''}`;
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  }
  return [...groups].map(([key, group]) => {
    const first = group[0]!;
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    // A glob only where no live process shares the prefix, else the exact files.
    const removeCommand =
      first.prefix !== undefined && !usedPrefixes.has(key)
        ? `rm -f ${quote(first.mount.replace(/\/$/, ''))}/${quote(first.prefix)}map_*`
        : `rm -f ${group.map((f) => quote(f.path)).join(' ')}`;
    return { prefix: first.prefix ?? null, files: group.length, bytes: sum(group.map((f) => f.bytes)), mount: first.mount, removeCommand };
  });
}
