// Reading a process's memory in pieces, through process_vm_readv and through /proc/<pid>/mem, on
// this test's own memory (whose bytes it knows).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import koffi from 'koffi';
import { loadVmRead, TargetMemory } from '../../src/collect/target-memory.js';
import { ProtocolError } from '../../src/errors.js';

test('pieces come back to back, the same through both routes, and more pieces than one call takes', async () => {
  await loadVmRead();
  const source = Buffer.alloc(64 * 1024);
  for (let i = 0; i < source.length; i++) source[i] = (i * 7 + 3) & 0xff;
  const start = BigInt(koffi.address(source) as bigint);
  const ranges = [{ start, end: start + BigInt(source.length) }];
  // 1,500 pieces of 12 bytes, 40 bytes apart: more than IOV_MAX (1,024) in one list.
  const list = Array.from({ length: 1500 }, (_, i) => [start + BigInt(i * 40 + 5), 12] as const);
  const expected = Buffer.concat(list.map(([a]) => source.subarray(Number(a - start), Number(a - start) + 12)));
  for (const through of [undefined, 'mem'] as const) {
    const mem = new TargetMemory(process.pid, '/proc/self', ranges, through);
    try {
      const bytes = mem.read(mem.prepare(list));
      assert.equal(mem.via, through ?? 'process_vm_readv');
      assert.ok(bytes.equals(expected), `through ${mem.via}`);
    } finally {
      mem.close();
    }
  }
});

test('nothing outside the ranges is read', async () => {
  await loadVmRead();
  const source = Buffer.alloc(4096);
  const start = BigInt(koffi.address(source) as bigint);
  const mem = new TargetMemory(process.pid, '/proc/self', [{ start, end: start + 4096n }]);
  assert.throws(() => mem.prepare([[start + 4090n, 12]]), (e: unknown) => e instanceof ProtocolError && /outside/.test(e.message));
  assert.throws(() => mem.prepare([[start - 1n, 2]]), ProtocolError);
  mem.close();
});
