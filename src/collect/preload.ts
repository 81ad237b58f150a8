// Reads the telemetry commands that libgzmem.so (native/libgzmem.c) adds to a DPDK process:
// exact mempool occupancy and the registry of every ring, paginated under the 16 KiB reply cap.

import type { TelemetryConnection } from './telemetry-socket.js';
import { isRecord } from './telemetry-socket.js';
import { ProtocolError } from '../errors.js';

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

export interface PreloadPeaks {
  /** The sampler's rate; 0 when it is off (GZMEM_PEAKS=off). */
  hz: number;
  /** Start of the window `peak` covers. */
  since: Date;
  /** Passes the sampler made in the window against `hz` times its length (1: none missed). */
  coverage: number;
  pools: Map<string, PreloadPeak>;
}

export interface PreloadReading {
  version: number;
  pools: PreloadPool[];
  /** Undefined for a preload without the peak sampler. */
  peaks?: PreloadPeaks;
  rings: PreloadRing[];
  ringsDropped: number;
  ringsStale: number;
  /** When the ring list was read, and whether at an earlier sample (see RingsCache). */
  ringsReadAt: Date;
  ringsCarriedOver: boolean;
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
): Promise<void> {
  let start = 0;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await conn.cmd(`${command},${start}`);
    if (!isRecord(page) || !isNum(page.next) || !isNum(page.total)) throw new ProtocolError(`malformed reply to ${command},${start}`);
    const names = page.name;
    const n = Array.isArray(names) ? names.length : 0;
    onPage(page, n);
    if (page.next === -1) return;
    if (page.next <= start) throw new ProtocolError(`${command} does not advance (next ${page.next} after ${start})`);
    start = page.next;
  }
  throw new ProtocolError(`${command}: more than ${MAX_PAGES} pages`);
}

/** undefined when the process has no preload (the command is unknown: null reply). */
export async function readPreload(conn: TelemetryConnection, cache?: RingsCache, now = new Date()): Promise<PreloadReading | undefined> {
  const info = await conn.cmd('/gzmem/info');
  if (info === null) return undefined;
  if (!isRecord(info) || !isNum(info.version)) throw new ProtocolError('malformed reply to /gzmem/info');
  const pools: PreloadPool[] = [];
  await pages(conn, '/gzmem/mempools', (p, n) => {
    const name = column(p, 'name', n, isStr, '/gzmem/mempools');
    const cols = ['size', 'avail', 'in_use', 'common', 'cache', 'cache_size'].map((k) => column(p, k, n, isNum, '/gzmem/mempools'));
    for (let i = 0; i < n; i++) {
      const [size, avail, inUse, common, cache, cacheSize] = cols.map((c) => c[i]!) as [number, number, number, number, number, number];
      pools.push({ name: name[i]!, size, avail, inUse, common, cache, cacheSize });
    }
  });
  const generation = isNum(info.rings_generation) ? info.rings_generation : -1;
  const prior = cache?.get(conn.hello.pid);
  const listing =
    prior && generation >= 0 && prior.generation === generation && now.getTime() - prior.readAt.getTime() <= RINGS_MAX_AGE_MS
      ? prior
      : { generation, rings: await readRings(conn), readAt: now };
  cache?.set(conn.hello.pid, listing);
  const peaks = await readPeaks(conn);
  return {
    version: info.version,
    pools,
    ...(peaks ? { peaks } : {}),
    rings: listing.rings,
    ringsDropped: isNum(info.rings_dropped) ? info.rings_dropped : 0,
    ringsStale: isNum(info.rings_stale) ? info.rings_stale : 0,
    ringsReadAt: listing.readAt,
    ringsCarriedOver: listing === prior,
  };
}

/**
 * Each reader has its own window: gzmem reads as its own pid, so a recorder's windows are the
 * intervals between its samples, whatever else reads the same process.
 */
async function readPeaks(conn: TelemetryConnection): Promise<PreloadPeaks | undefined> {
  const first = await conn.cmd(`/gzmem/peaks,${process.pid}`);
  if (first === null) return undefined;
  if (!isRecord(first) || !isNum(first.hz)) throw new ProtocolError('malformed reply to /gzmem/peaks');
  const since = isNum(first.since_ns) ? new Date(first.since_ns / 1e6) : new Date(0);
  const pools = new Map<string, PreloadPeak>();
  const seconds = isNum(first.now_ns) && isNum(first.since_ns) ? (first.now_ns - first.since_ns) / 1e9 : 0;
  const coverage = first.hz > 0 && seconds > 0 && isNum(first.passes) ? Math.min(1, first.passes / (first.hz * seconds)) : 1;
  if (first.hz === 0) return { hz: 0, since, coverage, pools };
  let page: unknown = first;
  for (let i = 0; i < MAX_PAGES; i++) {
    if (!isRecord(page) || !isNum(page.next)) throw new ProtocolError('malformed reply to /gzmem/peaks');
    const n = Array.isArray(page.name) ? page.name.length : 0;
    const name = column(page, 'name', n, isStr, '/gzmem/peaks');
    const [peak, hwm, sampled] = ['peak', 'hwm', 'sampled_since_ns'].map((k) =>
      column(page as Record<string, unknown>, k, n, isNum, '/gzmem/peaks'),
    );
    for (let j = 0; j < n; j++) pools.set(name[j]!, { peak: peak![j]!, highWater: hwm![j]!, sampledSince: new Date(sampled![j]! / 1e6) });
    if (page.next === -1) break;
    page = await conn.cmd(`/gzmem/peaks,${process.pid},${page.next}`);
  }
  return { hz: first.hz, since, coverage, pools };
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
