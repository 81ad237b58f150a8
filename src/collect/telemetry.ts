// DPDK telemetry: finding every socket on the host, and reading one process's memory readings.

import { join, basename, dirname } from 'node:path';
import { realpathSync } from 'node:fs';
import type { Host } from './host.js';
import { listDirOptional } from './files.js';
import { isRecord, type TelemetryConnection, type TelemetryHello } from './telemetry-socket.js';
import { ProtocolError } from '../errors.js';

export interface TelemetrySocketPath {
  path: string;
  /** EAL --file-prefix: the name of the runtime dir that holds the socket. */
  prefix: string;
  runtimeDir: string;
  /** Secondary processes add `:<n>` to the socket name; undefined for the primary. */
  secondary?: number;
}

const SOCKET_NAME = /^dpdk_telemetry\.v2(?::(\d+))?$/;

/**
 * Every v2 telemetry socket under every runtime dir, once each: roots may be symlinks of each other
 * (/var/run is /run), so each real root is scanned once (a sampler scans at every tick). A sampler
 * of some prefixes lists only their dirs (`wantedPrefix`): a machine may hold dozens of others.
 */
export async function findTelemetrySockets(host: Host, wantedPrefix?: (prefix: string) => boolean): Promise<TelemetrySocketPath[]> {
  const seenRoots = new Set<string>();
  const found: TelemetrySocketPath[] = [];
  for (const dir of host.dpdkRuntimeDirs) {
    const entries = await listDirOptional(dir);
    if (entries.length === 0) continue;
    const realRoot = realpathOr(dir);
    if (seenRoots.has(realRoot)) continue;
    seenRoots.add(realRoot);
    for (const prefix of entries.sort()) {
      if (wantedPrefix && !wantedPrefix(prefix)) continue;
      const runtimeDir = join(dir, prefix);
      for (const name of (await listDirOptional(runtimeDir)).sort()) {
        const m = SOCKET_NAME.exec(name);
        if (!m) continue;
        found.push({ path: join(runtimeDir, name), prefix, runtimeDir, ...(m[1] !== undefined ? { secondary: Number(m[1]) } : {}) });
      }
    }
  }
  return found;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The socket at path, as findTelemetrySockets describes it; undefined for a name that is not one. */
export function socketAt(path: string): TelemetrySocketPath | undefined {
  const m = SOCKET_NAME.exec(basename(path));
  if (!m) return undefined;
  const runtimeDir = dirname(path);
  return { path, prefix: basename(runtimeDir), runtimeDir, ...(m[1] !== undefined ? { secondary: Number(m[1]) } : {}) };
}

export function prefixOfSocket(path: string): string {
  return basename(dirname(path));
}

export interface HeapReading {
  id: number;
  name: string;
  heapBytes: number;
  freeBytes: number;
  allocBytes: number;
  greatestFreeBytes: number;
  allocCount: number;
  freeCount: number;
}

export interface MemzoneReading {
  id: number;
  name: string;
  lengthBytes: number;
  address: string;
  socket: number;
  flags: number;
  hugepageBytes: number;
  hugepageBase: string;
  hugepagesUsed: number;
}

export interface MempoolReading {
  name: string;
  poolId: number;
  flags: number;
  socket: number;
  size: number;
  cacheSize: number;
  eltSize: number;
  headerSize: number;
  trailerSize: number;
  privateDataSize: number;
  opsIndex: number;
  populatedSize: number;
  memzone: string;
  /** DPDK >= 23.03 only. */
  commonPoolCount?: number;
  totalCacheCount?: number;
}

export interface EthdevReading {
  port: number;
  name: string;
  state: number;
  rxQueues: number;
  txQueues: number;
  mtu: number;
  started: boolean;
  socket: number;
  rxNombuf?: number;
  ipackets?: number;
  opackets?: number;
}

export interface TelemetryReadings {
  hello: TelemetryHello;
  params: string[];
  heaps: HeapReading[];
  memzones: MemzoneReading[];
  mempools: MempoolReading[];
  ethdevs: EthdevReading[];
  /** Lists telemetry caps (512 array entries) that we could not walk past. */
  truncated: string[];
  /** List commands this DPDK answered with null: it does not have them, so what they list is unknown. */
  unanswered: string[];
  /** Pools not asked about, each with why (a pool being created, on a DPDK that would crash on it). */
  notAsked: string[];
  /** When the lists (parameters, memzones, pool geometry, port info) were read. */
  listedAt: Date;
  /** The lists are those of an earlier sample: the heaps said nothing was created or freed since. */
  carriedOver: boolean;
}

/** A heap's figures, whoever read them (/eal/heap_info, or the preload in-process). */
export type HeapFigures = Omit<HeapReading, 'id' | 'name'>;

/** What the preload reads in-process at each sample (collect/preload.ts). */
export interface InProcessCounters {
  heaps: (HeapFigures & { socket: number })[];
  ports: { port: number; rxNombuf: number; ipackets: number; opackets: number }[];
}

/** Even while the heaps stay the same, a sampler lists everything again after this long. */
export const LISTS_MAX_AGE_MS = 10_000;

/** Telemetry arrays hold at most this many entries (RTE_TEL_MAX_ARRAY_ENTRIES). */
export const MAX_ARRAY_ENTRIES = 512;
/** Far above RTE_MAX_MEMZONE (2,560 by default in every version of the matrix): where the walk stops. */
export const MAX_MEMZONES = 65536;

/**
 * DPDK 23.03 and later answer /mempool/info with the pool's ring count, read through ops that a
 * pool being created does not have yet (rte_mempool_create_empty lists it first): asking then
 * crashes the process on a NULL pointer. So on those versions a pool is asked about only once its
 * objects' memzone (`MP_<pool>_<n>`) exists, which populate reserves after the ops are set up.
 */
export function infoReadsRingCount(version: string): boolean {
  const m = /^DPDK (\d+)\.(\d+)/.exec(version.trim());
  return m !== null && (Number(m[1]) > 23 || (Number(m[1]) === 23 && Number(m[2]) >= 3));
}

/** What tells that something was reserved or freed: every heap's element counts and bytes. */
const heapsKey = (heaps: HeapReading[]) => heaps.map((h) => `${h.id}:${h.allocCount}:${h.freeCount}:${h.allocBytes}`).join(' ');

/**
 * A sample that asks only what moves while nothing is created or freed: the heaps (which tell
 * whether something was), pool counts where telemetry has them and no one else counts them
 * (`poolCounts`), and port statistics. Memzones, pool geometry, EAL parameters and port info are
 * those of `prior` while its heaps match; otherwise, or past LISTS_MAX_AGE_MS, all is read again.
 */
export async function sampleTelemetry(
  conn: TelemetryConnection,
  prior: TelemetryReadings | undefined,
  now: Date,
  poolCounts: boolean,
  inProcess?: InProcessCounters,
): Promise<TelemetryReadings> {
  if (!prior || prior.hello.pid !== conn.hello.pid || now.getTime() - prior.listedAt.getTime() > LISTS_MAX_AGE_MS)
    return readTelemetry(conn, now);
  const heaps: HeapReading[] = [];
  for (const h of prior.heaps) {
    // A socket heap the preload read in-process is what /eal/heap_info would say of it.
    const mine = inProcess?.heaps.find((x) => `socket_${x.socket}` === h.name);
    if (mine) {
      const { socket, ...figures } = mine;
      heaps.push({ ...h, ...figures });
      continue;
    }
    const reply = await conn.cmd(`/eal/heap_info,${h.id}`);
    if (reply === null) return readTelemetry(conn, now);
    heaps.push(parseHeapInfo(reply));
  }
  if (heapsKey(heaps) !== heapsKey(prior.heaps)) return readTelemetry(conn, now);
  const mempools: MempoolReading[] = [];
  for (const m of prior.mempools) {
    if (!poolCounts || m.commonPoolCount === undefined) {
      mempools.push(m);
      continue;
    }
    const reply = await conn.cmd(`/mempool/info,${m.name}`);
    if (reply === null) return readTelemetry(conn, now);
    mempools.push(parseMempoolInfo(reply));
  }
  const ethdevs: EthdevReading[] = [];
  for (const e of prior.ethdevs) {
    const { rxNombuf, ipackets, opackets, ...info } = e;
    const mine = inProcess?.ports.find((x) => x.port === e.port);
    if (mine) ethdevs.push({ ...info, rxNombuf: mine.rxNombuf, ipackets: mine.ipackets, opackets: mine.opackets });
    else ethdevs.push({ ...info, ...portStats(await conn.cmd(`/ethdev/stats,${e.port}`)) });
  }
  return { ...prior, heaps, mempools, ethdevs, carriedOver: true };
}

export async function readTelemetry(conn: TelemetryConnection, now = new Date()): Promise<TelemetryReadings> {
  const truncated: string[] = [];
  const unanswered: string[] = [];
  const list = async <T>(command: string, parse: (data: unknown, what: string) => T[] | undefined): Promise<T[]> => {
    const items = parse(await conn.cmd(command), command);
    if (items === undefined) unanswered.push(command);
    return items ?? [];
  };
  const params = await list('/eal/params', stringArray);

  const heaps: HeapReading[] = [];
  for (const id of await list('/eal/heap_list', intArray)) {
    const reply = await conn.cmd(`/eal/heap_info,${id}`);
    if (reply !== null) heaps.push(parseHeapInfo(reply));
  }

  const memzones: MemzoneReading[] = [];
  const zoneIds = await list('/eal/memzone_list', intArray);
  for (const id of zoneIds) {
    const reply = await conn.cmd(`/eal/memzone_info,${id}`);
    if (reply !== null) memzones.push(parseMemzoneInfo(reply));
  }
  if (zoneIds.length >= MAX_ARRAY_ENTRIES) {
    // The list was cut at the cap: walk ids past it one by one until the first gap, and no further
    // than any EAL could hold (a process that never answers null must not keep gzmem walking).
    let id = (zoneIds.at(-1) ?? 0) + 1;
    for (; id < MAX_MEMZONES; id++) {
      const reply = await conn.cmd(`/eal/memzone_info,${id}`);
      if (reply === null) break;
      memzones.push(parseMemzoneInfo(reply));
    }
    if (id >= MAX_MEMZONES) truncated.push('/eal/memzone_info');
  }

  const mempools: MempoolReading[] = [];
  const notAsked: string[] = [];
  const poolNames = await list('/mempool/list', stringArray);
  if (poolNames.length >= MAX_ARRAY_ENTRIES) truncated.push('/mempool/list');
  const guarded = infoReadsRingCount(conn.hello.version);
  for (const name of poolNames) {
    if (guarded && !memzones.some((z) => z.name.startsWith(`MP_${name}_`))) {
      notAsked.push(`${name}: being created (no object memzone yet), not asked: ${conn.hello.version} would crash on /mempool/info for it`);
      continue;
    }
    const reply = await conn.cmd(`/mempool/info,${name}`);
    if (reply !== null) mempools.push(parseMempoolInfo(reply));
  }

  const ethdevs: EthdevReading[] = [];
  for (const port of await list('/ethdev/list', intArray)) {
    const info = await conn.cmd(`/ethdev/info,${port}`);
    if (info === null) continue;
    const stats = await conn.cmd(`/ethdev/stats,${port}`);
    ethdevs.push(parseEthdev(port, info, stats));
  }

  return {
    hello: conn.hello,
    params,
    heaps,
    memzones,
    mempools,
    ethdevs,
    truncated,
    unanswered,
    notAsked,
    listedAt: now,
    carriedOver: false,
  };
}

// ---- pure parsers: each takes one reply's data and validates it ----

/** The start of a reply for an error message; a reply nested too deep to print is said to be. */
function preview(data: unknown): string {
  try {
    return (JSON.stringify(data) ?? String(data)).slice(0, 120);
  } catch {
    return '(nested too deep to show)';
  }
}

function fail(what: string, data: unknown): never {
  throw new ProtocolError(`malformed telemetry reply for ${what}: ${preview(data)}`);
}

function num(obj: Record<string, unknown>, key: string, what: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${what} (field ${key})`, obj);
  return v;
}

function str(obj: Record<string, unknown>, key: string, what: string): string {
  const v = obj[key];
  if (typeof v !== 'string') fail(`${what} (field ${key})`, obj);
  return v;
}

function optNum(obj: Record<string, unknown>, key: string): number | undefined {
  const v = obj[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** null (unknown command / no data) stays undefined; any other non-array is malformed. */
export function intArray(data: unknown, what: string): number[] | undefined {
  if (data === null) return undefined;
  if (!Array.isArray(data) || !data.every((x) => Number.isSafeInteger(x))) fail(what, data);
  return data as number[];
}

export function stringArray(data: unknown, what: string): string[] | undefined {
  if (data === null) return undefined;
  if (!Array.isArray(data) || !data.every((x) => typeof x === 'string')) fail(what, data);
  return data as string[];
}

export function parseHeapInfo(data: unknown): HeapReading {
  const w = '/eal/heap_info';
  if (!isRecord(data)) fail(w, data);
  // DPDK 22.11 spells the id Head_id; 21.11, 23.11 and 24.11 spell it Heap_id (see the fixtures).
  const idKey = 'Heap_id' in data ? 'Heap_id' : 'Head_id';
  return {
    id: num(data, idKey, w),
    name: str(data, 'Name', w),
    heapBytes: num(data, 'Heap_size', w),
    freeBytes: num(data, 'Free_size', w),
    allocBytes: num(data, 'Alloc_size', w),
    greatestFreeBytes: num(data, 'Greatest_free_size', w),
    allocCount: num(data, 'Alloc_count', w),
    freeCount: num(data, 'Free_count', w),
  };
}

export function parseMemzoneInfo(data: unknown): MemzoneReading {
  const w = '/eal/memzone_info';
  if (!isRecord(data)) fail(w, data);
  return {
    id: num(data, 'Zone', w),
    name: str(data, 'Name', w),
    lengthBytes: num(data, 'Length', w),
    address: str(data, 'Address', w),
    socket: num(data, 'Socket', w),
    flags: num(data, 'Flags', w),
    hugepageBytes: num(data, 'Hugepage_size', w),
    hugepageBase: str(data, 'Hugepage_base', w),
    hugepagesUsed: num(data, 'Hugepage_used', w),
  };
}

export function parseMempoolInfo(data: unknown): MempoolReading {
  const w = '/mempool/info';
  if (!isRecord(data)) fail(w, data);
  const common = optNum(data, 'common_pool_count');
  const cached = optNum(data, 'total_cache_count');
  return {
    name: str(data, 'name', w),
    poolId: num(data, 'pool_id', w),
    flags: num(data, 'flags', w),
    socket: num(data, 'socket_id', w),
    size: num(data, 'size', w),
    cacheSize: num(data, 'cache_size', w),
    eltSize: num(data, 'elt_size', w),
    headerSize: num(data, 'header_size', w),
    trailerSize: num(data, 'trailer_size', w),
    privateDataSize: num(data, 'private_data_size', w),
    opsIndex: num(data, 'ops_index', w),
    populatedSize: num(data, 'populated_size', w),
    memzone: str(data, 'mz_name', w),
    ...(common !== undefined ? { commonPoolCount: common } : {}),
    ...(cached !== undefined ? { totalCacheCount: cached } : {}),
  };
}

export function parseEthdev(port: number, info: unknown, stats: unknown): EthdevReading {
  const w = `/ethdev/info,${port}`;
  if (!isRecord(info)) fail(w, info);
  return {
    port,
    name: str(info, 'name', w),
    state: num(info, 'state', w),
    rxQueues: num(info, 'nb_rx_queues', w),
    txQueues: num(info, 'nb_tx_queues', w),
    mtu: num(info, 'mtu', w),
    started: info.dev_started === 1,
    socket: optNum(info, 'numa_node') ?? -1,
    ...portStats(stats),
  };
}

function portStats(stats: unknown): Pick<EthdevReading, 'rxNombuf' | 'ipackets' | 'opackets'> {
  const s = isRecord(stats) ? stats : {};
  const rxNombuf = optNum(s, 'rx_nombuf');
  const ipackets = optNum(s, 'ipackets');
  const opackets = optNum(s, 'opackets');
  return {
    ...(rxNombuf !== undefined ? { rxNombuf } : {}),
    ...(ipackets !== undefined ? { ipackets } : {}),
    ...(opackets !== undefined ? { opackets } : {}),
  };
}
