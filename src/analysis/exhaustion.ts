// Memory about to run out, from one snapshot (pure): pools whose in-use or true peak nears their
// size, and ports that already failed to get an mbuf. Trends over time (leaks) need the history.

import type { DpdkProcess } from '../model/snapshot.js';

export interface MemoryAlert {
  level: 'warning' | 'critical';
  /** The pool or port it is about. */
  subject: string;
  message: string;
}

/** In use at or above this share of a pool, the next burst may find no free object. */
export const NEARLY_EXHAUSTED = 0.9;

export function exhaustionAlerts(p: Pick<DpdkProcess, 'mempools' | 'ethdevs'>): MemoryAlert[] {
  const alerts: MemoryAlert[] = [];
  for (const m of p.mempools) {
    if (m.size === 0) continue;
    // The true peak (the preload's sampler) where known, else the sampled value.
    const inUse = Math.max(m.occupancy?.inUse ?? -1, m.peak?.inUse ?? -1);
    if (inUse < 0) continue;
    const share = inUse / m.size;
    const what = m.peak && m.peak.inUse > (m.occupancy?.inUse ?? -1) ? 'at its peak' : 'now';
    if (inUse >= m.size)
      alerts.push({ level: 'critical', subject: m.name, message: `pool ${m.name} ran dry ${what} (${inUse} of ${m.size} in use)` });
    else if (share >= NEARLY_EXHAUSTED)
      alerts.push({
        level: 'warning',
        subject: m.name,
        message: `pool ${m.name} is ${Math.floor(share * 100)} % in use ${what} (${inUse} of ${m.size})`,
      });
  }
  for (const e of p.ethdevs) {
    if (e.rxNombuf !== null && e.rxNombuf > 0)
      alerts.push({
        level: 'critical',
        subject: e.name,
        message: `port ${e.name} failed to get an mbuf ${e.rxNombuf} times since it started (rx_nombuf): packets were dropped`,
      });
  }
  return alerts;
}

/** One line for the terminal: what runs out, that nothing does, or what cannot be told (never a false all-clear). */
export function alertLine(p: Pick<DpdkProcess, 'alerts' | 'mempools' | 'ethdevs'>): string {
  const said = p.alerts.map((a) => `${a.level === 'critical' ? 'CRITICAL' : 'warning'}: ${a.message}`);
  const blind = p.mempools.filter((m) => m.occupancy === null && m.peak === null).map((m) => m.name);
  const ports = p.ethdevs.filter((e) => e.rxNombuf === null).map((e) => e.name);
  const unknown = [
    ...(blind.length ? [`in use unknown for ${blind.join(', ')}, so whether they near exhaustion is unknown`] : []),
    ...(ports.length ? [`rx_nombuf unknown for ${ports.join(', ')}`] : []),
  ];
  if (said.length === 0 && unknown.length === 0) return 'memory: no pool near exhaustion, no mbuf allocation failure';
  return `memory: ${[...said, ...unknown].join('; ')}`;
}
