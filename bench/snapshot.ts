// Prints how long one snapshot of a real DPDK process takes (median of 100, plus p10/p90),
// for dpdk-testpmd and for gzload, each started here and stopped by PID.
// Run: make bench  (or node --import tsx bench/snapshot.ts [runs])

import { liveHost } from '../src/collect/host.js';
import { machineSnapshot, readTarget } from '../src/gather/processes.js';
import { startGzload, startTestpmd, stop, type DpdkProc } from '../test/helpers/dpdk.js';
import { existsSync } from 'node:fs';
import { GZLOAD } from '../test/helpers/dpdk.js';

const runs = Number(process.argv[2] ?? 100);

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function measure(label: string, proc: DpdkProc): Promise<void> {
  const host = liveHost();
  const times: number[] = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const p = await readTarget(host, String(proc.pid));
    last = await machineSnapshot(host, [p], t0);
    times.push(performance.now() - t0);
  }
  const p = last!.processes[0]!;
  console.log(
    `${label.padEnd(8)} runs=${runs} median=${quantile(times, 0.5).toFixed(2)} ms p10=${quantile(times, 0.1).toFixed(2)} ms p90=${quantile(times, 0.9).toFixed(2)} ms` +
      `  memzones=${p.memzones.length} pools=${p.mempools.length} reserved=${p.waterfall.reserved.bytes} allocated=${p.waterfall.allocated.bytes}`,
  );
}

const targets: [string, () => Promise<DpdkProc>][] = [['testpmd', () => startTestpmd({ mbufs: 16384 })]];
if (existsSync(GZLOAD)) targets.push(['gzload', () => startGzload({ app: ['--stacks', '1'] })]);
for (const [label, start] of targets) {
  const proc = await start();
  try {
    await measure(label, proc);
  } finally {
    await stop(proc);
  }
}
