import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { renderCsv, renderJson, renderProcess } from '../../src/format/process.js';
import { renderHugepages, renderOrphans } from '../../src/format/machine.js';
import { bytes, percent, safe } from '../../src/format/units.js';
import { assertGolden } from '../helpers/golden.js';
import { ROOT } from '../helpers/fixtures.js';
import { fixtureProcess, fixtureSnapshot } from '../helpers/snapshot.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'snapshot.schema.json'), 'utf8'));
const validate = new Ajv.default({ allErrors: true, strict: true }).compile(schema);

for (const scenario of ['gazelle-idle', 'gazelle-conn100', 'testpmd'] as const) {
  test(`${scenario}: table output`, async () => {
    assertGolden(`show-${scenario}.txt`, renderProcess(await fixtureProcess(scenario)));
  });
  test(`${scenario}: csv output`, async () => {
    assertGolden(`show-${scenario}.csv`, renderCsv([await fixtureProcess(scenario)]));
  });
  test(`${scenario}: JSON validates against docs/snapshot.schema.json`, async () => {
    const doc = JSON.parse(renderJson(await fixtureSnapshot(scenario)));
    assert.ok(validate(doc), JSON.stringify(validate.errors, null, 1));
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
