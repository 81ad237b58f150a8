// Gathering a snapshot: finds DPDK processes, reads each source once, and builds the model.
// With stack-view.ts and recorder.ts, the only place that strings collectors and the model together.

import { hostname } from 'node:os';
import type { Host } from '../collect/host.js';
import { readHugepages } from '../collect/hugepages.js';
import { readHugetlbfsFiles, readHugetlbfsMounts, readHugetlbfsUsers, type HugetlbfsMount } from '../collect/hugetlbfs.js';
import {
  isDue,
  isPid,
  processExists,
  readProcess,
  type MappingsCache,
  type ProcessReading,
  type ThreadsCache,
} from '../collect/process.js';
import { findTelemetrySockets, sampleTelemetry, socketAt, type TelemetryReadings, type TelemetrySocketPath } from '../collect/telemetry.js';
import { readPreload, type CallsCache, type PreloadReading, type RingsCache } from '../collect/preload.js';
import { readAttach, type AttachMapsCache, type AttachReading } from '../collect/attach.js';
import { openTelemetry, type TelemetryConnection } from '../collect/telemetry-socket.js';
import type { LstackConfReading } from '../collect/lstack-conf.js';
import { buildMachineHugepages, buildProcess, findOrphans, withPoolsOf, type ProcessInput } from '../model/build.js';
import { SCHEMA_VERSION, type DpdkProcess, type MachineHugepages, type Orphan, type Snapshot } from '../model/snapshot.js';
import { GzmemError, NotFoundError, TargetGoneError, TelemetryError, errorMessage } from '../errors.js';

export interface GatherOptions {
  /** Longest wait for one telemetry message. */
  timeoutMs?: number;
  /** Longest a whole process snapshot may take (default: 10 s, or 10 timeouts if longer). */
  snapshotMs?: number;
  /** Kept by a caller that samples again (watch, recorder): see SampleCache. */
  cache?: SampleCache;
  /** Which sockets to read (readAll): by file prefix, and by pid once known. */
  wanted?: (prefix: string, pid: number | undefined) => boolean;
  /** Also run the attach reader where the preload answers, as a cross-check (default true). */
  attachBesidePreload?: boolean;
  /** Read occupancy from /proc/<pid>/mem (default true; DPDK 22.11 layout only). */
  attach?: boolean;
  /** Scan for orphaned hugetlbfs files (reads every process's maps and fds). */
  orphans?: boolean;
  /** Ask the preload's sampler to take the pools' occupancy this often between two reads (a recorder's). */
  subsampleMs?: number;
}

/**
 * What a caller that samples the same processes again keeps between samples: open telemetry
 * connections (a new one costs the target a thread), and the readings that change only when
 * something is created or freed, each re-read when a cheap counter says it changed.
 */
export interface SampleCache {
  /** By socket path. */
  connections: Map<string, TelemetryConnection>;
  /** The last telemetry reading of each pid: its lists are carried while its heaps stay the same. */
  telemetry: Map<number, TelemetryReadings>;
  mappings: MappingsCache;
  rings: RingsCache;
  calls: CallsCache;
  attachMaps: AttachMapsCache;
  threads: ThreadsCache;
  /** lstack.conf by pid: gazelle reads it once, at start. */
  lstackConf: Map<number, LstackConfReading>;
  /** The last listing of the runtime dirs (readAll), with when it was made (ms since epoch). */
  socketScan?: { sockets: TelemetrySocketPath[]; readAt: number };
  /** The machine's hugepage counts as last read, and the processes' HugetlbPages then. */
  machine?: { hugepages: MachineHugepages; readAt: number; processesHugetlb: string };
  /** The last orphan scan: the files it found and the pids that used them. */
  orphanScan?: OrphanScan;
}

interface OrphanScan {
  files: string;
  userPids: number[];
  /** When the files were listed, and when their users were last searched for. */
  listedAt: number;
  readAt: number;
  orphans: Orphan[] | null;
  orphansWhy?: string;
}

export function newSampleCache(): SampleCache {
  return {
    connections: new Map(),
    telemetry: new Map(),
    mappings: new Map(),
    rings: new Map(),
    calls: new Map(),
    attachMaps: new Map(),
    threads: new Map(),
    lstackConf: new Map(),
  };
}

/** Forgets processes that are gone, and closes their connections. */
export function pruneSampleCache(cache: SampleCache, alive: ReadonlySet<number>): void {
  for (const [path, conn] of cache.connections) {
    if (alive.has(conn.hello.pid) && !conn.isClosed()) continue;
    conn.close();
    cache.connections.delete(path);
  }
  for (const byPid of [cache.telemetry, cache.mappings, cache.rings, cache.calls, cache.threads, cache.lstackConf, cache.attachMaps]) {
    for (const pid of byPid.keys()) if (!alive.has(pid)) byPid.delete(pid);
  }
}

export function closeSampleCache(cache: SampleCache): void {
  pruneSampleCache(cache, new Set());
}

export interface FoundSocket {
  socket: TelemetrySocketPath;
  pid?: number;
  version?: string;
  error?: string;
}

/** Every telemetry socket with the pid that answers on it (or why none does). */
export async function probeSockets(host: Host, options: GatherOptions = {}): Promise<FoundSocket[]> {
  const out: FoundSocket[] = [];
  for (const socket of await findTelemetrySockets(host)) {
    try {
      const conn = await openTelemetry(socket.path, telemetryOptions(options));
      conn.close();
      out.push({ socket, pid: conn.hello.pid, version: conn.hello.version });
    } catch (err) {
      out.push({ socket, error: errorMessage(err) });
    }
  }
  return out;
}

async function readDpdk(
  host: Host,
  conn: TelemetryConnection,
  options: GatherOptions,
): Promise<{ telemetry: TelemetryReadings; preload: PreloadReading | undefined }> {
  const now = host.now();
  const cache = options.cache;
  const preload = await readPreload(conn, cache?.rings, now, cache?.calls, options.subsampleMs);
  // The preload counts every pool exactly: telemetry's own counts need not be asked again.
  const telemetry = await sampleTelemetry(conn, cache?.telemetry.get(conn.hello.pid), now, preload === undefined, preload);
  cache?.telemetry.set(conn.hello.pid, telemetry);
  return { telemetry, preload };
}

/** The attach reader's result, or why there is none; only a vanished target is an error. */
async function tryAttach(
  host: Host,
  pid: number,
  t: TelemetryReadings,
  process: ProcessReading,
  cache: SampleCache | undefined,
): Promise<{ attach?: AttachReading; attachError?: string }> {
  if (t.mempools.length === 0) return { attachError: 'no mempools to read' };
  const hugeStarts = process.numa.map((m) => m.start);
  const kept = cache && { cache: cache.attachMaps, mappingsKey: `${hugeStarts.join(',')}|${process.statusHugetlbBytes}`, now: host.now() };
  try {
    const request = { version: t.hello.version, pools: t.mempools, memzones: t.memzones, hugeStarts, ...(kept ? { kept } : {}) };
    return { attach: await readAttach(host, pid, request) };
  } catch (err) {
    if (err instanceof GzmemError && !(err instanceof TargetGoneError)) return { attachError: err.message };
    throw err;
  }
}

export interface ProcessRead {
  process: DpdkProcess;
  /** The model's input, so a view can rebuild the process with more readings. */
  input: ProcessInput;
}

/** Reads one process through an open connection (closed when done). */
async function readOne(
  host: Host,
  pid: number,
  socket: TelemetrySocketPath | undefined,
  conn: TelemetryConnection | undefined,
  telemetryError?: string,
  options: GatherOptions = {},
): Promise<ProcessRead> {
  try {
    // Independent sources: the target's telemetry thread and the kernel work in parallel.
    const [dpdk, process] = await Promise.all([conn ? readDpdk(host, conn, options) : undefined, readProcess(host, pid, options.cache)]);
    const telemetry = dpdk?.telemetry;
    // A sampler does not cross-check the preload's exact counts with the attach reader at every tick.
    const skipAttach =
      options.attach === false
        ? 'disabled (--no-attach)'
        : options.attachBesidePreload === false && dpdk?.preload
          ? 'not needed: the preload counts exactly'
          : undefined;
    const attached =
      skipAttach !== undefined
        ? { attachError: skipAttach }
        : telemetry
          ? await tryAttach(host, pid, telemetry, process, options.cache)
          : { attachError: 'needs telemetry' };
    const input: ProcessInput = {
      process,
      ...(telemetry ? { telemetry } : {}),
      ...(dpdk?.preload ? { preload: dpdk.preload } : {}),
      ...attached,
      ...(telemetryError !== undefined ? { telemetryError } : {}),
      ...(socket ? { socketPath: socket.path, socketPrefix: socket.prefix } : {}),
    };
    return { process: buildProcess(input), input };
  } catch (err) {
    conn?.close();
    if (await exitedSoon(host, pid, err instanceof TelemetryError ? 500 : 0))
      throw new TargetGoneError(`process ${pid} exited while being read`);
    throw err;
  } finally {
    // A sampler keeps its connection for the next sample.
    if (!options.cache) conn?.close();
  }
}

/** A closed connection is how an exit shows first; the kernel may take a moment to show the exit itself. */
async function exitedSoon(host: Host, pid: number, graceMs: number): Promise<boolean> {
  const end = Date.now() + graceMs;
  for (;;) {
    if (!(await processExists(host, pid))) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function telemetryOptions(options: GatherOptions): { timeoutMs: number; deadline: number } {
  const timeoutMs = options.timeoutMs ?? 1000;
  return { timeoutMs, deadline: performance.now() + (options.snapshotMs ?? Math.max(10_000, 10 * timeoutMs)) };
}

/** The sampler's open connection to this socket while its process lives, else a new one. */
async function connect(path: string, options: GatherOptions): Promise<TelemetryConnection> {
  const cache = options.cache;
  const kept = cache?.connections.get(path);
  if (kept && !kept.isClosed()) {
    kept.setDeadline(telemetryOptions(options).deadline);
    return kept;
  }
  kept?.close();
  cache?.connections.delete(path);
  const conn = await connectWithRetry(path, options);
  cache?.connections.set(path, conn);
  return conn;
}

async function connectWithRetry(path: string, options: GatherOptions): Promise<TelemetryConnection> {
  try {
    return await openTelemetry(path, telemetryOptions(options));
  } catch (err) {
    // One retry: a busy telemetry thread occasionally misses a deadline.
    if (err instanceof TelemetryError && /timed out|within/.test(err.message)) return openTelemetry(path, telemetryOptions(options));
    throw err;
  }
}

/** Resolves `<pid|file-prefix>` to a process and reads it. */
export async function readTarget(host: Host, target: string, options: GatherOptions = {}): Promise<DpdkProcess> {
  return (await readTargetInput(host, target, options)).process;
}

/**
 * A sampler's open connection to the target (by pid, or by prefix for a primary): while it is open
 * its process lives, so neither the process check nor the socket scan is needed again.
 */
function keptConnection(target: string, options: GatherOptions): { socket: TelemetrySocketPath; conn: TelemetryConnection } | undefined {
  for (const [path, conn] of options.cache?.connections ?? []) {
    const socket = socketAt(path);
    if (!socket || conn.isClosed()) continue;
    if (isPid(target) ? conn.hello.pid === Number(target) : socket.prefix === target && socket.secondary === undefined) {
      conn.setDeadline(telemetryOptions(options).deadline);
      return { socket, conn };
    }
  }
  return undefined;
}

export async function readTargetInput(host: Host, target: string, options: GatherOptions = {}): Promise<ProcessRead> {
  const kept = keptConnection(target, options);
  if (kept) return readOne(host, kept.conn.hello.pid, kept.socket, kept.conn, undefined, options);
  // A pid is looked up first: from then on, its disappearance is an exit, not a wrong pid.
  if (isPid(target) && !(await processExists(host, Number(target)))) throw new NotFoundError(`no process with pid ${target}`);
  const sockets = await findTelemetrySockets(host);
  if (isPid(target)) {
    const pid = Number(target);
    let lastError: string | undefined;
    // The socket a sampler already reads this pid on first, then primaries before secondaries.
    const rank = (s: TelemetrySocketPath) =>
      options.cache?.connections.get(s.path)?.hello.pid === pid ? 0 : s.secondary === undefined ? 1 : 2;
    for (const socket of [...sockets].sort((a, b) => rank(a) - rank(b))) {
      let conn: TelemetryConnection;
      try {
        conn = await connect(socket.path, options);
      } catch (err) {
        lastError = errorMessage(err);
        continue;
      }
      if (conn.hello.pid === pid) return readOne(host, pid, socket, conn, undefined, options);
      conn.close();
      options.cache?.connections.delete(socket.path);
    }
    // It was there when asked for: gone now, it exited while its sockets were tried.
    if (!(await processExists(host, pid))) throw new TargetGoneError(`process ${pid} exited while being read`);
    const process = await readProcess(host, pid).catch(async (err: unknown) => {
      throw (await processExists(host, pid)) ? err : new TargetGoneError(`process ${pid} exited while being read`);
    });
    if (process.numa.length === 0 && !process.rollupHugetlbBytes && !process.statusHugetlbBytes) {
      throw new NotFoundError(`pid ${pid} (${process.comm}) is not a DPDK process: no telemetry socket and no hugepage mappings`);
    }
    const why = `no telemetry socket answers for pid ${pid}${lastError ? ` (last error: ${lastError})` : ''}`;
    return readOne(host, pid, undefined, undefined, why, options);
  }
  if (!/^[\w.-]+$/.test(target)) throw new NotFoundError(`not a pid or file prefix: ${JSON.stringify(target)}`);
  const socket = sockets.find((s) => s.prefix === target && s.secondary === undefined);
  if (!socket) throw new NotFoundError(`no DPDK process with file prefix ${target} (no telemetry socket found)`);
  const conn = await connect(socket.path, options);
  return readOne(host, conn.hello.pid, socket, conn, undefined, options);
}

/** Reads every DPDK process that answers on a telemetry socket; unreadable ones become warnings. */
export async function readAll(
  host: Host,
  options: GatherOptions = {},
): Promise<{ processes: DpdkProcess[]; problems: string[]; inputs: Map<number, ProcessInput> }> {
  const processes: DpdkProcess[] = [];
  const inputs = new Map<number, ProcessInput>();
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const socket of await socketsToRead(host, options)) {
    try {
      const conn = await connect(socket.path, options);
      if (seen.has(conn.hello.pid) || (options.wanted && !options.wanted(socket.prefix, conn.hello.pid))) {
        if (!options.cache) conn.close();
        continue;
      }
      seen.add(conn.hello.pid);
      const read = await readOne(host, conn.hello.pid, socket, conn, undefined, options);
      processes.push(read.process);
      inputs.set(read.process.pid, read.input);
    } catch (err) {
      if (!(err instanceof GzmemError)) throw err;
      problems.push(err.message);
    }
  }
  return { processes: processes.sort((a, b) => a.pid - b.pid), problems, inputs };
}

/**
 * The process at each row the preload's sampler took between `after` and `before` (ms since
 * epoch): the read's pools with the row's occupancy and peaks; everything else (heaps, ports, rings,
 * the kernel's figures, pools the row does not hold) as the read found it.
 */
export function* subsampledProcesses(
  built: DpdkProcess,
  input: ProcessInput,
  after: number,
  before: number,
): Generator<{ at: number; process: DpdkProcess }> {
  const preload = input.preload;
  if (!preload?.subsamples) return;
  let since = new Date(after);
  for (const row of preload.subsamples.rows) {
    const at = row.at.getTime();
    if (at <= after || at >= before) continue;
    const pools = preload.pools.map((p) => {
      const r = row.pools.get(p.name);
      return r ? { ...p, inUse: r.inUse, common: r.common, cache: p.size - r.inUse - r.common, avail: p.size - r.inUse } : p;
    });
    const peaks = preload.peaks && {
      ...preload.peaks,
      since,
      // A pool the row lacks has no peak for its window; its occupancy stays the read's.
      pools: new Map(
        [...row.pools].flatMap(([name, r]) => {
          const pk = preload.peaks!.pools.get(name);
          return pk ? [[name, { ...pk, peak: r.peak }] as const] : [];
        }),
      ),
    };
    yield { at, process: withPoolsOf(built, { ...input, preload: { ...preload, pools, ...(peaks ? { peaks } : {}) } }) };
    since = row.at;
  }
}

/**
 * The process at each of `rows` (attach readings of its pools taken between two whole reads, by
 * countPoolsAgain): the read's process with each row's pool occupancy; pools a row lacks, and
 * everything else, as the read found them.
 */
export function* attachedProcesses(
  built: DpdkProcess,
  input: ProcessInput,
  rows: readonly { at: number; reading: AttachReading }[],
): Generator<{ at: number; process: DpdkProcess }> {
  const attach = input.attach;
  if (!attach) return;
  // One at a time: a second of rows at 100 Hz, built at once, outlived the young generation.
  for (const { at, reading } of rows) {
    const pools = attach.pools.map((p) => reading.pools.find((r) => r.name === p.name) ?? p);
    yield { at, process: withPoolsOf(built, { ...input, attach: { ...attach, pools } }) };
  }
}

/**
 * A process that starts is found within this long by a sampler whose every listed socket answers:
 * between two listings of the runtime dirs, its open connections show that its processes live.
 */
const SOCKET_SCAN_MS = 1000;

/**
 * The sockets readAll reads. A sampler lists the runtime dirs again once a second, and at every tick
 * while it found none or a listed socket has no open connection (its process exited, or one is
 * starting on its prefix).
 */
async function socketsToRead(host: Host, options: GatherOptions): Promise<TelemetrySocketPath[]> {
  const { cache, wanted } = options;
  const now = host.now().getTime();
  const kept = cache?.socketScan;
  const allOpen = kept?.sockets.every((s) => cache?.connections.get(s.path)?.isClosed() === false);
  if (kept && kept.sockets.length > 0 && allOpen && !isDue(kept.readAt, now, SOCKET_SCAN_MS)) return kept.sockets;
  const sockets = await findTelemetrySockets(host, wanted && ((prefix) => wanted(prefix, undefined)));
  if (cache) cache.socketScan = { sockets, readAt: now };
  return sockets;
}

/**
 * The machine's hugepage counts change when some process reserves or frees hugepages: a sampler
 * reads them once a second, and at once when a process it reads shows another HugetlbPages.
 */
const MACHINE_MAX_AGE_MS = 1000;
/** A sampler lists the hugetlbfs files at most this often (a file holds its pages until removed). */
const ORPHAN_LIST_MS = 5_000;
/** An orphan scan reads every process's maps and fds: repeated without a reason only this rarely. */
const ORPHAN_SCAN_MAX_AGE_MS = 60_000;

export async function machineSnapshot(
  host: Host,
  processes: DpdkProcess[],
  started: number,
  options: GatherOptions = {},
): Promise<Snapshot> {
  const cache = options.cache;
  const now = host.now().getTime();
  const processesHugetlb = processes.map((p) => `${p.pid}:${p.hugetlb.statusBytes}`).join(',');
  const kept = cache?.machine;
  const carried = kept && kept.processesHugetlb === processesHugetlb && !isDue(kept.readAt, now, MACHINE_MAX_AGE_MS);
  const mounts = carried ? undefined : await readHugetlbfsMounts(host);
  const hugepages = carried ? kept.hugepages : buildMachineHugepages(await readHugepages(host), mounts!);
  if (cache && !carried) cache.machine = { hugepages, readAt: now, processesHugetlb };
  const scan = options.orphans ? await scanOrphans(host, async () => mounts ?? readHugetlbfsMounts(host), cache) : undefined;
  return {
    schemaVersion: SCHEMA_VERSION,
    takenAt: host.now().toISOString(),
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    hostname: hostname(),
    hugepages,
    processes,
    orphans: scan?.orphans ?? null,
    ...(scan?.orphansWhy !== undefined ? { orphansWhy: scan.orphansWhy } : {}),
    ...(carried
      ? { carriedOver: [{ part: 'machine hugepages: a sampler reads them once a second', readAt: new Date(kept.readAt).toISOString() }] }
      : {}),
  };
}

/**
 * Orphans: hugetlbfs files nobody maps or holds. A sampler lists the files every ORPHAN_LIST_MS.
 * Without files there are none, and finding users (every process's maps and fds) is skipped; it is
 * done again only when the files changed, a process that used one is gone, or
 * ORPHAN_SCAN_MAX_AGE_MS passed: a file becomes an orphan when its last user exits.
 */
async function scanOrphans(host: Host, readMounts: () => Promise<HugetlbfsMount[]>, cache: SampleCache | undefined): Promise<OrphanScan> {
  const now = host.now().getTime();
  const kept = cache?.orphanScan;
  if (kept && !isDue(kept.listedAt, now, ORPHAN_LIST_MS)) return kept;
  const mounts = await readMounts();
  const files = await readHugetlbfsFiles(mounts);
  const fileList = files.map((f) => `${f.path}:${f.bytes}`).join('\n');
  let scan: OrphanScan;
  if (
    kept &&
    kept.files === fileList &&
    !isDue(kept.readAt, now, ORPHAN_SCAN_MAX_AGE_MS) &&
    (await Promise.all(kept.userPids.map((pid) => processExists(host, pid)))).every(Boolean)
  ) {
    scan = { ...kept, listedAt: now };
  } else if (files.length === 0) scan = { files: fileList, userPids: [], listedAt: now, readAt: now, orphans: [] };
  else {
    const { users, unreadable } = await readHugetlbfsUsers(host, mounts);
    const userPids = [...new Set([...users.values()].flatMap((pids) => [...pids]))];
    const found = { files: fileList, userPids, listedAt: now, readAt: now };
    // A file may be in use by a process gzmem may not look into: then no file is called an orphan.
    if (unreadable.length === 0) scan = { ...found, orphans: findOrphans(files, users) };
    else {
      const processes = `${unreadable.length} process${unreadable.length === 1 ? '' : 'es'}`;
      scan = { ...found, orphans: null, orphansWhy: `cannot tell (run as root): the maps or open files of ${processes} could not be read` };
    }
  }
  if (cache) cache.orphanScan = scan;
  return scan;
}
