import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLibconfig } from '../../src/collect/libconfig.js';
import { ProtocolError } from '../../src/errors.js';
import { FIXTURES } from '../helpers/fixtures.js';

test('the real lstack.conf of the gazelle captures', () => {
  const c = parseLibconfig(readFileSync(join(FIXTURES, 'hosts', 'lstack.conf'), 'utf8'));
  assert.equal(c.tcp_conn_count, 1500);
  assert.equal(c.mbuf_count_per_conn, 170);
  assert.equal(c.nic_rxqueue_size, 4096);
  assert.equal(c.nic_txqueue_size, 2048);
  assert.equal(c.num_cpus, '1');
  assert.equal(c.host_addr, '192.0.2.1');
  assert.equal(c.nic_vlan_mode, -1);
  assert.deepEqual((c.dpdk_args as string[]).slice(0, 2), ['--socket-mem', '1024']);
});

test('libconfig syntax: groups, lists, comments, hex, adjacent strings, both separators', () => {
  const c = parseLibconfig(`
    /* block */ a = 0x10; b: 1.5e2, // line
    s = "x" "y\\n";
    g = { n = 1L; l = (1, "two", [3, 4]); };
    t = true; f = FALSE
  `);
  assert.deepEqual(c, { a: 16, b: 150, s: 'xy\n', g: { n: 1, l: [1, 'two', [3, 4]] }, t: true, f: false });
});

test('malformed config is a clear error with a line number', () => {
  assert.throws(() => parseLibconfig('a = ;', 'lstack.conf'), /lstack.conf:1: expected a value/);
  assert.throws(() => parseLibconfig('a = 1;\nb = "x', 'lstack.conf'), /lstack.conf:2: unterminated string/);
  assert.throws(() => parseLibconfig('@include "x"'), ProtocolError);
  assert.throws(() => parseLibconfig('g = { a = 1;'), /expected }/);
});
