// Attach without restart: reads ring and mempool-cache counters of a running DPDK process
// (21.11 to 24.11, layouts in attach-layouts.ts) from /proc/<pid>/mem at the addresses its telemetry gives. Read-only, no ptrace stop.
// Every read is validated against what telemetry said; anything unexpected is refused, not guessed.

import { closeSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Host } from './host.js';
import type { MempoolReading, MemzoneReading } from './telemetry.js';
import { fsError, readText } from './files.js';
import { loadVmRead, TargetMemory, type MemoryRange, type Pieces } from './target-memory.js';
import { ATTACH_LAYOUTS } from './attach-layouts.js';
import { ProtocolError, UnsupportedError } from '../errors.js';

export type AttachLayout = (typeof ATTACH_LAYOUTS)[number];

/** A DPDK process maps a few thousand areas; its maps stays well under this. */
const MAPS_CAP = 16 * 1024 * 1024;

/**
 * The (release line, architecture) pairs whose layout the integration tests have checked against
 * a real process of that version (test/integration/attach.test.ts, run once per DPDK of the matrix).
 * A layout that is only generated, not verified, is refused rather than trusted.
 */
export const VERIFIED_LAYOUTS: readonly string[] = ['21.11/x86_64', '22.11/x86_64', '23.11/x86_64', '24.11/x86_64'];

/** The machine's architecture as DPDK and uname name it. */
export function machineArch(): string {
  return ({ x64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[process.arch] ?? process.arch;
}

const ELF_MACHINES: Record<number, string> = { 62: 'x86_64', 183: 'aarch64' };

/** e_machine of an ELF header, by name; undefined when the bytes are not an ELF header. */
export function elfArch(header: Buffer): string | undefined {
  if (header.length < 20 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
  return ELF_MACHINES[machine] ?? `ELF machine ${machine}`;
}

/**
 * The architecture the target's DPDK was built for: that of the EAL library it maps, else of its
 * executable (static builds). Not the machine's: under qemu-user an aarch64 process runs on x86_64.
 */
export async function targetArch(host: Host, pid: number, maps: string): Promise<string | undefined> {
  const eal = /\s(\/\S*librte_eal\.so[^\s]*)$/m.exec(maps)?.[1];
  const file = eal ? join(host.procRoot, String(pid), 'root', eal) : join(host.procRoot, String(pid), 'exe');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(20);
    readSync(fd, header, 0, 20, 0);
    return elfArch(header);
  } finally {
    closeSync(fd);
  }
}

/** The verified layout for a greeting's version (`DPDK 23.11.7`) on an architecture, or why there is none. */
export function attachLayout(version: string, arch: string): AttachLayout | string {
  const m = /^DPDK (\d+\.\d+)(?:\.\d+)?/.exec(version.trim());
  if (!m) return `cannot tell the DPDK release from ${JSON.stringify(version.slice(0, 40))}`;
  const line = m[1]!;
  if (os.endianness() !== 'LE') return 'the attach reader reads the memory of little-endian machines only';
  const layout = ATTACH_LAYOUTS.find((l) => l.version === line && l.arch === arch);
  if (!layout) {
    const known = ATTACH_LAYOUTS.map((l) => `${l.version}/${l.arch}`).join(', ');
    return `attach reader knows no memory layout of DPDK ${line} on ${arch} (known: ${known})`;
  }
  if (!VERIFIED_LAYOUTS.includes(`${line}/${arch}`))
    return `the DPDK ${line} layout on ${arch} (${layout.cacheLine}-byte cache lines) is not verified by any test yet`;
  return layout;
}

export interface RingCounts {
  name: string;
  address: string;
  size: number;
  capacity: number;
  count: number;
}

export interface AttachedPool {
  name: string;
  /** Objects in the pool's ring (the common pool). */
  common: number;
  /** Objects in per-lcore caches, and per lcore where non-zero. */
  cache: number;
  cacheLens: { lcore: number; len: number }[];
  inUse: number;
}

export interface AttachReading {
  pools: AttachedPool[];
  /** Pools the reader refused, with why (unknown ops, failed validation). */
  refused: { name: string; why: string }[];
  /** Named rings (RG_<name> memzones that are not a pool's ring). */
  rings: RingCounts[];
  /** Set when the hugepage ranges and architecture are those of an earlier read of `maps`. */
  mapsReadAt?: Date;
}

/**
 * Kept by a sampler, by pid: what `maps` told (a DPDK process's `maps` is long: reading and
 * parsing it was most of an attach read). Its hugepage ranges change only with the hugetlb
 * mappings, so it is read again when `mappingsKey` (their starts and HugetlbPages) changes.
 */
export type AttachMapsCache = Map<
  number,
  {
    mappingsKey: string;
    arch: string;
    layout: AttachLayout;
    ranges: MemoryRange[];
    readAt: Date;
    /** Where the last read found each pool it counted: countPoolsAgain reads there. */
    places: PoolPlace[];
  }
>;

function cString(buf: Buffer, start: number, size: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('latin1', start, end < 0 || end > start + size ? start + size : end);
}

/** Parses and validates a ring header; throws with the reason when it is not a sane ring. */
export function parseRingHeader(layout: AttachLayout, buf: Buffer, expectName: string | undefined): Omit<RingCounts, 'address'> {
  const L = layout.ring;
  if (buf.length < L.bytes) throw new ProtocolError('short ring header');
  const name = cString(buf, L.name, L.nameSize);
  const size = buf.readUInt32LE(L.size);
  const mask = buf.readUInt32LE(L.mask);
  const capacity = buf.readUInt32LE(L.capacity);
  const prodHead = buf.readUInt32LE(L.prodHead);
  const prodTail = buf.readUInt32LE(L.prodTail);
  const consHead = buf.readUInt32LE(L.consHead);
  const consTail = buf.readUInt32LE(L.consTail);
  if (expectName !== undefined && name !== expectName) throw new ProtocolError(`the ring header does not name ${expectName}`);
  const label = expectName ?? 'ring';
  if (size === 0 || (size & (size - 1)) !== 0 || mask !== size - 1 || capacity > mask || capacity === 0) {
    throw new ProtocolError(`${label}: inconsistent size, mask or capacity`);
  }
  // Indexes are free-running 32-bit counters; in flight, head runs ahead of tail by at most a ring.
  const inFlightProd = (prodHead - prodTail) >>> 0;
  const inFlightCons = (consHead - consTail) >>> 0;
  if (inFlightProd > size || inFlightCons > size) throw new ProtocolError(`${label}: head/tail indexes out of range`);
  const count = ((prodTail - consTail) >>> 0) & mask;
  return { name, size, capacity, count: Math.min(count, capacity) };
}

/**
 * The target's hugetlb mappings: the lines of its maps whose start numa_maps flags `huge`. The attach
 * reader reads nothing outside them, whatever address a telemetry reply names.
 */
export function hugetlbRanges(maps: string, hugeStarts: readonly string[]): MemoryRange[] {
  const starts = new Set(hugeStarts.map((a) => BigInt(`0x${a}`)));
  const out: MemoryRange[] = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s/.exec(line);
    if (!m) continue;
    const start = BigInt(`0x${m[1]}`);
    if (starts.has(start)) out.push({ start, end: BigInt(`0x${m[2]}`) });
  }
  return out;
}

/** length bytes at address (in the memory's read buffer, which its next read overwrites). */
function readAt(mem: TargetMemory, address: bigint, length: number): Buffer {
  return mem.read(mem.prepare([[address, length]]));
}

function addressOf(value: string | number): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return BigInt(value);
  if (typeof value === 'string' && /^0x[0-9a-f]{1,16}$/i.test(value)) return BigInt(value);
  throw new ProtocolError('telemetry names an address that is not one');
}

/** Where a pool keeps its free objects, as its validated header says: enough to count them again. */
interface PoolPlace {
  name: string;
  size: number;
  cacheSize: number;
  /** RTE_MAX_LCORE: how many caches the pool has. */
  lcores: number;
  /** What a count reads: its ring's header, then each cache's first words (size, flush threshold, length). */
  pieces: Pieces;
}

function placeOf(mem: TargetMemory, layout: AttachLayout, pool: MempoolReading, header: MemzoneReading): PoolPlace {
  const M = layout.mempool;
  const mp = readAt(mem, addressOf(header.address), M.bytes);
  const name = cString(mp, M.name, M.nameSize);
  // Bytes of the target never go into a message: say that it differs, not what it says.
  if (name !== pool.name) throw new ProtocolError('the mempool header names another pool than telemetry does');
  if (
    mp.readUInt32LE(M.size) !== pool.size ||
    mp.readUInt32LE(M.cacheSize) !== pool.cacheSize ||
    mp.readUInt32LE(M.eltSize) !== pool.eltSize
  ) {
    throw new ProtocolError('mempool header disagrees with telemetry (size, cache size or element size)');
  }
  const ring = mp.readBigUInt64LE(M.poolData);
  if (ring !== BigInt(pool.poolId)) throw new ProtocolError('mempool pool_data disagrees with telemetry pool_id');
  const place = { name: pool.name, size: pool.size, cacheSize: pool.cacheSize };
  if (pool.cacheSize === 0) return { ...place, lcores: 0, pieces: mem.prepare([[ring, layout.ring.bytes]]) };
  const caches = mp.readBigUInt64LE(M.localCache);
  // The header memzone holds the struct, RTE_MAX_LCORE caches and the private area: derive the lcore count.
  const C = layout.cache;
  const lcores = (header.lengthBytes - M.bytes - pool.privateDataSize) / C.bytes;
  if (!Number.isInteger(lcores) || lcores < 1 || lcores > 1024)
    throw new ProtocolError(`cannot derive RTE_MAX_LCORE from ${header.name} length ${header.lengthBytes}`);
  if (caches !== addressOf(header.address) + BigInt(M.bytes)) throw new ProtocolError('local_cache is not where the layout puts it');
  const { from, bytes } = cacheFields(layout);
  const cacheWords = Array.from({ length: lcores }, (_, i) => [caches + BigInt(i * C.bytes + from), bytes] as const);
  return { ...place, lcores, pieces: mem.prepare([[ring, layout.ring.bytes], ...cacheWords]) };
}

/** The span of a cache's first words that a count reads: size, flush threshold and length. */
function cacheFields(layout: AttachLayout): { from: number; bytes: number } {
  const C = layout.cache;
  const from = Math.min(C.size, C.flushthresh, C.len);
  return { from, bytes: Math.max(C.size, C.flushthresh, C.len) + 4 - from };
}

/** The pool's free objects now: its ring's count and each lcore cache's length, validated. */
function countPool(mem: TargetMemory, layout: AttachLayout, place: PoolPlace): AttachedPool {
  const C = layout.cache;
  const bytes = mem.read(place.pieces);
  // Only ring-based pools keep their free objects in a ring named MP_<pool>; other ops are refused.
  const ring = parseRingHeader(layout, bytes.subarray(0, layout.ring.bytes), `MP_${place.name}`);
  const cacheLens: { lcore: number; len: number }[] = [];
  let cache = 0;
  const { from, bytes: stride } = cacheFields(layout);
  // As 32-bit words (the ring header and every field are multiples of 4 bytes; the supported
  // architectures are little-endian): 3 reads of 128 lcores per pool, at every sample.
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  for (let lcore = 0; lcore < place.lcores; lcore++) {
    const base = layout.ring.bytes + lcore * stride - from;
    const size = words[(base + C.size) >> 2]!;
    const len = words[(base + C.len) >> 2]!;
    const threshold = words[(base + C.flushthresh) >> 2]!;
    if (size !== place.cacheSize || len > Math.max(threshold, size) * 2) throw new ProtocolError(`lcore ${lcore} cache header is not sane`);
    if (len > 0) cacheLens.push({ lcore, len });
    cache += len;
  }
  const inUse = place.size - ring.count - cache;
  if (inUse < 0) throw new ProtocolError('the free objects read exceed the pool size');
  return { name: place.name, common: ring.count, cache, cacheLens, inUse };
}

/** Runs a read of one pool: a failed validation refuses the pool, anything else fails the read. */
function tryPool<T>(out: AttachReading, name: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    out.refused.push({ name, why: err.message });
    return undefined;
  }
}

export interface AttachRequest {
  /** The greeting's version (`DPDK 23.11.7`). */
  version: string;
  pools: MempoolReading[];
  memzones: MemzoneReading[];
  /** Start addresses of the target's hugetlb mappings (numa_maps), the only memory read. */
  hugeStarts: readonly string[];
  /** A sampler's cache of what `maps` told, and the key of the mappings it holds now. */
  kept?: { cache: AttachMapsCache; mappingsKey: string; now: Date };
  /** Read through /proc/<pid>/mem only, not process_vm_readv (tests compare the two). */
  through?: 'mem';
}

export async function readAttach(host: Host, pid: number, request: AttachRequest): Promise<AttachReading> {
  const { version, pools, memzones, hugeStarts, kept } = request;
  const prior = kept?.cache.get(pid);
  const carried = prior !== undefined && prior.mappingsKey === kept?.mappingsKey ? prior : undefined;
  let arch = carried?.arch;
  let ranges = carried?.ranges ?? [];
  if (!carried) {
    const mapsPath = join(host.procRoot, String(pid), 'maps');
    const maps = await readText(mapsPath, MAPS_CAP).catch((err: unknown) => {
      throw fsError(err, mapsPath);
    });
    arch = await targetArch(host, pid, maps);
    ranges = hugetlbRanges(maps, hugeStarts);
  }
  if (arch === undefined) throw new UnsupportedError(`cannot tell which architecture process ${pid}'s DPDK was built for`);
  const layout = attachLayout(version, arch);
  if (typeof layout === 'string') throw new UnsupportedError(layout);
  if (ranges.length === 0)
    throw new UnsupportedError('the process maps no hugepages (--no-huge?): the attach reader reads hugepage memory only');
  if (kept && !carried) kept.cache.set(pid, { mappingsKey: kept.mappingsKey, arch, layout, ranges, readAt: kept.now, places: [] });
  await loadVmRead();
  const mem = new TargetMemory(pid, join(host.procRoot, String(pid)), ranges, request.through);
  try {
    const byName = new Map(memzones.map((z) => [z.name, z]));
    const out: AttachReading = { pools: [], refused: [], rings: [], ...(carried ? { mapsReadAt: carried.readAt } : {}) };
    const places: PoolPlace[] = [];
    for (const pool of pools) {
      const header = byName.get(pool.memzone);
      if (!header) {
        out.refused.push({ name: pool.name, why: `no memzone ${pool.memzone}` });
        continue;
      }
      const place = tryPool(out, pool.name, () => placeOf(mem, layout, pool, header));
      const counted = place && tryPool(out, pool.name, () => countPool(mem, layout, place));
      if (counted) {
        out.pools.push(counted);
        places.push(place!);
      }
    }
    kept?.cache.set(pid, { ...kept.cache.get(pid)!, places });
    for (const z of memzones) {
      if (!z.name.startsWith('RG_') || z.name.startsWith('RG_MP_')) continue;
      try {
        const r = parseRingHeader(layout, readAt(mem, addressOf(z.address), layout.ring.bytes), z.name.slice(3));
        out.rings.push({ ...r, address: z.address });
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
      }
    }
    return out;
  } finally {
    mem.close();
  }
}

/**
 * The pools of the last read of this pid, counted again where their validated headers placed their
 * ring and caches (each still validated): a recorder's reads between two whole reads, without
 * telemetry or maps. Synchronous: no more code runs than the reads need. Undefined when no read
 * with this cache counted a pool.
 */
export function countPoolsAgain(host: Host, pid: number, cache: AttachMapsCache): AttachReading | undefined {
  const kept = cache.get(pid);
  if (!kept || kept.places.length === 0) return undefined;
  const mem = new TargetMemory(pid, join(host.procRoot, String(pid)), kept.ranges);
  try {
    const out: AttachReading = { pools: [], refused: [], rings: [], mapsReadAt: kept.readAt };
    for (const place of kept.places) {
      const counted = tryPool(out, place.name, () => countPool(mem, kept.layout, place));
      if (counted) out.pools.push(counted);
    }
    return out;
  } finally {
    mem.close();
  }
}
