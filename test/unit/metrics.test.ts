import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';
import { createMetrics } from '../../src/serve/metrics.js';
import { fixtureSnapshot } from '../helpers/snapshot.js';
import { assertGolden } from '../helpers/golden.js';

test('exposition text of the captured testpmd and gazelle snapshots', async () => {
  const snapshots = [await fixtureSnapshot('testpmd'), await fixtureSnapshot('gazelle-idle')];
  const text = await createMetrics(() => snapshots).metrics();
  assertGolden('metrics.txt', text);
  // Unknown is left out, never 0: 22.11 without preload cannot tell in-use bytes.
  assert.doesNotMatch(text, /^gzmem_process_in_use_bytes\{/m);
  assert.match(text, /^gzmem_process_hugepages_reserved_bytes\{prefix="gazelle",pid="9978",command="example"\} 1073741824$/m);
  assert.match(text, /^gzmem_hugepages_free_pages\{page_size_bytes="2097152",node="0"\} 583$/m, "the newest snapshot (testpmd, captured last) gives the machine");
});

test('promtool accepts the metrics (when Debian prometheus is installed)', { skip: existsSync('/usr/bin/promtool') ? undefined : 'promtool not installed' }, async () => {
  const snapshots = [await fixtureSnapshot('testpmd'), await fixtureSnapshot('gazelle-idle')];
  const body = await createMetrics(() => snapshots).metrics();
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('the Grafana dashboard only queries metrics gzmem exports', async () => {
  const dash = JSON.parse(readFileSync(join(ROOT, 'examples', 'grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  const snapshots = [await fixtureSnapshot('testpmd')];
  const exported = new Set([...(await createMetrics(() => snapshots).metrics()).matchAll(/^# TYPE (\w+)/gm)].map((m) => m[1]));
  const used = dash.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b(gzmem_\w+)/g)].map((m) => m[1])));
  assert.ok(used.length > 0);
  for (const name of used) assert.ok(exported.has(name), `${name} is exported`);
});
