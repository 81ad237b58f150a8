// The recorder and the server against real gzload processes.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { hugepagesMissing, startGzload, stop, uniquePrefix, type DpdkProc, PRELOAD } from '../helpers/dpdk.js';
import { startFakeTelemetry, startRecord, startServe, stopChild, type Child } from '../helpers/serve.js';

const skip = hugepagesMissing();
const dir = mkdtempSync(join(tmpdir(), 'gzmem-rec-'));
const procs: DpdkProc[] = [];
const children: Child[] = [];
after(async () => {
  for (const c of children) await stopChild(c);
  for (const p of procs) await stop(p);
  rmSync(dir, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the recorder survives its target exiting and picks it up again under the same prefix', { skip }, async () => {
  const prefix = uniquePrefix('rec');
  const db = join(dir, 'rec.db');
  const t0 = Date.now();
  const first = await startGzload({ prefix, app: ['--stacks', '1'], env: { LD_PRELOAD: PRELOAD } });
  procs.push(first);
  const rec = startRecord([prefix, '--db', db, '-i', '0.3']);
  children.push(rec);
  await sleep(1500);
  await stop(first);
  await sleep(1200);
  const second = await startGzload({ prefix, app: ['--stacks', '1'], env: { LD_PRELOAD: PRELOAD } });
  procs.push(second);
  await sleep(1500);
  assert.equal(await stopChild(rec), 0, rec.stderr());
  await stop(second);

  const store = openStore(db);
  try {
    const [t] = store.targets();
    assert.equal(t?.key, prefix);
    assert.equal(t?.pid, second.pid, 'the series continues with the new pid');
    const gaps = store.gaps(prefix);
    assert.equal(gaps.length, 1);
    assert.ok(gaps[0]!.end !== null && gaps[0]!.end > gaps[0]!.start, 'the gap closed when it came back');
    const q = store.query({ key: prefix, scope: 'process', from: t0, to: Date.now(), maxPoints: 100000 });
    const reserved = q.series.find((s) => s.name === 'reserved_bytes')!.values;
    const nulls = reserved.filter((v) => v === null).length;
    assert.equal(nulls, 1, 'one null marks the break');
    const before = reserved.slice(0, reserved.indexOf(null));
    const afterGap = reserved.slice(reserved.indexOf(null) + 1);
    assert.ok(before.length >= 3 && afterGap.length >= 3, `${before.length} samples before, ${afterGap.length} after`);
    assert.ok([...before, ...afterGap].every((v) => v !== null && v > 0));
    const stacks = store.query({ key: prefix, scope: 'stack', from: t0, to: Date.now(), maxPoints: 100000 });
    assert.deepEqual(stacks.series.map((s) => s.name), ['gazellelstack00']);
  } finally {
    store.close();
  }
});

test('recording by pid: the target gets a gap when its process exits', { skip }, async () => {
  const db = join(dir, 'bypid.db');
  const gz = await startGzload({ app: ['--stacks', '1'] });
  procs.push(gz);
  const rec = startRecord([String(gz.pid), '--db', db, '-i', '0.3']);
  children.push(rec);
  await sleep(1500);
  await stop(gz);
  await sleep(1200);
  assert.equal(await stopChild(rec), 0, rec.stderr());
  const store = openStore(db);
  try {
    assert.deepEqual(store.gaps(gz.prefix).map((g) => [g.end, g.reason]), [[null, 'exited']]);
    assert.equal(store.targets()[0]!.alive, false);
  } finally {
    store.close();
  }
});

test('a socket that fails now and then is not an exit while its process lives', async () => {
  const db = join(dir, 'flaky.db');
  const runtime = mkdtempSync(join(tmpdir(), 'gzmem-flaky-'));
  const fake = await startFakeTelemetry(runtime, 'flaky', 'flaky');
  try {
    const rec = startRecord(['--db', db, '-i', '0.2'], { GZMEM_DPDK_RUNTIME_DIRS: runtime });
    children.push(rec);
    await sleep(2500);
    // Ctrl-C: the database is closed first, then the exit says it was interrupted.
    const code = new Promise((r) => rec.child.once('exit', r));
    process.kill(rec.child.pid!, 'SIGINT');
    assert.equal(await code, 130);
    assert.match(rec.stderr(), /no sample this tick \(pid \d+ is alive; tried 1 of 3\)/, 'some ticks did fail');
    const store = openStore(db);
    try {
      assert.deepEqual(store.gaps('fake'), [], 'one failed tick is not a gap');
      assert.equal(store.targets()[0]!.alive, true);
    } finally {
      store.close();
    }
  } finally {
    fake.kill();
    rmSync(runtime, { recursive: true, force: true });
  }
});

test('serve: targets, snapshot, series and a /metrics gauge equal to the snapshot', { skip }, async () => {
  const gz = await startGzload({ app: ['--stacks', '1', '--pattern', 'steady'], env: { LD_PRELOAD: PRELOAD } });
  procs.push(gz);
  const srv = await startServe([gz.prefix, '--db', join(dir, 'serve.db'), '-i', '0.5']);
  children.push(srv);
  await sleep(1500);
  const get = async (path: string) => {
    const r = await fetch(new URL(path, srv.url));
    return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
  };
  const targets = JSON.parse((await get('/api/targets')).body) as { targets: { key: string; pid: number; alive: boolean }[] };
  assert.deepEqual(targets.targets.map((t) => [t.key, t.pid, t.alive]), [[gz.prefix, gz.pid, true]]);
  // gzload pauses so the snapshot and the scrape see the same state.
  gz.send!('pause');
  await gz.nextLine!();
  await sleep(1200);
  const snap = JSON.parse((await get(`/api/snapshot?target=${gz.prefix}`)).body) as Snapshot;
  const metrics = await get('/metrics');
  assert.match(metrics.type ?? '', /^text\/plain/);
  const gauge = (name: string, labels: string) => {
    const line = metrics.body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    assert.ok(line, `${name} ${labels} in /metrics`);
    return Number(line.split(' ').at(-1));
  };
  const p = snap.processes[0]!;
  // Against independent truth: the kernel's HugetlbPages, and what gzload counts in-process.
  const kib = Number(/HugetlbPages:\s+(\d+) kB/.exec(readFileSync(`/proc/${gz.pid}/status`, 'utf8'))![1]);
  assert.equal(gauge('gzmem_process_hugepages_reserved_bytes', `prefix="${gz.prefix}"`), kib * 1024);
  gz.send!('truth');
  const truth = JSON.parse(await gz.nextLine!()) as { pools: { name: string; in_use: number }[]; heaps: { heap_allocsz_bytes: number }[] };
  assert.equal(gauge('gzmem_process_heap_allocated_bytes', `prefix="${gz.prefix}"`), truth.heaps.reduce((a, h) => a + h.heap_allocsz_bytes, 0));
  assert.equal(gauge('gzmem_mempool_objects_in_use', `pool="rxtx_mbuf_0"`), truth.pools.find((x) => x.name === 'rxtx_mbuf_0')!.in_use);
  const stack = snap.lstack![0]!.stacks[0]!;
  assert.equal(gauge('gzmem_stack_memory_used_bytes', `stack="${stack.name}"`), stack.usedBytes);
  const series = JSON.parse((await get(`/api/series?target=${gz.prefix}&scope=process&from=${Date.now() - 60000}&to=${Date.now()}&maxPoints=500`)).body) as { ts: number[]; series: { name: string; values: (number | null)[] }[] };
  assert.ok(series.ts.length >= 3);
  assert.equal(series.series.find((s) => s.name === 'reserved_bytes')!.values.at(-1), p.waterfall.reserved.bytes);
  assert.equal((await get('/api/series?target=x')).status, 400);
  assert.equal((await get('/api/nothing')).status, 404);
  // Server-Sent Events: a sample arrives within a few ticks.
  const ctl = new AbortController();
  const res = await fetch(new URL('/api/events', srv.url), { signal: ctl.signal });
  const reader = res.body!.getReader();
  let text = '';
  const until = Date.now() + 5000;
  while (!text.includes('event: sample') && Date.now() < until) text += new TextDecoder().decode((await reader.read()).value);
  ctl.abort();
  assert.match(text, new RegExp(`"target":"${gz.prefix}"`));
  assert.equal(await stopChild(srv), 0, srv.stderr());
});
