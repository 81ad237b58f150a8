// Leak warnings against real gzload patterns: the leak pattern is flagged within a bounded time by
// a watch (`show -i`), while steady and burst traffic watched as long are never flagged.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI, hugepagesMissing, startGzload, stop, type DpdkProc } from '../helpers/dpdk.js';
import type { Snapshot } from '../../src/model/snapshot.js';

const skip = hugepagesMissing();
const running: DpdkProc[] = [];
after(async () => {
  for (const p of running) await stop(p);
});

/** Frames of `gzmem show <prefix> --json -i <interval> <count>`: seconds since start and leak alerts. */
function watch(prefix: string, interval: number, count: number): Promise<{ at: number; leaks: string[] }[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'show', prefix, '--json', '-i', String(interval), String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const frames: { at: number; leaks: string[] }[] = [];
    const t0 = Date.now();
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const p = (JSON.parse(line) as Snapshot).processes[0]!;
      frames.push({ at: (Date.now() - t0) / 1000, leaks: p.alerts.filter((a) => /leaks\?/.test(a.message)).map((a) => a.message) });
    });
    child.on('close', (code) => (code === 0 ? resolve(frames) : reject(new Error(`gzmem show exited ${code}: ${err}`))));
  });
}

test('the leak pattern is flagged within 40 s; steady and burst, watched as long, never are', { skip, timeout: 180_000 }, async (t) => {
  const patterns = ['leak', 'steady', 'burst'] as const;
  const procs = await Promise.all(
    patterns.map((pattern) => startGzload({ eal: ['--lcores', '0@0,1@1'], app: ['--stacks', '1', '--tcp_conn_count', '64', '--pattern', pattern] })),
  );
  running.push(...procs);
  const watched = await Promise.all(procs.map((p) => watch(p.prefix, 0.5, 90)));
  const [leak, steady, burst] = watched;
  const first = leak!.find((f) => f.leaks.length > 0);
  t.diagnostic(`leak flagged after ${first?.at.toFixed(1)} s: ${first?.leaks[0]}`);
  assert.ok(first, 'the leak pattern was flagged');
  assert.ok(first.at <= 40, `flagged after ${first.at} s`);
  assert.match(first.leaks[0]!, /^pool rxtx_mbuf_0 leaks\?/);
  // Once flagged, it stays flagged while the leak goes on.
  assert.ok(leak!.filter((f) => f.at > first.at + 2).every((f) => f.leaks.length > 0));
  assert.deepEqual(steady!.flatMap((f) => f.leaks), [], 'steady never flagged');
  assert.deepEqual(burst!.flatMap((f) => f.leaks), [], 'burst never flagged');
});
