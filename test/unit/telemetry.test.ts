import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTelemetry, sampleTelemetry, LISTS_MAX_AGE_MS, parseHeapInfo, parseMempoolInfo, parseMemzoneInfo, intArray, prefixOfSocket } from '../../src/collect/telemetry.js';
import { parseHello, parseReply } from '../../src/collect/telemetry-socket.js';
import { ProtocolError } from '../../src/errors.js';
import { capturedReply, replayTelemetry, VERSION_SCENARIOS } from '../helpers/fixtures.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { listenSeqpacket } from '../../src/collect/seqpacket.js';
import { openTelemetry } from '../../src/collect/telemetry-socket.js';

test('greeting of a real 22.11 server', () => {
  const h = parseHello('{"version":"DPDK 22.11.11","pid":9978,"max_output_len":16384}', 'x');
  assert.deepEqual(h, { version: 'DPDK 22.11.11', pid: 9978, maxOutputLen: 16384 });
});

test('malformed greetings and replies are protocol errors', () => {
  assert.throws(() => parseHello('hello', 'x'), ProtocolError);
  assert.throws(() => parseHello('{"version":1}', 'x'), ProtocolError);
  assert.throws(() => parseReply('{"/other":1}', '/eal/heap_list'), ProtocolError);
  assert.throws(() => parseReply('[1,2]', '/eal/heap_list'), ProtocolError);
  assert.throws(() => parseReply('{"/eal/heap_list":[0', '/eal/heap_list'), ProtocolError);
  assert.throws(() => parseHeapInfo({ Head_id: 0, Name: 'socket_0', Heap_size: '1' }), ProtocolError);
  assert.throws(() => parseMemzoneInfo([]), ProtocolError);
  assert.throws(() => intArray(['a'], '/eal/heap_list'), ProtocolError);
});

test('unknown commands answer null, which is absence, not an error', () => {
  assert.equal(parseReply('{"/eal/lcore/list":null}', '/eal/lcore/list'), null);
  assert.equal(intArray(null, '/x'), undefined);
  assert.equal(capturedReply('gazelle-idle', '/ring/list'), null);
});

test('reply key ignores the parameter', () => {
  assert.deepEqual(parseReply('{"/eal/heap_info":{"a":1}}', '/eal/heap_info,0'), { a: 1 });
});

test('gazelle idle: every memzone and pool, read item by item', async () => {
  const conn = replayTelemetry('gazelle-idle');
  const t = await readTelemetry(conn);
  assert.equal(t.hello.pid, 9978);
  assert.equal(t.memzones.length, (capturedReply('gazelle-idle', '/eal/memzone_list') as number[]).length);
  assert.equal(t.memzones.length, 29);
  assert.deepEqual(t.mempools.map((m) => m.name), capturedReply('gazelle-idle', '/mempool/list'));
  assert.equal(t.heaps[0]?.heapBytes, 1073741824);
  assert.equal(t.heaps[0]?.allocBytes, 611354560);
  assert.ok(conn.sent.includes('/mempool/info,rxtx_mbuf_0'));
  assert.ok(conn.sent.every((c) => c.length <= 55));
  assert.equal(t.ethdevs[0]?.name, 'net_af_packet0');
  assert.equal(t.ethdevs[0]?.rxNombuf, 0);
  assert.deepEqual(t.truncated, []);
});

test('mempool info fields of a real pool', () => {
  const m = parseMempoolInfo(capturedReply('gazelle-idle', '/mempool/info,rxtx_mbuf_0'));
  assert.equal(m.size, 266264);
  assert.equal(m.headerSize + m.eltSize + m.trailerSize, 2112);
  assert.equal(m.memzone, 'MP_rxtx_mbuf_0');
  assert.equal(m.commonPoolCount, undefined, '22.11 has no occupancy fields');
});

test('23.03+ occupancy fields are read when present', () => {
  const data = { ...(capturedReply('testpmd', '/mempool/info,mb_pool_0') as object), common_pool_count: 150000, total_cache_count: 300 };
  const m = parseMempoolInfo(data);
  assert.equal(m.commonPoolCount, 150000);
  assert.equal(m.totalCacheCount, 300);
});

test('memzone list at the 512 cap is walked past', async () => {
  const zone = (id: number) => ({ Zone: id, Name: `z${id}`, Length: 64, Address: '0x1', Socket: 0, Flags: 0, Hugepage_size: 2097152, Hugepage_base: '0x0', Hugepage_used: 1 });
  const replies: Record<string, unknown> = {
    '/eal/params': [], '/eal/heap_list': [], '/mempool/list': [], '/ethdev/list': [],
    '/eal/memzone_list': Array.from({ length: 512 }, (_, i) => i),
  };
  const conn = {
    hello: { version: 'DPDK 22.11.11', pid: 1, maxOutputLen: 16384 },
    async cmd(c: string) {
      if (c in replies) return replies[c];
      const id = Number(c.split(',')[1]);
      return c.startsWith('/eal/memzone_info') && id < 600 ? zone(id) : null;
    },
    setDeadline() {},
    isClosed: () => false,
    close() {},
  };
  const t = await readTelemetry(conn);
  assert.equal(t.memzones.length, 600);
});

test('socket prefix is its runtime dir name', () => {
  assert.equal(prefixOfSocket('/var/run/dpdk/gazelle/dpdk_telemetry.v2'), 'gazelle');
});

test('a reply that comes after its command timed out never answers the next command', async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), 'gzmem-late-'));
  const path = joinPath(dir, 'dpdk_telemetry.v2');
  const server = listenSeqpacket(path);
  try {
    const serving = (async () => {
      const s = (await server.accept(2000))!;
      s.send(Buffer.from(JSON.stringify({ version: 'DPDK 23.11.7', pid: process.pid, max_output_len: 16384 })));
      await s.receive(2000);
      await new Promise((r) => setTimeout(r, 300));
      s.send(Buffer.from('{"/eal/heap_list":[0]}'));
      await s.receive(2000);
      s.send(Buffer.from('{"/eal/memzone_list":[7]}'));
      s.close();
    })().catch(() => undefined); // the client hangs up first: the fake's late sends may fail
    const conn = await openTelemetry(path, { timeoutMs: 100 });
    await assert.rejects(conn.cmd('/eal/heap_list'), /no reply to \/eal\/heap_list within 100 ms/);
    await new Promise((r) => setTimeout(r, 400));
    await assert.rejects(conn.cmd('/eal/memzone_list'), /already closed/);
    await serving;
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const scenario of VERSION_SCENARIOS) {
  test(`${scenario}: a steady sample asks the heaps, pool counts where telemetry has them, and port stats`, async () => {
    const conn = replayTelemetry(scenario);
    const at = new Date(Date.parse('2026-01-01T00:00:00Z'));
    const full = await readTelemetry(conn, at);
    conn.sent.length = 0;
    const later = new Date(at.getTime() + 1000);
    const steady = await sampleTelemetry(conn, full, later, true);
    const hasCounts = full.mempools.some((m) => m.commonPoolCount !== undefined);
    const expected = [
      ...full.heaps.map((h) => `/eal/heap_info,${h.id}`),
      ...(hasCounts ? full.mempools.map((m) => `/mempool/info,${m.name}`) : []),
      ...full.ethdevs.map((e) => `/ethdev/stats,${e.port}`),
    ];
    assert.deepEqual(conn.sent, expected);
    assert.equal(steady.carriedOver, true);
    assert.equal(steady.listedAt, at);
    assert.deepEqual({ ...steady, carriedOver: false }, full, 'the same replies give the same readings');
    // With the preload counting, telemetry's pool counts are not asked.
    conn.sent.length = 0;
    await sampleTelemetry(conn, full, later, false);
    assert.ok(!conn.sent.some((c) => c.startsWith('/mempool/')));
  });
}

test('a steady sample reads everything again when a heap changed, and past the longest age', async () => {
  const conn = replayTelemetry('testpmd-23.11.7');
  const at = new Date(Date.parse('2026-01-01T00:00:00Z'));
  const full = await readTelemetry(conn, at);
  const changed = { ...full, heaps: full.heaps.map((h) => ({ ...h, allocCount: h.allocCount - 1 })) };
  conn.sent.length = 0;
  const again = await sampleTelemetry(conn, changed, new Date(at.getTime() + 1000), true);
  assert.equal(again.carriedOver, false);
  assert.ok(conn.sent.includes('/eal/memzone_list'), 'memzones listed again');
  conn.sent.length = 0;
  const old = await sampleTelemetry(conn, full, new Date(at.getTime() + LISTS_MAX_AGE_MS + 1), true);
  assert.equal(old.carriedOver, false);
  assert.ok(conn.sent.includes('/eal/memzone_list'));
});

test('DPDK 23.03+: a pool without its object memzone (being created) is not asked about; older ones are', async () => {
  const zone = (id: number, name: string) => ({ Zone: id, Name: name, Length: 64, Address: '0x1', Socket: 0, Flags: 0, Hugepage_size: 2097152, Hugepage_base: '0x0', Hugepage_used: 1 });
  const zones = [zone(0, 'MP_ready'), zone(1, 'RG_MP_ready'), zone(2, 'MP_ready_0'), zone(3, 'MP_new')];
  for (const [version, asksNew] of [['DPDK 23.11.7', false], ['DPDK 24.11.6', false], ['DPDK 22.11.11', true], ['DPDK 23.03.0', false]] as const) {
    const sent: string[] = [];
    const conn = {
      hello: { version, pid: 1, maxOutputLen: 16384 },
      async cmd(c: string) {
        sent.push(c);
        if (c === '/eal/memzone_list') return zones.map((z) => z.Zone);
        if (c.startsWith('/eal/memzone_info,')) return zones[Number(c.split(',')[1])];
        if (c === '/mempool/list') return ['ready', 'new'];
        if (c.startsWith('/mempool/info,')) return { ...(capturedReply('testpmd', '/mempool/info,mb_pool_0') as object), name: c.split(',')[1] };
        return c === '/eal/params' || c === '/eal/heap_list' || c === '/ethdev/list' ? [] : null;
      },
      setDeadline() {},
      isClosed: () => false,
      close() {},
    };
    const t = await readTelemetry(conn);
    assert.ok(sent.includes('/mempool/info,ready'), version);
    assert.equal(sent.includes('/mempool/info,new'), asksNew, version);
    assert.equal(t.notAsked.length, asksNew ? 0 : 1, version);
    if (!asksNew) assert.match(t.notAsked[0]!, /^new: being created/);
  }
});
