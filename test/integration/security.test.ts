// Sockets are believed only as far as the kernel vouches for them.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { MAX_SSE_CLIENTS } from '../../src/serve/server.js';
import { startFakeTelemetry, startServe, stopChild } from '../helpers/serve.js';
import { ExitCode } from '../../src/errors.js';
import type { Snapshot } from '../../src/model/snapshot.js';
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
  const child = await startFakeTelemetry(tmp, prefix, mode, { uid: 'nobody', gid: 'nogroup' });
  children.push(child);
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

/** One raw HTTP/1.1 request over TCP, exactly as written: nothing normalises it on the way. */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let text = '';
    socket.on('data', (b: Buffer) => { text += b.toString('latin1'); });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(5000, () => { socket.destroy(); resolve(text); });
  });
}

test('the server: traversal sent raw, a foreign Host header, and 1,000 live clients', { timeout: 120_000 }, async () => {
  const srv = await startServe(['--no-record', '--db', join(tmp, 'sec.db')]);
  try {
    const host = new URL(srv.url).host;
    for (const path of ['/../../../../etc/passwd', '/..%2f..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/..%5c..%5c..%5cetc%5cpasswd']) {
      const reply = await raw(srv.url, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.match(reply, /^HTTP\/1\.1 (400|403|404) /, `${path}: ${reply.slice(0, 60)}`);
      assert.doesNotMatch(reply, /root:/, path);
    }
    const rebound = await raw(srv.url, 'GET /api/targets HTTP/1.1\r\nHost: attacker.example:9465\r\nConnection: close\r\n\r\n');
    assert.match(rebound, /^HTTP\/1\.1 403 /);
    const ok = await raw(srv.url, `GET /api/targets HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    assert.match(ok, /^HTTP\/1\.1 200 /);

    const { hostname, port } = new URL(srv.url);
    const sockets: Socket[] = [];
    const statuses = await Promise.all(Array.from({ length: 1000 }, () => new Promise<string>((resolve) => {
      const s = connect(Number(port), hostname, () => s.write(`GET /api/events HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
      sockets.push(s);
      s.once('data', (b: Buffer) => resolve(/^HTTP\/1\.1 (\d+)/.exec(b.toString('latin1'))?.[1] ?? '?'));
      s.once('error', () => resolve('error'));
    })));
    assert.equal(statuses.filter((x) => x === '200').length, MAX_SSE_CLIENTS);
    assert.equal(statuses.filter((x) => x === '503').length, 1000 - MAX_SSE_CLIENTS);
    for (const s of sockets) s.destroy();
    assert.match(await raw(srv.url, `GET /api/targets HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 200 /, 'still serving');
    assert.equal(await stopChild(srv), 0, srv.stderr());
  } finally {
    await stopChild(srv);
  }
});
