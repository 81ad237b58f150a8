// Each pool's recent in-use per target, kept across samples (by the recorder and a watch), so a
// pool whose in-use keeps rising gets a leak alert in the snapshot it is about.

import { LEAK_WINDOW_MS, leakAlert, leakTrend, type TrendPoint } from '../analysis/leaks.js';
import type { DpdkProcess } from '../model/snapshot.js';

/** Keeps each pool's recent in-use per target and adds a leak alert where the floor keeps rising. */
export interface TrendKeeper {
  observe(key: string, p: DpdkProcess, ts: number): void;
  forget(keep: ReadonlySet<string>): void;
}

export function newTrendKeeper(windowMs = LEAK_WINDOW_MS): TrendKeeper {
  const byTarget = new Map<string, Map<string, TrendPoint[]>>();
  return {
    observe(key, p, ts) {
      let pools = byTarget.get(key);
      if (!pools) byTarget.set(key, (pools = new Map()));
      for (const m of p.mempools) {
        const inUse = m.occupancy?.inUse;
        if (inUse === undefined) continue;
        let points = pools.get(m.name);
        if (!points) pools.set(m.name, (points = []));
        // One point per second, its lowest: the floor is what a leak raises, and a fast recorder
        // keeps 120 points per pool, not 12,000.
        const lastPoint = points[points.length - 1];
        if (lastPoint && Math.floor(lastPoint.ts / 1000) === Math.floor(ts / 1000)) lastPoint.inUse = Math.min(lastPoint.inUse, inUse);
        else points.push({ ts, inUse });
        while (points.length > 0 && points[0]!.ts < ts - windowMs) points.shift();
        const v = leakTrend(points, m.size);
        if (v) p.alerts.push(leakAlert(m.name, v));
      }
      for (const name of pools.keys()) if (!p.mempools.some((m) => m.name === name)) pools.delete(name);
    },
    forget(keep) {
      for (const key of byTarget.keys()) if (!keep.has(key)) byTarget.delete(key);
    },
  };
}
