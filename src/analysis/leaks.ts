// Leaks (pure): a pool whose in-use never falls back. Bursts and steady traffic rise and fall; a
// leak raises the floor. The window is cut into quarters and the lowest in-use of each must rise
// every quarter, by more than noise (1 % of the pool, at least 32 objects) over the window.

import type { MemoryAlert } from './exhaustion.js';

export interface TrendPoint {
  ts: number;
  inUse: number;
}

export interface LeakVerdict {
  /** Objects per second the floor rose by. */
  perSecond: number;
  /** When the pool runs dry at that rate; null when it is not rising. */
  secondsToExhaustion: number | null;
  windowSeconds: number;
}

/** Fewer points or a shorter window tell nothing. */
export const LEAK_MIN_POINTS = 8;
export const LEAK_MIN_WINDOW_MS = 20_000;
/** What the recorder keeps per pool to judge by. */
export const LEAK_WINDOW_MS = 120_000;

export function leakTrend(points: readonly TrendPoint[], size: number): LeakVerdict | null {
  if (points.length < LEAK_MIN_POINTS) return null;
  const first = points[0]!.ts;
  const last = points[points.length - 1]!.ts;
  if (last - first < LEAK_MIN_WINDOW_MS) return null;
  const quarter = (last - first) / 4;
  const floors = [Infinity, Infinity, Infinity, Infinity];
  for (const p of points) {
    const q = Math.min(3, Math.floor((p.ts - first) / quarter));
    floors[q] = Math.min(floors[q]!, p.inUse);
  }
  if (floors.some((f) => f === Infinity)) return null;
  for (let i = 1; i < 4; i++) if (floors[i]! <= floors[i - 1]!) return null;
  const rise = floors[3]! - floors[0]!;
  if (rise < Math.max(32, size * 0.01)) return null;
  const perSecond = rise / ((3 * quarter) / 1000);
  const now = points[points.length - 1]!.inUse;
  return {
    perSecond,
    secondsToExhaustion: perSecond > 0 ? Math.max(0, (size - now) / perSecond) : null,
    windowSeconds: (last - first) / 1000,
  };
}

export function leakAlert(pool: string, v: LeakVerdict): MemoryAlert {
  const when = v.secondsToExhaustion === null ? '' : `, dry in ${formatDuration(v.secondsToExhaustion)} at this rate`;
  return {
    level: v.secondsToExhaustion !== null && v.secondsToExhaustion < 600 ? 'critical' : 'warning',
    subject: pool,
    message: `pool ${pool} leaks? in use only grew for ${Math.round(v.windowSeconds)} s (+${v.perSecond.toFixed(1)}/s)${when}`,
  };
}

function formatDuration(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
