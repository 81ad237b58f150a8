// The recorder: every interval, reads the DPDK processes (all, or the ones named), keeps the
// latest snapshot of each in memory and a few numbers of each in the store. A target that exits
// is marked gone (a gap); one that comes back with the same file prefix continues its series.

import type { Host } from './collect/host.js';
import { gazelleViewOf } from './gazelle.js';
import { seriesOf, targetKey } from './model/series.js';
import type { DpdkProcess, Snapshot } from './model/snapshot.js';
import { machineSnapshot, readAll, type GatherOptions } from './snapshot.js';
import type { Store, TargetSample } from './store/store.js';
import { errorMessage } from './errors.js';

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
  tick(): Promise<Tick>;
  stop(): Promise<void>;
}

function selected(p: DpdkProcess, targets: string[] | undefined): boolean {
  if (!targets || targets.length === 0) return true;
  return targets.some((t) => t === String(p.pid) || t === p.filePrefix);
}

const MAINTAIN_EVERY_MS = 60_000;

export function startRecorder(host: Host, store: Store, options: RecorderOptions): Recorder {
  const latest = options.latest ?? new Map<string, Snapshot>();
  let lastMaintain = 0;
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();

  const tick = async (): Promise<Tick> => {
    const started = performance.now();
    const ts = host.now().getTime();
    const { processes, problems } = await readAll(host, options);
    for (const p of problems) options.onProblem?.(p);
    const samples: TargetSample[] = [];
    const seen = new Set<string>();
    const chosen = processes.filter((x) => selected(x, options.targets));
    // The machine part is read once per tick and shared by every target's snapshot.
    const machine = await machineSnapshot(host, chosen, started);
    for (const p of chosen) {
      const key = targetKey(p);
      seen.add(key);
      const view = await gazelleViewOf(host, p).catch(() => undefined);
      const snapshot: Snapshot = { ...machine, processes: [p], ...(view ? { lstack: [view] } : {}) };
      latest.set(key, snapshot);
      const v = seriesOf(p, view);
      samples.push({
        key, pid: p.pid, command: p.command,
        values: { process: v.process, stack: v.stack, pool: v.pool },
        ...(options.keepSnapshots ? { snapshotJson: JSON.stringify(snapshot) } : {}),
      });
    }
    store.record(ts, samples);
    const gone = store.targets().filter((t) => t.alive && !seen.has(t.key) && (!options.targets?.length || options.targets.includes(t.key))).map((t) => t.key);
    store.markGone(ts, gone, 'exited or stopped answering');
    if (ts - lastMaintain >= MAINTAIN_EVERY_MS) {
      store.maintain(ts);
      lastMaintain = ts;
    }
    const result = { ts, samples, gone };
    options.onTick?.(result);
    return result;
  };

  const loop = async () => {
    if (!running) return;
    const t0 = Date.now();
    current = tick().catch((err: unknown) => options.onProblem?.(`recording failed: ${errorMessage(err)}`));
    await current;
    if (running) timer = setTimeout(loop, Math.max(0, options.intervalSec * 1000 - (Date.now() - t0)));
  };
  void loop();

  return {
    latest,
    tick,
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
