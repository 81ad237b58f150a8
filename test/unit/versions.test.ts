// Telemetry of every DPDK version of the matrix, on real testpmd captures (test/fixtures/capture-dpdk.sh).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTelemetry } from '../../src/collect/telemetry.js';
import { readProcess } from '../../src/collect/process.js';
import { buildProcess } from '../../src/model/build.js';
import { capturedReply, fixtureDir, fixtureHost, replayTelemetry, SCENARIOS, VERSION_SCENARIOS } from '../helpers/fixtures.js';
import { fixtureProcess } from '../helpers/snapshot.js';

const versionOf = (scenario: string) => scenario.replace('testpmd-', '');
const minor = (scenario: string) => Number(versionOf(scenario).split('.').slice(0, 2).join('.'));

for (const scenario of VERSION_SCENARIOS) {
  const version = versionOf(scenario);

  test(`DPDK ${version}: the greeting names the version and the pid`, async () => {
    const conn = replayTelemetry(scenario);
    assert.equal(conn.hello.version, `DPDK ${version}`);
    assert.equal(conn.hello.pid, SCENARIOS[scenario]);
  });

  test(`DPDK ${version}: every heap is read whichever way the id is spelled`, async () => {
    const t = await readTelemetry(replayTelemetry(scenario));
    const raw = capturedReply(scenario, '/eal/heap_info,0') as Record<string, number>;
    assert.equal(t.heaps.length, 1);
    assert.equal(t.heaps[0]!.id, 0);
    assert.equal(t.heaps[0]!.heapBytes, raw.Heap_size);
    assert.equal(t.heaps[0]!.allocBytes, raw.Alloc_size);
  });

  test(`DPDK ${version}: memzones, the mbuf pool and the port as the process reported them`, async () => {
    const t = await readTelemetry(replayTelemetry(scenario));
    assert.equal(t.memzones.length, (capturedReply(scenario, '/eal/memzone_list') as number[]).length);
    const pool = t.mempools.find((m) => m.name === 'mb_pool_0');
    assert.ok(pool);
    assert.equal(pool.size, 16384);
    assert.equal(pool.eltSize, 2304);
    assert.equal(t.ethdevs.length, 1);
    assert.equal(t.ethdevs[0]!.name, 'net_null0');
    assert.equal(t.ethdevs[0]!.started, true);
  });

  test(`DPDK ${version}: occupancy from telemetry from 23.11 on, otherwise unknown with the reason`, async () => {
    const p = await fixtureProcess(scenario);
    const pool = p.mempools.find((m) => m.name === 'mb_pool_0')!;
    if (minor(scenario) >= 23.03) {
      const raw = capturedReply(scenario, '/mempool/info,mb_pool_0') as Record<string, number>;
      assert.equal(pool.occupancy?.source, 'telemetry-occupancy');
      assert.equal(pool.occupancy?.inUse, 16384 - raw.common_pool_count! - raw.total_cache_count!);
    } else {
      assert.equal(pool.occupancy, null);
      assert.equal(p.waterfall.inUse.bytes, null);
      assert.match(p.waterfall.inUse.why ?? '', /mb_pool_0/);
    }
  });

  test(`DPDK ${version}: reserved is the kernel's HugetlbPages, the heap is telemetry's`, async () => {
    const p = await fixtureProcess(scenario);
    const status = readFileSync(join(fixtureDir(scenario), 'proc', String(SCENARIOS[scenario]), 'status'), 'utf8');
    const kib = Number(/HugetlbPages:\s+(\d+) kB/.exec(status)![1]);
    assert.equal(p.waterfall.reserved.bytes, kib * 1024);
    assert.equal(p.waterfall.heap.bytes, (capturedReply(scenario, '/eal/heap_info,0') as Record<string, number>).Heap_size);
    assert.equal(p.dpdkVersion, `DPDK ${version}`);
  });
}

test('a list command this DPDK does not have makes its figures unknown, with the reason, never 0', async () => {
  const scenario = 'testpmd-21.11.9';
  const replay = replayTelemetry(scenario);
  const lacking = new Set(['/eal/heap_list', '/ethdev/list']);
  const conn = { ...replay, cmd: async (c: string) => (lacking.has(c) ? null : replay.cmd(c)) };
  const telemetry = await readTelemetry(conn);
  assert.deepEqual(telemetry.unanswered, ['/eal/heap_list', '/ethdev/list']);
  const p = buildProcess({ process: await readProcess(fixtureHost(scenario), SCENARIOS[scenario]), telemetry });
  for (const level of [p.waterfall.heap, p.waterfall.allocated, p.waterfall.inUse, p.unattributed]) {
    assert.equal(level.bytes, null);
    assert.match(level.why ?? '', /DPDK 21\.11\.9 does not answer \/eal\/heap_list/);
  }
  assert.equal(p.waterfall.reserved.source, 'kernel');
  assert.equal(p.mempools.length, 1, 'what it does answer is still shown');
  assert.match(p.sources.find((s) => s.name === 'telemetry')?.detail ?? '', /\/ethdev\/list/);
});
