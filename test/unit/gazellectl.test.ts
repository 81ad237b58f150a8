import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLstackShow } from '../../src/collect/gazellectl.js';
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
