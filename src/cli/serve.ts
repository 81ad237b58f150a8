// `gzmem serve [target...]`: records (unless --no-record) and serves the dashboard, the REST and
// SSE API and Prometheus /metrics, on 127.0.0.1 by default.

import { fileURLToPath } from 'node:url';
import type { Host } from '../collect/host.js';
import { openStore } from '../store/store.js';
import { createMetrics } from '../serve/metrics.js';
import { startServer } from '../serve/server.js';
import { adviceFor } from '../gather/advice.js';
import { GzmemError, ExitCode, errorMessage } from '../errors.js';
import type { Snapshot } from '../model/snapshot.js';
import type { Recorder } from '../gather/recorder.js';
import { startRecording, type RecordOptions } from './record.js';
import { untilSignal } from './signals.js';

export interface ServeOptions extends RecordOptions {
  port: number;
  host: string;
  record: boolean;
}

/** src/cli and the bundle in dist/bin both sit two levels under the package root. */
const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

export async function runServe(host: Host, o: ServeOptions): Promise<void> {
  const store = openStore(o.db, undefined, { commitEveryMs: 1000 });
  const latest = new Map<string, Snapshot>();
  let recorder: Recorder | undefined;
  const metrics = createMetrics({ latest: () => latest, alive: () => recorder?.alive() ?? new Set(), machine: () => recorder?.machine() });
  let server;
  try {
    const advise = async (key: string, windowMs: number, headroom: number) => {
      const snap = latest.get(key);
      const p = snap?.processes[0];
      return p ? adviceFor(host, p, snap?.lstack?.[0], { headroom, windowMs, store }) : undefined;
    };
    server = await startServer(
      { store, latest, metrics, webRoot: WEB_ROOT, intervalSec: o.record ? o.intervalSec : null, advise },
      o.port,
      o.host,
    );
  } catch (err) {
    store.close();
    throw new GzmemError(`cannot listen on ${o.host}:${o.port}: ${errorMessage(err)}`, ExitCode.runtime);
  }
  const s = server;
  recorder = o.record ? startRecording(host, store, o, { latest, onTick: (tick) => s.publish(tick) }) : undefined;
  const address = s.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const recording = o.record ? `, recording into ${o.db} every ${o.intervalSec} s` : '';
  process.stdout.write(`gzmem: serving http://${o.host}:${port}/ (dashboard, /api, /metrics)${recording}\n`);
  await untilSignal();
  await recorder?.stop();
  await s.close();
  store.close();
}
