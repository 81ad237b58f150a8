import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type TargetSample } from '../../src/store/store.js';
import { targetKey } from '../../src/model/series.js';
import { fixtureProcess } from '../helpers/snapshot.js';

const T0 = Date.UTC(2026, 10, 24, 0, 0, 0);
const dir = mkdtempSync(join(tmpdir(), 'gzmem-store-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const sample = (key: string, inUse: number, pid = 100): TargetSample => ({
  key, pid, command: 'gzload',
  values: { process: { reserved_bytes: 1000, in_use_bytes: inUse }, stack: { gazellelstack00: inUse / 2 }, pool: { rxtx_mbuf_0: inUse / 10 } },
});

test('restarts and silences between recordings: a new pid, or no sample for longer than allowed, starts with a closed gap', () => {
  const path = join(dir, 'restart.db');
  // Six recordings over six pids of one prefix, each killed without marking its target gone.
  for (let run = 0; run < 6; run++) {
    const store = openStore(path);
    for (let i = 0; i < 5; i++) store.record(T0 + run * 60_000 + i * 1000, [sample('maria', 100 + run, 500 + run)], 3000);
    store.close();
  }
  const store = openStore(path);
  assert.equal(store.targets().length, 1);
  const gaps = store.gaps('maria');
  assert.equal(gaps.length, 5);
  assert.deepEqual(gaps[0], { start: T0 + 4000, end: T0 + 60_000, reason: 'restarted as pid 501' });
  const inUse = store.query({ key: 'maria', scope: 'process', from: T0, to: T0 + 400_000, maxPoints: 100_000 }).series.find((x) => x.name === 'in_use_bytes')!.values;
  assert.equal(inUse.filter((v) => v === null).length, 5, 'a null breaks the line at every restart');
  // The same pid after a silence longer than allowed: a gap too.
  store.record(T0 + 900_000, [sample('maria', 1, 505)], 3000);
  assert.equal(store.gaps('maria').at(-1)!.reason, 'not recorded');
  store.close();
});

test('samples, a gap when the target goes, the same series when it comes back with a new pid', () => {
  const store = openStore(join(dir, 'a.db'));
  for (let i = 0; i < 10; i++) store.record(T0 + i * 1000, [sample('gzl', 100 + i)]);
  store.markGone(T0 + 10_000, ['gzl'], 'exited');
  assert.equal(store.targets()[0]!.alive, false);
  for (let i = 20; i < 25; i++) store.record(T0 + i * 1000, [sample('gzl', 200 + i, 101)]);
  const t = store.targets()[0]!;
  assert.deepEqual([t.key, t.pid, t.alive, t.firstSeen, t.lastSeen], ['gzl', 101, true, T0, T0 + 24_000]);
  assert.deepEqual(store.gaps('gzl'), [{ start: T0 + 10_000, end: T0 + 20_000, reason: 'exited' }]);
  const q = store.query({ key: 'gzl', scope: 'process', from: T0, to: T0 + 30_000, maxPoints: 1000 });
  assert.equal(q.resolution, 'raw');
  assert.equal(q.ts.length, 16);
  const inUse = q.series.find((s) => s.name === 'in_use_bytes')!.values;
  assert.deepEqual(inUse.slice(8, 12), [108, 109, null, 220], 'null breaks the line at the gap');
  assert.deepEqual(q.peaks.find((p) => p.name === 'in_use_bytes'), { name: 'in_use_bytes', ts: T0 + 24_000, value: 224 });
  store.close();
});

test('downsampling to maxPoints keeps the peak', () => {
  const store = openStore(join(dir, 'b.db'));
  for (let i = 0; i < 600; i++) store.record(T0 + i * 1000, [sample('p', i === 333 ? 5000 : 100)]);
  const q = store.query({ key: 'p', scope: 'process', from: T0, to: T0 + 600_000, maxPoints: 60 });
  assert.ok(q.ts.length <= 61, `${q.ts.length} points`);
  assert.equal(q.peaks.find((p) => p.name === 'in_use_bytes')?.value, 5000);
  store.close();
});

test('retention keeps every tier bounded over hours of 1 Hz samples', () => {
  const path = join(dir, 'c.db');
  const retention = { rawMs: 10 * 60_000, minuteMs: 60 * 60_000, hourMs: 6 * 3600_000 };
  const store = openStore(path, retention);
  const seriesPerTick = 4;
  const hours = 3;
  for (let i = 0; i < hours * 3600; i++) {
    const ts = T0 + i * 1000;
    store.record(ts, [sample('r', 100 + (i % 50))]);
    if (i % 60 === 0) store.maintain(ts);
  }
  const end = T0 + hours * 3600_000;
  store.maintain(end);
  const c = store.counts();
  assert.ok(c.raw <= (10 + 1) * 60 * seriesPerTick, `raw ${c.raw}`);
  assert.ok(c.minute <= (60 + 2) * seriesPerTick && c.minute > 0, `minute ${c.minute}`);
  assert.ok(c.hour >= (hours - 1) * seriesPerTick && c.hour <= (hours + 1) * seriesPerTick, `hour ${c.hour}`);
  // Past raw retention the minute tier answers, with min/avg/max of the real samples.
  const q = store.query({ key: 'r', scope: 'process', from: end - 50 * 60_000, to: end, maxPoints: 1000 });
  assert.equal(q.resolution, 'minute');
  const series = q.series.find((s) => s.name === 'in_use_bytes')!;
  assert.ok(q.ts.length >= 49);
  q.ts.forEach((ts, k) => {
    const first = (ts - T0) / 1000;
    const expected = Array.from({ length: 60 }, (_, j) => 100 + ((first + j) % 50)).reduce((a, b) => a + b, 0) / 60;
    assert.ok(Math.abs(series.values[k]! - expected) < 1e-9, `minute at ${first}s: ${series.values[k]} vs ${expected}`);
  });
  assert.equal(q.peaks.find((p) => p.name === 'in_use_bytes')?.value, 149);
  store.close();
});

test('schema version is recorded and a newer database is refused', () => {
  const path = join(dir, 'd.db');
  openStore(path).close();
  const db = new Database(path);
  assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, '1');
  db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
  db.close();
  assert.throws(() => openStore(path), /schema version 99 is newer/);
});

test('the newest kept snapshot of a target', () => {
  const store = openStore(join(dir, 'e.db'));
  store.record(T0, [{ ...sample('k', 1), snapshotJson: '{"n":1}' }]);
  store.record(T0 + 1000, [{ ...sample('k', 2), snapshotJson: '{"n":2}' }]);
  store.record(T0 + 2000, [sample('k', 3)]);
  assert.equal(store.latestSnapshot('k'), '{"n":2}');
  assert.equal(store.latestSnapshot('nobody'), undefined);
  store.close();
});

test('a secondary process is its own target, apart from its primary of the same prefix', async () => {
  const primary = await fixtureProcess('testpmd');
  const secondary = { ...primary, pid: primary.pid + 1, telemetrySocket: `${primary.telemetrySocket}:1` };
  assert.equal(targetKey(primary), 'gztp');
  assert.equal(targetKey(secondary), 'gztp:1');
});

test('a peak is the highest point, the first when it repeats, none without values', async () => {
  const { highestPoint } = await import('../../src/model/peaks.js');
  assert.deepEqual(highestPoint([1, 2, 3, 4], [5, 9, null, 9]), { ts: 2, value: 9 });
  assert.equal(highestPoint([1, 2], [null, null]), undefined);
  assert.deepEqual(highestPoint([7], [0]), { ts: 7, value: 0 });
});

test('a writer that commits once a second journals every tick: killed before its commit, the next opener replays the ticks', async () => {
  const { spawnSync } = await import('node:child_process');
  const { existsSync, readdirSync } = await import('node:fs');
  const path = join(dir, 'journal.db');
  const storeModule = new URL('../../src/store/store.ts', import.meta.url).href;
  // A writer in a process of its own: 7 ticks, none committed (the first commit would come after a minute), then SIGKILL.
  const writer = `
    const { openStore } = await import(${JSON.stringify(storeModule)});
    const store = openStore(${JSON.stringify(path)}, undefined, { commitEveryMs: 60_000 });
    for (let i = 0; i < 7; i++) store.record(${T0} + i * 100, [{ ...${JSON.stringify(sample('fast', 0))}, values: { process: { in_use_bytes: i } } }], 3000);
    process.kill(process.pid, 'SIGKILL');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  const journals = () => readdirSync(dir).filter((n) => n.startsWith('journal.db-ticks-'));
  assert.equal(journals().length, 1, 'the killed writer left its journal');
  const raw = new Database(path, { readonly: true });
  assert.equal((raw.prepare('SELECT count(*) AS n FROM raw').get() as { n: number }).n, 0, 'nothing was committed');
  raw.close();
  const store = openStore(path);
  assert.deepEqual(journals(), [], 'replayed and removed');
  assert.equal(store.targets()[0]!.lastSeen, T0 + 600, 'the last tick before the kill is kept');
  const values = store.query({ key: 'fast', scope: 'process', from: T0, to: T0 + 1000, maxPoints: 100 }).series[0]!.values;
  assert.deepEqual(values, [0, 1, 2, 3, 4, 5, 6]);
  store.close();
  // A writer that lives keeps its ticks in the journal until it commits; its reads commit them first.
  const live = openStore(path, undefined, { commitEveryMs: 60_000 });
  live.record(T0 + 700, [{ ...sample('fast', 0), values: { process: { in_use_bytes: 7 } } }], 3000);
  assert.equal(journals().length, 1);
  assert.equal(live.targets()[0]!.lastSeen, T0 + 700);
  live.close();
  assert.deepEqual(journals(), [], 'a clean close commits and removes the journal');
  assert.ok(!existsSync(`${path}-ticks-${process.pid}`));
});
