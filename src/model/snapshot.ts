// The Snapshot: one versioned JSON document that every view (CLI, web, store, metrics) reads.
// Documented in docs/snapshot.md; docs/snapshot.schema.json validates it.

import type { MemoryAlert } from '../analysis/exhaustion.js';

import type { GazelleView } from './stack-view.js';

export const SCHEMA_VERSION = 1;

/** Where a figure came from, so users know what is exact. */
export type Source =
  | 'kernel' // procfs / sysfs
  | 'telemetry' // DPDK telemetry v2 socket
  | 'preload' // libgzmem.so's telemetry commands, read in-process: exact
  | 'attach' // ring and cache counters read from /proc/<pid>/mem
  | 'telemetry-occupancy' // DPDK >= 23.03 mempool counts in telemetry
  | 'gazellectl' // gazelle's own report (mbuf_pool_freecnt)
  | 'derived'; // arithmetic on the figures above

/** Occupancy sources, best first. */
export const OCCUPANCY_PRIORITY: readonly Source[] = ['preload', 'attach', 'telemetry-occupancy', 'gazellectl'];

/** A figure that may be unknown: `bytes` null says the sources could not tell, `why` says why. */
export interface Level {
  bytes: number | null;
  source: Source | null;
  why?: string;
}

export interface Waterfall {
  /** Hugepages the kernel has mapped into the process (smaps_rollup *_Hugetlb). */
  reserved: Level;
  /** DPDK's malloc heaps (Heap_size, all sockets). */
  heap: Level;
  /** Allocated from those heaps: memzones, mempools, rings, rte_malloc (Alloc_size). */
  allocated: Level;
  /** Allocated minus the free objects sitting in mempools. */
  inUse: Level;
}

export interface HugepageSize {
  pageBytes: number;
  total: number;
  free: number;
  reserved: number | null;
  surplus: number;
  totalBytes: number;
  freeBytes: number;
}

export interface NodeHugepageSize extends HugepageSize {
  node: number;
}

export interface MachineHugepages {
  sizes: HugepageSize[];
  nodes: NodeHugepageSize[];
  mounts: { mountPoint: string; pageBytes: number | null }[];
}

export interface Heap {
  id: number;
  name: string;
  heapBytes: number;
  allocBytes: number;
  freeBytes: number;
  greatestFreeBytes: number;
  allocCount: number;
  freeCount: number;
}

export type MemzoneOwnerKind = 'mempool' | 'ring' | 'ethdev' | 'other';

export interface Memzone {
  id: number;
  name: string;
  lengthBytes: number;
  address: string;
  socket: number;
  hugepageBytes: number;
  hugepagesUsed: number;
  owner: { kind: MemzoneOwnerKind; name: string | null };
}

export interface OccupancyReading {
  inUse: number;
  /** Objects free in the shared pool (ring) and in the per-lcore caches, where the source tells them apart. */
  commonPoolAvail: number | null;
  cacheAvail: number | null;
  source: Source;
}

export interface Occupancy extends OccupancyReading {
  /** The other sources' readings of the same pool, for comparison. */
  checks: { source: Source; inUse: number }[];
  /** Whether every check is within `tolerance` objects of the primary reading; null with no checks. */
  agrees: boolean | null;
  /** Objects that can be in flight between two reads taken moments apart (caches and a burst). */
  tolerance: number;
}

export interface Ring {
  name: string;
  capacity: number;
  /** Entries in the ring; null where no source could read it. */
  count: number | null;
  /** Bytes the ring takes: header plus slots (8-byte entries). */
  bytes: number;
  address: string | null;
  /** Kernel tid of the thread that created it (preload only). */
  creatorTid: number | null;
  /** `RG_<name>` when the ring lives in a memzone; null for rte_malloc'd rings. */
  memzone: string | null;
  source: Source;
  checks: { source: Source; count: number }[];
}

export interface Mempool {
  name: string;
  socket: number;
  size: number;
  populated: number;
  cacheSize: number;
  eltBytes: number;
  headerBytes: number;
  trailerBytes: number;
  privateDataBytes: number;
  /** header + element + trailer: what one object really takes. */
  objectBytes: number;
  /** size x objectBytes. */
  objectsBytes: number;
  /** Sum of the memzones the pool occupies (header, ring, object chunks). */
  memzoneBytes: number;
  memzones: string[];
  opsIndex: number;
  occupancy: Occupancy | null;
  /** The true peak of in-use objects (the preload's sampler), or null with `peakWhy`. */
  peak: PoolPeak | null;
  peakWhy?: string;
  source: Source;
}

/**
 * The highest in-use the preload's sampler saw, reading the pool about `hz` times a second: in the
 * window from `since` to the snapshot (a recorder's interval; for a one-shot, all the sampler has
 * seen), and since it first read the pool (`highWaterSince`: the first read of gzmem after the
 * pool was created).
 */
export interface PoolPeak {
  inUse: number;
  since: string;
  highWater: number;
  highWaterSince: string;
  hz: number;
  /** The sampler's rate while no pool fills; it goes to `hz` when one rises. */
  idleHz: number;
  /** Share of the window's passes the sampler made (below 1 when it was kept off the CPU). */
  coverage: number;
}

/**
 * The entries held in one thread's rings outside memzones (rte_malloc'd, as gazelle's per-connection
 * rings are), summed by the preload's sampler at each walk of its ring registry (`walkPeriodMs`
 * apart): now, at the highest walk since `since` (a recorder's interval; for a one-shot, all the
 * sampler has seen) and since the sampler started.
 */
export interface RingOwner {
  tid: number;
  /** null: the thread has exited (its rings live on). */
  thread: string | null;
  rings: number;
  capacity: number;
  entries: number;
  peak: number;
  since: string;
  highWater: number;
  walkedAt: string;
  walkPeriodMs: number;
}

export interface EthdevPort {
  port: number;
  name: string;
  rxQueues: number;
  txQueues: number;
  /** 22.11 telemetry tells neither descriptor counts nor the pools queues draw from. */
  rxDescriptors: number | null;
  txDescriptors: number | null;
  mbufPools: string[] | null;
  /** Why descriptors and pools are unknown, when they are. */
  queuesWhy?: string;
  rxNombuf: number | null;
  started: boolean;
  socket: number;
  mtu: number;
}

export interface PosixCallCount {
  tid: number;
  /** null: the thread has exited. */
  thread: string | null;
  call: string;
  calls: number;
  errors: number;
  /** With GZMEM_CALLS_LATENCY=on in the process: how many calls took less than leNs (null: 4.2 ms and more). */
  latency?: { leNs: number | null; count: number }[];
}

export interface Thread {
  tid: number;
  name: string;
  cpu: number | null;
  affinity: string | null;
  state: string | null;
  /** null: the application's. 'gzmem': EAL's thread serving gzmem's own telemetry connection;
   * 'telemetry-client': one serving another telemetry client. */
  role: 'gzmem' | 'telemetry-client' | null;
}

export interface HugetlbUse {
  /** Mapped hugetlb bytes per page size and per NUMA node (numa_maps). */
  byPageSize: { pageBytes: number; bytes: number }[];
  byNode: { node: number; bytes: number }[];
  /** `HugetlbPages:` of /proc/<pid>/status, for comparison with smaps. */
  statusBytes: number | null;
  mappings: number;
}

export interface DpdkProcess {
  pid: number;
  command: string;
  cmdline: string[];
  filePrefix: string | null;
  telemetrySocket: string | null;
  dpdkVersion: string | null;
  ealParams: string[];
  waterfall: Waterfall;
  hugetlb: HugetlbUse;
  heaps: Heap[];
  memzones: Memzone[];
  mempools: Mempool[];
  ethdevs: EthdevPort[];
  rings: Ring[];
  /** Parts not read again at this sample because nothing says they changed, and when they were read. */
  carriedOver: { part: string; readAt: string }[];
  /** POSIX calls counted by the preload, per thread and call since the thread's first; null with the reason. */
  posixCalls: PosixCallCount[] | null;
  posixCallsWhy?: string;
  /** Entries in each thread's rte_malloc'd rings, from the preload's sampler; null with the reason. */
  ringOwners: RingOwner[] | null;
  ringOwnersWhy?: string;
  /** Heap allocations outside every memzone: rte_malloc (rings made with rte_ring_init, driver data) and allocator overhead. */
  unattributed: Level;
  threads: Thread[];
  /** Per source: what worked, and why not where it did not. */
  sources: { name: Source; ok: boolean; detail?: string }[];
  warnings: string[];
  /** Pools near exhaustion (in use or true peak at 90 % and more) and ports that ran out of mbufs. */
  alerts: MemoryAlert[];
}

export interface Orphan {
  prefix: string | null;
  files: number;
  bytes: number;
  mount: string;
  /** The user's command to reclaim the memory; gzmem never runs it. */
  removeCommand: string;
}

export interface Snapshot {
  schemaVersion: typeof SCHEMA_VERSION;
  takenAt: string;
  durationMs: number;
  hostname: string;
  hugepages: MachineHugepages;
  processes: DpdkProcess[];
  /** null when not looked for, or when gzmem cannot tell (then orphansWhy says why). */
  orphans: Orphan[] | null;
  orphansWhy?: string;
  /** Machine parts a sampler did not read again at this sample, and when it read them. */
  carriedOver?: { part: string; readAt: string }[];
  /** The per-stack gazelle view, from `gzmem lstack show`. */
  lstack?: GazelleView[];
}
