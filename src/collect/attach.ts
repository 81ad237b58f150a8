// Attach without restart: reads ring and mempool-cache counters of a running DPDK process
// (21.11 to 24.11, layouts in attach-layouts.ts) from /proc/<pid>/mem at the addresses its telemetry gives. Read-only, no ptrace stop.
// Every read is validated against what telemetry said; anything unexpected is refused, not guessed.

import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from './host.js';
import type { MempoolReading, MemzoneReading } from './telemetry.js';
import { errnoOf, fsError, readText } from './files.js';
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
export type AttachMapsCache = Map<number, { mappingsKey: string; arch: string; ranges: MemoryRange[]; readAt: Date }>;

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

export interface MemoryRange {
  start: bigint;
  end: bigint;
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

interface TargetMemory {
  /** /proc/<pid>/mem, read synchronously: each read is a copy from the target's pages, microseconds. */
  fd: number;
  ranges: MemoryRange[];
}

/**
 * The per-lcore caches of a pool take about 1 MiB (RTE_MAX_LCORE of them): read into one buffer
 * kept for it, not a new one per pool and sample, which a sampler at 100 Hz would churn.
 */
let cachesScratch = Buffer.alloc(0);

/** length bytes at address; into the caches' buffer when `scratch`, which the next such read overwrites. */
async function readAt(mem: TargetMemory, address: bigint, length: number, scratch = false): Promise<Buffer> {
  const end = address + BigInt(length);
  const hex = `0x${address.toString(16)}`;
  if (!mem.ranges.some((r) => r.start <= address && end <= r.end))
    throw new ProtocolError(`${hex} is outside the target's hugepage mappings`);
  if (scratch && cachesScratch.length < length) cachesScratch = Buffer.alloc(length);
  // Hugetlb mappings lie well inside a double's exact range (user space ends below 2^48).
  const buf = scratch ? cachesScratch.subarray(0, length) : Buffer.alloc(length);
  let bytesRead: number;
  try {
    bytesRead = readSync(mem.fd, buf, 0, length, address);
  } catch (err) {
    // Unmapped or gone since maps was read: this read fails, the snapshot does not.
    throw new ProtocolError(`cannot read target memory at ${hex} (${errnoOf(err) ?? 'error'})`);
  }
  if (bytesRead !== length) throw new ProtocolError(`short read at ${hex}`);
  return buf;
}

function addressOf(value: string | number): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return BigInt(value);
  if (typeof value === 'string' && /^0x[0-9a-f]{1,16}$/i.test(value)) return BigInt(value);
  throw new ProtocolError('telemetry names an address that is not one');
}

async function readPool(mem: TargetMemory, layout: AttachLayout, pool: MempoolReading, header: MemzoneReading): Promise<AttachedPool> {
  const M = layout.mempool;
  const C = layout.cache;
  const mp = await readAt(mem, addressOf(header.address), M.bytes);
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
  const poolData = mp.readBigUInt64LE(M.poolData);
  if (poolData !== BigInt(pool.poolId)) throw new ProtocolError('mempool pool_data disagrees with telemetry pool_id');
  // Only ring-based pools keep their free objects in a ring named MP_<pool>; other ops are refused.
  const ring = parseRingHeader(layout, await readAt(mem, poolData, layout.ring.bytes), `MP_${pool.name}`);
  const cacheLens: { lcore: number; len: number }[] = [];
  let cache = 0;
  if (pool.cacheSize > 0) {
    const localCache = mp.readBigUInt64LE(M.localCache);
    // The header memzone holds the struct, RTE_MAX_LCORE caches and the private area: derive the lcore count.
    const lcores = (header.lengthBytes - M.bytes - pool.privateDataSize) / C.bytes;
    if (!Number.isInteger(lcores) || lcores < 1 || lcores > 1024)
      throw new ProtocolError(`cannot derive RTE_MAX_LCORE from ${header.name} length ${header.lengthBytes}`);
    if (localCache !== addressOf(header.address) + BigInt(M.bytes)) throw new ProtocolError('local_cache is not where the layout puts it');
    const caches = await readAt(mem, localCache, lcores * C.bytes, true);
    for (let lcore = 0; lcore < lcores; lcore++) {
      const base = lcore * C.bytes;
      const size = caches.readUInt32LE(base + C.size);
      const len = caches.readUInt32LE(base + C.len);
      const threshold = caches.readUInt32LE(base + C.flushthresh);
      if (size !== pool.cacheSize || len > Math.max(threshold, size) * 2)
        throw new ProtocolError(`lcore ${lcore} cache header is not sane`);
      if (len > 0) cacheLens.push({ lcore, len });
      cache += len;
    }
  }
  const inUse = pool.size - ring.count - cache;
  if (inUse < 0) throw new ProtocolError('the free objects read exceed the pool size');
  return { name: pool.name, common: ring.count, cache, cacheLens, inUse };
}

/** hugeStarts: start addresses of the target's hugetlb mappings (numa_maps), the only memory read. */
export async function readAttach(
  host: Host,
  pid: number,
  version: string,
  pools: MempoolReading[],
  memzones: MemzoneReading[],
  hugeStarts: readonly string[],
  kept?: { cache: AttachMapsCache; mappingsKey: string; now: Date },
): Promise<AttachReading> {
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
  if (kept && !carried) kept.cache.set(pid, { mappingsKey: kept.mappingsKey, arch, ranges, readAt: kept.now });
  const path = join(host.procRoot, String(pid), 'mem');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  const mem = { fd, ranges };
  try {
    const byName = new Map(memzones.map((z) => [z.name, z]));
    const out: AttachReading = { pools: [], refused: [], rings: [], ...(carried ? { mapsReadAt: carried.readAt } : {}) };
    for (const pool of pools) {
      const header = byName.get(pool.memzone);
      if (!header) {
        out.refused.push({ name: pool.name, why: `no memzone ${pool.memzone}` });
        continue;
      }
      try {
        out.pools.push(await readPool(mem, layout, pool, header));
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        out.refused.push({ name: pool.name, why: err.message });
      }
    }
    for (const z of memzones) {
      if (!z.name.startsWith('RG_') || z.name.startsWith('RG_MP_')) continue;
      try {
        const r = parseRingHeader(layout, await readAt(mem, addressOf(z.address), layout.ring.bytes), z.name.slice(3));
        out.rings.push({ ...r, address: z.address });
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
      }
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
