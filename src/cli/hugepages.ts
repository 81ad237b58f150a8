// `gzmem hugepages`: the machine's hugepages per size and node, and orphaned hugetlbfs files.

import type { Host } from '../collect/host.js';
import { renderJson } from '../format/process.js';
import { renderHugepages, renderOrphans } from '../format/machine.js';
import { csv } from '../format/csv.js';
import { machineSnapshot } from '../gather/processes.js';
import { emitFrames, type OutputOptions } from './output.js';

export async function runHugepages(host: Host, options: OutputOptions): Promise<void> {
  await emitFrames(options, async (compact) => {
    const snapshot = await machineSnapshot(host, [], performance.now(), { orphans: true });
    if (options.format === 'json') return compact ? `${JSON.stringify(snapshot)}\n` : renderJson(snapshot);
    if (options.format === 'csv') {
      const h = snapshot.hugepages;
      return csv(
        ['scope', 'page_bytes', 'total', 'free', 'surplus', 'orphan_prefix', 'orphan_files', 'orphan_bytes'],
        [
          ...h.sizes.map((s) => ['all', s.pageBytes, s.total, s.free, s.surplus, null, null, null]),
          ...h.nodes.map((n) => [`node${n.node}`, n.pageBytes, n.total, n.free, n.surplus, null, null, null]),
          ...(snapshot.orphans ?? []).map((o) => ['orphan', null, null, null, null, o.prefix, o.files, o.bytes]),
        ],
      );
    }
    return `${renderHugepages(snapshot.hugepages)}\n${renderOrphans(snapshot.orphans, snapshot.orphansWhy)}`;
  });
}
