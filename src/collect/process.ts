// One process as the kernel sees it: identity, hugetlb mappings (smaps, numa_maps) and threads.

import { join } from 'node:path';
import type { Host } from './host.js';
import { listDir, listDirOptional, readOptional, readText } from './files.js';
import { NotFoundError, ProtocolError, TargetGoneError } from '../errors.js';

export interface HugetlbMapping {
  start: string;
  end: string;
  path: string;
  pageBytes: number;
  /** Shared_Hugetlb + Private_Hugetlb: pages faulted in and mapped, in bytes. */
  mappedBytes: number;
  sizeBytes: number;
}

export interface NumaHugeMapping {
  start: string;
  path: string;
  pageBytes: number;
  pagesByNode: Record<number, number>;
}

export interface ThreadReading {
  tid: number;
  name: string;
  /** Field 39 of stat: the CPU the thread last ran on. */
  lastCpu?: number;
  state?: string;
  /** Cpus_allowed_list, e.g. "0-1". */
  affinity?: string;
}

export interface ProcessReading {
  pid: number;
  comm: string;
  cmdline: string[];
  /** `HugetlbPages:` of status, bytes. */
  statusHugetlbBytes?: number;
  mappings: HugetlbMapping[];
  numa: NumaHugeMapping[];
  threads: ThreadReading[];
}

export function isPid(text: string): boolean {
  return /^[1-9]\d{0,9}$/.test(text) && Number(text) <= 4194304;
}

const UNIT_BYTES: Record<string, number> = { B: 1, kB: 1024, KB: 1024, mB: 1024 ** 2, MB: 1024 ** 2, gB: 1024 ** 3, GB: 1024 ** 3 };

/** "1048576 kB" -> bytes; an unknown unit is an error, not a guess. */
export function parseSize(value: string, where: string): number {
  const m = /^\s*(\d+)\s*(\S+)?\s*$/.exec(value);
  if (!m) throw new ProtocolError(`${where}: not a size: ${JSON.stringify(value)}`);
  const unit = m[2] ?? 'B';
  const mult = UNIT_BYTES[unit];
  if (mult === undefined) throw new ProtocolError(`${where}: unknown unit ${unit}`);
  return Number(m[1]) * mult;
}

export function parseStatusHugetlb(status: string): number | undefined {
  const m = /^HugetlbPages:\s*(.*)$/m.exec(status);
  return m?.[1] !== undefined ? parseSize(m[1], 'status HugetlbPages') : undefined;
}

export function parseStatusField(status: string, field: string): string | undefined {
  const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status);
  return m?.[1]?.trim();
}

const MAP_HEADER = /^([0-9a-f]+)-([0-9a-f]+)\s+\S+\s+\S+\s+\S+\s+\d+\s*(.*)$/;

/** smaps entries with hugetlb pages (KernelPageSize > 4 kB or any *_Hugetlb > 0). */
export function parseSmapsHugetlb(smaps: string): HugetlbMapping[] {
  const out: HugetlbMapping[] = [];
  let cur: { start: string; end: string; path: string; fields: Map<string, string> } | undefined;
  const flush = () => {
    if (!cur) return;
    const f = cur.fields;
    const pageBytes = f.has('KernelPageSize') ? parseSize(f.get('KernelPageSize')!, 'smaps KernelPageSize') : 4096;
    const shared = f.has('Shared_Hugetlb') ? parseSize(f.get('Shared_Hugetlb')!, 'smaps Shared_Hugetlb') : 0;
    const priv = f.has('Private_Hugetlb') ? parseSize(f.get('Private_Hugetlb')!, 'smaps Private_Hugetlb') : 0;
    if (shared + priv > 0 || (pageBytes > 4096 && f.has('Shared_Hugetlb'))) {
      out.push({
        start: cur.start,
        end: cur.end,
        path: cur.path,
        pageBytes,
        mappedBytes: shared + priv,
        sizeBytes: f.has('Size') ? parseSize(f.get('Size')!, 'smaps Size') : 0,
      });
    }
  };
  for (const line of smaps.split('\n')) {
    const h = MAP_HEADER.exec(line);
    if (h) {
      flush();
      cur = { start: h[1]!, end: h[2]!, path: (h[3] ?? '').trim(), fields: new Map() };
      continue;
    }
    const kv = /^(\w+):\s*(.*)$/.exec(line);
    if (kv && cur) cur.fields.set(kv[1]!, kv[2]!);
  }
  flush();
  return out;
}

/** numa_maps lines flagged `huge`: pages per node (N<node>=<pages>) and the page size. */
export function parseNumaMapsHuge(numaMaps: string): NumaHugeMapping[] {
  const out: NumaHugeMapping[] = [];
  for (const line of numaMaps.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (!words.includes('huge')) continue;
    const pagesByNode: Record<number, number> = {};
    let pageBytes = 0;
    let path = '';
    for (const w of words) {
      const n = /^N(\d+)=(\d+)$/.exec(w);
      if (n) pagesByNode[Number(n[1])] = Number(n[2]);
      const k = /^kernelpagesize_kB=(\d+)$/.exec(w);
      if (k) pageBytes = Number(k[1]) * 1024;
      if (w.startsWith('file=')) path = w.slice(5);
    }
    out.push({ start: words[0] ?? '', path, pageBytes, pagesByNode });
  }
  return out;
}

/** stat's comm is in parentheses and may itself hold spaces or ')': split after the last ')'. */
export function parseStat(stat: string): { state: string; lastCpu: number } | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = stat.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); field 39 (processor) is rest[36].
  const cpu = rest[36];
  if (rest[0] === undefined || cpu === undefined || !/^-?\d+$/.test(cpu)) return undefined;
  return { state: rest[0], lastCpu: Number(cpu) };
}

export async function readThreads(host: Host, pid: number): Promise<ThreadReading[]> {
  const taskDir = join(host.procRoot, String(pid), 'task');
  const threads: ThreadReading[] = [];
  for (const name of await listDirOptional(taskDir)) {
    if (!isPid(name)) continue;
    const dir = join(taskDir, name);
    const comm = await readOptional(join(dir, 'comm'));
    if (comm === undefined) continue; // thread exited between listing and reading
    const stat = await readOptional(join(dir, 'stat'));
    const status = await readOptional(join(dir, 'status'));
    const parsed = stat !== undefined ? parseStat(stat) : undefined;
    const affinity = status !== undefined ? parseStatusField(status, 'Cpus_allowed_list') : undefined;
    threads.push({
      tid: Number(name),
      name: comm.trim(),
      ...(parsed ? { lastCpu: parsed.lastCpu, state: parsed.state } : {}),
      ...(affinity !== undefined ? { affinity } : {}),
    });
  }
  return threads.sort((a, b) => a.tid - b.tid);
}

export async function processExists(host: Host, pid: number): Promise<boolean> {
  return (await readOptional(join(host.procRoot, String(pid), 'stat'))) !== undefined;
}

export async function readProcess(host: Host, pid: number): Promise<ProcessReading> {
  const dir = join(host.procRoot, String(pid));
  let status: string;
  try {
    status = await readText(join(dir, 'status'));
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`no process with pid ${pid}`);
    throw err;
  }
  const comm = (await readOptional(join(dir, 'comm')))?.trim() ?? parseStatusField(status, 'Name') ?? '';
  const cmdline = ((await readOptional(join(dir, 'cmdline'))) ?? '').split('\0').filter((s) => s.length > 0);
  const smaps = await readText(join(dir, 'smaps')).catch((err: unknown) => {
    if (err instanceof NotFoundError) throw new TargetGoneError(`process ${pid} exited while being read`);
    throw err;
  });
  const numa = await readOptional(join(dir, 'numa_maps'));
  const statusHugetlbBytes = parseStatusHugetlb(status);
  return {
    pid,
    comm,
    cmdline,
    ...(statusHugetlbBytes !== undefined ? { statusHugetlbBytes } : {}),
    mappings: parseSmapsHugetlb(smaps),
    numa: numa !== undefined ? parseNumaMapsHuge(numa) : [],
    threads: await readThreads(host, pid),
  };
}

export async function listPids(host: Host): Promise<number[]> {
  return (await listDir(host.procRoot)).filter(isPid).map(Number).sort((a, b) => a - b);
}
