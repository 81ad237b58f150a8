// The target killed in the middle of a snapshot, again and again: every read must end as a full
// snapshot (the kill came after it) or "exited" (7), never anything else, and a recorder running
// across the kills picks the same prefix up again each time.
//   node --import tsx test/reliability/kill-target.ts [rounds]      (default 100)

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveHost } from '../../src/collect/host.js';
import { readTarget } from '../../src/gather/processes.js';
import { GzmemError, ExitCode } from '../../src/errors.js';
import { openStore } from '../../src/store/store.js';
import { rng } from './fuzz.js';
import { startGzload, uniquePrefix, type DpdkProc } from '../helpers/dpdk.js';
import { startRecord, stopChild } from '../helpers/serve.js';

export interface KillResult {
  rounds: number;
  outcomes: Record<string, number>;
  unexpected: string[];
  gaps: number;
  targets: number;
}

async function killNow(p: DpdkProc): Promise<void> {
  const gone = new Promise((r) => p.child.once('exit', r));
  process.kill(p.pid, 'SIGKILL');
  await gone;
}

export async function killTargets(rounds: number, seed = 1): Promise<KillResult> {
  const host = liveHost();
  const r = rng(seed);
  const prefix = uniquePrefix('kill');
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-kill-'));
  const db = join(dir, 'kill.db');
  const result: KillResult = { rounds, outcomes: {}, unexpected: [], gaps: 0, targets: 0 };
  const rec = startRecord([prefix, '--db', db, '-i', '0.1']);
  try {
    for (let i = 0; i < rounds; i++) {
      const gz = await startGzload({ prefix, app: ['--stacks', '1', '--tcp_conn_count', '16'] });
      // Let the recorder see it, then read it and kill it somewhere inside the read.
      await new Promise((x) => setTimeout(x, 250));
      // From 2 ms on: by then gzmem has found the pid. A warm read of this target takes 10 to 20 ms,
      // so most kills land inside it, the rest after it.
      const delay = 2 + r() * 16;
      const read = readTarget(host, String(gz.pid), { timeoutMs: 500 }).then(
        () => 'snapshot',
        (err: unknown) => (err instanceof GzmemError ? `exit ${err.exitCode}` : `crash: ${String(err)}`),
      );
      await new Promise((x) => setTimeout(x, delay));
      await killNow(gz);
      const outcome = await read;
      result.outcomes[outcome] = (result.outcomes[outcome] ?? 0) + 1;
      if (![`exit ${ExitCode.targetGone}`, 'snapshot'].includes(outcome)) result.unexpected.push(`round ${i}: ${outcome}`);
      // The huge-unlinked pages go with the process; its runtime dir is left for the next start.
      await new Promise((x) => setTimeout(x, 250));
    }
  } finally {
    await stopChild(rec);
    rmSync(join('/var/run/dpdk', prefix), { recursive: true, force: true });
  }
  const store = openStore(db);
  try {
    result.targets = store.targets().length;
    result.gaps = store.gaps(prefix).length;
    if (process.env.DEBUG_GAPS) console.log(JSON.stringify(store.gaps(prefix)));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rounds = Number(process.argv[2] ?? 100);
  const t0 = performance.now();
  const k = await killTargets(rounds);
  console.log(`${k.rounds} targets killed mid-snapshot: ${Object.entries(k.outcomes).map(([o, n]) => `${o}: ${n}`).join(', ')}`);
  console.log(`recorder: ${k.targets} target, ${k.gaps} gaps; unexpected: ${k.unexpected.length ? k.unexpected.join('; ') : 'none'}`);
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(k.unexpected.length === 0 ? 0 : 1);
}
