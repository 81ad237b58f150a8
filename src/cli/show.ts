// `gzmem show <pid|file-prefix> [-m [file]]`: the waterfall and every section for one process.

import type { Host } from '../collect/host.js';
import { renderCsv, renderJson, renderProcess } from '../format/process.js';
import { machineSnapshot, readTarget } from '../gather/processes.js';
import { emitFrames, type OutputOptions } from './output.js';

export async function runShow(host: Host, target: string, options: OutputOptions & { timeoutMs: number; attach: boolean }): Promise<void> {
  // Watching (-i) keeps what it read, so mappings that did not change are not walked again.
  const mappings = new Map();
  await emitFrames(options, async (compact) => {
    const started = performance.now();
    const proc = await readTarget(host, target, { timeoutMs: options.timeoutMs, attach: options.attach, mappings });
    if (options.format === 'csv') return renderCsv([proc]);
    if (options.format === 'table') return renderProcess(proc);
    const snapshot = await machineSnapshot(host, [proc], started);
    return compact ? `${JSON.stringify(snapshot)}\n` : renderJson(snapshot);
  });
}
