// The recorder: every interval, reads the DPDK processes (all, or the ones named), keeps the
// latest snapshot of each in memory and a few numbers of each in the store. A target that exits
// is marked gone (a gap); one that comes back with the same file prefix continues its series.

import type { Host } from '../collect/host.js';
import { gazelleViewOf } from './stack-view.js';
import { seriesOf, targetKey } from '../model/series.js';
import type { DpdkProcess, Snapshot } from '../model/snapshot.js';
import type { ProcessInput } from '../model/build.js';
import { countPoolsAgain, type AttachReading } from '../collect/attach.js';
import {
  closeSampleCache,
  machineSnapshot,
  newSampleCache,
  pruneSampleCache,
  readAll,
  attachedProcesses,
  subsampledProcesses,
  type GatherOptions,
} from './processes.js';
import type { Store, TargetRow, TargetSample } from '../store/store.js';
import { isPid, processExists } from '../collect/process.js';
import { errorMessage } from '../errors.js';
import { newTrendKeeper } from './trends.js';

export interface RecorderOptions extends GatherOptions {
  intervalSec: number;
  /** File prefixes or pids to record; all DPDK processes when empty. */
  targets?: string[];
  keepSnapshots?: boolean;
  /** Called after every tick (the server pushes it to browsers). */
  onTick?: (tick: Tick) => void;
  onProblem?: (message: string) => void;
  /** Where to keep the latest snapshot of each target (the server reads the same map). */
  latest?: Map<string, Snapshot>;
}

export interface Tick {
  ts: number;
  samples: TargetSample[];
  gone: string[];
}

export interface Recorder {
  /** The latest snapshot of every target seen, by key. */
  latest: Map<string, Snapshot>;
  /** Keys of the targets that answered at the last tick. */
  alive(): ReadonlySet<string>;
  /** The machine at the last tick (hugepages every tick, orphans as machineSnapshot's cache scans them). */
  machine(): MachinePart | undefined;
  tick(): Promise<Tick>;
  stop(): Promise<void>;
}

function selected(p: DpdkProcess, targets: string[] | undefined): boolean {
  if (!targets || targets.length === 0) return true;
  return targets.some((t) => t === String(p.pid) || t === p.filePrefix);
}

/** A stored target the user asked for: by prefix, or by the pid it last had. */
function wanted(t: Pick<TargetRow, 'key' | 'pid'>, targets: string[] | undefined): boolean {
  if (!targets || targets.length === 0) return true;
  return targets.some((x) => x === t.key || (t.pid !== null && x === String(t.pid)));
}

export type MachinePart = Pick<Snapshot, 'hugepages' | 'orphans' | 'orphansWhy' | 'takenAt'>;

const MAINTAIN_EVERY_MS = 60_000;
/**
 * A recorder asked for more than a sample a second reads a target whole once a second. Between two
 * reads, a target with the preload takes the samples itself (its sampler's sub-samples): one wakeup
 * a second on the core gzmem shares with the application instead of ten. A target without it has
 * only its pools read at each tick (the attach reader, with what the last read found), no telemetry
 * round trip, kernel read or model; the rows are built and stored with the next read.
 */
const BATCH_MS = 1000;
/** Ticks a target whose process still lives may miss before its silence becomes a gap. */
const MISSES_BEFORE_GAP = 3;

export function startRecorder(host: Host, store: Store, options: RecorderOptions): Recorder {
  const latest = options.latest ?? new Map<string, Snapshot>();
  let lastMaintain = 0;
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const misses = new Map<string, number>();
  const intervalMs = options.intervalSec * 1000;
  let alive = new Set<string>();
  let machinePart: MachinePart | undefined;
  const cache = newSampleCache();
  const trends = newTrendKeeper();
  const targets = options.targets ?? [];
  const batching = intervalMs < BATCH_MS;
  /**
   * Targets read whole once a second, by pid: their key, last whole read (tick time), and how the
   * samples in between are taken: by the preload, or here, pools only (the rows wait for the next read).
   */
  const batched = new Map<number, { key: string; readAt: number; rows?: { at: number; reading: AttachReading }[] }>();
  let tickTs = 0;
  // Half an interval early: a read due at this tick is not put off to the next by a late timer.
  const resting = (pid: number) => {
    const b = batched.get(pid);
    return b !== undefined && tickTs - b.readAt < BATCH_MS - intervalMs / 2;
  };
  // Sockets of other prefixes are not even opened; a pid target is known once its socket greets.
  const wantedSocket = (prefix: string, pid: number | undefined) =>
    (targets.length === 0 || targets.some((t) => t === prefix || (isPid(t) && (pid === undefined || t === String(pid))))) &&
    (pid === undefined || !resting(pid));
  const gather: GatherOptions = {
    ...options,
    cache,
    wanted: wantedSocket,
    attachBesidePreload: false,
    ...(batching ? { subsampleMs: intervalMs } : {}),
  };
  /** The last time recorded per target, so no row is recorded twice or out of order. */
  const lastRecorded = new Map<string, number>();
  // The targets alive in the store, with their last pid: read once, then kept tick by tick (a read
  // of the store would commit the ticks it is still gathering).
  const aliveInStore = new Map<string, number | null>(store.targets().flatMap((t) => (t.alive ? [[t.key, t.pid] as const] : [])));

  /**
   * A tick where every target rests (read whole less than a second ago): only the pools of those
   * without the preload are counted again; nothing else is read, and nothing is recorded until
   * their next read. Synchronous, so that such a wakeup runs as little code as it can. False when
   * some target is due: then the tick is a whole one.
   */
  const restingTick = (): boolean => {
    const ts = host.now().getTime();
    tickTs = ts;
    const everyoneRests = batched.size > 0 && [...alive].every((key) => [...batched].some(([pid, b]) => b.key === key && resting(pid)));
    if (!everyoneRests) return false;
    for (const [pid, b] of batched) if (b.rows && !takeAttachRow(pid, b.rows, ts)) batched.delete(pid);
    return true;
  };

  const tick = async (): Promise<Tick> => {
    const started = performance.now();
    const ts = host.now().getTime();
    tickTs = ts;
    const { processes, problems, inputs } = await readAll(host, gather);
    const samples: TargetSample[] = [];
    const rowTicks: { ts: number; samples: TargetSample[] }[] = [];
    const seen = new Set<string>();
    // Read at an earlier tick, their sub-samples come with their next read; alive while their process is.
    const restingPids: number[] = [];
    for (const [pid, b] of batched) {
      if (processes.some((p) => p.pid === pid)) continue;
      if (resting(pid) && (b.rows ? takeAttachRow(pid, b.rows, ts) : await processExists(host, pid))) {
        seen.add(b.key);
        restingPids.push(pid);
      } else batched.delete(pid);
    }
    pruneSampleCache(cache, new Set([...processes.map((p) => p.pid), ...restingPids]));
    for (const p of problems) options.onProblem?.(p);
    const chosen = processes.filter((x) => selected(x, options.targets));
    // The machine part is read once per tick that reads a process, or none at all, and shared by
    // every target's snapshot (orphans as the cache last scanned them: their files are listed
    // every few seconds). A tick where every target rests reads nothing.
    const machine =
      chosen.length > 0 || restingPids.length === 0 ? await machineSnapshot(host, chosen, started, { orphans: true, cache }) : undefined;
    if (machine) {
      machinePart = {
        takenAt: machine.takenAt,
        hugepages: machine.hugepages,
        orphans: machine.orphans,
        ...(machine.orphansWhy !== undefined ? { orphansWhy: machine.orphansWhy } : {}),
      };
    }
    for (const p of chosen) {
      const key = targetKey(p);
      seen.add(key);
      trends.observe(key, p, ts);
      const view = await gazelleViewOf(host, p, cache).catch(() => undefined);
      const snapshot: Snapshot = { ...machine!, processes: [p], ...(view ? { lstack: [view] } : {}) };
      latest.set(key, snapshot);
      rowTicks.push(...(await subsampleTicks(key, p, inputs.get(p.pid), ts)));
      lastRecorded.set(key, ts);
      const v = seriesOf(p, view);
      samples.push({
        key,
        pid: p.pid,
        command: p.command,
        values: { process: v.process, stack: v.stack, pool: v.pool, pool_peak: v.pool_peak, ring_peak: v.ring_peak, calls: v.calls },
        ...(options.keepSnapshots ? { snapshotJson: JSON.stringify(snapshot) } : {}),
      });
    }
    rowTicks.sort((a, b) => a.ts - b.ts);
    const ticks = samples.length > 0 || restingPids.length === 0 ? [...rowTicks, { ts, samples }] : rowTicks;
    store.recordTicks(ticks, Math.max(2 * intervalMs, intervalMs + 2000));
    for (const t of rowTicks) options.onTick?.({ ...t, gone: [] });
    trends.forget(seen);
    alive = seen;
    for (const key of seen) misses.delete(key);
    // A target is gone when its process is; one that lives but missed a tick is retried first.
    const exited: string[] = [];
    const silent: string[] = [];
    for (const s of samples) aliveInStore.set(s.key, s.pid);
    const unseen = [...aliveInStore].map(([key, pid]) => ({ key, pid })).filter((x) => !seen.has(x.key) && wanted(x, options.targets));
    for (const t of unseen) {
      if (t.pid === null || !(await processExists(host, t.pid))) {
        exited.push(t.key);
        misses.delete(t.key);
        continue;
      }
      const n = (misses.get(t.key) ?? 0) + 1;
      misses.set(t.key, n);
      if (n >= MISSES_BEFORE_GAP) {
        silent.push(t.key);
        misses.delete(t.key);
      } else {
        options.onProblem?.(`${t.key}: no sample this tick (pid ${t.pid} is alive; tried ${n} of ${MISSES_BEFORE_GAP})`);
      }
    }
    store.markGone(ts, exited, 'exited');
    store.markGone(ts, silent, `stopped answering for ${MISSES_BEFORE_GAP} ticks`);
    const gone = [...exited, ...silent];
    for (const key of gone) aliveInStore.delete(key);
    if (ts - lastMaintain >= MAINTAIN_EVERY_MS) {
      store.maintain(ts);
      lastMaintain = ts;
    }
    const result = { ts, samples, gone };
    if (samples.length > 0 || gone.length > 0 || restingPids.length === 0) options.onTick?.(result);
    return result;
  };

  /** A row of a resting attach target's pools; false when they cannot be read (its next tick reads it whole). */
  const takeAttachRow = (pid: number, rows: { at: number; reading: AttachReading }[], ts: number) => {
    let reading: AttachReading | undefined;
    try {
      reading = countPoolsAgain(host, pid, cache.attachMaps);
    } catch {
      // Gone or unreadable: the whole read says which.
    }
    if (reading) rows.push({ at: ts, reading });
    return reading !== undefined;
  };

  /**
   * The rows taken between the target's last read and this one (by its preload's sampler, or by
   * takeAttachRow), each a tick of its own. Calls and ring peaks are not in them: those come with reads.
   */
  const subsampleTicks = async (key: string, p: DpdkProcess, input: ProcessInput | undefined, ts: number) => {
    const before = batched.get(p.pid);
    const subsamples = input?.preload?.subsamples;
    const byPreload = subsamples !== undefined && subsamples.everyMs > 0;
    if (!batching || !input || !(byPreload || (input.preload === undefined && input.attach))) {
      batched.delete(p.pid);
      return [];
    }
    batched.set(p.pid, { key, readAt: ts, ...(byPreload ? {} : { rows: [] }) });
    if (subsamples && subsamples.dropped > 0)
      options.onProblem?.(`${key}: ${subsamples.dropped} sub-samples were overwritten before they were read`);
    // Rows from before this target's first read here belong to no window of this recorder.
    const after = lastRecorded.get(key);
    if (after === undefined) return [];
    const rows = byPreload
      ? subsampledProcesses(p, input, after, ts)
      : attachedProcesses(
          p,
          input,
          (before?.rows ?? []).filter((r) => r.at > after && r.at < ts),
        );
    const ticks: { ts: number; samples: TargetSample[] }[] = [];
    for (const row of rows) {
      const view = await gazelleViewOf(host, row.process, cache).catch(() => undefined);
      const v = seriesOf(row.process, view);
      const values = { process: v.process, stack: v.stack, pool: v.pool, pool_peak: v.pool_peak };
      ticks.push({ ts: row.at, samples: [{ key, pid: p.pid, command: p.command, values }] });
    }
    return ticks;
  };

  /** When every target is read through its preload's sub-samples, the recorder sleeps until the next read is due. */
  const nextWakeMs = (now: number) => {
    const byPreload = [...batched.values()].filter((b) => b.rows === undefined);
    if (!batching || byPreload.length === 0 || [...alive].some((key) => !byPreload.some((b) => b.key === key))) return intervalMs;
    const due = Math.min(...byPreload.map((b) => b.readAt + BATCH_MS));
    return Math.max(intervalMs, due - now);
  };

  const loop = async () => {
    if (!running) return;
    const t0 = Date.now();
    if (!restingTick()) {
      current = tick().catch((err: unknown) => options.onProblem?.(`recording failed: ${errorMessage(err)}`));
      await current;
    }
    if (running) timer = setTimeout(loop, Math.max(0, nextWakeMs(t0) - (Date.now() - t0)));
  };
  void loop();

  return {
    latest,
    alive: () => alive,
    machine: () => machinePart,
    tick,
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await current;
      closeSampleCache(cache);
    },
  };
}
