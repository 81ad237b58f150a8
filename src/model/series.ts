// What the recorder keeps of a snapshot: a few numbers per process, stack and pool (pure).
// Rings are summed per stack (in the stack's used bytes), never stored one by one.

import type { GazelleView } from './stack-view.js';
import type { DpdkProcess } from './snapshot.js';

export type SeriesValues = {
  process: Record<string, number | null>;
  stack: Record<string, number | null>;
  pool: Record<string, number | null>;
  /** Each pool's true peak in the interval before this sample (the preload's sampler); null where unknown. */
  pool_peak: Record<string, number | null>;
  /** Each thread's highest ring entries in the interval before this sample (the preload's walks). */
  ring_peak: Record<string, number | null>;
  /** POSIX calls each thread made since its first (a counter: the dashboard draws its rate). */
  calls: Record<string, number | null>;
};

/** Pools per process kept as series; more would make history and /metrics unbounded. */
export const MAX_POOL_SERIES = 64;

/**
 * A counter's rate between two readings `seconds` apart: null when either is unknown, when no time
 * passed, or when it went down (the thread or process restarted, so the difference means nothing).
 */
export function counterRate(before: number | null | undefined, now: number | null | undefined, seconds: number): number | null {
  if (before === null || before === undefined || now === null || now === undefined || seconds <= 0 || now < before) return null;
  return (now - before) / seconds;
}

/** The sum of the known values; null when none is known. */
export function sumKnown(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? known.reduce((a, b) => a + b, 0) : null;
}

export function seriesOf(p: DpdkProcess, view?: GazelleView): SeriesValues {
  const w = p.waterfall;
  const pool: Record<string, number | null> = {};
  const poolPeak: Record<string, number | null> = {};
  for (const m of p.mempools.slice(0, MAX_POOL_SERIES)) {
    pool[m.name] = m.occupancy?.inUse ?? null;
    poolPeak[m.name] = m.peak?.inUse ?? null;
  }
  // Per thread, named "name tid": names repeat (telemetry-v2), tids are reused only after exit.
  const threadKey = (t: { thread: string | null; tid: number }) => `${t.thread ?? 'exited'} ${t.tid}`;
  const perThread = new Map<string, number>();
  for (const c of p.posixCalls ?? []) perThread.set(threadKey(c), (perThread.get(threadKey(c)) ?? 0) + c.calls);
  const calls = Object.fromEntries([...perThread].sort((a, b) => b[1] - a[1]).slice(0, MAX_POOL_SERIES));
  const ringPeak = Object.fromEntries((p.ringOwners ?? []).map((o) => [threadKey(o), o.peak]));
  const stack: Record<string, number | null> = {};
  for (const s of view?.stacks ?? []) stack[s.name] = s.usedBytes;
  return {
    process: {
      reserved_bytes: w.reserved.bytes,
      heap_bytes: w.heap.bytes,
      allocated_bytes: w.allocated.bytes,
      in_use_bytes: w.inUse.bytes,
      // Mbuf allocation failures, all ports: advice must know whether a pool ran dry.
      rx_nombuf: sumKnown(p.ethdevs.map((e) => e.rxNombuf)),
    },
    stack,
    pool,
    pool_peak: poolPeak,
    ring_peak: ringPeak,
    calls,
  };
}

/**
 * A target is its EAL file prefix, stable across restarts; the pid only while it runs. A secondary
 * process shares its primary's prefix and is kept apart by its socket's `:<n>`.
 */
export function targetKey(p: DpdkProcess): string {
  const secondary = /:(\d+)$/.exec(p.telemetrySocket ?? '')?.[1];
  const base = p.filePrefix ?? `pid-${p.pid}`;
  return secondary === undefined ? base : `${base}:${secondary}`;
}
