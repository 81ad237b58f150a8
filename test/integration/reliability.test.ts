// The reliability runs at the sizes CI has time for; test/reliability/*.ts run the long versions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzParsers, fuzzSockets } from '../reliability/fuzz.js';
import { killTargets } from '../reliability/kill-target.js';
import { killRecorders } from '../reliability/kill-recorder.js';
import { soak } from '../reliability/soak.js';
import { hugepagesMissing } from '../helpers/dpdk.js';

const skip = hugepagesMissing();

test('fuzz: 10,000 generated inputs to every parser and the collector, 300 to the socket client', { timeout: 300_000 }, async () => {
  const p = await fuzzParsers(10_000);
  assert.deepEqual(p.crashes, []);
  assert.ok(p.gzmemErrors > 1000, 'the inputs do reach the error paths');
  const s = await fuzzSockets(300);
  assert.deepEqual(s.crashes, []);
  assert.equal(s.overDeadline, 0, `slowest ${s.slowest} ms`);
});

test('the target killed mid-snapshot 10 times: a snapshot or "exited" each time, and the recorder picks it up again', { skip, timeout: 300_000 }, async () => {
  const k = await killTargets(10);
  assert.deepEqual(k.unexpected, []);
  assert.ok((k.outcomes['exit 7'] ?? 0) > 0, `some kills landed inside a read: ${JSON.stringify(k.outcomes)}`);
  assert.equal(k.targets, 1);
  assert.equal(k.gaps, 10);
});

test('the recorder killed with SIGKILL 10 times: the database opens each time, at most one interval (or second, below 1 s) lost', { skip, timeout: 300_000 }, async () => {
  const k = await killRecorders(10);
  assert.deepEqual(k.errors, []);
  assert.equal(k.opened, 10);
  for (const lost of k.lostMs) assert.ok(lost <= k.maxLossMs + 200, `newest sample ${lost} ms before the kill`);
});

test('soak: 2 minutes at 100 Hz, RSS growth within 5 MB and no descriptor leak', { skip, timeout: 300_000 }, async () => {
  const s = await soak(120);
  assert.ok(s.samples > 1000);
  assert.ok(s.rssMiB.end - s.rssMiB.warm <= 5, JSON.stringify(s.rssMiB));
  assert.ok(s.fds.end <= s.fds.warm, JSON.stringify(s.fds));
});
