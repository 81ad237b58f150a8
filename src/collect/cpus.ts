// Which NUMA node each CPU sits on, and the default hugepage size: what sizing needs of the machine.

import { join } from 'node:path';
import type { Host } from './host.js';
import { listDirOptional, readOptional } from './files.js';

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

/** Hugepagesize from /proc/meminfo, in bytes. */
export async function readDefaultHugepageBytes(host: Host): Promise<number | undefined> {
  const text = await readOptional(join(host.procRoot, 'meminfo'));
  const m = text === undefined ? null : /^Hugepagesize:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}
