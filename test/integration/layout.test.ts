// The attach reader's struct offsets, compiled again from the headers of the DPDK under test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACH_LAYOUTS } from '../../src/collect/attach-layouts.js';
import { VERIFIED_LAYOUTS, attachLayout, machineArch } from '../../src/collect/attach.js';
import { DPDK } from '../helpers/dpdk.js';

const program = join(DPDK.native, 'attach-layout');
const skip = existsSync(program) ? undefined : `${program} not built`;

test(`the table holds exactly what ${DPDK.name}'s headers lay out, and that layout is verified`, { skip }, () => {
  const r = spawnSync(program, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const compiled = JSON.parse(r.stdout) as { version: string; arch: string };
  assert.equal(compiled.arch, machineArch());
  const table = ATTACH_LAYOUTS.find((l) => l.version === compiled.version && l.arch === compiled.arch);
  assert.deepEqual({ ...table, release: undefined }, { ...compiled, release: undefined });
  assert.ok(VERIFIED_LAYOUTS.includes(`${compiled.version}/${compiled.arch}`));
  assert.equal(typeof attachLayout(`DPDK ${compiled.version}.1`, compiled.arch), 'object');
});
