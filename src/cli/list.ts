// `gzmem list`: every DPDK process found on the host, with its waterfall in one line.

import type { Host } from '../collect/host.js';
import { renderCsv, renderJson } from '../format/process.js';
import { renderList, renderOrphans } from '../format/machine.js';
import { machineSnapshot, readAll } from '../gather/processes.js';
import { emitFrames, type OutputOptions } from './output.js';

export async function runList(host: Host, options: OutputOptions & { timeoutMs: number; attach: boolean }): Promise<void> {
  await emitFrames(options, async (compact) => {
    const started = performance.now();
    const { processes, problems } = await readAll(host, { timeoutMs: options.timeoutMs, attach: options.attach });
    const snapshot = await machineSnapshot(host, processes, started, { orphans: true });
    if (options.format !== 'table') for (const p of problems) process.stderr.write(`gzmem: ${p}\n`);
    if (options.format === 'json') return compact ? `${JSON.stringify(snapshot)}\n` : renderJson(snapshot);
    if (options.format === 'csv') return renderCsv(processes);
    const orphans =
      snapshot.orphansWhy !== undefined || (snapshot.orphans?.length ?? 0) > 0
        ? `\n${renderOrphans(snapshot.orphans, snapshot.orphansWhy)}`
        : '';
    return renderList(processes, problems) + orphans;
  });
}
