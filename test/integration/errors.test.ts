// Every user-facing failure: one clear line on stderr, a documented exit code, no stack trace.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenSeqpacket } from '../../src/collect/seqpacket.js';
import { ExitCode } from '../../src/errors.js';
import { gzmem, hugepagesMissing, startTestpmd, stop, type CliResult, type DpdkProc } from '../helpers/dpdk.js';
import { startFakeTelemetry } from '../helpers/serve.js';
import { ROOT } from '../helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'gzmem-err-'));
const env = { GZMEM_DPDK_RUNTIME_DIRS: tmp };
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

function oneLineError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, /^gzmem: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

async function fakeServer(prefix: string, mode: string): Promise<ChildProcess> {
  const child = await startFakeTelemetry(tmp, prefix, mode);
  children.push(child);
  return child;
}

test('--version, -V and a command that loads the whole CLI name the version package.json gives', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const args of [['--version'], ['-V'], ['list', '--version']]) {
    const r = await gzmem(args, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), version, args.join(' '));
  }
});

test('unknown pid', async () => {
  oneLineError(await gzmem(['show', '4000000'], env), ExitCode.notFound, /no process with pid 4000000/);
});

test('a pid that is not a DPDK process', async () => {
  const sleeper = spawn('sleep', ['30']);
  children.push(sleeper);
  oneLineError(await gzmem(['show', String(sleeper.pid)], env), ExitCode.notFound, /is not a DPDK process/);
  sleeper.kill();
});

test('unknown prefix and a target that is neither pid nor prefix', async () => {
  oneLineError(await gzmem(['show', 'nosuchprefix'], env), ExitCode.notFound, /no DPDK process with file prefix nosuchprefix/);
  oneLineError(await gzmem(['show', '../etc'], env), ExitCode.notFound, /not a pid or file prefix/);
});

test('usage errors exit 2', async () => {
  const bad = await gzmem(['show', '1', '--bogus'], env);
  assert.equal(bad.code, ExitCode.usage);
  assert.match(bad.stderr, /unknown option '--bogus'/);
  oneLineError(await gzmem(['show', '1', '--json', '--csv'], env), ExitCode.usage, /one of --json and --csv/);
  oneLineError(await gzmem(['show', '1', '-i', 'soon'], env), ExitCode.usage, /interval must be/);
  oneLineError(await gzmem(['show', '1', '5'], env), ExitCode.usage, /count goes with -i/);
  oneLineError(await gzmem(['list', '--timeout', '0'], env), ExitCode.usage, /--timeout/);
  assert.equal((await gzmem(['frobnicate'], env)).code, ExitCode.usage);
  assert.equal((await gzmem(['--help'], env)).code, ExitCode.ok);
  oneLineError(await gzmem(['advise'], env), ExitCode.usage, /needs a target .* or --conf/);
  oneLineError(await gzmem(['advise', '1', '--headroom', '0.5'], env), ExitCode.usage, /--headroom must be a factor/);
  oneLineError(await gzmem(['advise', '1', '--window', '5x'], env), ExitCode.usage, /--window must be a duration/);
  oneLineError(await gzmem(['advise', '--conf', 'test/fixtures/hosts/lstack.conf', '--dpdk', '19.11'], env), ExitCode.usage, /no sizes known for DPDK 19.11/);
});

test('advise: a missing or malformed lstack.conf, and no history, are said in one line', async () => {
  oneLineError(await gzmem(['advise', '--conf', '/nonexistent/lstack.conf'], env), ExitCode.notFound, /cannot read \/nonexistent\/lstack.conf/);
  oneLineError(await gzmem(['advise', '--conf', 'README.md'], env), ExitCode.protocol, /README.md:\d+: expected/);
  oneLineError(await gzmem(['advise', '4000000'], env), ExitCode.notFound, /no process with pid 4000000/);
});

test('a stale socket with no server behind it', async () => {
  mkdirSync(join(tmp, 'stale'), { recursive: true });
  const server = listenSeqpacket(join(tmp, 'stale', 'dpdk_telemetry.v2'));
  server.close(); // the socket file stays, nobody listens: what a killed DPDK process leaves
  assert.ok(existsSync(join(tmp, 'stale', 'dpdk_telemetry.v2')));
  oneLineError(await gzmem(['show', 'stale'], env), ExitCode.telemetry, /connection refused \(stale socket/);
  const list = await gzmem(['list'], env);
  assert.equal(list.code, ExitCode.ok, list.stderr);
  assert.match(list.stdout, /unreachable: .*stale/);
  rmSync(join(tmp, 'stale'), { recursive: true });
});

test('a malformed telemetry reply', async () => {
  const fake = await fakeServer('malformed', 'malformed');
  oneLineError(await gzmem(['show', 'malformed'], env), ExitCode.protocol, /malformed telemetry reply to \/eal\/params/);
  fake.kill();
});

test('a server that never answers times out', async () => {
  const fake = await fakeServer('silent', 'silent');
  oneLineError(await gzmem(['show', 'silent', '--timeout', '200'], env), ExitCode.telemetry, /no reply to \/gzmem\/sample,\d+ within 200 ms/);
  fake.kill();
});

test('a memzone walk that never ends stops at its bound or the snapshot deadline, never hangs', async () => {
  const fake = await fakeServer('endless', 'endless');
  const started = Date.now();
  const r = await gzmem(['show', 'endless', '--json'], env);
  assert.ok(Date.now() - started < 20_000, 'bounded in time');
  if (r.code === ExitCode.ok) {
    assert.match(JSON.stringify((JSON.parse(r.stdout) as { processes: { warnings: string[] }[] }).processes[0]!.warnings), /memzone_info reached the telemetry array cap/);
  } else {
    oneLineError(r, ExitCode.telemetry, /passed its deadline/);
  }
  fake.kill();
});

test('the target exits in the middle of a snapshot', async () => {
  await fakeServer('dying', 'exit-after-3');
  oneLineError(await gzmem(['show', 'dying'], env), ExitCode.targetGone, /exited while being read/);
});

const skip = hugepagesMissing();
let tp: DpdkProc | undefined;
before(async () => { if (!skip) tp = await startTestpmd({ mbufs: 8192 }); });
after(async () => stop(tp));

test('permission denied: an unprivileged user asks about a root DPDK process', { skip }, async () => {
  oneLineError(await gzmem(['show', String(tp!.pid)], {}, '65534'), ExitCode.permission, /permission denied/);
});

test('a target that exits while watched with -i ends "exited" (7), with what was shown kept', { skip }, async () => {
  const watched = await startTestpmd({ mbufs: 4096 });
  try {
    const run = gzmem(['show', String(watched.pid), '--json', '-i', '0.2']);
    await new Promise((r) => setTimeout(r, 1500));
    await stop(watched);
    const r = await run;
    oneLineError(r, ExitCode.targetGone, /exited while being watched/);
    const frames = r.stdout.trim().split('\n');
    assert.ok(frames.length >= 2, 'the frames before the exit were written');
    for (const f of frames) assert.equal((JSON.parse(f) as { processes: { pid: number }[] }).processes[0]!.pid, watched.pid);
  } finally {
    await stop(watched);
  }
});
