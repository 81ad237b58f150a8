// The attach reader's pure parts on crafted bytes: ring headers, layout choice, hugetlb ranges, ELF.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACH_LAYOUTS } from '../../src/collect/attach-layouts.js';
import { attachLayout, elfArch, hugetlbRanges, parseRingHeader } from '../../src/collect/attach.js';

const layout = ATTACH_LAYOUTS.find((l) => l.version === '22.11' && l.arch === 'x86_64')!;
const SECRET = 'root-secret-XYZ';

function ring(fields: { name?: string; size?: number; mask?: number; capacity?: number; prod?: [number, number]; cons?: [number, number] }): Buffer {
  const L = layout.ring;
  const buf = Buffer.alloc(L.bytes);
  buf.write(fields.name ?? 'MP_pool', L.name, 'latin1');
  const size = fields.size ?? 1024;
  buf.writeUInt32LE(size, L.size);
  buf.writeUInt32LE(fields.mask ?? size - 1, L.mask);
  buf.writeUInt32LE(fields.capacity ?? size - 1, L.capacity);
  const [ph, pt] = fields.prod ?? [100, 100];
  const [ch, ct] = fields.cons ?? [40, 40];
  buf.writeUInt32LE(ph, L.prodHead);
  buf.writeUInt32LE(pt, L.prodTail);
  buf.writeUInt32LE(ch, L.consHead);
  buf.writeUInt32LE(ct, L.consTail);
  return buf;
}

test('a sane ring header gives prod.tail - cons.tail, also across the 32-bit wrap', () => {
  assert.deepEqual(parseRingHeader(layout, ring({}), 'MP_pool'), { name: 'MP_pool', size: 1024, capacity: 1023, count: 60 });
  const wrapped = parseRingHeader(layout, ring({ prod: [5, 5], cons: [0xfffffff0, 0xfffffff0] }), 'MP_pool');
  assert.equal(wrapped.count, 21);
});

test('a ring header that is not sane is refused, and the refusal quotes none of its bytes', () => {
  const cases = [
    ring({ name: SECRET }),
    ring({ size: 1000 }),
    ring({ size: 1024, mask: 511 }),
    ring({ capacity: 0 }),
    ring({ prod: [5000, 100] }),
    ring({ cons: [100, 4000] }),
  ];
  for (const buf of cases) {
    assert.throws(() => parseRingHeader(layout, buf, 'MP_pool'), (err: Error) => {
      assert.doesNotMatch(err.message, /root-secret/);
      return true;
    });
  }
  assert.throws(() => parseRingHeader(layout, Buffer.alloc(10), undefined), /short ring header/);
});

test('a layout is used only for a release line and architecture a test has verified', () => {
  for (const v of ['DPDK 21.11.9', 'DPDK 22.11.11', 'DPDK 23.11.7', 'DPDK 24.11.6']) assert.equal(typeof attachLayout(v, 'x86_64'), 'object', v);
  assert.equal((attachLayout('DPDK 21.11.9', 'x86_64') as { cache: { bytes: number } }).cache.bytes, 12352);
  assert.match(attachLayout('DPDK 23.11.7', 'aarch64') as string, /not verified/);
  assert.match(attachLayout('DPDK 20.11.1', 'x86_64') as string, /knows no memory layout of DPDK 20\.11/);
  assert.match(attachLayout('lstack 1.0', 'x86_64') as string, /cannot tell the DPDK release/);
});

test('hugetlb ranges are the maps lines numa_maps flags huge, and nothing else', () => {
  const maps = [
    '100200000-100400000 rw-s 00000000 00:25 1234 /dev/hugepages/rtemap_0 (deleted)',
    '100400000-100600000 rw-p 00200000 00:25 1235 /dev/hugepages/rtemap_1',
    '7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ',
    '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]',
  ].join('\n');
  assert.deepEqual(hugetlbRanges(maps, ['100200000']), [{ start: 0x100200000n, end: 0x100400000n }]);
  assert.deepEqual(hugetlbRanges(maps, ['100400000']), [{ start: 0x100400000n, end: 0x100600000n }]);
  assert.deepEqual(hugetlbRanges(maps, []), []);
});

test('ELF machine of x86_64 and aarch64 headers', () => {
  const elf = (machine: number) => {
    const b = Buffer.alloc(20);
    b.writeUInt32BE(0x7f454c46, 0);
    b[5] = 1;
    b.writeUInt16LE(machine, 18);
    return b;
  };
  assert.equal(elfArch(elf(62)), 'x86_64');
  assert.equal(elfArch(elf(183)), 'aarch64');
  assert.equal(elfArch(Buffer.from('#!/bin/sh\necho not an ELF file')), undefined);
});
