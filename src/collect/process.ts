// One process as the kernel sees it: identity, hugetlb use (smaps_rollup, numa_maps) and threads.

import { join } from 'node:path';
import type { Host } from './host.js';
import { listDirOptional, readOptional, readText, readLinesUntil } from './files.js';
import { NotFoundError, ProtocolError, TargetGoneError } from '../errors.js';

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
  /** Shared_Hugetlb + Private_Hugetlb of smaps_rollup: hugepages faulted in and mapped, bytes. */
  rollupHugetlbBytes?: number;
  /** Hugetlb mappings with their pages per NUMA node. */
  numa: NumaHugeMapping[];
  /** When smaps_rollup and numa_maps were read, and whether that was at an earlier sample. */
  mappingsReadAt?: Date;
  mappingsCarriedOver?: boolean;
  threads: ThreadReading[];
  /** Set when the threads were read at an earlier sample (a sampler faster than once a second). */
  threadsReadAt?: Date;
}

export function isPid(text: string): boolean {
  return /^[1-9]\d{0,9}$/.test(text) && Number(text) <= 4194304;
}

const UNIT_BYTES: Record<string, number> = { B: 1, kB: 1024, KB: 1024, mB: 1024 ** 2, MB: 1024 ** 2, gB: 1024 ** 3, GB: 1024 ** 3 };

/** "1048576 kB" -> bytes; an unknown unit is an error, not a guess. */
export function parseSize(value: string, where: string): number {
  const m = /^\s*(\d+)\s*(\S+)?\s*$/.exec(value);
  if (!m) throw new ProtocolError(`${where}: not a size: ${JSON.stringify(value.slice(0, 40))}`);
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

/**
 * smaps_rollup sums every mapping in the kernel, at a fraction of the cost of reading smaps
 * (3.7 ms against 22 ms for a testpmd that maps every PMD library).
 */
export function parseSmapsRollupHugetlb(rollup: string): number | undefined {
  const shared = /^Shared_Hugetlb:\s*(.*)$/m.exec(rollup)?.[1];
  const priv = /^Private_Hugetlb:\s*(.*)$/m.exec(rollup)?.[1];
  if (shared === undefined || priv === undefined) return undefined;
  return parseSize(shared, 'smaps_rollup Shared_Hugetlb') + parseSize(priv, 'smaps_rollup Private_Hugetlb');
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
export function parseStat(stat: string): { name: string; state: string; lastCpu: number } | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); field 39 (processor) is rest[36].
  const cpu = rest[36];
  if (rest[0] === undefined || cpu === undefined || !/^-?\d+$/.test(cpu)) return undefined;
  return { name: stat.slice(open + 1, close), state: rest[0], lastCpu: Number(cpu) };
}

/**
 * Kept by a sampler, by pid: its threads as last read, and each thread's CPU affinity (from its
 * `status`) with when it was read. Affinity is set once, early in a thread's life: it is read again
 * after AFFINITY_MAX_AGE_MS. Names, states and last CPUs are read again after THREADS_MAX_AGE_MS.
 */
export type ThreadsCache = Map<number, { threads: ThreadReading[]; readAt: number; affinity: Map<number, AffinityReading> }>;
interface AffinityReading {
  affinity: string | undefined;
  readAt: number;
}
const AFFINITY_MAX_AGE_MS = 10_000;
/**
 * A sampler faster than this reads the threads (a stat per thread) once per this long: on a core
 * shared with the application, those reads were a sixth of a 10 Hz sample's cost.
 */
export const THREADS_MAX_AGE_MS = 1000;
const JITTER_MS = 100;

/**
 * Whether a part read at `readAt` (ms) is due again at `now` under a once-per-`maxAgeMs` rule. The
 * margin lets a sampler whose interval is `maxAgeMs`, and whose ticks come a few ms early or late,
 * read it at every tick.
 */
export function isDue(readAt: number, now: number, maxAgeMs: number): boolean {
  return now - readAt >= maxAgeMs - JITTER_MS;
}

/** Each thread's name, state and last CPU from its `stat` (one read), its affinity from `status`. */
export async function readThreads(host: Host, pid: number, cache?: ThreadsCache): Promise<ThreadReading[]> {
  const taskDir = join(host.procRoot, String(pid), 'task');
  const known = cache?.get(pid)?.affinity;
  const affinities = new Map<number, AffinityReading>();
  const now = host.now().getTime();
  const threads: ThreadReading[] = [];
  for (const name of await listDirOptional(taskDir)) {
    if (!isPid(name)) continue;
    const tid = Number(name);
    const dir = join(taskDir, name);
    const stat = await readOptional(join(dir, 'stat'));
    const parsed = stat !== undefined ? parseStat(stat) : undefined;
    if (!parsed) continue; // thread exited between listing and reading
    let kept = known?.get(tid);
    if (!kept || now - kept.readAt > AFFINITY_MAX_AGE_MS) {
      const status = await readOptional(join(dir, 'status'));
      kept = { affinity: status !== undefined ? parseStatusField(status, 'Cpus_allowed_list') : undefined, readAt: now };
    }
    affinities.set(tid, kept);
    threads.push({
      tid,
      name: parsed.name,
      lastCpu: parsed.lastCpu,
      state: parsed.state,
      ...(kept.affinity !== undefined ? { affinity: kept.affinity } : {}),
    });
  }
  threads.sort((a, b) => a.tid - b.tid);
  cache?.set(pid, { threads, readAt: now, affinity: affinities });
  return threads;
}

/** Alive: present and not a zombie (an exited process stays in /proc until its parent reaps it). */
export async function processExists(host: Host, pid: number): Promise<boolean> {
  const stat = await readOptional(join(host.procRoot, String(pid), 'stat'));
  if (stat === undefined) return false;
  const state = parseStat(stat)?.state;
  return state !== 'Z' && state !== 'X';
}

/** The costly part of a process reading, kept by a caller that samples again (watch, recorder). */
export interface MappingsReading {
  statusHugetlbBytes?: number;
  rollupHugetlbBytes?: number;
  numa: NumaHugeMapping[];
  /** When smaps_rollup and numa_maps were read. */
  readAt: Date;
  /** The command line as read then (it changes only if the process rewrites its argv). */
  cmdline?: string[];
}

/** The mappings of each pid as last read; a caller that samples again passes the same map. */
export type MappingsCache = Map<number, MappingsReading>;

/** Even with HugetlbPages unchanged, the mappings are read again after this long (pages may move between nodes). */
export const MAPPINGS_MAX_AGE_MS = 60_000;

export async function readProcess(
  host: Host,
  pid: number,
  cache?: { mappings: MappingsCache; threads: ThreadsCache },
): Promise<ProcessReading> {
  const dir = join(host.procRoot, String(pid));
  let status: string;
  try {
    status = await readText(join(dir, 'status'));
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`no process with pid ${pid}`);
    throw err;
  }
  // status's Name is the comm; the command line is read again only with the mappings.
  const comm = parseStatusField(status, 'Name') ?? (await readOptional(join(dir, 'comm')))?.trim() ?? '';
  const gone = (err: unknown): never => {
    if (err instanceof NotFoundError) throw new TargetGoneError(`process ${pid} exited while being read`);
    throw err;
  };
  const statusHugetlbBytes = parseStatusHugetlb(status);
  // status is a counter the kernel keeps; smaps_rollup and numa_maps walk every mapping (ms for a
  // DPDK process). While HugetlbPages stays the same, the last walk still describes the mappings.
  const now = host.now();
  const prior = cache?.mappings.get(pid);
  const fresh =
    !prior ||
    statusHugetlbBytes === undefined ||
    prior.statusHugetlbBytes !== statusHugetlbBytes ||
    now.getTime() - prior.readAt.getTime() > MAPPINGS_MAX_AGE_MS;
  const cmdline =
    (!fresh ? prior?.cmdline : undefined) ?? ((await readOptional(join(dir, 'cmdline'))) ?? '').split('\0').filter((s) => s.length > 0);
  // Unreadable for other users (EACCES): that is a permission error, not an absence.
  const mappings: MappingsReading = fresh ? { ...(await readMappings(dir, statusHugetlbBytes, now).catch(gone)), cmdline } : prior!;
  cache?.mappings.set(pid, mappings);
  const keptThreads = cache?.threads.get(pid);
  const carryThreads = keptThreads !== undefined && !isDue(keptThreads.readAt, now.getTime(), THREADS_MAX_AGE_MS);
  const threads = carryThreads ? keptThreads.threads : await readThreads(host, pid, cache?.threads);
  return {
    pid,
    comm,
    cmdline,
    ...(statusHugetlbBytes !== undefined ? { statusHugetlbBytes } : {}),
    ...(mappings.rollupHugetlbBytes !== undefined ? { rollupHugetlbBytes: mappings.rollupHugetlbBytes } : {}),
    numa: mappings.numa,
    mappingsReadAt: mappings.readAt,
    mappingsCarriedOver: !fresh,
    threads,
    ...(carryThreads ? { threadsReadAt: new Date(keptThreads.readAt) } : {}),
  };
}

async function readMappings(dir: string, statusHugetlbBytes: number | undefined, now: Date): Promise<MappingsReading> {
  // HugetlbPages is what smaps_rollup's *_Hugetlb add up to (equal in every capture); the rollup,
  // a walk of every mapping, is read only from kernels whose status lacks it.
  const rollupHugetlbBytes =
    statusHugetlbBytes === undefined ? parseSmapsRollupHugetlb(await readText(join(dir, 'smaps_rollup'))) : undefined;
  // numa_maps lists the mappings in address order, and DPDK's hugepages lie low (its base virtual
  // address), before the libraries and stacks: it is read until its huge pages add up to
  // HugetlbPages, so the kernel does not walk the rest (0.13 ms instead of 4.7 for a testpmd).
  const numa: NumaHugeMapping[] = [];
  let seen = 0;
  await readLinesUntil(join(dir, 'numa_maps'), (lines) => {
    for (const m of parseNumaMapsHuge(lines)) {
      numa.push(m);
      seen += Object.values(m.pagesByNode).reduce((a, b) => a + b, 0) * m.pageBytes;
    }
    return statusHugetlbBytes !== undefined && statusHugetlbBytes > 0 && seen >= statusHugetlbBytes;
  });
  return {
    ...(statusHugetlbBytes !== undefined ? { statusHugetlbBytes } : {}),
    ...(rollupHugetlbBytes !== undefined ? { rollupHugetlbBytes } : {}),
    numa,
    readAt: now,
  };
}
