// `gzmem record [target...]`: samples DPDK processes into the history database until stopped.

import type { Host } from '../collect/host.js';
import { startRecorder, type Recorder, type RecorderOptions } from '../gather/recorder.js';
import { openStore, type Store } from '../store/store.js';
import { untilSignal } from './signals.js';

export interface RecordOptions {
  db: string;
  intervalSec: number;
  durationSec?: number;
  targets: string[];
  keepSnapshots: boolean;
  timeoutMs: number;
  attach: boolean;
}

/** Reports each distinct problem once, so a target that stays unreachable does not flood stderr. */
export function problemReporter(): (message: string) => void {
  const seen = new Set<string>();
  return (message) => {
    if (seen.has(message)) return;
    seen.add(message);
    process.stderr.write(`gzmem: ${message}\n`);
  };
}

export function startRecording(
  host: Host,
  store: Store,
  o: RecordOptions,
  extra: Pick<RecorderOptions, 'onTick' | 'latest'> = {},
): Recorder {
  return startRecorder(host, store, {
    ...extra,
    intervalSec: o.intervalSec,
    targets: o.targets,
    keepSnapshots: o.keepSnapshots,
    timeoutMs: o.timeoutMs,
    attach: o.attach,
    onProblem: problemReporter(),
  });
}

export async function runRecord(host: Host, o: RecordOptions): Promise<void> {
  const store = openStore(o.db, undefined, { commitEveryMs: 1000 });
  const recorder = startRecording(host, store, o);
  const what = o.targets.length ? o.targets.join(', ') : 'every DPDK process';
  process.stderr.write(`gzmem: recording ${what} into ${o.db} every ${o.intervalSec} s (Ctrl-C stops)\n`);
  const stop = untilSignal();
  await (o.durationSec !== undefined ? Promise.race([stop, new Promise((r) => setTimeout(r, o.durationSec! * 1000))]) : stop);
  await recorder.stop();
  store.close();
}
