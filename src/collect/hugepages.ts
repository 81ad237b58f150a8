// Machine hugepages per page size and NUMA node, from sysfs.

import { join } from 'node:path';
import type { Host } from './host.js';
import { listDirOptional, readOptional } from './files.js';
import { ProtocolError } from '../errors.js';

export interface HugepageCounts {
  pageBytes: number;
  total: number;
  free: number;
  /** Reserved: promised to a mapping but not yet faulted (system-wide only). */
  reserved?: number;
  surplus: number;
}

export interface NodeHugepages extends HugepageCounts {
  node: number;
}

export interface HugepageReading {
  sizes: HugepageCounts[];
  nodes: NodeHugepages[];
}

/** `hugepages-2048kB` -> 2 MiB in bytes. */
export function parsePageSizeDir(name: string): number | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(name);
  return m ? Number(m[1]) * 1024 : undefined;
}

export function parseCount(text: string | undefined, path: string): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new ProtocolError(`${path}: expected a number, got ${JSON.stringify(t.slice(0, 40))}`);
  return Number(t);
}

/** Per-node directories have no resv_hugepages: it is not asked there (a missing file costs an exception). */
async function readCounts(dir: string, pageBytes: number, perNode: boolean): Promise<HugepageCounts | undefined> {
  const get = async (f: string) => parseCount(await readOptional(join(dir, f)), join(dir, f));
  const total = await get('nr_hugepages');
  const free = await get('free_hugepages');
  if (total === undefined || free === undefined) return undefined;
  const reserved = perNode ? undefined : await get('resv_hugepages');
  return { pageBytes, total, free, ...(reserved !== undefined ? { reserved } : {}), surplus: (await get('surplus_hugepages')) ?? 0 };
}

export async function readHugepages(host: Host): Promise<HugepageReading> {
  const sizes: HugepageCounts[] = [];
  const base = join(host.sysRoot, 'kernel/mm/hugepages');
  for (const name of (await listDirOptional(base)).sort()) {
    const pageBytes = parsePageSizeDir(name);
    if (pageBytes === undefined) continue;
    const c = await readCounts(join(base, name), pageBytes, false);
    if (c) sizes.push(c);
  }
  const nodes: NodeHugepages[] = [];
  const nodeBase = join(host.sysRoot, 'devices/system/node');
  const nodeNames = (await listDirOptional(nodeBase)).filter((n) => /^node\d+$/.test(n));
  // One node holds all of the machine's pages: its counts are the machine's (no need to read them twice).
  if (nodeNames.length === 1 && sizes.length > 0) {
    const node = Number(nodeNames[0]!.slice(4));
    const only = sizes.map(({ reserved: _, ...c }) => ({ node, ...c }));
    return { sizes: sizes.sort((a, b) => a.pageBytes - b.pageBytes), nodes: only.sort((a, b) => a.pageBytes - b.pageBytes) };
  }
  for (const nodeName of nodeNames) {
    const m = /^node(\d+)$/.exec(nodeName);
    if (!m) continue;
    const dir = join(nodeBase, nodeName, 'hugepages');
    for (const name of (await listDirOptional(dir)).sort()) {
      const pageBytes = parsePageSizeDir(name);
      if (pageBytes === undefined) continue;
      const c = await readCounts(join(dir, name), pageBytes, true);
      if (c) nodes.push({ node: Number(m[1]), ...c });
    }
  }
  nodes.sort((a, b) => a.node - b.node || a.pageBytes - b.pageBytes);
  sizes.sort((a, b) => a.pageBytes - b.pageBytes);
  return { sizes, nodes };
}

/** Hugepagesize from /proc/meminfo, in bytes. */
export async function readDefaultHugepageBytes(host: Host): Promise<number | undefined> {
  const text = await readOptional(join(host.procRoot, 'meminfo'));
  const m = text === undefined ? null : /^Hugepagesize:\s+(\d+) kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}
