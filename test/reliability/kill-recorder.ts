// `gzmem record` killed with SIGKILL in the middle of its writes, again and again: the database
// must open every time, and what was lost is at most the interval in which the kill came (below
// 1 s, the second: the rows between two whole reads of a target are recorded with the second read).
//   node --import tsx test/reliability/kill-recorder.ts [rounds]      (default 50)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { rng } from './fuzz.js';
import { startGzload, stop } from '../helpers/dpdk.js';
import { startRecord } from '../helpers/serve.js';

export interface RecorderKillResult {
  rounds: number;
  opened: number;
  /** Per round: time from the kill back to the newest sample kept, ms. */
  lostMs: number[];
  intervalMs: number;
  /** The most a kill may lose: an interval, or the second of rows a recorder below 1 s keeps for its next read. */
  maxLossMs: number;
  errors: string[];
}

export async function killRecorders(rounds: number, seed = 1, intervalSec = 0.1): Promise<RecorderKillResult> {
  const r = rng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-killrec-'));
  const db = join(dir, 'k.db');
  const gz = await startGzload({ app: ['--stacks', '1', '--pattern', 'burst'] });
  const intervalMs = intervalSec * 1000;
  const result: RecorderKillResult = { rounds, opened: 0, lostMs: [], intervalMs, maxLossMs: Math.max(intervalMs, 1000), errors: [] };
  try {
    for (let i = 0; i < rounds; i++) {
      const rec = startRecord([gz.prefix, '--db', db, '-i', String(intervalSec)]);
      const exited = new Promise((x) => rec.child.once('exit', x));
      await new Promise((x) => setTimeout(x, 600 + r() * 600));
      const killedAt = Date.now();
      process.kill(rec.child.pid!, 'SIGKILL');
      await exited;
      try {
        const store = openStore(db);
        result.opened++;
        const t = store.targets().find((x) => x.key === gz.prefix);
        if (t) result.lostMs.push(killedAt - t.lastSeen);
        else result.errors.push(`round ${i}: no target row`);
        store.close();
      } catch (err) {
        result.errors.push(`round ${i}: ${String(err)}`);
      }
    }
  } finally {
    await stop(gz);
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rounds = Number(process.argv[2] ?? 50);
  const k = await killRecorders(rounds);
  const worst = Math.max(...k.lostMs);
  console.log(`${k.rounds} recorders killed with SIGKILL: database opened ${k.opened} times; newest sample at most ${worst} ms before the kill (interval ${k.intervalMs} ms, at most ${k.maxLossMs} ms may be lost); errors: ${k.errors.length ? k.errors.join('; ') : 'none'}`);
  process.exit(k.errors.length === 0 && k.opened === rounds ? 0 : 1);
}
