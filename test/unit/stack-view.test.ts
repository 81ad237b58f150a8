import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLibconfig } from '../../src/collect/libconfig.js';
import { parseLstackShow, type GazellectlReading } from '../../src/collect/gazellectl.js';
import { readProcess } from '../../src/collect/process.js';
import { readTelemetry } from '../../src/collect/telemetry.js';
import { buildProcess } from '../../src/model/build.js';
import { buildGazelleView, gazellectlOccupancy, lstackParams, poolOwner } from '../../src/model/stack-view.js';
import { renderLstack, renderLstackCsv } from '../../src/format/stack-view.js';
import { FIXTURES, ROOT, fixtureDir, fixtureHost, replayTelemetry, type Scenario } from '../helpers/fixtures.js';
import { assertGolden } from '../helpers/golden.js';
import Ajv from 'ajv';

const conf = parseLibconfig(readFileSync(join(FIXTURES, 'hosts', 'lstack.conf'), 'utf8'));
const params = lstackParams(conf, '/etc/gazelle/lstack.conf');

async function gazelle(scenario: Scenario) {
  const dir = join(fixtureDir(scenario), 'gazellectl');
  const g: GazellectlReading = {
    stacks: parseLstackShow(readFileSync(join(dir, 'lstack_show_1.txt'), 'utf8')),
  };
  const input = { process: await readProcess(fixtureHost(scenario), 9978), telemetry: await readTelemetry(replayTelemetry(scenario)) };
  const first = buildProcess(input);
  const p = buildProcess({ ...input, extraOccupancy: gazellectlOccupancy(first, g) });
  return { p, view: buildGazelleView(p, params, g), g };
}

test('lstack.conf sizes the mbuf pool exactly as gazelle did', () => {
  assert.equal(params.expectedMbufsPerStack, 266264);
});

test('pool names map to their stack or thread', () => {
  assert.deepEqual(poolOwner('rxtx_mbuf_0'), { stackId: 0 });
  assert.deepEqual(poolOwner('mbuf_pool_3'), { stackId: 3 });
  assert.deepEqual(poolOwner('rpc_pool_9989'), { tid: 9989 });
  assert.equal(poolOwner('mb_pool_0'), undefined);
});

for (const scenario of ['gazelle-idle', 'gazelle-conn10', 'gazelle-conn100', 'gazelle-closed'] as const) {
  test(`${scenario}: one stack, its memory, and gazellectl's free count as occupancy`, async () => {
    const { p, view, g } = await gazelle(scenario);
    assert.equal(view.stacks.length, 1);
    const s = view.stacks[0]!;
    assert.equal(s.name, 'gazellelstack00');
    assert.equal(s.tid, 9987);
    assert.equal(s.cpu, 1);
    const free = g.stacks[0]!.counters.mbuf_pool_freecnt!;
    const pool = p.mempools.find((m) => m.name === 'rxtx_mbuf_0')!;
    assert.equal(pool.occupancy?.source, 'gazellectl');
    assert.equal(s.mbufsInUse, 266264 - free);
    // The stack holds its mbuf pool and its lwIP memzones (<NAME>_9987); the rpc pools belong to
    // other threads (the app's worker and control_thread), so they are shared.
    const lwip = p.memzones.filter((z) => z.name.endsWith('_9987'));
    assert.equal(s.totalBytes, pool.memzoneBytes + lwip.reduce((a, z) => a + z.lengthBytes, 0));
    assert.equal(s.freeBytes, free * 2112);
    assert.equal(s.usedBytes, s.totalBytes - free * 2112);
    assert.ok(view.shared.pools.every((m) => m.name.startsWith('rpc_pool_')));
    assert.match(view.shared.pools[0]!.owner, /thread 9989 example/);
    // These captures had no preload: the per-connection rings are unknown, not 0.
    assert.equal(s.rings.count, null);
    assert.deepEqual(view.notes, ['per-stack totals leave out rte_malloc rings (per-connection rings): they are seen only with the preload']);
    // The rendered table carries gazellectl's figure (independent truth), not only the golden's.
    const text = renderLstack(view);
    assert.ok(text.includes(`${(266264 - free).toLocaleString('en-US')} / 266,264`), text);
    assert.ok(text.includes(`mbuf_pool_freecnt ${free.toLocaleString('en-US')}`));
    assertGolden(`lstack-${scenario}.txt`, text);
    assertGolden(`lstack-${scenario}.csv`, renderLstackCsv(view));
  });
}

test('in-use mbufs follow the connections: idle < 10 < 100, back down when closed', async () => {
  const used = async (s: Scenario) => (await gazelle(s)).view.stacks[0]!.mbufsInUse!;
  const [idle, c10, c100, closed] = [await used('gazelle-idle'), await used('gazelle-conn10'), await used('gazelle-conn100'), await used('gazelle-closed')];
  assert.ok(idle < c10 && c10 < c100 && closed < c100, `${idle} ${c10} ${c100} ${closed}`);
  assert.deepEqual([idle, c100], [31, 3231]);
});

test('a process without stack threads says so', async () => {
  const p = buildProcess({ process: await readProcess(fixtureHost('testpmd'), 11965), telemetry: await readTelemetry(replayTelemetry('testpmd')) });
  const v = buildGazelleView(p, lstackParams(undefined, null));
  assert.equal(v.stacks.length, 0);
  assert.match(v.notes[0]!, /no gazellelstackNN thread/);
});

test('lstack JSON validates against the schema', async () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'snapshot.schema.json'), 'utf8'));
  const validate = new Ajv.default({ strict: true }).compile(schema);
  const { p, view } = await gazelle('gazelle-conn100');
  const doc = JSON.parse(JSON.stringify({ schemaVersion: 1, takenAt: '2026-11-24T11:33:43.000Z', durationMs: 0, hostname: 'x', hugepages: { sizes: [], nodes: [], mounts: [] }, processes: [p], orphans: null, lstack: [view] }));
  assert.ok(validate(doc), JSON.stringify(validate.errors));
});
