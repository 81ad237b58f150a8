// Attach without restart: reads ring and mempool-cache counters of a running DPDK 22.11 process
// from /proc/<pid>/mem at the addresses its telemetry gives. Read-only, no ptrace stop.
// Every read is validated against what telemetry said; anything unexpected is refused, not guessed.

import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Host } from './host.js';
import type { MempoolReading, MemzoneReading } from './telemetry.js';
import { fsError } from './files.js';
import { ProtocolError, UnsupportedError } from '../errors.js';

/**
 * Struct offsets of DPDK 22.11 (ABI 23) on x86_64 with 64-byte cache lines, as compiled from its
 * headers (offsetof against the installed 22.11 headers); test/integration/attach.test.ts checks the
 * counts read through them against gzload's in-process truth.
 */
export const LAYOUT_22_11 = {
  ring: { name: 0, nameSize: 29, size: 48, mask: 52, capacity: 56, prodHead: 128, prodTail: 132, consHead: 256, consTail: 260, bytes: 384 },
  mempool: { name: 0, nameSize: 26, poolData: 32, size: 64, cacheSize: 68, eltSize: 72, privateDataSize: 84, localCache: 96, bytes: 192 },
  cache: { size: 0, flushthresh: 4, len: 8, bytes: 8256 },
} as const;

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
}

/** `DPDK 22.11.11` → true; the layout above is known for 22.11 only. */
export function attachSupported(version: string): boolean {
  return /^DPDK 22\.11(\.\d+)?$/.test(version.trim());
}

function cString(buf: Buffer, start: number, size: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('latin1', start, end < 0 || end > start + size ? start + size : end);
}

/** Parses and validates a ring header; throws with the reason when it is not a sane ring. */
export function parseRingHeader(buf: Buffer, expectName: string | undefined): Omit<RingCounts, 'address'> {
  const L = LAYOUT_22_11.ring;
  if (buf.length < L.bytes) throw new ProtocolError('short ring header');
  const name = cString(buf, L.name, L.nameSize);
  const size = buf.readUInt32LE(L.size);
  const mask = buf.readUInt32LE(L.mask);
  const capacity = buf.readUInt32LE(L.capacity);
  const prodHead = buf.readUInt32LE(L.prodHead);
  const prodTail = buf.readUInt32LE(L.prodTail);
  const consHead = buf.readUInt32LE(L.consHead);
  const consTail = buf.readUInt32LE(L.consTail);
  if (expectName !== undefined && name !== expectName) throw new ProtocolError(`ring name is ${JSON.stringify(name)}, expected ${expectName}`);
  if (size === 0 || (size & (size - 1)) !== 0 || mask !== size - 1 || capacity > mask || capacity === 0) {
    throw new ProtocolError(`ring ${name}: inconsistent size ${size} mask ${mask} capacity ${capacity}`);
  }
  // Indexes are free-running 32-bit counters; in flight, head runs ahead of tail by at most a ring.
  const inFlightProd = (prodHead - prodTail) >>> 0;
  const inFlightCons = (consHead - consTail) >>> 0;
  if (inFlightProd > size || inFlightCons > size) throw new ProtocolError(`ring ${name}: head/tail indexes out of range`);
  const count = ((prodTail - consTail) >>> 0) & mask;
  return { name, size, capacity, count: Math.min(count, capacity) };
}

async function readAt(fh: FileHandle, address: bigint, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  // User-space addresses on x86_64 stay below 2^47, well inside a double's exact range.
  if (address <= 0n || address >= 1n << 53n) throw new ProtocolError(`address 0x${address.toString(16)} out of range`);
  const { bytesRead } = await fh.read(buf, 0, length, Number(address));
  if (bytesRead !== length) throw new ProtocolError(`short read at 0x${address.toString(16)}`);
  return buf;
}

function addressOf(text: string | number): bigint {
  return typeof text === 'number' ? BigInt(text) : BigInt(text);
}

async function readPool(fh: FileHandle, pool: MempoolReading, header: MemzoneReading): Promise<AttachedPool> {
  const M = LAYOUT_22_11.mempool;
  const C = LAYOUT_22_11.cache;
  const mp = await readAt(fh, addressOf(header.address), M.bytes);
  const name = cString(mp, M.name, M.nameSize);
  if (name !== pool.name) throw new ProtocolError(`mempool header names ${JSON.stringify(name)}`);
  if (mp.readUInt32LE(M.size) !== pool.size || mp.readUInt32LE(M.cacheSize) !== pool.cacheSize || mp.readUInt32LE(M.eltSize) !== pool.eltSize) {
    throw new ProtocolError('mempool header disagrees with telemetry (size, cache size or element size)');
  }
  const poolData = mp.readBigUInt64LE(M.poolData);
  if (poolData !== BigInt(pool.poolId)) throw new ProtocolError('mempool pool_data disagrees with telemetry pool_id');
  // Only ring-based pools keep their free objects in a ring named MP_<pool>; other ops are refused.
  const ring = parseRingHeader(await readAt(fh, poolData, LAYOUT_22_11.ring.bytes), `MP_${pool.name}`);
  const cacheLens: { lcore: number; len: number }[] = [];
  let cache = 0;
  if (pool.cacheSize > 0) {
    const localCache = mp.readBigUInt64LE(M.localCache);
    // The header memzone holds the struct, RTE_MAX_LCORE caches and the private area: derive the lcore count.
    const lcores = (header.lengthBytes - M.bytes - pool.privateDataSize) / C.bytes;
    if (!Number.isInteger(lcores) || lcores < 1 || lcores > 1024) throw new ProtocolError(`cannot derive RTE_MAX_LCORE from ${header.name} length ${header.lengthBytes}`);
    if (localCache !== addressOf(header.address) + BigInt(M.bytes)) throw new ProtocolError('local_cache is not where the layout puts it');
    const caches = await readAt(fh, localCache, lcores * C.bytes);
    for (let lcore = 0; lcore < lcores; lcore++) {
      const base = lcore * C.bytes;
      const size = caches.readUInt32LE(base + C.size);
      const len = caches.readUInt32LE(base + C.len);
      const threshold = caches.readUInt32LE(base + C.flushthresh);
      if (size !== pool.cacheSize || len > Math.max(threshold, size) * 2) throw new ProtocolError(`lcore ${lcore} cache header is not sane`);
      if (len > 0) cacheLens.push({ lcore, len });
      cache += len;
    }
  }
  const inUse = pool.size - ring.count - cache;
  if (inUse < 0) throw new ProtocolError(`free objects (${ring.count + cache}) exceed the pool size`);
  return { name: pool.name, common: ring.count, cache, cacheLens, inUse };
}

export async function readAttach(host: Host, pid: number, version: string, pools: MempoolReading[], memzones: MemzoneReading[]): Promise<AttachReading> {
  if (!attachSupported(version)) throw new UnsupportedError(`attach reader knows DPDK 22.11's memory layout only; this process runs ${version}`);
  const path = join(host.procRoot, String(pid), 'mem');
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const byName = new Map(memzones.map((z) => [z.name, z]));
    const out: AttachReading = { pools: [], refused: [], rings: [] };
    for (const pool of pools) {
      const header = byName.get(pool.memzone);
      if (!header) {
        out.refused.push({ name: pool.name, why: `no memzone ${pool.memzone}` });
        continue;
      }
      try {
        out.pools.push(await readPool(fh, pool, header));
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        out.refused.push({ name: pool.name, why: err.message });
      }
    }
    for (const z of memzones) {
      if (!z.name.startsWith('RG_') || z.name.startsWith('RG_MP_')) continue;
      try {
        const r = parseRingHeader(await readAt(fh, addressOf(z.address), LAYOUT_22_11.ring.bytes), z.name.slice(3));
        out.rings.push({ ...r, address: z.address });
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
      }
    }
    return out;
  } finally {
    await fh.close();
  }
}
