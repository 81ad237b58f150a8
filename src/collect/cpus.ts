// Which NUMA node each CPU sits on: where a protocol-stack thread's memory will be.

import { join } from 'node:path';
import type { Host } from './host.js';
import { listDirOptional } from './files.js';

/** cpu → node from /sys/devices/system/cpu/cpuN/nodeK links; empty without NUMA in sysfs. */
export async function readCpuNodes(host: Host): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const base = join(host.sysRoot, 'devices/system/cpu');
  for (const name of await listDirOptional(base)) {
    const cpu = /^cpu(\d+)$/.exec(name);
    if (!cpu) continue;
    const node = (await listDirOptional(join(base, name))).map((n) => /^node(\d+)$/.exec(n)).find((m) => m);
    if (node) out.set(Number(cpu[1]), Number(node[1]));
  }
  return out;
}
