// The shipped alert rules (examples/alerts.yml): promtool checks them and runs their unit tests
// (examples/alerts.test.yml), and every metric they name is one gzmem exports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';
import { createMetrics } from '../../src/serve/metrics.js';

const PROMTOOL = '/usr/bin/promtool';
const skip = existsSync(PROMTOOL) ? undefined : 'promtool not installed';
if (skip && process.env.CI === 'true') throw new Error(`CI needs ${PROMTOOL}`);
const examples = join(ROOT, 'examples');

test('promtool accepts the alert rules and their unit tests pass', { skip }, () => {
  const check = spawnSync(PROMTOOL, ['check', 'rules', 'alerts.yml'], { cwd: examples, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const run = spawnSync(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], { cwd: examples, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});

test('every metric the rules name is one gzmem exports', async () => {
  const rules = readFileSync(join(examples, 'alerts.yml'), 'utf8');
  const named = new Set([...rules.matchAll(/\bgzmem_[a-z_]+/g)].map((m) => m[0]));
  const exported = await createMetrics({ latest: () => new Map(), alive: () => new Set(), machine: () => undefined }).scrape();
  const declared = new Set([...exported.matchAll(/^# TYPE (gzmem_\w+) /gm)].map((m) => m[1]));
  assert.ok(named.size >= 5);
  for (const name of named) assert.ok(declared.has(name), `${name} is not exported`);
});
