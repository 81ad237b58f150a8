import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterRate } from '../../src/model/series.js';
import { buildMemzones, buildProcess, filePrefixFromParams, findOrphans, memzoneOwner } from '../../src/model/build.js';
import { readProcess } from '../../src/collect/process.js';
import { readTelemetry } from '../../src/collect/telemetry.js';
import type { HugetlbfsFile } from '../../src/collect/hugetlbfs.js';
import { capturedReply, fixtureHost, replayTelemetry } from '../helpers/fixtures.js';
import { fixtureProcess } from '../helpers/snapshot.js';
import { parseMemzoneInfo } from '../../src/collect/telemetry.js';

const GiB = 1024 ** 3;

test('gazelle idle waterfall: reserved >= heap >= allocated, from kernel and telemetry', async () => {
  const p = await fixtureProcess('gazelle-idle');
  assert.deepEqual(p.waterfall.reserved, { bytes: GiB, source: 'kernel' });
  assert.deepEqual(p.waterfall.heap, { bytes: 1073741824, source: 'telemetry' });
  assert.deepEqual(p.waterfall.allocated, { bytes: 611354560, source: 'telemetry' });
  assert.equal(p.waterfall.inUse.bytes, null, '22.11 telemetry cannot tell occupancy');
  assert.match(p.waterfall.inUse.why ?? '', /rxtx_mbuf_0/);
  assert.equal(p.filePrefix, 'gazelle');
  assert.equal(p.dpdkVersion, 'DPDK 22.11.11');
});

test('gazelle mbuf pool: 266,264 x 2,112 B in three memzones', async () => {
  const p = await fixtureProcess('gazelle-idle');
  const pool = p.mempools.find((m) => m.name === 'rxtx_mbuf_0');
  assert.ok(pool);
  assert.equal(pool.objectBytes, 2112);
  assert.equal(pool.objectsBytes, 562349568);
  assert.deepEqual(pool.memzones.sort(), ['MP_rxtx_mbuf_0', 'MP_rxtx_mbuf_0_0', 'RG_MP_rxtx_mbuf_0']);
  // Ground truth: the lengths DPDK reported for those memzones.
  const zones = (capturedReply('gazelle-idle', '/eal/memzone_list') as number[]).map((id) => parseMemzoneInfo(capturedReply('gazelle-idle', `/eal/memzone_info,${id}`)));
  const expected = zones.filter((z) => pool.memzones.includes(z.name)).reduce((s, z) => s + z.lengthBytes, 0);
  assert.equal(pool.memzoneBytes, expected);
  assert.equal(pool.memzoneBytes, 1057024 + 4194688 + 562900544);
});

test('unattributed = heap allocated - all memzones; grows with connections (rte_malloc rings)', async () => {
  const idle = await fixtureProcess('gazelle-idle');
  const c100 = await fixtureProcess('gazelle-conn100');
  const zoneSum = idle.memzones.reduce((s, z) => s + z.lengthBytes, 0);
  assert.equal(idle.unattributed.bytes, 611354560 - zoneSum);
  assert.ok((c100.unattributed.bytes ?? 0) > (idle.unattributed.bytes ?? 0));
});

test('memzone owners from EAL names', () => {
  const pools = ['mb', 'mb_1', 'rxtx_mbuf_0'];
  assert.deepEqual(memzoneOwner('MP_mb', pools), { kind: 'mempool', name: 'mb' });
  assert.deepEqual(memzoneOwner('RG_MP_mb_1', pools), { kind: 'mempool', name: 'mb_1' });
  assert.deepEqual(memzoneOwner('MP_mb_1_0', pools), { kind: 'mempool', name: 'mb_1' });
  assert.deepEqual(memzoneOwner('MP_mb_0', pools), { kind: 'mempool', name: 'mb' });
  assert.deepEqual(memzoneOwner('MP_rxtx_mbuf_0_0', pools), { kind: 'mempool', name: 'rxtx_mbuf_0' });
  assert.deepEqual(memzoneOwner('RG_myring', pools), { kind: 'ring', name: 'myring' });
  assert.deepEqual(memzoneOwner('eth_p0_q1_rx_ring', pools), { kind: 'ethdev', name: 'port 0' });
  assert.deepEqual(memzoneOwner('TCP_PCB_9987', pools), { kind: 'other', name: null });
  assert.equal(buildMemzones([], pools).length, 0);
});

test('testpmd: pool and heap against its own telemetry', async () => {
  const p = await fixtureProcess('testpmd');
  assert.equal(p.mempools[0]?.name, 'mb_pool_0');
  assert.equal(p.mempools[0]?.objectsBytes, 155456 * (2304 + 64));
  assert.equal(p.waterfall.heap.bytes, 387973120);
  assert.equal(p.waterfall.allocated.bytes, 382827136);
  assert.ok((p.waterfall.reserved.bytes ?? 0) >= (p.waterfall.heap.bytes ?? 0));
  assert.equal(p.threads.find((t) => t.name === 'rte-worker-1')?.cpu, 1);
});

test('file prefix from EAL params, both spellings', () => {
  assert.equal(filePrefixFromParams(['x', '--file-prefix', 'a']), 'a');
  assert.equal(filePrefixFromParams(['x', '--file-prefix=b']), 'b');
  assert.equal(filePrefixFromParams(['x']), undefined);
});

test('orphans: files nobody maps, grouped by prefix, with a command never run', () => {
  const f = (name: string, prefix?: string): HugetlbfsFile => ({ path: `/dev/hugepages/${name}`, mount: '/dev/hugepages', bytes: 2097152, sizeBytes: 2097152, ...(prefix ? { prefix } : {}) });
  const files = [f('deadmap_0', 'dead'), f('deadmap_1', 'dead'), f('livemap_0', 'live'), f('livemap_1', 'live'), f('stray')];
  const users = new Map([['/dev/hugepages/livemap_0', new Set([42])]]);
  const o = findOrphans(files, users);
  assert.deepEqual(o.map((x) => [x.prefix, x.files, x.bytes]), [['dead', 2, 4194304], ['live', 1, 2097152], [null, 1, 2097152]]);
  assert.equal(o[0]?.removeCommand, "rm -f '/dev/hugepages'/'dead'map_*");
  assert.equal(o[1]?.removeCommand, "rm -f '/dev/hugepages/livemap_1'", 'a live prefix gets exact files, never a glob');
});

test('--no-huge is said, since reserved is then 0 while the heap is not', async () => {
  const p = await fixtureProcess('testpmd');
  assert.deepEqual(p.warnings, []);
  const telemetry = await readTelemetry(replayTelemetry('testpmd'));
  telemetry.params = [...telemetry.params, '--no-huge'];
  const q = buildProcess({ process: await readProcess(fixtureHost('testpmd'), 11965), telemetry });
  assert.match(q.warnings.join('\n'), /--no-huge/);
});

test('a counter rate: the difference per second, unknown when a reading is, when no time passed or when it went down', () => {
  assert.equal(counterRate(100, 160, 2), 30);
  assert.equal(counterRate(undefined, 160, 2), null);
  assert.equal(counterRate(100, null, 2), null);
  assert.equal(counterRate(100, 160, 0), null);
  assert.equal(counterRate(160, 100, 2), null, 'a restart, not a negative rate');
});
