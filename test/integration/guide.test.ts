// Every command of docs/guide.md runs as written against gzload (preloaded, with an lstack.conf),
// except those the guide marks as needing gazelle itself, systemd, or running until stopped.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, PRELOAD, hugepagesMissing, startGzload, stop, type DpdkProc } from '../helpers/dpdk.js';
import { ROOT } from '../helpers/fixtures.js';

const skip = hugepagesMissing();
const dir = mkdtempSync(join(tmpdir(), 'gzmem-guide-'));
let gz: DpdkProc | undefined;
after(async () => {
  await stop(gz);
  rmSync(dir, { recursive: true, force: true });
  for (const f of ['lstack-memory.txt', 'lstack.json', 'show.json', 'show.csv', 'prediction.json', 'advise.db', 'advice.json'])
    rmSync(join('/tmp', f), { force: true });
  for (const f of ['/tmp/advise.db-wal', '/tmp/advise.db-shm']) rmSync(f, { force: true });
});

const SKIPPED = /#\s*(needs gazelle|needs systemd|runs until stopped)\s*$/;

/** The commands of the guide's ```sh blocks, each with the exit code it expects. */
function guideCommands(markdown: string): { line: string; expect: number | 'skip' }[] {
  const out: { line: string; expect: number | 'skip' }[] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n').map((l) => l.trim())) {
      if (!line || line.startsWith('#')) continue;
      const exits = /#\s*exits (\d+)\s*$/.exec(line);
      out.push({ line, expect: SKIPPED.test(line) ? 'skip' : exits ? Number(exits[1]) : 0 });
    }
  }
  return out;
}

test('every command in docs/guide.md runs as written', { skip, timeout: 300_000 }, async (t) => {
  const ip = '192.0.2.77';
  const conf = join(dir, 'lstack.conf');
  writeFileSync(
    conf,
    `dpdk_args=["--no-pci"]\nnum_cpus="1,2"\ntcp_conn_count=128\nmbuf_count_per_conn=20\nnic_rxqueue_size=512\nnic_txqueue_size=512\nhost_addr="${ip}"\n`,
  );
  const g = await startGzload({
    eal: ['--lcores', '0@0,1@1,2@1'],
    app: ['--stacks', '2', '--tcp_conn_count', '64', '--mbuf_count_per_conn', '20', '--pattern', 'burst'],
    env: { LD_PRELOAD: PRELOAD, LSTACK_CONF_PATH: conf },
  });
  gz = g;
  // `gzmem` on the PATH, as `npm link` would put it.
  const bin = join(dir, 'bin');
  spawnSync('mkdir', ['-p', bin]);
  writeFileSync(join(bin, 'gzmem'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'gzmem'), 0o755);
  const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

  const commands = guideCommands(readFileSync(join(ROOT, 'docs', 'guide.md'), 'utf8'));
  assert.ok(commands.length >= 15, `${commands.length} commands`);
  assert.ok(commands.filter((c) => c.expect === 'skip').length <= 4, 'only a few need what the tests cannot have');
  for (const c of commands) {
    if (c.expect === 'skip') continue;
    if (c.line.startsWith('promtool') && !hasPromtool) {
      if (process.env.CI === 'true') assert.fail('CI installs promtool (prometheus)');
      t.diagnostic(`skipped without promtool: ${c.line}`);
      continue;
    }
    const r = spawnSync('bash', ['-c', c.line], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PID: String(g.pid), PREFIX: g.prefix, IP: ip, CONF: conf },
    });
    assert.equal(r.status, c.expect, `${c.line}\n${r.stderr}`);
    if (c.expect !== 0) assert.match(r.stderr, /^gzmem: /, `${c.line}: one line starting gzmem:`);
  }
  // What the commands wrote is there.
  for (const f of ['/tmp/lstack-memory.txt', '/tmp/show.json', '/tmp/prediction.json', '/tmp/advice.json']) assert.ok(existsSync(f), f);
  assert.match(readFileSync('/tmp/lstack-memory.txt', 'utf8'), /gazellelstack00/);
});
