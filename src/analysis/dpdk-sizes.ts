// What DPDK's allocators take from the hugepage heap for a pool, a ring or a memzone (pure).
// The formulas follow librte_mempool, librte_ring and librte_eal's malloc (facts from the DPDK
// sources of each release); the structure sizes differ by release and architecture, so they sit in
// one table, each checked against a real process of that build in the tests.

export type Arch = 'x86_64' | 'aarch64';

export interface DpdkBuild {
  /** "22.11" */
  release: string;
  arch: Arch;
  cacheLine: number;
  maxLcore: number;
  /** sizeof(struct rte_mempool) */
  mempoolStruct: number;
  /** sizeof(struct rte_mempool_cache): one per lcore when a pool has a cache */
  mempoolCache: number;
  /** sizeof(struct rte_ring) */
  ringStruct: number;
  /** sizeof(struct rte_mbuf) */
  mbufStruct: number;
  /** The malloc element header in front of every heap allocation (struct malloc_elem, no debug trailer). */
  mallocHeader: number;
  /**
   * A pool's small bookkeeping allocations besides its three memzones (the tail-queue entries of
   * its pool and ring, its chunk header), measured on a real process of the build.
   */
  poolBookkeeping: number;
  /** What EAL and ethdev allocate before the application does (rte_eth_dev_data and friends). */
  ealBaseline: number;
}

const x86 = {
  arch: 'x86_64',
  cacheLine: 64,
  maxLcore: 128,
  mempoolStruct: 192,
  ringStruct: 384,
  mbufStruct: 128,
  mallocHeader: 128,
} as const;
const arm = {
  arch: 'aarch64',
  cacheLine: 128,
  maxLcore: 256,
  mempoolStruct: 256,
  ringStruct: 768,
  mbufStruct: 128,
  mallocHeader: 128,
} as const;

// 21.11 sized each lcore cache for 3 x RTE_MEMPOOL_CACHE_MAX_SIZE objects, later releases for 2 x.
// ealBaseline: gzload's heap Alloc_size less everything predicted for its pools, zones and rings.
export const DPDK_BUILDS: readonly DpdkBuild[] = [
  { release: '21.11', ...x86, mempoolCache: 12352, poolBookkeeping: 768, ealBaseline: 425_000 },
  { release: '22.11', ...x86, mempoolCache: 8256, poolBookkeeping: 768, ealBaseline: 462_000 },
  { release: '23.11', ...x86, mempoolCache: 8256, poolBookkeeping: 768, ealBaseline: 463_000 },
  { release: '24.11', ...x86, mempoolCache: 8256, poolBookkeeping: 768, ealBaseline: 315_000 },
  // aarch64: measured on 23.11 (gzload under qemu-user, --no-huge); the other releases reuse it.
  { release: '21.11', ...arm, mempoolCache: 12416, poolBookkeeping: 1536, ealBaseline: 602_000 },
  { release: '22.11', ...arm, mempoolCache: 8320, poolBookkeeping: 1536, ealBaseline: 602_000 },
  { release: '23.11', ...arm, mempoolCache: 8320, poolBookkeeping: 1536, ealBaseline: 602_000 },
  { release: '24.11', ...arm, mempoolCache: 8320, poolBookkeeping: 1536, ealBaseline: 602_000 },
];

/** The build of a release ("22.11.11" or "DPDK 23.11.2" also do) on an architecture. */
export function dpdkBuild(release: string, arch: Arch = 'x86_64'): DpdkBuild | undefined {
  const m = /(\d+\.\d+)/.exec(release);
  return m ? DPDK_BUILDS.find((b) => b.release === m[1] && b.arch === arch) : undefined;
}

export const alignUp = (n: number, to: number): number => Math.ceil(n / to) * to;

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** rte_ring_get_memsize: the ring structure and a pointer per slot, to a cache line. */
export function ringBytes(b: DpdkBuild, slots: number): number {
  return alignUp(b.ringStruct + slots * 8, b.cacheLine);
}

/** A ring made for `count` objects without RING_F_EXACT_SZ has the next power of two above it. */
export const ringSlotsFor = (count: number): number => nextPow2(count + 1);

/** Bytes one heap allocation of `size` takes: the element header and the size to a cache line (one at least). */
export function heapBytes(b: DpdkBuild, size: number): number {
  return b.mallocHeader + Math.max(b.cacheLine, alignUp(size, b.cacheLine));
}

export interface MempoolSpec {
  count: number;
  eltSize: number;
  cacheSize: number;
  privateDataSize: number;
}

export interface MempoolLayout {
  /** header + element + trailer, as rte_mempool_calc_obj_size makes it */
  objectBytes: number;
  /** MP_<name>: the pool structure, its per-lcore caches and private data */
  poolZone: number;
  /** RG_MP_<name>: the ring that holds the free objects */
  ringZone: number;
  /** MP_<name>_0: the objects, laid out so none crosses a page */
  objectZone: number;
  /** All of it on the heap, with element headers and bookkeeping. */
  heapBytes: number;
}

/**
 * rte_mempool_calc_obj_size: a cache-line header, the element, then a trailer that pads to whole
 * cache lines. On x86 only, the line count then grows until it shares no factor with the memory
 * channels (EAL's -n, 4 when not given), so consecutive objects start on different channels.
 */
export function mempoolObjectBytes(b: DpdkBuild, eltSize: number, channels = 4): number {
  const header = alignUp(24, b.cacheLine);
  let lines = Math.ceil((header + eltSize) / b.cacheLine);
  if (b.arch === 'x86_64') while (gcd(lines, channels) !== 1) lines++;
  return lines * b.cacheLine;
}

/**
 * The default populate with objects that must not cross a page: whole pages of objects, the last
 * page's objects, and one object more in case the chunk does not start on a page.
 * `pageBytes` is the hugepage size (the page size with --no-huge).
 */
export function mempoolLayout(b: DpdkBuild, spec: MempoolSpec, pageBytes: number): MempoolLayout {
  const obj = mempoolObjectBytes(b, spec.eltSize);
  const perPage = Math.floor(pageBytes / obj);
  let chunk: number;
  if (perPage === 0) chunk = spec.count * alignUp(obj, pageBytes);
  else {
    const inLastPage = ((spec.count - 1) % perPage) + 1;
    chunk = inLastPage * obj + ((spec.count - inLastPage) / perPage) * pageBytes + obj - 1;
  }
  const poolZone = alignUp(
    b.mempoolStruct + (spec.cacheSize > 0 ? b.maxLcore * b.mempoolCache : 0) + alignUp(spec.privateDataSize, b.cacheLine),
    b.cacheLine,
  );
  const ringZone = ringBytes(b, ringSlotsFor(spec.count));
  const objectZone = alignUp(chunk, b.cacheLine);
  return {
    objectBytes: obj,
    poolZone,
    ringZone,
    objectZone,
    heapBytes: heapBytes(b, poolZone) + heapBytes(b, ringZone) + heapBytes(b, objectZone) + b.poolBookkeeping,
  };
}

/** rte_pktmbuf_pool_create's element: the mbuf, its private area and its data room. */
export function mbufPoolSpec(b: DpdkBuild, count: number, cacheSize: number, privSize: number, dataRoom: number): MempoolSpec {
  // rte_pktmbuf_pool_private (two 16-bit sizes and a flags word) is the pool's private data.
  return { count, eltSize: b.mbufStruct + privSize + dataRoom, cacheSize, privateDataSize: 8 };
}
