// POSIX call counts: callcount makes a known number of each call in one thread; the preload's
// counts, read by gzmem, must equal them exactly, with libc behind the preload and with an
// interposer behind it that stands in for liblstack.so (which must see every call, once).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CALLCOUNT, GZFAKE, PRELOAD, gzmem, hugepagesMissing, showProcess, startGzload, stop, type DpdkProc } from '../helpers/dpdk.js';
import { startServe, stopChild } from '../helpers/serve.js';

const skip = hugepagesMissing();
const running: DpdkProc[] = [];
after(async () => {
  for (const p of running) await stop(p);
});

interface Run {
  tid: number;
  errno_kept: boolean;
  error: string;
  calls: Record<string, [number, number]>;
  behind?: Record<string, number>;
}

async function callcount(preload: string, env: NodeJS.ProcessEnv = {}): Promise<{ p: DpdkProc; run: Run }> {
  const p = await startGzload({ binary: CALLCOUNT, eal: ['-l', '0', '-m', '64'], app: ['3'], env: { LD_PRELOAD: preload, ...env } });
  running.push(p);
  p.send!('run');
  const run = JSON.parse(await p.nextLine!()) as Run;
  assert.equal(run.error, '', 'callcount made every call');
  assert.ok(run.errno_kept, 'every failing call left errno EBADF through the counting wrapper');
  return { p, run };
}

/** The preload's counts for one thread, by call, as gzmem shows them. */
async function countsOf(prefix: string, tid: number): Promise<Record<string, [number, number]>> {
  const proc = await showProcess(prefix);
  assert.ok(proc.posixCalls, proc.posixCallsWhy);
  return Object.fromEntries(proc.posixCalls.filter((c) => c.tid === tid).map((c) => [c.call, [c.calls, c.errors]]));
}

const made = (run: Run) => Object.fromEntries(Object.entries(run.calls).filter(([, [n]]) => n > 0));

test('every call, and every failure, counted exactly per thread, libc behind the preload', { skip, timeout: 60_000 }, async () => {
  const { p, run } = await callcount(PRELOAD);
  assert.equal(Object.keys(made(run)).length, 33, 'callcount makes all 33 calls');
  assert.deepEqual(await countsOf(p.prefix, run.tid), made(run));
  // A second run is a second thread: its own counts, the first thread's kept.
  p.send!('run');
  const again = JSON.parse(await p.nextLine!()) as Run;
  assert.notEqual(again.tid, run.tid);
  assert.deepEqual(await countsOf(p.prefix, again.tid), made(again));
  assert.deepEqual(await countsOf(p.prefix, run.tid), made(run));
  const text = await gzmem(['show', p.prefix]);
  const total = Object.values(run.calls).reduce((a, [n]) => a + n, 0);
  assert.match(text.stdout, new RegExp(`\\n\\s+${run.tid}\\s+\\(exited\\)\\s+${total}\\s`), text.stdout);
  await stop(p);
});

test(
  'with an interposer behind it (as liblstack.so), each call reaches it once and both count the same',
  { skip, timeout: 60_000 },
  async () => {
    const { p, run } = await callcount(`${PRELOAD} ${GZFAKE}`);
    assert.ok(run.behind, 'the interposer is loaded');
    assert.deepEqual(run.behind, Object.fromEntries(Object.entries(run.calls).map(([k, [n]]) => [k, n])));
    assert.deepEqual(await countsOf(p.prefix, run.tid), made(run));
    await stop(p);
  },
);

test("a TCP echo over loopback: both threads' reads, writes and the rest counted exactly", { skip, timeout: 60_000 }, async () => {
  const { p } = await callcount(PRELOAD);
  p.send!('echo 5000');
  const { echo } = JSON.parse(await p.nextLine!()) as { echo: Run[] };
  for (const side of echo) {
    assert.equal(side.error, '');
    assert.deepEqual(await countsOf(p.prefix, side.tid), made(side));
  }
  // Each message crosses once each way: 5,000 writes a side, and reads that took them whole or in parts.
  assert.deepEqual(
    echo.map((s) => s.calls.write![0]),
    [5000, 5000],
  );
  await stop(p);
});

test("inside gzload while its stacks run: a thread's calls counted exactly", { skip, timeout: 60_000 }, async () => {
  const g = await startGzload({ app: ['--stacks', '1', '--pattern', 'steady'], env: { LD_PRELOAD: PRELOAD } });
  running.push(g);
  g.send!('calls 20000');
  const reply = JSON.parse(await g.nextLine!()) as { ok: boolean; tid: number; calls: Record<string, [number, number]> };
  assert.ok(reply.ok);
  assert.deepEqual(await countsOf(g.prefix, reply.tid), reply.calls);
  await stop(g);
});

test(
  'GZMEM_CALLS_LATENCY=on: every call also lands in exactly one log2 time bucket, counts unchanged',
  { skip, timeout: 60_000 },
  async () => {
    const { p, run } = await callcount(PRELOAD, { GZMEM_CALLS_LATENCY: 'on' });
    p.send!('echo 2000');
    const { echo } = JSON.parse(await p.nextLine!()) as { echo: Run[] };
    const proc = await showProcess(p.prefix);
    for (const side of [run, ...echo]) {
      for (const c of proc.posixCalls!.filter((x) => x.tid === side.tid)) {
        assert.ok(c.latency, `${c.call}: times kept`);
        assert.equal(
          c.latency.reduce((a, b) => a + b.count, 0),
          c.calls,
          `${c.call}: one bucket per call`,
        );
        for (const b of c.latency)
          assert.ok(b.leNs === null || (b.leNs >= 128 && Math.log2(b.leNs) % 1 === 0), `${c.call}: bound ${b.leNs}`);
      }
      assert.deepEqual(await countsOf(p.prefix, side.tid), made(side), 'counting is unchanged by timing');
    }
    await stop(p);
  },
);

test(
  'signals through the wrapper: EINTR without SA_RESTART, a restarted read with it, each read counted once',
  { skip, timeout: 60_000 },
  async () => {
    const { p } = await callcount(PRELOAD);
    p.send!('signals');
    type Blocked = { tid: number; r: number; errno: number };
    const s = JSON.parse(await p.nextLine!()) as { eintr: Blocked; restart: Blocked; EINTR: number };
    assert.deepEqual([s.eintr.r, s.eintr.errno], [-1, s.EINTR], 'interrupted, errno EINTR');
    assert.deepEqual([s.restart.r, s.restart.errno], [1, 0], 'restarted by the kernel, then read the byte');
    assert.deepEqual((await countsOf(p.prefix, s.eintr.tid)).read, [1, 1]);
    // SA_RESTART restarts inside the system call: the application made one call, the preload counts one.
    assert.deepEqual((await countsOf(p.prefix, s.restart.tid)).read, [1, 0]);
    await stop(p);
  },
);

test('GZMEM_CALLS=off: calls still work, nothing is counted, and gzmem says why', { skip, timeout: 60_000 }, async () => {
  const { p } = await callcount(PRELOAD, { GZMEM_CALLS: 'off' });
  const proc = await showProcess(p.prefix);
  assert.equal(proc.posixCalls, null);
  assert.match(proc.posixCallsWhy!, /GZMEM_CALLS=off/);
  await stop(p);
});

test("/metrics: each thread's calls and failures as counters equal to what the thread made", { skip, timeout: 60_000 }, async () => {
  const { p, run } = await callcount(PRELOAD);
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-calls-'));
  const srv = await startServe([p.prefix, '--db', join(dir, 'calls.db'), '-i', '0.5']);
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const body = await (await fetch(new URL('/metrics', srv.url))).text();
    const value = (name: string, call: string) => {
      const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`tid="${run.tid}"`) && l.includes(`call="${call}"`));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    for (const [call, [calls, errors]] of Object.entries(made(run))) {
      assert.equal(value('gzmem_posix_calls_total', call), calls, call);
      assert.equal(value('gzmem_posix_call_errors_total', call), errors, call);
    }
  } finally {
    await stopChild(srv);
    await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
});
