// `gzmem lstack show {ip|pid} -m [file]`: gazellectl's habit, memory per protocol-stack thread.

import type { Host } from '../collect/host.js';
import type { DpdkProcess } from '../model/snapshot.js';
import { renderLstack, renderLstackCsv } from '../format/stack-view.js';
import { renderJson, renderPosixCalls } from '../format/process.js';
import { safe } from '../format/units.js';
import { alertLine } from '../analysis/exhaustion.js';
import { readLstack } from '../gather/stack-view.js';
import { closeSampleCache, machineSnapshot, newSampleCache } from '../gather/processes.js';
import { emitFrames, type OutputOptions } from './output.js';
import { newTrendKeeper } from '../gather/trends.js';
import { targetKey } from '../model/series.js';

export async function runLstackShow(
  host: Host,
  target: string,
  options: OutputOptions & { timeoutMs: number; attach: boolean; gazellectl: boolean; calls: boolean },
): Promise<void> {
  const cache = newSampleCache();
  // A watch (-i) sees trends: a pool whose in-use keeps rising gets a leak alert.
  const trends = newTrendKeeper();
  let earlier: { atMs: number; calls: DpdkProcess['posixCalls'] } | undefined;
  try {
    await emitFrames(options, async (compact) => {
      const started = performance.now();
      const { process: proc, view } = await readLstack(host, target, {
        timeoutMs: options.timeoutMs,
        attach: options.attach,
        gazellectl: options.gazellectl,
        cache,
      });
      trends.observe(targetKey(proc), proc, Date.now());
      if (options.format === 'csv') return renderLstackCsv(view);
      if (options.format === 'table') {
        const nowMs = Date.now();
        const calls = options.calls ? `\n${renderPosixCalls(proc, earlier && { ...earlier, nowMs })}` : '';
        earlier = { atMs: nowMs, calls: proc.posixCalls };
        return `${renderLstack(view)}${safe(alertLine(proc))}\n${calls}`;
      }
      const snapshot = { ...(await machineSnapshot(host, [proc], started, { cache })), lstack: [view] };
      return compact ? `${JSON.stringify(snapshot)}\n` : renderJson(snapshot);
    });
  } finally {
    closeSampleCache(cache);
  }
}
