// `gzmem show <pid|file-prefix> [-m [file]]`: the waterfall and every section for one process.

import type { Host } from '../collect/host.js';
import type { DpdkProcess } from '../model/snapshot.js';
import { renderCsv, renderJson, renderProcess } from '../format/process.js';
import { closeSampleCache, machineSnapshot, newSampleCache, readTarget } from '../gather/processes.js';
import { emitFrames, type OutputOptions } from './output.js';
import { newTrendKeeper } from '../gather/trends.js';
import { targetKey } from '../model/series.js';

export async function runShow(host: Host, target: string, options: OutputOptions & { timeoutMs: number; attach: boolean }): Promise<void> {
  // Watching (-i) keeps its connection and what did not change since the last frame.
  const cache = newSampleCache();
  // A watch (-i) sees trends: a pool whose in-use keeps rising gets a leak alert.
  const trends = newTrendKeeper();
  let earlier: { atMs: number; calls: DpdkProcess['posixCalls'] } | undefined;
  try {
    await emitFrames(options, async (compact) => {
      const started = performance.now();
      const proc = await readTarget(host, target, { timeoutMs: options.timeoutMs, attach: options.attach, cache });
      trends.observe(targetKey(proc), proc, Date.now());
      if (options.format === 'csv') return renderCsv([proc]);
      if (options.format === 'table') {
        const nowMs = Date.now();
        const text = renderProcess(proc, earlier && { ...earlier, nowMs });
        earlier = { atMs: nowMs, calls: proc.posixCalls };
        return text;
      }
      const snapshot = await machineSnapshot(host, [proc], started, { cache });
      return compact ? `${JSON.stringify(snapshot)}\n` : renderJson(snapshot);
    });
  } finally {
    closeSampleCache(cache);
  }
}
