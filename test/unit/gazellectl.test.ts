import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLstackConnections, parseLstackShow } from '../../src/collect/gazellectl.js';
import { fixtureDir } from '../helpers/fixtures.js';

const read = (scenario: string, file: string) => readFileSync(join(fixtureDir(scenario as 'gazelle-idle'), 'gazellectl', file), 'utf8');

test('lstack show: the stack tid and its counters', () => {
  const idle = parseLstackShow(read('gazelle-idle', 'lstack_show_1.txt'));
  assert.equal(idle.length, 1);
  assert.equal(idle[0]!.tid, 9987);
  assert.equal(idle[0]!.counters.mbuf_pool_freecnt, 266233);
  assert.equal(idle[0]!.counters.rx_pkts, 5);
  const c100 = parseLstackShow(read('gazelle-conn100', 'lstack_show_1.txt'));
  assert.equal(c100[0]!.counters.mbuf_pool_freecnt, 263033);
  assert.equal(c100[0]!.counters.conn_num, 101);
});

test('lstack show -c: established and listening rows', () => {
  const [stack] = parseLstackConnections(read('gazelle-conn10', 'lstack_show_1_c.txt'));
  assert.equal(stack!.tid, 9987);
  assert.equal(stack!.connections.length, 11);
  assert.deepEqual(stack!.connections[0], { proto: 'tcp', recvRing: 1, sendRing: 0, local: '192.0.2.1:5050', foreign: '192.0.2.2:59770', state: 'ESTABLISHED' });
  assert.deepEqual(stack!.connections[10], { proto: 'tcp', recvRing: null, sendRing: null, local: '192.0.2.1:5050', foreign: '0.0.0.0:*', state: 'LISTEN' });
  const [s100] = parseLstackConnections(read('gazelle-conn100', 'lstack_show_1_c.txt'));
  assert.equal(s100!.connections.filter((c) => c.state === 'ESTABLISHED').length, 100);
});
