// Right-sizing (pure): from the highest in-use each pool reached over a window, the settings that
// keep it with a headroom, the hugepages they need (the predictor), and what that saves. Advice
// never goes below the observed peak times the headroom; a pool that ran dry only grows.

import { predict, type PredictOptions, type Prediction, type StackSettings } from './predict.js';

export interface PoolObservation {
  name: string;
  size: number;
  /** header + element + trailer */
  objectBytes: number;
  /** The highest in-use seen over the window; null when never readable. */
  peakInUse: number | null;
  /** From the preload's sampler (every burst), or only from the samples. */
  peakIsTrue: boolean;
}

export interface Observation {
  /** 'history': a recorded window; 'now': one snapshot, which sees no burst. */
  source: 'history' | 'now';
  windowMs: number;
  pools: PoolObservation[];
  /** rx_nombuf over the window, all ports; null when no port says. */
  allocFailures: number | null;
  /** Hugepages the process holds now (its mappings). */
  reservedBytes: number | null;
  /** Connections open at most, where known. */
  connectionsPeak: number | null;
}

export interface SettingChange {
  key: string;
  from: number | string;
  to: number | string;
  why: string;
}

export interface Advice {
  headroom: number;
  changes: SettingChange[];
  /** For a plain DPDK process: each pool's size against what it needs. */
  pools: { name: string; size: number; peakInUse: number | null; advised: number | null; savedBytes: number | null }[];
  /** The prediction for the advised settings (gazelle-like stacks only). */
  prediction: Prediction | null;
  socketMemMiB: number[] | null;
  nrHugepages: number | null;
  /** Hugepage bytes the process would hold with the advice. */
  advisedBytes: number | null;
  savedBytes: number | null;
  savedShare: number | null;
  notes: string[];
}

/** The smallest value in [1, 2^30] for which grows(v) holds, given it is monotone. */
function smallest(holds: (v: number) => boolean): number {
  let lo = 1;
  let hi = 1;
  while (!holds(hi) && hi < 2 ** 30) hi *= 2;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (holds(mid)) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}

function windowNotes(o: Observation): string[] {
  const notes: string[] = [];
  const minutes = o.windowMs / 60_000;
  if (o.source === 'now')
    notes.push(
      'From one snapshot, not a recorded window: a burst between samples is not seen. Record first (gzmem record) for advice that holds.',
    );
  else notes.push(`From a recorded window of ${minutes >= 120 ? `${(minutes / 60).toFixed(1)} h` : `${minutes.toFixed(1)} min`}.`);
  if (o.pools.some((p) => p.peakInUse !== null && !p.peakIsTrue))
    notes.push('Some peaks are the sampled ones (no preload): a burst shorter than the interval may have gone higher.');
  if (o.allocFailures === null) notes.push('Allocation failures: unknown (no port reports rx_nombuf).');
  else if (o.allocFailures > 0)
    notes.push(
      `${o.allocFailures} allocation failures (rx_nombuf) in the window: a pool ran dry, so its true need is unknown; it only grows.`,
    );
  else notes.push('No allocation failure (rx_nombuf) in the window.');
  return notes;
}

/** Needed objects for a pool: its peak with headroom; a pool that ran dry grows by the headroom. */
function needed(p: PoolObservation, o: Observation, headroom: number): number | null {
  if (p.peakInUse === null) return null;
  const ranDry = (o.allocFailures ?? 0) > 0 && p.peakInUse >= p.size;
  return Math.ceil((ranDry ? p.size : p.peakInUse) * headroom);
}

/**
 * Advice for a gazelle-like process: the stacks' mbuf pools (`isStackPool`) bound
 * mbuf_count_per_conn; tcp_conn_count follows the connections seen, where they are known.
 */
export function adviseStacks(
  s: StackSettings,
  o: Observation,
  headroom: number,
  options: PredictOptions,
  isStackPool: (name: string) => boolean,
): Advice {
  const notes = windowNotes(o);
  const changes: SettingChange[] = [];
  const stackPools = o.pools.filter((p) => isStackPool(p.name));
  const needs = stackPools.map((p) => needed(p, o, headroom));
  let advised = { ...s };
  if (stackPools.length === 0 || needs.some((n) => n === null)) {
    notes.push("The stacks' mbuf pools were not readable: mbuf_count_per_conn is kept.");
  } else {
    const need = Math.max(...(needs as number[]));
    if (o.connectionsPeak !== null) {
      const conns = Math.max(1, options.profile.tcpConnCountFor(s, Math.ceil(o.connectionsPeak * headroom)));
      if (conns < s.tcpConnCount) {
        changes.push({
          key: 'tcp_conn_count',
          from: s.tcpConnCount,
          to: conns,
          why: `${o.connectionsPeak} connections at most, x ${headroom}`,
        });
        advised = { ...advised, tcpConnCount: conns };
      }
    } else notes.push(`tcp_conn_count is kept (${s.tcpConnCount}): the connections open were not known.`);
    const per = smallest((v) => options.profile.mbufs({ ...advised, mbufCountPerConn: v }) >= need);
    if (per !== s.mbufCountPerConn) {
      const peak = Math.max(...stackPools.map((p) => p.peakInUse!));
      changes.push({
        key: 'mbuf_count_per_conn',
        from: s.mbufCountPerConn,
        to: per,
        why: `mbufs in use at most ${peak} per stack, x ${headroom} = ${need}`,
      });
      advised = { ...advised, mbufCountPerConn: per };
    }
  }
  notes.push(
    'nic_rxqueue_size and nic_txqueue_size are kept: descriptors trade memory for tolerance to bursts, which memory alone cannot judge.',
  );
  const prediction = predict(advised, options);
  notes.push(...perUnitCosts(prediction, advised));
  const socketMem = prediction.socketMemMiB.join(',');
  const current = s.socketMemMiB?.join(',') ?? null;
  if (current !== socketMem)
    changes.push({
      key: '--socket-mem',
      from: current ?? '(none)',
      to: socketMem,
      why: 'the predicted allocation for the advised settings, in whole pages',
    });
  const advisedBytes = prediction.nrHugepages * prediction.pageBytes;
  const savedBytes = o.reservedBytes === null ? null : o.reservedBytes - advisedBytes;
  return {
    headroom,
    changes,
    pools: [],
    prediction,
    socketMemMiB: prediction.socketMemMiB,
    nrHugepages: prediction.nrHugepages,
    advisedBytes,
    savedBytes,
    savedShare: savedBytes === null || !o.reservedBytes ? null : savedBytes / o.reservedBytes,
    notes,
  };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

/** What each application thread and each connection costs, and the setting that bounds it. */
function perUnitCosts(p: Prediction, s: StackSettings): string[] {
  const notes: string[] = [];
  const rpc = p.shared.filter((x) => x.name.startsWith('rpc_pool'));
  if (rpc.length > 0) {
    const one = rpc[0]!.bytes;
    notes.push(
      `Each application thread that calls into the stack gets an rpc pool of ${kib(one)} (rpc_msg_max ${s.rpcMsgMax}), ` +
        `kept after its clients leave: ${rpc.length} now, ${mib(one * 200)} for 200 such threads. ` +
        'Bound it with rpc_msg_max and the number of application threads that use sockets ' +
        '(for MariaDB: a thread pool, thread_handling=pool-of-threads with thread_pool_size, not a thread per connection).',
    );
  }
  const rings = p.stacks.flatMap((st) => st.parts.filter((x) => x.name === 'connection rings'));
  if (rings.length > 0 && p.connections > 0) {
    const total = rings.reduce((a, x) => a + x.bytes, 0);
    notes.push(
      `Each connection costs ${kib(total / p.connections)} of rings (recv_ring_size, send_ring_size and lwIP's mailbox): ` +
        `${mib(total)} at the ${p.connections} connections tcp_conn_count admits.`,
    );
  }
  return notes;
}

/** Advice for a plain DPDK process: each pool sized to its peak with headroom. */
export function advisePools(o: Observation, headroom: number, allocatedBytes: number | null, pageBytes: number): Advice {
  const notes = windowNotes(o);
  const pools = o.pools.map((p) => {
    const advised = needed(p, o, headroom);
    const savedBytes = advised === null ? null : Math.max(0, p.size - advised) * p.objectBytes;
    return { name: p.name, size: p.size, peakInUse: p.peakInUse, advised, savedBytes };
  });
  const poolSaving = pools.reduce((sum, p) => sum + (p.savedBytes ?? 0), 0);
  const growth = pools.reduce((sum, p, i) => sum + Math.max(0, (p.advised ?? 0) - p.size) * o.pools[i]!.objectBytes, 0);
  if (pools.some((p) => p.advised === null)) notes.push('Pools whose occupancy was not readable keep their size.');
  if (allocatedBytes === null)
    return {
      headroom,
      changes: [],
      pools,
      prediction: null,
      socketMemMiB: null,
      nrHugepages: null,
      advisedBytes: null,
      savedBytes: null,
      savedShare: null,
      notes,
    };
  const need = allocatedBytes - poolSaving + growth;
  const pages = Math.ceil(need / pageBytes);
  const advisedBytes = pages * pageBytes;
  const savedBytes = o.reservedBytes === null ? null : o.reservedBytes - advisedBytes;
  return {
    headroom,
    changes: [
      {
        key: '--socket-mem',
        from: '(as started)',
        to: String(Math.ceil(advisedBytes / 2 ** 20)),
        why: 'allocated now, less what the pools would no longer hold, in whole pages',
      },
    ],
    pools,
    prediction: null,
    socketMemMiB: [Math.ceil(advisedBytes / 2 ** 20)],
    nrHugepages: pages,
    advisedBytes,
    savedBytes,
    savedShare: savedBytes === null || !o.reservedBytes ? null : savedBytes / o.reservedBytes,
    notes,
  };
}

/** lstack.conf with the advised values in place, its layout and comments kept. */
export function applyToConf(text: string, changes: SettingChange[]): string {
  let out = text;
  for (const c of changes) {
    if (c.key === '--socket-mem') {
      const arg = /("--socket-mem"\s*,\s*")([^"]*)(")/;
      if (arg.test(out)) out = out.replace(arg, `$1${c.to}$3`);
      else out = out.replace(/(dpdk_args\s*[=:]\s*\[)/, `$1"--socket-mem", "${c.to}", `);
      continue;
    }
    const setting = new RegExp(`^(\\s*${c.key}\\s*[=:]\\s*)([^;#\\n]*?)(\\s*;?\\s*(?:#.*)?)$`, 'm');
    if (setting.test(out)) out = out.replace(setting, `$1${c.to}$3`);
    else out = `${out.replace(/\n?$/, '\n')}${c.key} = ${c.to}\n`;
  }
  return out;
}
