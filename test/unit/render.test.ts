import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { renderCsv, renderJson, renderProcess } from '../../src/format/process.js';
import { renderHugepages, renderOrphans } from '../../src/format/machine.js';
import { bytes, percent, safe } from '../../src/format/units.js';
import { assertGolden } from '../helpers/golden.js';
import { ROOT, SCENARIOS, capturedReply, fixtureDir, type Scenario } from '../helpers/fixtures.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { fixtureProcess, fixtureSnapshot } from '../helpers/snapshot.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'snapshot.schema.json'), 'utf8'));
const validate = new Ajv.default({ allErrors: true, strict: true }).compile(schema);

/** The captured truth each output must carry, whatever its golden says: the kernel's HugetlbPages and DPDK's heap. */
function captured(scenario: Scenario): { hugetlbBytes: number; heapBytes: number; allocBytes: number } {
  const status = readFileSync(join(fixtureDir(scenario), 'proc', String(SCENARIOS[scenario]), 'status'), 'utf8');
  const heap = capturedReply(scenario, '/eal/heap_info,0') as Record<string, number>;
  return { hugetlbBytes: Number(/HugetlbPages:\s+(\d+) kB/.exec(status)![1]) * 1024, heapBytes: heap.Heap_size!, allocBytes: heap.Alloc_size! };
}

for (const scenario of ['gazelle-idle', 'gazelle-conn100', 'testpmd'] as const) {
  test(`${scenario}: table output`, async () => {
    const text = renderProcess(await fixtureProcess(scenario));
    const truth = captured(scenario);
    const row = (level: string) => text.split('\n').find((l) => l.trim().startsWith(`${level} `)) ?? '';
    assert.ok(row('reserved').includes(` ${bytes(truth.hugetlbBytes)} `), row('reserved'));
    assert.ok(row('heap').includes(` ${bytes(truth.heapBytes)} `), row('heap'));
    assertGolden(`show-${scenario}.txt`, text);
  });
  test(`${scenario}: csv output`, async () => {
    const text = renderCsv([await fixtureProcess(scenario)]);
    const truth = captured(scenario);
    assert.ok(text.includes(`,waterfall,reserved,bytes,${truth.hugetlbBytes},`), 'reserved from the captured status');
    assert.ok(text.includes(`,waterfall,allocated,bytes,${truth.allocBytes},`), 'allocated from the captured heap_info');
    assertGolden(`show-${scenario}.csv`, text);
  });
  test(`${scenario}: JSON validates against docs/snapshot.schema.json`, async () => {
    const doc = JSON.parse(renderJson(await fixtureSnapshot(scenario))) as Snapshot;
    assert.ok(validate(doc), JSON.stringify(validate.errors, null, 1));
    const truth = captured(scenario);
    assert.equal(doc.processes[0]!.waterfall.reserved.bytes, truth.hugetlbBytes);
    assert.equal(doc.processes[0]!.waterfall.heap.bytes, truth.heapBytes);
    assertGolden(`show-${scenario}.json`, renderJson(await fixtureSnapshot(scenario)));
  });
}

test('schema rejects a document missing a level', async () => {
  const doc = JSON.parse(renderJson(await fixtureSnapshot('testpmd')));
  delete doc.processes[0].waterfall.heap;
  assert.equal(validate(doc), false);
});

test('machine hugepages and orphans', async () => {
  const s = await fixtureSnapshot('gazelle-idle');
  assertGolden('hugepages-gazelle-idle.txt', renderHugepages(s.hugepages));
  const o = renderOrphans([{ prefix: 'gztp', files: 128, bytes: 268435456, mount: '/dev/hugepages', removeCommand: "rm -f '/dev/hugepages'/'gztp'map_*" }]);
  assert.match(o, /256\.0 MiB held/);
  assert.match(o, /rm -f '\/dev\/hugepages'\/'gztp'map_\*/);
});

test('units', () => {
  assert.equal(bytes(null), '–');
  assert.equal(bytes(0), '0 B');
  assert.equal(bytes(1536), '1.5 KiB');
  assert.equal(bytes(1073741824), '1.0 GiB');
  assert.equal(percent(1, 0), '–');
  assert.equal(percent(1, 4), '25.0%');
  assert.equal(safe('a\u001b[2Jb'), 'a\\x1b[2Jb');
});
