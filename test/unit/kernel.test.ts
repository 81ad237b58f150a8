import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHugepages, parsePageSizeDir } from '../../src/collect/hugepages.js';
import { MAPPINGS_MAX_AGE_MS, parseNumaMapsHuge, parseSize, parseSmapsRollupHugetlb, parseStat, readProcess, readThreads, THREADS_MAX_AGE_MS, type MappingsCache } from '../../src/collect/process.js';
import { buildProcess } from '../../src/model/build.js';
import { parseHugetlbfsMounts, prefixOfHugeFile } from '../../src/collect/hugetlbfs.js';
import { ProtocolError, NotFoundError } from '../../src/errors.js';
import { fixtureDir, fixtureHost, SCENARIOS } from '../helpers/fixtures.js';

const GiB = 1024 ** 3;

test('sizes: units to bytes, unknown unit is an error', () => {
  assert.equal(parseSize('1048576 kB', 'x'), GiB);
  assert.equal(parseSize('0 kB', 'x'), 0);
  assert.throws(() => parseSize('12 parsecs', 'x'), ProtocolError);
  assert.equal(parsePageSizeDir('hugepages-1048576kB'), GiB);
  assert.equal(parsePageSizeDir('other'), undefined);
});

test('gazelle idle: reserved is status HugetlbPages (1 GiB, --socket-mem 1024), every huge page of numa_maps found', async () => {
  const p = await readProcess(fixtureHost('gazelle-idle'), 9978);
  assert.equal(p.statusHugetlbBytes, GiB);
  // status has HugetlbPages: smaps_rollup, a walk of every mapping, is not read.
  assert.equal(p.rollupHugetlbBytes, undefined);
  assert.ok(p.numa.every((m) => m.pageBytes === 2 * 1024 * 1024));
  assert.equal(p.numa.length, 512);
  const node0 = p.numa.reduce((s, m) => s + (m.pagesByNode[0] ?? 0) * m.pageBytes, 0);
  assert.equal(node0, GiB);
  assert.deepEqual(p.cmdline.slice(0, 3), ['/usr/local/bin/example', '-a', 'server']);
});

test("every capture: smaps_rollup's hugetlb equals HugetlbPages, and numa_maps read until it adds up holds every huge line of the whole file", async () => {
  for (const [scenario, pid] of Object.entries(SCENARIOS)) {
    const dir = join(fixtureDir(scenario as keyof typeof SCENARIOS), 'proc', String(pid));
    const p = await readProcess(fixtureHost(scenario as keyof typeof SCENARIOS), pid);
    assert.equal(parseSmapsRollupHugetlb(readFileSync(join(dir, 'smaps_rollup'), 'utf8')), p.statusHugetlbBytes, scenario);
    assert.deepEqual(p.numa, parseNumaMapsHuge(readFileSync(join(dir, 'numa_maps'), 'utf8')), scenario);
  }
});

test('a kernel whose status lacks HugetlbPages: smaps_rollup gives reserved, numa_maps is read whole', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gzmem-oldkernel-'));
  try {
    const from = join(fixtureDir('testpmd'), 'proc', '11965');
    cpSync(from, join(tmp, '11965'), { recursive: true });
    const status = readFileSync(join(from, 'status'), 'utf8');
    writeFileSync(join(tmp, '11965', 'status'), status.replace(/^HugetlbPages:.*\n/m, ''));
    const p = await readProcess({ ...fixtureHost('testpmd'), procRoot: tmp }, 11965);
    assert.equal(p.statusHugetlbBytes, undefined);
    assert.equal(p.rollupHugetlbBytes, 378880 * 1024);
    assert.deepEqual(p.numa, parseNumaMapsHuge(readFileSync(join(from, 'numa_maps'), 'utf8')));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('smaps_rollup: both hugetlb lines, else unknown', () => {
  assert.equal(parseSmapsRollupHugetlb('Shared_Hugetlb:     2048 kB\nPrivate_Hugetlb:   4096 kB\n'), 6 * 1024 * 1024);
  assert.equal(parseSmapsRollupHugetlb('Rss: 4 kB\n'), undefined);
});

test('numa_maps of gazelle: every huge mapping is a DPDK page file', () => {
  const maps = parseNumaMapsHuge(readFileSync(join(fixtureDir('gazelle-idle'), 'proc/9978/numa_maps'), 'utf8'));
  assert.ok(maps.length > 0 && maps.every((m) => m.path.startsWith('/dev/hugepages/gazellemap_')));
});

test('numa_maps: only huge lines', () => {
  const m = parseNumaMapsHuge('100000000 local file=/run/dpdk/x/config dirty=7 N0=7 kernelpagesize_kB=4\n100200000 local file=/dev/hugepages/rtemap_0 huge dirty=1 N1=1 kernelpagesize_kB=2048');
  assert.deepEqual(m, [{ start: '100200000', path: '/dev/hugepages/rtemap_0', pageBytes: 2097152, pagesByNode: { 1: 1 } }]);
});

test('threads: names and last CPU from task/*/stat', async () => {
  const threads = await readThreads(fixtureHost('gazelle-idle'), 9978);
  const tsv = readFileSync(join(fixtureDir('gazelle-idle'), 'threads.tsv'), 'utf8');
  const expected = tsv.trim().split('\n').slice(1).map((l) => l.split('\t')).map(([tid, comm, cpu]) => ({ tid: Number(tid), name: comm, cpu: Number(cpu) }));
  assert.deepEqual(threads.map((t) => ({ tid: t.tid, name: t.name, cpu: t.lastCpu })), expected);
  assert.equal(threads.find((t) => t.name === 'gazellelstack00')?.lastCpu, 1);
});

test('stat: comm with spaces and parentheses', () => {
  const line = '42 (a) b (c) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 3 37 38';
  assert.deepEqual(parseStat(line), { name: 'a) b (c', state: 'R', lastCpu: 3 });
});

test('no such pid is NotFound', async () => {
  await assert.rejects(readProcess(fixtureHost('gazelle-idle'), 12345), NotFoundError);
});

test('machine hugepages per size and node', async () => {
  const h = await readHugepages(fixtureHost('gazelle-idle'));
  assert.deepEqual(h.sizes, [{ pageBytes: 2097152, total: 1024, free: 256, reserved: 0, surplus: 0 }]);
  assert.deepEqual(h.nodes, [{ node: 0, pageBytes: 2097152, total: 1024, free: 256, surplus: 0 }]);
});

test('hugetlbfs mounts and file prefixes', () => {
  const mounts = parseHugetlbfsMounts('nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\nproc /proc proc rw 0 0\nnone /mnt/huge\\0401G hugetlbfs rw,pagesize=1024M 0 0\n');
  assert.deepEqual(mounts, [{ mountPoint: '/dev/hugepages', pageBytes: 2097152 }, { mountPoint: '/mnt/huge 1G', pageBytes: GiB }]);
  assert.equal(prefixOfHugeFile('rtemap_12'), 'rte');
  assert.equal(prefixOfHugeFile('gazellemap_0'), 'gazelle');
  assert.equal(prefixOfHugeFile('gzl1map_0_3'), 'gzl1');
  assert.equal(prefixOfHugeFile('notes.txt'), undefined);
});

test('a sampler that keeps its reading does not walk unchanged mappings again, and says so', async () => {
  const host = fixtureHost('testpmd');
  const cache: MappingsCache = new Map();
  const first = await readProcess(host, 11965, { mappings: cache, threads: new Map() });
  assert.equal(first.mappingsCarriedOver, false);
  const second = await readProcess(host, 11965, { mappings: cache, threads: new Map() });
  assert.equal(second.mappingsCarriedOver, true, 'HugetlbPages unchanged: the last walk still holds');
  assert.deepEqual(second.numa, first.numa);
  assert.equal(buildProcess({ process: second }).carriedOver[0]?.readAt, first.mappingsReadAt!.toISOString());
  // Once the counter differs, the mappings are read again.
  cache.set(11965, { ...cache.get(11965)!, statusHugetlbBytes: 1 });
  assert.equal((await readProcess(host, 11965, { mappings: cache, threads: new Map() })).mappingsCarriedOver, false);
  // And after the longest allowed age, even with the counter the same.
  cache.set(11965, { ...cache.get(11965)!, readAt: new Date(host.now().getTime() - MAPPINGS_MAX_AGE_MS - 1) });
  assert.equal((await readProcess(host, 11965, { mappings: cache, threads: new Map() })).mappingsCarriedOver, false);
});

test('a sampler faster than once a second reads the threads once a second, and says when it did', async () => {
  const host = fixtureHost('testpmd');
  const cache = { mappings: new Map(), threads: new Map() } as Parameters<typeof readProcess>[2] & object;
  const first = await readProcess(host, 11965, cache);
  assert.equal(first.threadsReadAt, undefined, 'read now');
  assert.ok(first.threads.length > 0);
  const second = await readProcess(host, 11965, cache);
  assert.deepEqual(second.threads, first.threads);
  assert.equal(second.threadsReadAt?.getTime(), host.now().getTime());
  assert.match(buildProcess({ process: second }).carriedOver.map((c) => c.part).join('\n'), /^threads/m);
  // A second later they are due again.
  const kept = cache.threads.get(11965)!;
  cache.threads.set(11965, { ...kept, readAt: kept.readAt - THREADS_MAX_AGE_MS });
  assert.equal((await readProcess(host, 11965, cache)).threadsReadAt, undefined);
});
