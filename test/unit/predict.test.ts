// The predictor against what real processes allocated: the captured gazelle (idle, 10 and 100
// connections) and testpmd of every DPDK release of the matrix, their pools memzone by memzone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseLibconfig } from '../../src/collect/libconfig.js';
import { dpdkBuild, mempoolLayout } from '../../src/analysis/dpdk-sizes.js';
import { GAZELLE_2024_PROFILE, GZLOAD_PROFILE, predict, stackSettings } from '../../src/analysis/predict.js';
import { adviseStacks, applyToConf, type Observation } from '../../src/analysis/advice.js';
import { isMbufPool, parseCpuList } from '../../src/model/stack-view.js';
import { FIXTURES } from '../helpers/fixtures.js';

const confText = readFileSync(join(FIXTURES, 'hosts', 'lstack.conf'), 'utf8');
const settings = stackSettings(parseLibconfig(confText));

function telemetry(scenario: string, command: string): Record<string, unknown> {
  const file = join(FIXTURES, 'hosts', scenario, 'telemetry', `${command.slice(1).replace(/\//g, '_').replace(/,/g, '__')}.json`);
  return Object.values(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)[0] as Record<string, unknown>;
}

function memzones(scenario: string): Map<string, number> {
  const dir = join(FIXTURES, 'hosts', scenario, 'telemetry');
  const out = new Map<string, number>();
  for (const f of readdirSync(dir).filter((n) => n.startsWith('eal_memzone_info__'))) {
    const z = Object.values(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, { Name: string; Length: number } | null>)[0];
    if (z) out.set(z.Name, z.Length);
  }
  return out;
}

const scenarios = ['gazelle-idle', 'testpmd-21.11.9', 'testpmd-22.11.11', 'testpmd-23.11.7', 'testpmd-24.11.6'];

for (const scenario of scenarios) {
  test(`${scenario}: every pool's three memzones are predicted to the byte`, () => {
    const info = telemetry(scenario, '/info') as unknown as { version: string };
    const build = dpdkBuild(String(info.version ?? JSON.stringify(info)));
    assert.ok(build, `a build for ${JSON.stringify(info)}`);
    const zones = memzones(scenario);
    const pools = telemetry(scenario, '/mempool/list') as unknown as string[];
    assert.ok(pools.length > 0);
    for (const name of pools) {
      const m = telemetry(scenario, `/mempool/info,${name}`) as Record<string, number>;
      const layout = mempoolLayout(
        build!,
        { count: m.size!, eltSize: m.elt_size!, cacheSize: m.cache_size!, privateDataSize: m.private_data_size! },
        m.mz_hugepage_sz!,
      );
      assert.equal(layout.objectBytes, m.header_size! + m.elt_size! + m.trailer_size!, `${name}: object size`);
      assert.equal(layout.poolZone, zones.get(`MP_${name}`), `${name}: MP_${name}`);
      assert.equal(layout.ringZone, zones.get(`RG_MP_${name}`), `${name}: RG_MP_${name}`);
      assert.equal(layout.objectZone, zones.get(`MP_${name}_0`), `${name}: MP_${name}_0`);
    }
  });
}

test('the captured gazelle: predicted heap allocation within 1 % of its Alloc_size, idle to 100 connections', () => {
  const cases = [
    ['gazelle-idle', 0],
    ['gazelle-conn10', 10],
    ['gazelle-conn100', 100],
    ['gazelle-closed', 0],
  ] as const;
  for (const [scenario, connections] of cases) {
    const alloc = (telemetry(scenario, '/eal/heap_info,0') as { Alloc_size: number }).Alloc_size;
    // Each thread that called into the stack has its rpc pool: the application's and, once
    // gazellectl asked, the control thread's.
    const appThreads = (telemetry(scenario, '/mempool/list') as unknown as string[]).filter((n) => n.startsWith('rpc_pool_')).length;
    const p = predict(settings, { profile: GAZELLE_2024_PROFILE, build: dpdkBuild('22.11')!, pageBytes: 2 ** 21, connections, appThreads });
    const error = (p.totalBytes - alloc) / alloc;
    assert.ok(Math.abs(error) < 0.01, `${scenario}: predicted ${p.totalBytes}, allocated ${alloc} (${(error * 100).toFixed(3)} %)`);
  }
});

test('each connection costs its three rings: 100 connections less 10 predict what gazelle allocated for them', () => {
  const alloc = (s: string) => (telemetry(s, '/eal/heap_info,0') as { Alloc_size: number }).Alloc_size;
  const at = (connections: number) =>
    predict(settings, { profile: GAZELLE_2024_PROFILE, build: dpdkBuild('22.11')!, pageBytes: 2 ** 21, connections, appThreads: 2 })
      .totalBytes;
  assert.equal(at(100) - at(10), alloc('gazelle-conn100') - alloc('gazelle-conn10'));
});

test('the machine needs: whole pages per node, --socket-mem and nr_hugepages follow the prediction', () => {
  const p = predict(
    { ...settings, stackCpus: [0, 1, 2, 3] },
    {
      profile: GAZELLE_2024_PROFILE,
      build: dpdkBuild('23.11')!,
      pageBytes: 2 ** 21,
      cpuNode: (cpu) => (cpu < 2 ? 0 : 1),
    },
  );
  assert.equal(p.nodes.length, 2);
  for (const n of p.nodes) assert.equal(n.pages, Math.ceil(n.bytes / 2 ** 21));
  assert.deepEqual(
    p.socketMemMiB,
    p.nodes.map((n) => n.pages * 2),
  );
  assert.equal(p.nrHugepages, p.nodes[0]!.pages + p.nodes[1]!.pages);
  // Four stacks share tcp_conn_count: each pool holds a quarter of the connections' mbufs.
  assert.match(p.stacks[0]!.parts[0]!.how, /^75014 mbufs/);
});

const observe = (peak: number | null, failures = 0): Observation => ({
  source: 'history',
  windowMs: 3_600_000,
  pools: [{ name: 'rxtx_mbuf_0', size: 266_264, objectBytes: 2112, peakInUse: peak, peakIsTrue: true }],
  allocFailures: failures,
  reservedBytes: 1 << 30,
  connectionsPeak: null,
});
const options = { profile: GAZELLE_2024_PROFILE, build: dpdkBuild('22.11')!, pageBytes: 2 ** 21, appThreads: 1 };

test('advice: the smallest mbuf_count_per_conn whose pool holds the peak with headroom', () => {
  const a = adviseStacks(settings, observe(30_000), 1.3, options, isMbufPool);
  const per = Number(a.changes.find((c) => c.key === 'mbuf_count_per_conn')!.to);
  const pool = (v: number) => GAZELLE_2024_PROFILE.mbufs({ ...settings, mbufCountPerConn: v });
  assert.ok(pool(per) >= 39_000, `pool ${pool(per)} holds 30,000 x 1.3`);
  assert.ok(pool(per - 1) < 39_000, 'and one less would not');
  assert.ok(a.savedBytes! > 0 && a.savedBytes! === (1 << 30) - a.advisedBytes!);
  assert.deepEqual(a.socketMemMiB, a.prediction!.socketMemMiB);
});

test('advice on the captured gazelle with 100 connections: the settings, the saving and the per-thread and per-connection costs', () => {
  const o: Observation = { ...observe(3231), connectionsPeak: 100 };
  const a = adviseStacks(settings, o, 1.3, { ...options, appThreads: 9 }, isMbufPool);
  assert.deepEqual(
    a.changes.map((c) => [c.key, c.to]),
    [
      ['tcp_conn_count', 130],
      ['mbuf_count_per_conn', 1],
      ['--socket-mem', String(a.prediction!.socketMemMiB[0])],
    ],
  );
  // 1 GiB held, the advised settings need what the predictor says, in whole 2 MiB pages.
  assert.equal(a.savedBytes, (1 << 30) - a.prediction!.nrHugepages * 2 ** 21);
  assert.ok(
    a.notes.some((n) => /rpc pool of 833\.9 KiB .* 9 now, 162\.9 MiB for 200/.test(n)),
    a.notes.join('\n'),
  );
  assert.ok(a.notes.some((n) => /Each connection costs 34\.8 KiB of rings/.test(n)));
});

test('advice: a pool that ran dry only grows, and unknown occupancy keeps the setting', () => {
  const dry = adviseStacks(settings, observe(266_264, 12), 1.3, options, isMbufPool);
  assert.ok(Number(dry.changes.find((c) => c.key === 'mbuf_count_per_conn')!.to) > settings.mbufCountPerConn);
  assert.ok(dry.notes.some((n) => /12 allocation failures/.test(n)));
  const unknown = adviseStacks(settings, observe(null), 1.3, options, isMbufPool);
  assert.equal(
    unknown.changes.find((c) => c.key === 'mbuf_count_per_conn'),
    undefined,
  );
  assert.ok(unknown.notes.some((n) => /not readable/.test(n)));
});

test('advice applied to lstack.conf changes only the advised values', () => {
  const out = applyToConf(confText, [
    { key: 'mbuf_count_per_conn', from: 170, to: 12, why: '' },
    { key: '--socket-mem', from: '1024', to: '96', why: '' },
  ]);
  const before = parseLibconfig(confText);
  const after = parseLibconfig(out);
  assert.equal(after.mbuf_count_per_conn, 12);
  assert.deepEqual((after.dpdk_args as string[]).slice(0, 2), ['--socket-mem', '96']);
  for (const key of Object.keys(before).filter((k) => k !== 'mbuf_count_per_conn' && k !== 'dpdk_args'))
    assert.deepEqual(after[key], before[key], key);
  assert.equal(out.split('\n').length, confText.split('\n').length);
  // Without --socket-mem in dpdk_args, it is added.
  const none = applyToConf('dpdk_args=["--no-pci"]\n', [{ key: '--socket-mem', from: '(none)', to: '64', why: '' }]);
  assert.deepEqual(parseLibconfig(none).dpdk_args, ['--socket-mem', '64', '--no-pci']);
});

test('num_cpus lists and gzload tcp_conn_count per stack', () => {
  assert.deepEqual(parseCpuList('1,3-5'), [1, 3, 4, 5]);
  assert.throws(() => parseCpuList('5-3'));
  const s = { ...settings, tcpConnCount: 100, stackCpus: [1, 2] };
  assert.equal(GZLOAD_PROFILE.maxConnections(s), 200);
  assert.equal(GAZELLE_2024_PROFILE.maxConnections(s), 100);
});
