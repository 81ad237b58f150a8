import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, fixtureDir, fixtureHost, replayTelemetry } from '../helpers/fixtures.js';
import { parseLstackShow } from '../../src/collect/gazellectl.js';
import { readProcess } from '../../src/collect/process.js';
import { readTelemetry } from '../../src/collect/telemetry.js';
import { buildProcess } from '../../src/model/build.js';
import { buildGazelleView, gazellectlOccupancy, lstackParams } from '../../src/model/stack-view.js';
import { createMetrics, type MetricsSource } from '../../src/serve/metrics.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { fixtureSnapshot } from '../helpers/snapshot.js';
import { assertGolden } from '../helpers/golden.js';

/** What the recorder would hold after one tick with these snapshots, all alive. */
function sourceOf(snapshots: Snapshot[], machine: Snapshot | undefined = snapshots[0]): MetricsSource & { aliveKeys: Set<string> } {
  const latest = new Map(snapshots.map((s) => [s.processes[0]!.filePrefix!, s]));
  const alive = new Set(latest.keys());
  return { latest: () => latest, alive: () => alive, aliveKeys: alive, machine: () => machine && { hugepages: machine.hugepages, orphans: machine.orphans } };
}

const samples = (text: string) => new Set([...text.matchAll(/^(gzmem_\w+)\{/gm)].map((m) => m[1]));

test('exposition text of the captured testpmd and gazelle snapshots', async () => {
  const snapshots = [await fixtureSnapshot('testpmd'), await fixtureSnapshot('gazelle-idle')];
  const text = await createMetrics(sourceOf(snapshots)).scrape();
  assertGolden('metrics.txt', text);
  // Unknown is left out, never 0: 22.11 without preload cannot tell in-use bytes.
  assert.doesNotMatch(text, /^gzmem_process_in_use_bytes\{/m);
  assert.match(text, /^gzmem_process_hugepages_reserved_bytes\{prefix="gazelle",pid="9978",command="example"\} 1073741824$/m);
  // The machine as the recorder read it (testpmd's capture), against the captured sysfs value.
  const free = Number(readFileSync(join(ROOT, 'test/fixtures/hosts/testpmd/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages'), 'utf8'));
  assert.match(text, new RegExp(`^gzmem_hugepages_free_pages\\{page_size_bytes="2097152",node="0"\\} ${free}$`, 'm'));
});

test('an exited target is marked with up 0 at one scrape, then leaves /metrics', async () => {
  const snapshots = [await fixtureSnapshot('testpmd'), await fixtureSnapshot('gazelle-idle')];
  const source = sourceOf(snapshots);
  const metrics = createMetrics(source);
  assert.match(await metrics.scrape(), /^gzmem_process_up\{prefix="gazelle",pid="9978"\} 1$/m);
  source.aliveKeys.delete('gazelle');
  const marked = await metrics.scrape();
  assert.match(marked, /^gzmem_process_up\{prefix="gazelle",pid="9978"\} 0$/m);
  assert.doesNotMatch(marked, /^gzmem_process_heap_bytes\{prefix="gazelle"/m, 'no stale values');
  const after = await metrics.scrape();
  assert.doesNotMatch(after, /prefix="gazelle"/);
  assert.match(after, /prefix="gztp"/);
});

test('machine gauges come from the machine even when no DPDK process is alive', async () => {
  const machine = await fixtureSnapshot('testpmd');
  const text = await createMetrics({ latest: () => new Map(), alive: () => new Set(), machine: () => ({ hugepages: machine.hugepages, orphans: [] }) }).scrape();
  assert.match(text, /^gzmem_hugepages_pages\{page_size_bytes="2097152",node="all"\} \d+$/m);
  assert.doesNotMatch(text, /^gzmem_process_/m);
});

test('promtool accepts the metrics', { skip: existsSync('/usr/bin/promtool') || process.env.CI === 'true' ? undefined : 'promtool not installed' }, async () => {
  const snapshots = [await fixtureSnapshot('testpmd'), await fixtureSnapshot('gazelle-idle')];
  const body = await createMetrics(sourceOf(snapshots)).scrape();
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`);
});

test('the Grafana dashboard only queries metrics gzmem exports with samples', async () => {
  const dash = JSON.parse(readFileSync(join(ROOT, 'examples', 'grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
  // 23.11 telemetry counts occupancy, so in-use bytes are known there; gazelle's stacks come with
  // the occupancy its captured gazellectl reported.
  const gazelle = await fixtureSnapshot('gazelle-idle');
  const stacks = parseLstackShow(readFileSync(join(fixtureDir('gazelle-idle'), 'gazellectl', 'lstack_show_1.txt'), 'utf8'));
  const p = gazelle.processes[0]!;
  const counted = buildProcess({
    process: await readProcess(fixtureHost('gazelle-idle'), 9978),
    telemetry: await readTelemetry(replayTelemetry('gazelle-idle')),
    extraOccupancy: gazellectlOccupancy(p, { stacks }),
  });
  const withStacks = { ...gazelle, processes: [counted], lstack: [buildGazelleView(counted, lstackParams(undefined, null), { stacks })] };
  const snapshots = [await fixtureSnapshot('testpmd'), withStacks, await fixtureSnapshot('testpmd-23.11.7')];
  const source = sourceOf(snapshots);
  // An orphan as the machine collector reports one, so its gauge has a sample to look for.
  const machine = { hugepages: snapshots[0]!.hugepages, orphans: [{ prefix: 'dead', files: 1, bytes: 2097152, mount: '/dev/hugepages', removeCommand: 'rm -f x' }] };
  const exported = samples(await createMetrics({ ...source, machine: () => machine }).scrape());
  const used = dash.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b(gzmem_\w+)/g)].map((m) => m[1])));
  assert.ok(used.length > 0);
  for (const name of used) assert.ok(exported.has(name), `${name} has samples in /metrics`);
});
