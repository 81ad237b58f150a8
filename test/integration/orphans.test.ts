// A DPDK process killed with SIGKILL leaves its hugepage files, and their memory, behind.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from '../../src/model/snapshot.js';
import { freeHugepages, gzmem, hugepagesMissing, removeHugeFiles, startTestpmd, stop, uniquePrefix, type DpdkProc } from '../helpers/dpdk.js';

const skip = hugepagesMissing();
const prefix = uniquePrefix('orph');
let tp: DpdkProc | undefined;
after(async () => {
  await stop(tp);
  removeHugeFiles(prefix);
});

test('files of a SIGKILLed testpmd are reported as orphans with the memory they hold', { skip }, async () => {
  const before = freeHugepages();
  tp = await startTestpmd({ prefix, unlink: false, mbufs: 8192 });
  const gone = new Promise((r) => tp!.child.once('exit', r));
  process.kill(tp.pid, 'SIGKILL');
  await gone;
  const held = (before - freeHugepages()) * 2 * 1024 * 1024;
  assert.ok(held > 0, 'the killed process still holds pages');

  const r = await gzmem(['hugepages', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as Snapshot;
  const orphan = s.orphans?.find((o) => o.prefix === prefix);
  assert.ok(orphan, `orphans: ${JSON.stringify(s.orphans)}`);
  assert.equal(orphan.bytes, held);
  assert.equal(orphan.files * 2 * 1024 * 1024, held);
  assert.equal(orphan.removeCommand, `rm -f '/dev/hugepages'/'${prefix}'map_*`);

  // Not root, gzmem cannot see what root's processes map: it says so and calls nothing an orphan.
  const asNobody = await gzmem(['hugepages', '--json'], {}, '65534');
  assert.equal(asNobody.code, 0, asNobody.stderr);
  const n = JSON.parse(asNobody.stdout) as Snapshot;
  assert.equal(n.orphans, null);
  assert.match(n.orphansWhy ?? '', /cannot tell \(run as root\)/);
  assert.match((await gzmem(['hugepages'], {}, '65534')).stdout, /cannot tell \(run as root\)/);

  const text = await gzmem(['list']);
  assert.match(text.stdout, new RegExp(`${prefix}\\s+${orphan.files}\\s`));
  assert.match(text.stdout, /stale socket/);

  // gzmem only prints the command; the test, acting as the user, runs the removal.
  removeHugeFiles(prefix);
  assert.equal(freeHugepages(), before);
});
