// Sockets are believed only as far as the kernel vouches for them.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ExitCode } from '../../src/errors.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { ROOT } from '../helpers/fixtures.js';
import { gzmem } from '../helpers/dpdk.js';

const tmp = mkdtempSync(join(tmpdir(), 'gzmem-sec-'));
// A world-writable runtime dir, as /tmp/dpdk is for every user.
chmodSync(tmp, 0o1777);
const env = { GZMEM_DPDK_RUNTIME_DIRS: tmp };
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** A fake telemetry server run by user `nobody`. */
async function planted(prefix: string, mode: string): Promise<ChildProcess> {
  const child = spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '--import', 'tsx',
    join(ROOT, 'test/helpers/fake-telemetry.ts'), join(tmp, prefix, 'dpdk_telemetry.v2'), mode], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (c) => reject(new Error(`planted server exited ${c}`)));
  });
  return child;
}

test('a socket whose greeting names another pid than the kernel sees is ignored, with a warning', async () => {
  await planted('liar', 'claim-pid-1');
  const show = await gzmem(['show', 'liar'], env);
  assert.equal(show.code, ExitCode.telemetry, show.stderr);
  assert.match(show.stderr, /ignored, its greeting names pid 1 but the kernel says pid \d+ listens on it/);
  const list = await gzmem(['list', '--json'], env);
  assert.equal(list.code, ExitCode.ok, list.stderr);
  const snap = JSON.parse(list.stdout) as Snapshot;
  assert.ok(!snap.processes.some((p) => p.pid === 1), 'pid 1 is never read on a stranger\'s word');
});

test('a socket its own user serves is read, but the attach reader reads only its hugepage memory', async () => {
  // The address is where this test's own heap is likely mapped: a read there would be a disclosure.
  const honest = await planted('honest', 'pool-at-0x400000');
  const r = await gzmem(['show', 'honest', '--json'], env);
  assert.equal(r.code, ExitCode.ok, r.stderr);
  const p = (JSON.parse(r.stdout) as Snapshot).processes[0]!;
  assert.equal(p.pid, honest.pid);
  assert.equal(p.mempools[0]?.name, 'pool');
  assert.equal(p.mempools[0]?.occupancy, null);
  assert.match(p.sources.find((s) => s.name === 'attach')?.detail ?? '', /maps no hugepages/);
});
