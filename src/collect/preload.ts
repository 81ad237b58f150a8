// Reads the telemetry commands that libgzmem.so (native/libgzmem.c) adds to a DPDK process:
// exact mempool occupancy and the registry of every ring, paginated under the 16 KiB reply cap.

import type { TelemetryConnection } from './telemetry-socket.js';
import type { InProcessCounters } from './telemetry.js';
import { isRecord } from './telemetry-socket.js';
import { ProtocolError, TargetGoneError } from '../errors.js';

export interface PreloadPool {
  name: string;
  size: number;
  avail: number;
  inUse: number;
  common: number;
  cache: number;
  cacheSize: number;
}

export interface PreloadRing {
  name: string;
  capacity: number;
  count: number;
  creatorTid: number;
  flags: number;
  address: string;
}

/** What the preload's peak sampler saw of one pool. */
export interface PreloadPeak {
  /** Highest in use since this reader's previous read (or since the sampler started, at its first). */
  peak: number;
  /** Highest in use since the sampler first read the pool (`sampledSince`). */
  highWater: number;
  sampledSince: Date;
}

/** The entries of one thread's rings outside memzones, summed by the sampler's walk of the registry. */
export interface PreloadRingOwner {
  tid: number;
  rings: number;
  capacity: number;
  inUse: number;
  /** Highest at the walks since this reader's previous read (or since the sampler started). */
  peak: number;
  highWater: number;
}

export interface PreloadRingOwners {
  /** Walks since the sampler started; 0: none yet, and nothing below is known. */
  walks: number;
  walkedAt: Date;
  /** Time between two walks. */
  periodMs: number;
  /** The first owners, as many as one reply holds; `total` counts them all. */
  owners: PreloadRingOwner[];
  total: number;
  /** Rings of owners beyond the sampler's table, left out of every sum. */
  untrackedRings: number;
  /** Why the last walk could not copy the rings' headers (an errno); 0 when it could. */
  errno: number;
}

export interface PreloadPeaks {
  /** The sampler's full rate; 0 when it is off (GZMEM_PEAKS=off). */
  hz: number;
  /** Its rate while no pool fills (the full rate for a preload that has no other). */
  idleHz: number;
  /** Start of the window `peak` covers. */
  since: Date;
  /** Passes the sampler made in the window against those due (1: none missed). */
  coverage: number;
  pools: Map<string, PreloadPeak>;
  /** Undefined for a preload that does not walk the rings. */
  ringOwners?: PreloadRingOwners;
}

/** One thread's count of one POSIX call (tid 0: threads past the preload's slot table, together). */
export interface PreloadCallCount {
  tid: number;
  call: string;
  calls: number;
  errors: number;
}

/** How many calls took less than `leNs` (null: the open last bucket, 4.2 ms and more). */
export interface PreloadLatency {
  tid: number;
  call: string;
  leNs: number | null;
  count: number;
}

export interface PreloadCalls {
  /** False when the process runs with GZMEM_CALLS=off. */
  counting: boolean;
  rows: PreloadCallCount[];
  /** With GZMEM_CALLS_LATENCY=on: each call's times in log2 buckets. */
  latency?: PreloadLatency[];
}

export interface PreloadReading {
  version: number;
  /** Undefined for a preload without the call counters. */
  calls?: PreloadCalls;
  /** Set when the counts were read at an earlier sample (see CallsCache). */
  callsReadAt?: Date;
  pools: PreloadPool[];
  /** Socket heaps and port counters read in-process, so a steady sample need not ask telemetry. */
  heaps: PreloadHeap[];
  ports: PreloadPortStats[];
  /** Undefined for a preload without the peak sampler. */
  peaks?: PreloadPeaks;
  rings: PreloadRing[];
  ringsDropped: number;
  ringsStale: number;
  /** When the ring list was read, and whether at an earlier sample (see RingsCache). */
  ringsReadAt: Date;
  ringsCarriedOver: boolean;
  /** Rows the sampler took for this reader since its previous read, when it asked for them. */
  subsamples?: PreloadSubsamples;
}

/** One pool in one row of the sampler's sub-samples. */
export interface PreloadSubsamplePool {
  inUse: number;
  /** Objects in the common pool (the rest of the free ones sit in the lcores' caches). */
  common: number;
  /** Highest in use since the previous row (or this reader's previous read). */
  peak: number;
}

/** The pools as one pass of the sampler left them: those of the first 64 slots it had sampled. */
export interface PreloadSubsample {
  at: Date;
  pools: Map<string, PreloadSubsamplePool>;
}

export interface PreloadSubsamples {
  everyMs: number;
  /** Rows the sampler overwrote before they were read (it keeps 64 per reader). */
  dropped: number;
  rows: PreloadSubsample[];
}

/** A process's ring list as last read, with the registry's generation then (it counts every add and removal). */
export interface RingsListing {
  generation: number;
  rings: PreloadRing[];
  readAt: Date;
}

/**
 * Kept by a sampler, by pid. Listing every ring costs per ring, in gzmem and in the target's
 * telemetry thread; between listings the counts of rings change, the set of rings shows in the
 * registry's generation. So a sampler lists again when it changes, or after RINGS_MAX_AGE_MS.
 */
export type RingsCache = Map<number, RingsListing>;
export const RINGS_MAX_AGE_MS = 10_000;

/** Pages are walked until `next` is -1; a bound stops a server that never says so. */
const MAX_PAGES = 10000;

function column<T>(page: Record<string, unknown>, key: string, length: number, check: (v: unknown) => v is T, what: string): T[] {
  const v = page[key];
  if (!Array.isArray(v) || v.length !== length || !v.every(check)) throw new ProtocolError(`malformed ${what} page: column ${key}`);
  return v as T[];
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

async function pages(
  conn: TelemetryConnection,
  command: string,
  onPage: (page: Record<string, unknown>, n: number) => void,
  first = 0,
  nameKey = 'name',
): Promise<void> {
  let start = first;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await conn.cmd(`${command},${start}`);
    if (!isRecord(page) || !isNum(page.next) || !isNum(page.total)) throw new ProtocolError(`malformed reply to ${command},${start}`);
    const names = page[nameKey];
    const n = Array.isArray(names) ? names.length : 0;
    onPage(page, n);
    if (page.next === -1) return;
    if (page.next <= start) throw new ProtocolError(`${command} does not advance (next ${page.next} after ${start})`);
    start = page.next;
  }
  throw new ProtocolError(`${command}: more than ${MAX_PAGES} pages`);
}

/** Columns of a page, or of a prefixed part of /gzmem/sample ("pool_", "peak_"). */
function rows(page: Record<string, unknown>, what: string, nameKey: string, keys: string[]): { names: string[]; cols: number[][] } {
  const n = Array.isArray(page[nameKey]) ? (page[nameKey] as unknown[]).length : 0;
  return { names: column(page, nameKey, n, isStr, what), cols: keys.map((k) => column(page, k, n, isNum, what)) };
}

function addPools(pools: PreloadPool[], page: Record<string, unknown>, what: string, prefix: string): void {
  const keys = ['size', 'avail', 'in_use', 'common', 'cache', 'cache_size'].map((k) => `${prefix}${k}`);
  const { names, cols } = rows(page, what, `${prefix}name`, keys);
  names.forEach((name, i) => {
    const [size, avail, inUse, common, cache, cacheSize] = cols.map((c) => c[i]!) as [number, number, number, number, number, number];
    pools.push({ name, size, avail, inUse, common, cache, cacheSize });
  });
}

/** The socket heaps as the preload reads them in-process (what /eal/heap_info reports). */
type PreloadHeap = InProcessCounters['heaps'][number];

type PreloadPortStats = InProcessCounters['ports'][number];

/**
 * undefined when the process has no preload (the command is unknown: null reply). One command,
 * /gzmem/sample, brings counters, pools, heaps, port counters and peaks; more pages only when a
 * process has more than 32 pools, and the ring list only when the registry changed.
 */
export async function readPreload(
  conn: TelemetryConnection,
  cache?: RingsCache,
  now = new Date(),
  callsCache?: CallsCache,
  subsampleMs?: number,
): Promise<PreloadReading | undefined> {
  const sample = await conn.cmd(`/gzmem/sample,${process.pid}`);
  if (sample === null) return undefined;
  // rte_eal_cleanup has begun: nothing more may be asked (DPDK's own commands crash in its unmapping).
  if (isRecord(sample) && sample.closing === 1)
    throw new TargetGoneError(`process ${conn.hello.pid} is exiting (rte_eal_cleanup has begun)`);
  const what = '/gzmem/sample';
  if (!isRecord(sample) || !isNum(sample.version) || !isNum(sample.pool_next)) throw new ProtocolError(`malformed reply to ${what}`);
  const pools: PreloadPool[] = [];
  addPools(pools, sample, what, 'pool_');
  if (sample.pool_next !== -1) await pages(conn, '/gzmem/mempools', (p) => addPools(pools, p, '/gzmem/mempools', ''), sample.pool_next);
  const generation = isNum(sample.rings_generation) ? sample.rings_generation : -1;
  const prior = cache?.get(conn.hello.pid);
  const listing =
    prior && generation >= 0 && prior.generation === generation && now.getTime() - prior.readAt.getTime() <= RINGS_MAX_AGE_MS
      ? prior
      : { generation, rings: await readRings(conn), readAt: now };
  cache?.set(conn.hello.pid, listing);
  const subsamples = subsampleMs ? await readSubsamples(conn, subsampleMs) : undefined;
  return {
    version: sample.version,
    pools,
    heaps: numberRows(sample, what, [
      'heap_socket',
      'heap_size',
      'heap_free',
      'heap_alloc',
      'heap_greatest_free',
      'heap_alloc_count',
      'heap_free_count',
    ]).map(([socket, heapBytes, freeBytes, allocBytes, greatestFreeBytes, allocCount, freeCount]) => ({
      socket: socket!,
      heapBytes: heapBytes!,
      freeBytes: freeBytes!,
      allocBytes: allocBytes!,
      greatestFreeBytes: greatestFreeBytes!,
      allocCount: allocCount!,
      freeCount: freeCount!,
    })),
    ports: numberRows(sample, what, ['port', 'port_rx_nombuf', 'port_ipackets', 'port_opackets']).map(
      ([port, rxNombuf, ipackets, opackets]) => ({
        port: port!,
        rxNombuf: rxNombuf!,
        ipackets: ipackets!,
        opackets: opackets!,
      }),
    ),
    peaks: await readPeaks(conn, sample),
    ...(callsInSample(sample) ?? (await callsOf(conn, callsCache, now))),
    rings: listing.rings,
    ringsDropped: isNum(sample.rings_dropped) ? sample.rings_dropped : 0,
    ringsStale: isNum(sample.rings_stale) ? sample.rings_stale : 0,
    ringsReadAt: listing.readAt,
    ringsCarriedOver: listing === prior,
    ...(subsamples ? { subsamples } : {}),
  };
}

/** What a sub-sample row holds for a pool the sampler had not sampled at that time. */
const SUB_UNKNOWN = 2 ** 32 - 1;
/** A reader's sampler keeps 64 rows: a few replies at most bring them all. */
const MAX_SUBSAMPLE_REPLIES = 64;

/**
 * The rows the preload's sampler took since this reader's previous call, and one every `everyMs`
 * from now on. Undefined from a preload without the command or with its sampler off.
 */
export async function readSubsamples(conn: TelemetryConnection, everyMs: number): Promise<PreloadSubsamples | undefined> {
  const what = '/gzmem/subsamples';
  const out: PreloadSubsamples = { everyMs: 0, dropped: 0, rows: [] };
  for (let i = 0; i < MAX_SUBSAMPLE_REPLIES; i++) {
    const reply = await conn.cmd(`${what},${process.pid},${Math.round(everyMs)}`);
    if (reply === null) return undefined;
    if (!isRecord(reply) || !isNum(reply.hz)) throw new ProtocolError(`malformed reply to ${what}`);
    if (reply.hz === 0) return undefined;
    if (!isNum(reply.every_ms) || !isNum(reply.dropped) || !isNum(reply.more)) throw new ProtocolError(`malformed reply to ${what}`);
    const names = column(reply, 'names', Array.isArray(reply.names) ? reply.names.length : 0, isStr, what);
    const times = column(reply, 't_ns', Array.isArray(reply.t_ns) ? reply.t_ns.length : 0, isNum, what);
    const [inUse, common, peak] = ['in_use', 'common', 'peak'].map((k) => column(reply, k, names.length * times.length, isNum, what));
    times.forEach((t, row) => {
      const pools = new Map<string, PreloadSubsamplePool>();
      names.forEach((name, j) => {
        const at = row * names.length + j;
        if (inUse![at] !== SUB_UNKNOWN) pools.set(name, { inUse: inUse![at]!, common: common![at]!, peak: peak![at]! });
      });
      out.rows.push({ at: new Date(t / 1e6), pools });
    });
    out.everyMs = reply.every_ms;
    out.dropped += reply.dropped;
    if (reply.more !== 1) return out;
  }
  throw new ProtocolError(`${what}: more than ${MAX_SUBSAMPLE_REPLIES} replies`);
}

/**
 * Kept by a sampler, by pid: the call counts as last read. They change with every call, so a
 * sampler reads them at most once a second (what a rate needs) rather than at every tick.
 */
export type CallsCache = Map<number, { readAt: Date; calls?: PreloadCalls }>;
export const CALLS_MAX_AGE_MS = 1000;

async function callsOf(
  conn: TelemetryConnection,
  cache: CallsCache | undefined,
  now: Date,
): Promise<{ calls?: PreloadCalls; callsReadAt?: Date }> {
  const kept = cache?.get(conn.hello.pid);
  if (kept && now.getTime() - kept.readAt.getTime() < CALLS_MAX_AGE_MS)
    return kept.calls ? { calls: kept.calls, callsReadAt: kept.readAt } : {};
  const read = await readCalls(conn);
  cache?.set(conn.hello.pid, { readAt: now, ...read });
  return read;
}

/** Rows of call counts: a /gzmem/calls page (no prefix), or their part of /gzmem/sample ("call_"). */
function callCounts(page: Record<string, unknown>, what: string, prefix: string, nameKey: string): PreloadCallCount[] {
  const { names, cols } = rows(
    page,
    what,
    nameKey,
    ['tid', 'calls', 'errors'].map((k) => `${prefix}${k}`),
  );
  return names.map((call, i) => ({ call, tid: cols[0]![i]!, calls: cols[1]![i]!, errors: cols[2]![i]! }));
}

/**
 * The call counts /gzmem/sample brings (keys call_*, calls_*) when they all fit and no times are
 * kept; undefined sends the reader to /gzmem/calls (older preloads, many threads, latency on).
 */
function callsInSample(sample: Record<string, unknown>): { calls: PreloadCalls } | undefined {
  if (!isNum(sample.calls_counting) || sample.calls_next !== -1 || sample.calls_latency === 1) return undefined;
  return { calls: { counting: sample.calls_counting === 1, rows: callCounts(sample, '/gzmem/sample', 'call_', 'call_name') } };
}

/** /gzmem/calls, every page; nothing from a preload that does not count calls. */
async function readCalls(conn: TelemetryConnection): Promise<{ calls?: PreloadCalls }> {
  const first = await conn.cmd('/gzmem/calls,0');
  if (first === null) return {};
  const what = '/gzmem/calls';
  if (!isRecord(first) || !isNum(first.counting)) throw new ProtocolError(`malformed reply to ${what}`);
  const counts: PreloadCallCount[] = [];
  const add = (page: Record<string, unknown>) => counts.push(...callCounts(page, what, '', 'call'));
  add(first);
  if (isNum(first.next) && first.next !== -1) await pages(conn, '/gzmem/calls', add, first.next, 'call');
  if (first.latency !== 1) return { calls: { counting: first.counting === 1, rows: counts } };
  const latency: PreloadLatency[] = [];
  await pages(
    conn,
    '/gzmem/latency',
    (page) => {
      const { names, cols } = rows(page, '/gzmem/latency', 'call', ['tid', 'le_ns', 'count']);
      names.forEach((call, i) => latency.push({ call, tid: cols[0]![i]!, leNs: cols[1]![i]! || null, count: cols[2]![i]! }));
    },
    0,
    'call',
  );
  return { calls: { counting: first.counting === 1, rows: counts, latency } };
}

/** Rows of numeric columns (the first names the row count). */
function numberRows(page: Record<string, unknown>, what: string, keys: string[]): number[][] {
  const n = Array.isArray(page[keys[0]!]) ? (page[keys[0]!] as unknown[]).length : 0;
  const cols = keys.map((k) => column(page, k, n, isNum, what));
  return Array.from({ length: n }, (_, i) => cols.map((c) => c[i]!));
}

/**
 * Each reader has its own window: gzmem reads as its own pid, so a recorder's windows are the
 * intervals between its samples, whatever else reads the same process. The first page comes in
 * /gzmem/sample (keys "peak_..."), further ones from /gzmem/peaks.
 */
async function readPeaks(conn: TelemetryConnection, sample: Record<string, unknown>): Promise<PreloadPeaks> {
  const what = '/gzmem/sample';
  const hz = sample.peak_hz;
  if (!isNum(hz)) throw new ProtocolError(`malformed reply to ${what}: peak_hz`);
  const since = isNum(sample.peak_since_ns) ? new Date(sample.peak_since_ns / 1e6) : new Date(0);
  const idleHz = isNum(sample.peak_idle_hz) ? sample.peak_idle_hz : hz;
  const coverage = peakCoverage(sample, hz);
  const pools = new Map<string, PreloadPeak>();
  if (hz === 0) return { hz: 0, idleHz: 0, since, coverage, pools };
  const add = (page: Record<string, unknown>, source: string, keys: [string, string, string, string]) => {
    const { names, cols } = rows(page, source, keys[0], keys.slice(1));
    names.forEach((name, j) =>
      pools.set(name, { peak: cols[0]![j]!, highWater: cols[1]![j]!, sampledSince: new Date(cols[2]![j]! / 1e6) }),
    );
  };
  add(sample, what, ['peak_name', 'peak', 'peak_hwm', 'peak_sampled_since_ns']);
  if (!isNum(sample.peak_next)) throw new ProtocolError(`malformed reply to ${what}: peak_next`);
  if (sample.peak_next !== -1) {
    await pages(
      conn,
      `/gzmem/peaks,${process.pid}`,
      (p) => add(p, '/gzmem/peaks', ['name', 'peak', 'hwm', 'sampled_since_ns']),
      sample.peak_next,
    );
  }
  const ringOwners = readRingOwners(sample, what);
  return { hz, idleHz, since, coverage, pools, ...(ringOwners ? { ringOwners } : {}) };
}

/**
 * Passes made against passes due: a sampler that changes its rate says how many were due; an older
 * one ran at `hz` all the time.
 */
function peakCoverage(sample: Record<string, unknown>, hz: number): number {
  if (!isNum(sample.peak_passes)) return 1;
  if (isNum(sample.peak_due)) return sample.peak_due > 0 ? Math.min(1, sample.peak_passes / sample.peak_due) : 1;
  const seconds = isNum(sample.peak_now_ns) && isNum(sample.peak_since_ns) ? (sample.peak_now_ns - sample.peak_since_ns) / 1e9 : 0;
  return hz > 0 && seconds > 0 ? Math.min(1, sample.peak_passes / (hz * seconds)) : 1;
}

function readRingOwners(sample: Record<string, unknown>, what: string): PreloadRingOwners | undefined {
  if (!isNum(sample.ring_walks)) return undefined;
  const { ring_walk_ns: walkedNs, ring_walk_period_ns: periodNs, ring_owner_total: total, ring_owner_untracked_rings: untracked } = sample;
  if (!isNum(walkedNs) || !isNum(periodNs) || !isNum(total) || !isNum(untracked)) {
    throw new ProtocolError(
      `malformed reply to ${what}: ring_walk_ns, ring_walk_period_ns, ring_owner_total or ring_owner_untracked_rings`,
    );
  }
  const cols = numberRows(
    sample,
    what,
    ['tid', 'rings', 'capacity', 'in_use', 'peak', 'hwm'].map((k) => `ring_owner_${k}`),
  );
  const owners = cols.map(([tid, rings, capacity, inUse, peak, highWater]) => ({
    tid: tid!,
    rings: rings!,
    capacity: capacity!,
    inUse: inUse!,
    peak: peak!,
    highWater: highWater!,
  }));
  return {
    walks: sample.ring_walks,
    errno: isNum(sample.ring_walk_errno) ? sample.ring_walk_errno : 0,
    walkedAt: new Date(walkedNs / 1e6),
    periodMs: periodNs / 1e6,
    owners,
    total,
    untrackedRings: untracked,
  };
}

async function readRings(conn: TelemetryConnection): Promise<PreloadRing[]> {
  const rings: PreloadRing[] = [];
  await pages(conn, '/gzmem/rings', (p, n) => {
    const name = column(p, 'name', n, isStr, '/gzmem/rings');
    const address = column(p, 'addr', n, isStr, '/gzmem/rings');
    const [capacity, count, tid, flags] = ['capacity', 'count', 'tid', 'flags'].map((k) => column(p, k, n, isNum, '/gzmem/rings'));
    for (let i = 0; i < n; i++) {
      rings.push({
        name: name[i]!,
        capacity: capacity![i]!,
        count: count![i]!,
        creatorTid: tid![i]!,
        flags: flags![i]!,
        address: address[i]!,
      });
    }
  });
  return rings;
}
