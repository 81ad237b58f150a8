import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
