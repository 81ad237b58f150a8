// `gzmem advise --conf <lstack.conf>`: the hugepages a gazelle configuration will need, before it
// starts. `gzmem advise <target>`: settings sized to what the process used (now, or over a recorded
// window), the hugepages they need, what that saves, and the lstack.conf change as a diff.

import { existsSync, readFileSync } from 'node:fs';
import type { Host } from '../collect/host.js';
import { parseLibconfig } from '../collect/libconfig.js';
import { predict } from '../analysis/predict.js';
import { renderAdvice, renderPrediction } from '../format/advice.js';
import { readLstack } from '../gather/stack-view.js';
import { PROFILES, adviceFor, buildFor, predictOptions, settingsOf } from '../gather/advice.js';
import type { Store } from '../store/store.js';
import { NotFoundError, UsageError, errorMessage } from '../errors.js';
import { writeOut } from './output.js';

export interface AdviseOptions {
  conf?: string;
  profile: 'gazelle' | 'gzload';
  dpdk?: string;
  arch?: string;
  connections?: number;
  appThreads?: number;
  pageBytes?: number;
  headroom: number;
  windowMs?: number;
  db: string;
  json: boolean;
  file?: string;
  timeoutMs: number;
}

export async function runAdvise(host: Host, target: string, o: AdviseOptions): Promise<void> {
  const { process: p, view } = await readLstack(host, target, { timeoutMs: o.timeoutMs, attach: true });
  let store: Store | undefined;
  if (o.windowMs !== undefined) {
    // Opening a missing database would create it: advice reads, it does not make files.
    if (!existsSync(o.db)) throw new NotFoundError(`no history database ${o.db} (record first: gzmem record ${target} --db ${o.db})`);
    store = (await import('../store/store.js')).openStore(o.db);
  }
  try {
    const r = await adviceFor(host, p, view, { ...o, ...(store ? { store } : {}) });
    const subject = `${p.command} (pid ${p.pid}, ${r.target.key})`;
    if (o.json) writeOut(`${JSON.stringify({ schemaVersion: 1, ...r }, null, 2)}\n`, o.file);
    else writeOut(renderAdvice(r.advice, subject, r.observation, r.diff ?? undefined), o.file);
  } finally {
    store?.close();
  }
}

export async function runPredict(host: Host, o: AdviseOptions & { conf: string }): Promise<void> {
  let text: string;
  try {
    text = readFileSync(o.conf, 'utf8');
  } catch (err) {
    throw new NotFoundError(`cannot read ${o.conf}: ${errorMessage(err)}`);
  }
  const settings = settingsOf(parseLibconfig(text, o.conf), o.conf);
  const notes: string[] = [];
  const build = buildFor(o, notes);
  const prediction = predict(settings, await predictOptions(host, o, build, PROFILES[o.profile]));
  prediction.notes.unshift(...notes);
  writeOut(
    o.json ? `${JSON.stringify({ schemaVersion: 1, conf: o.conf, prediction }, null, 2)}\n` : renderPrediction(prediction, o.conf),
    o.file,
  );
}

/** "90s", "30m", "24h", "7d" → ms */
export function parseWindow(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  if (!m || Number(m[1]) <= 0)
    throw new UsageError(`--window must be a duration such as 90s, 30m, 24h or 7d, got ${JSON.stringify(value)}`);
  return Number(m[1]) * unit[m[2] as keyof typeof unit];
}
