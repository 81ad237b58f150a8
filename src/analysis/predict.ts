// How much hugepage memory a gazelle process will allocate, from its lstack.conf alone, before it
// starts (pure). Each protocol-stack thread gets an mbuf pool, lwIP's pools (memzones named after
// the thread) and, per open connection, its rings; the process adds EAL's own allocations and, per
// application thread that calls into the stack, an rpc pool. The sizes come from dpdk-sizes.ts;
// what a stack makes of its settings is a profile: gazelle's own, or gzload's (the demo workload).

import type { ConfigGroup } from '../collect/libconfig.js';
import { gazelleMbufsPerStack, parseCpuList } from '../model/stack-view.js';
import { alignUp, heapBytes, mbufPoolSpec, mempoolLayout, ringBytes, type DpdkBuild } from './dpdk-sizes.js';

export interface StackSettings {
  tcpConnCount: number;
  mbufCountPerConn: number;
  nicRxqueueSize: number;
  nicTxqueueSize: number;
  /** rpc_msg_max: objects in each rpc pool */
  rpcMsgMax: number;
  sendRingSize: number;
  recvRingSize: number;
  /** The CPUs of num_cpus, one protocol-stack thread each. */
  stackCpus: number[];
  /** From dpdk_args: MiB per NUMA node, when given. */
  socketMemMiB: number[] | null;
  noHuge: boolean;
}

export interface PredictedPart {
  name: string;
  bytes: number;
  /** The formula, in the user's terms. */
  how: string;
}

export interface PredictedStack {
  id: number;
  cpu: number;
  node: number;
  parts: PredictedPart[];
  bytes: number;
}

export interface NodeNeed {
  node: number;
  bytes: number;
  pages: number;
}

export interface Prediction {
  profile: string;
  release: string;
  arch: string;
  pageBytes: number;
  /** Connections open per stack that the prediction counts (tcp_conn_count unless told). */
  connections: number;
  appThreads: number;
  stacks: PredictedStack[];
  shared: PredictedPart[];
  totalBytes: number;
  /** Per NUMA node: heap bytes allocated and the hugepages they need. */
  nodes: NodeNeed[];
  /** --socket-mem that holds it, MiB per node in node order. */
  socketMemMiB: number[];
  nrHugepages: number;
  notes: string[];
}

/** What a stack allocates for its settings: gazelle's choices, or gzload's. */
export interface StackProfile {
  name: string;
  /** Connections a stack holds when the process holds `total`. */
  stackConnections(s: StackSettings, total: number): number;
  /** The most connections the process admits. */
  maxConnections(s: StackSettings): number;
  /** The tcp_conn_count that admits `total` connections in the process. */
  tcpConnCountFor(s: StackSettings, total: number): number;
  mbufs(s: StackSettings): number;
  mbufFormula: string;
  mbufCache(pool: number): number;
  mbufPriv: number;
  mbufDataRoom: number;
  /** lwIP's pools, one memzone each, named <POOL>_<stack tid>. */
  lwipZones(s: StackSettings): { name: string; length: number }[];
  /** Heap allocations per open connection (its rings), as requested sizes. */
  perConnection(b: DpdkBuild, s: StackSettings): { name: string; size: number }[];
  /** Allocations a stack makes once, besides its pools and zones. */
  perStack(b: DpdkBuild, s: StackSettings): { name: string; size: number }[];
  /** Memzones the process makes once (besides EAL's). */
  processZones: { name: string; length: number }[];
  /** Whose rpc pools: one per application thread (gazelle), or per stack (gzload). */
  rpcPoolPer: 'app-thread' | 'stack';
}

const RPC_ELT_SIZE = 80;
// lwIP's mailbox for a TCP connection's received segments (DEFAULT_TCP_RECVMBOX_SIZE in gazelle's lwIP)
const GAZELLE_RECVMBOX = 4096;

/**
 * gazelle as built in 2024 (its sources of September 2024 on DPDK 22.11, the captured server in
 * test/fixtures): tcp_conn_count is the process's, shared by the stacks; each stack's pool holds its
 * share of mbuf_count_per_conn, the NIC's descriptors and a reserve of one more rx queue and 1024;
 * lwIP's pools are sized at compile time (22,000 connections), so their memzones do not follow
 * lstack.conf: their lengths are the captured ones. Each application thread that calls into the
 * stack gets an rpc pool of rpc_msg_max messages; each connection three rings.
 */
export const GAZELLE_2024_PROFILE: StackProfile = {
  name: 'gazelle (2024 build)',
  stackConnections: (s, total) => Math.ceil(total / s.stackCpus.length),
  maxConnections: (s) => s.tcpConnCount,
  tcpConnCountFor: (_s, total) => total,
  mbufs: (s) => gazelleMbufsPerStack(s.tcpConnCount, s.mbufCountPerConn, s.nicRxqueueSize, s.nicTxqueueSize, s.stackCpus.length),
  mbufFormula: 'tcp_conn_count x mbuf_count_per_conn / stacks + 2 x nic_rxqueue_size + nic_txqueue_size + 1024',
  mbufCache: (pool) => flushSafeCache(pool, 512),
  // The captured pool's 1,992 B element: the 128 B mbuf, a 192 B private area and a 1,672 B data room.
  mbufPriv: 192,
  mbufDataRoom: 1672,
  lwipZones: () => GAZELLE_2024_LWIP,
  perConnection: (b, s) => [
    { name: 'sock_recv', size: ringBytes(b, s.recvRingSize) },
    { name: 'sock_send', size: ringBytes(b, s.sendRingSize) },
    { name: 'recv mbox', size: ringBytes(b, GAZELLE_RECVMBOX) },
  ],
  perStack: () => [],
  // rte_pdump_init's statistics: every port's queues.
  processZones: [{ name: 'rte_pdump_stats', length: 4_194_368 }],
  rpcPoolPer: 'app-thread',
};

const GAZELLE_2024_LWIP: { name: string; length: number }[] = [
  ['LWIP_RAM_HEAP_POINTER', 17_825_856],
  ['TCP_PCB', 8_976_000],
  ['UDP_PCB', 2_992_000],
  ['NETCONN', 2_288_000],
  ['SYS_MBOX', 2_112_000],
  ['PBUF_POOL', 1_624_064],
  ['TCP_SEG', 1_048_576],
  ['TCP_PCB_LISTEN', 504_000],
  ['SYS_SEM', 352_000],
  ['FRAG_PBUF', 1216],
  ['PBUF', 1152],
  ['MLD6_GROUP', 640],
  ['ARP_QUEUE', 512],
  ['IGMP_GROUP', 384],
  ['ND6_QUEUE', 320],
  ['REASSDATA', 256],
  ['TCPIP_MSG_API', 256],
  ['TCPIP_MSG_INPKT', 256],
  ['SYS_TIMEOUT', 256],
  ['IP6_REASSDATA', 256],
  ['NETBUF', 128],
].map(([name, length]) => ({ name: name as string, length: length as number }));

function flushSafeCache(pool: number, wanted: number): number {
  // DPDK refuses a cache whose flush threshold (1.5 x size) exceeds the pool.
  return wanted * 1.5 > pool ? Math.floor((pool * 2) / 3) : wanted;
}

const GZLOAD_LWIP: { name: string; base: number; perConn: number; timesMbufs: boolean }[] = [
  { name: 'LWIP_RAM_HEAP_POINTER', base: 1 << 20, perConn: 16 << 10, timesMbufs: false },
  { name: 'TCP_PCB', base: 0, perConn: 256, timesMbufs: false },
  { name: 'TCP_SEG', base: 0, perConn: 64, timesMbufs: true },
  { name: 'PBUF_POOL', base: 0, perConn: 1024, timesMbufs: false },
  { name: 'NETCONN', base: 0, perConn: 512, timesMbufs: false },
  { name: 'SYS_MBOX', base: 0, perConn: 1408, timesMbufs: false },
  { name: 'UDP_PCB', base: 0, perConn: 256, timesMbufs: false },
  { name: 'TCP_PCB_LISTEN', base: 0, perConn: 64, timesMbufs: false },
];

/** gzload (native/gzload.c): gazelle's shapes, lwIP scaled down, every connection made at start. */
export const GZLOAD_PROFILE: StackProfile = {
  name: 'gzload',
  // gzload's tcp_conn_count is per stack.
  stackConnections: (s, total) => Math.ceil(total / s.stackCpus.length),
  maxConnections: (s) => s.tcpConnCount * s.stackCpus.length,
  tcpConnCountFor: (s, total) => Math.ceil(total / s.stackCpus.length),
  mbufs: (s) => s.tcpConnCount * s.mbufCountPerConn + 2 * s.nicRxqueueSize + s.nicTxqueueSize + 1024,
  mbufFormula: 'tcp_conn_count x mbuf_count_per_conn + 2 x nic_rxqueue_size + nic_txqueue_size + 1024',
  mbufCache: (pool) => flushSafeCache(pool, 512),
  mbufPriv: 64,
  mbufDataRoom: 1800,
  lwipZones: (s) =>
    GZLOAD_LWIP.map((z) => ({
      name: z.name,
      length: Math.max(4096, z.base + z.perConn * s.tcpConnCount * (z.timesMbufs ? s.mbufCountPerConn : 1)),
    })),
  perConnection: (b, s) => [
    { name: 'sock_recv ring', size: ringBytes(b, s.recvRingSize) },
    { name: 'sock_send ring', size: ringBytes(b, s.recvRingSize) },
  ],
  // The list that lets the leak pattern hold every mbuf of the pool.
  perStack: (_b, s) => [{ name: 'leak list', size: 8 * GZLOAD_PROFILE.mbufs(s) }],
  processZones: [],
  rpcPoolPer: 'stack',
};

export interface PredictOptions {
  profile: StackProfile;
  build: DpdkBuild;
  pageBytes: number;
  /** Open connections in the process; the most it admits unless given. */
  connections?: number;
  /** Application threads that call into the stack (each gets an rpc pool in gazelle). */
  appThreads?: number;
  /** NUMA node of a CPU; node 0 when unknown. */
  cpuNode?: (cpu: number) => number;
}

export function predict(s: StackSettings, o: PredictOptions): Prediction {
  const { profile: pr, build: b } = o;
  const connections = Math.min(o.connections ?? pr.maxConnections(s), pr.maxConnections(s));
  const perStack = pr.stackConnections(s, connections);
  const appThreads = o.appThreads ?? 1;
  const zone = (name: string, length: number, how: string): PredictedPart => ({ name, bytes: heapBytes(b, length), how });
  const rpcPool = (owner: string): PredictedPart => ({
    name: `rpc_pool (${owner})`,
    bytes: mempoolLayout(b, { count: s.rpcMsgMax, eltSize: RPC_ELT_SIZE, cacheSize: 0, privateDataSize: 0 }, o.pageBytes).heapBytes,
    how: `rpc_msg_max ${s.rpcMsgMax} x ${RPC_ELT_SIZE} B`,
  });

  const stacks = s.stackCpus.map((cpu, id): PredictedStack => {
    const mbufs = pr.mbufs(s);
    const pool = mempoolLayout(b, mbufPoolSpec(b, mbufs, pr.mbufCache(mbufs), pr.mbufPriv, pr.mbufDataRoom), o.pageBytes);
    const parts: PredictedPart[] = [
      {
        name: 'mbuf pool',
        bytes: pool.heapBytes,
        how: `${mbufs} mbufs of ${pool.objectBytes} B = ${pr.mbufFormula}`,
      },
      ...pr.lwipZones(s).map((z) => zone(`lwIP ${z.name}`, z.length, 'lwIP pool')),
      ...pr.perStack(b, s).map((a) => ({ name: a.name, bytes: heapBytes(b, a.size), how: 'once per stack' })),
    ];
    if (pr.rpcPoolPer === 'stack') parts.push(rpcPool('stack thread'));
    const perConn = pr.perConnection(b, s);
    if (perStack > 0 && perConn.length > 0) {
      const one = perConn.reduce((sum, a) => sum + heapBytes(b, a.size), 0);
      parts.push({
        name: 'connection rings',
        bytes: one * perStack,
        how: `${perStack} connections x ${one} B (${perConn.map((a) => a.name).join(', ')})`,
      });
    }
    return { id, cpu, node: o.cpuNode?.(cpu) ?? 0, parts, bytes: parts.reduce((sum, p) => sum + p.bytes, 0) };
  });

  const shared: PredictedPart[] = [
    { name: 'EAL and ethdev', bytes: b.ealBaseline, how: `measured on DPDK ${b.release} ${b.arch}` },
    ...pr.processZones.map((z) => zone(z.name, z.length, 'once per process')),
  ];
  if (pr.rpcPoolPer === 'app-thread') for (let t = 0; t < appThreads; t++) shared.push(rpcPool(`application thread ${t + 1}`));

  const sharedBytes = shared.reduce((sum, p) => sum + p.bytes, 0);
  const byNode = new Map<number, number>();
  // The process's own allocations land on the first stack's node: gazelle binds its main thread there.
  const mainNode = stacks[0]?.node ?? 0;
  byNode.set(mainNode, sharedBytes);
  for (const st of stacks) byNode.set(st.node, (byNode.get(st.node) ?? 0) + st.bytes);
  const nodes = [...byNode.entries()]
    .sort((a, c) => a[0] - c[0])
    .map(([node, bytes]) => ({ node, bytes, pages: Math.ceil(bytes / o.pageBytes) }));
  const socketMemMiB: number[] = [];
  for (const n of nodes) socketMemMiB[n.node] = alignUp(n.pages * o.pageBytes, 1 << 20) / (1 << 20);
  for (let i = 0; i < socketMemMiB.length; i++) socketMemMiB[i] ??= 0;

  const notes: string[] = [
    'NIC descriptor rings are not counted: their size depends on the driver (af_packet, null and ring devices keep none in hugepages).',
  ];
  if (s.noHuge) notes.push('dpdk_args has --no-huge: this memory comes from ordinary pages, not hugepages.');
  if (s.socketMemMiB) {
    s.socketMemMiB.forEach((mib, node) => {
      const need = socketMemMiB[node] ?? 0;
      if (mib < need)
        notes.push(`--socket-mem gives node ${node} ${mib} MiB, less than the ${need} MiB needed: the stack will fail to start.`);
    });
  }
  return {
    profile: pr.name,
    release: b.release,
    arch: b.arch,
    pageBytes: o.pageBytes,
    connections,
    appThreads,
    stacks,
    shared,
    totalBytes: sharedBytes + stacks.reduce((sum, st) => sum + st.bytes, 0),
    nodes,
    socketMemMiB,
    nrHugepages: nodes.reduce((sum, n) => sum + n.pages, 0),
    notes,
  };
}

const num = (c: ConfigGroup, key: string, dflt: number): number => {
  const v = c[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new Error(`${key} must be a non-negative integer, got ${JSON.stringify(String(v))}`);
  return v;
};

/**
 * The settings that size the stacks, with gazelle's defaults for those left out. Throws an Error
 * naming the setting that is wrong.
 */
export function stackSettings(c: ConfigGroup): StackSettings {
  const args = Array.isArray(c.dpdk_args) ? c.dpdk_args.map(String) : [];
  const argValue = (...names: string[]) => {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      for (const n of names) {
        if (a === n) return args[i + 1];
        if (a.startsWith(`${n}=`)) return a.slice(n.length + 1);
      }
    }
    return undefined;
  };
  const socketMem = argValue('--socket-mem');
  if (typeof c.num_cpus !== 'string') throw new Error('num_cpus must be a string such as "2" or "2,3"');
  return {
    tcpConnCount: num(c, 'tcp_conn_count', 1500),
    mbufCountPerConn: num(c, 'mbuf_count_per_conn', 170),
    nicRxqueueSize: num(c, 'nic_rxqueue_size', 4096),
    nicTxqueueSize: num(c, 'nic_txqueue_size', 2048),
    rpcMsgMax: num(c, 'rpc_msg_max', 4096),
    sendRingSize: num(c, 'send_ring_size', 32),
    recvRingSize: num(c, 'recv_ring_size', 128),
    stackCpus: parseCpuList(c.num_cpus),
    socketMemMiB: socketMem === undefined ? null : socketMem.split(',').map((v) => Number(v)),
    noHuge: args.includes('--no-huge'),
  };
}
