// Fuzzing: every parser and the whole telemetry collector on generated inputs made from the real
// captures (truncated, oversized, non-JSON, wrong types, nulls, deep nesting), and the socket
// client against a fake SEQPACKET server that is slow, silent, endless, or hangs up. Each case
// must end in a value or in one of gzmem's own errors (a clear message, an exit code), never in
// any other exception, and never later than the snapshot deadline.
//   node --import tsx test/reliability/fuzz.ts [cases] [socket cases]     (default 10000, 300)

import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GzmemError } from '../../src/errors.js';
import { parseHello, parseReply, openTelemetry, type TelemetryConnection } from '../../src/collect/telemetry-socket.js';
import { parseEthdev, parseHeapInfo, parseMemzoneInfo, parseMempoolInfo, readTelemetry } from '../../src/collect/telemetry.js';
import { readPreload } from '../../src/collect/preload.js';
import { parseNumaMapsHuge, parseSmapsRollupHugetlb, parseStat, parseStatusHugetlb } from '../../src/collect/process.js';
import { parseLibconfig } from '../../src/collect/libconfig.js';
import { parseLstackShow } from '../../src/collect/gazellectl.js';
import { parseEnviron } from '../../src/collect/lstack-conf.js';
import { listenSeqpacket, type SeqpacketSocket } from '../../src/collect/seqpacket.js';
import { FIXTURES } from '../helpers/fixtures.js';

/** A small deterministic generator, so a failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** A mutation of a JSON value: a field dropped, retyped, nulled, nested deep, or made huge. */
function mutateValue(r: () => number, v: unknown, depth = 0): unknown {
  const odd: unknown[] = [null, -1, 1e308, -0, 3.5, '', 'x'.repeat(100_000), true, [], {}, [null], { a: { b: { c: null } } }, Number.MAX_SAFE_INTEGER + 2, '0x', '0xzz'];
  if (depth > 3 || r() < 0.25) return pick(r, odd);
  if (Array.isArray(v)) {
    const out = v.map((x) => (r() < 0.2 ? mutateValue(r, x, depth + 1) : x));
    if (r() < 0.2) out.push(pick(r, odd));
    if (r() < 0.1) return out.slice(0, Math.floor(r() * out.length));
    return out;
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const roll = r();
      if (roll < 0.1) continue;
      out[k] = roll < 0.3 ? mutateValue(r, x, depth + 1) : x;
    }
    if (r() < 0.1) out[`extra${Math.floor(r() * 10)}`] = pick(r, odd);
    return out;
  }
  if (r() < 0.1) {
    let deep: unknown = v;
    for (let i = 0; i < 1000; i++) deep = [deep];
    return deep;
  }
  return pick(r, odd);
}

/** A mutation of text: truncated, a byte range garbled, a line repeated, or nothing at all. */
function mutateText(r: () => number, text: string): string {
  switch (Math.floor(r() * 6)) {
    case 0: return text.slice(0, Math.floor(r() * text.length));
    case 1: {
      const at = Math.floor(r() * text.length);
      return text.slice(0, at) + String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(r() * 256))) + text.slice(at + 8);
    }
    case 2: return text.replace(/\d+/g, (d) => (r() < 0.3 ? pick(r, ['-1', '99999999999999999999', 'NaN', '', d + d]) : d));
    case 3: return text.split('\n').flatMap((l) => (r() < 0.05 ? [l, l, l] : [l])).join('\n');
    case 4: return r() < 0.5 ? '' : `{"x":${'['.repeat(8000)}${']'.repeat(8000)}}`;
    default: return text.replace(/[:=]/g, (c) => (r() < 0.2 ? '' : c));
  }
}

interface Captured {
  replies: Map<string, unknown>;
  texts: { kind: 'status' | 'rollup' | 'numa' | 'stat' | 'libconfig' | 'gazellectl' | 'environ'; text: string }[];
}

function loadCaptures(): Captured {
  const replies = new Map<string, unknown>();
  const texts: Captured['texts'] = [];
  const hosts = join(FIXTURES, 'hosts');
  for (const scenario of readdirSync(hosts, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const dir = join(hosts, scenario.name);
    for (const f of readdirSync(join(dir, 'telemetry'))) {
      if (f.startsWith('_')) continue;
      try {
        replies.set(`${scenario.name}/${f}`, JSON.parse(readFileSync(join(dir, 'telemetry', f), 'utf8')));
      } catch {
        // a capture that is not JSON is no seed
      }
    }
    const proc = join(dir, 'proc');
    for (const pid of readdirSync(proc)) {
      const read = (name: string) => readFileSync(join(proc, pid, name), 'utf8');
      texts.push({ kind: 'status', text: read('status') }, { kind: 'rollup', text: read('smaps_rollup') }, { kind: 'numa', text: read('numa_maps') });
      for (const tid of readdirSync(join(proc, pid, 'task')).slice(0, 3)) {
        try { texts.push({ kind: 'stat', text: readFileSync(join(proc, pid, 'task', tid, 'stat'), 'utf8') }); } catch { /* not captured */ }
      }
    }
    try {
      for (const f of readdirSync(join(dir, 'gazellectl'))) texts.push({ kind: 'gazellectl', text: readFileSync(join(dir, 'gazellectl', f), 'utf8') });
    } catch { /* testpmd has none */ }
  }
  texts.push({ kind: 'libconfig', text: readFileSync(join(hosts, 'lstack.conf'), 'utf8') });
  texts.push({ kind: 'environ', text: 'LSTACK_CONF_PATH=/etc/gazelle/lstack.conf\0PATH=/usr/bin\0' });
  return { replies, texts };
}

export interface FuzzResult {
  cases: number;
  crashes: { seed: number; what: string; error: string }[];
  gzmemErrors: number;
}

function classify(result: FuzzResult, seed: number, what: string, err: unknown): void {
  if (err instanceof GzmemError && err.message.length > 0 && !err.message.includes('\n')) result.gzmemErrors++;
  else result.crashes.push({ seed, what, error: err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : String(err) });
}

const replyParsers: Record<string, (data: unknown) => unknown> = {
  heap_info: parseHeapInfo,
  memzone_info: parseMemzoneInfo,
  mempool_info: parseMempoolInfo,
  ethdev_info: (d) => parseEthdev(0, d, d),
};

/** Every parser on mutated captures, and readTelemetry (with the preload reader) on mutated replays. */
export async function fuzzParsers(cases: number, seed0 = 1): Promise<FuzzResult> {
  const { replies, texts } = loadCaptures();
  const keys = [...replies.keys()];
  const result: FuzzResult = { cases: 0, crashes: [], gzmemErrors: 0 };
  for (let i = 0; i < cases; i++) {
    const seed = seed0 + i;
    const r = rng(seed);
    result.cases++;
    const kind = i % 4;
    try {
      if (kind === 0) {
        const key = pick(r, keys);
        const wrapped = replies.get(key) as Record<string, unknown>;
        const cmd = Object.keys(wrapped)[0] ?? '/x';
        const text = r() < 0.3 ? mutateText(r, JSON.stringify(wrapped)) : JSON.stringify({ [cmd]: mutateValue(r, wrapped[cmd]) });
        const data = parseReply(text, cmd);
        const parser = Object.entries(replyParsers).find(([k]) => key.includes(k))?.[1];
        parser?.(data);
        parseHello(mutateText(r, '{"version":"DPDK 23.11.7","pid":17186,"max_output_len":16384}'), 'fuzz');
      } else if (kind === 1) {
        const t = pick(r, texts);
        const text = mutateText(r, t.text);
        ({
          status: () => parseStatusHugetlb(text),
          rollup: () => parseSmapsRollupHugetlb(text),
          numa: () => parseNumaMapsHuge(text),
          stat: () => parseStat(text),
          libconfig: () => parseLibconfig(text),
          gazellectl: () => parseLstackShow(text),
          environ: () => parseEnviron(text),
        })[t.kind]();
      } else {
        // The whole collector over a replay of one capture with some replies mutated.
        const scenario = pick(r, [...new Set(keys.map((k) => k.split('/')[0]!))]);
        await readTelemetry(mutatedReplay(r, replies, scenario));
        await readPreload(mutatedReplay(r, replies, scenario));
      }
    } catch (err) {
      classify(result, seed, `case ${i} kind ${kind}`, err);
    }
  }
  return result;
}

function mutatedReplay(r: () => number, replies: Map<string, unknown>, scenario: string): TelemetryConnection {
  return {
    hello: { version: 'DPDK 22.11.11', pid: 1, maxOutputLen: 16384 },
    async cmd(command: string) {
      const file = command === '/' ? 'root.json' : `${command.slice(1).replace(/,/g, '__').replace(/\//g, '_')}.json`;
      const wrapped = replies.get(`${scenario}/${file}`) as Record<string, unknown> | undefined;
      const key = command.split(',')[0]!;
      const data = wrapped ? wrapped[key] : null;
      const text = r() < 0.15 ? mutateText(r, JSON.stringify({ [key]: data })) : JSON.stringify({ [key]: r() < 0.15 ? mutateValue(r, data) : data });
      return parseReply(text, command);
    },
    setDeadline() {},
    isClosed: () => false,
    close() {},
  };
}

/** What a fake server does with each connection. */
const BEHAVIOURS = ['slow', 'silent', 'hangup', 'garbage', 'oversized', 'endless', 'truncated', 'nothing'] as const;

/**
 * The socket client against a fake server in this process: each case connects, reads a whole
 * snapshot's commands, and must end with a value or a GzmemError before the deadline.
 */
export async function fuzzSockets(cases: number, seed0 = 1, deadlineMs = 400): Promise<FuzzResult & { slowest: number; overDeadline: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gzmem-fuzz-'));
  const path = join(dir, 'dpdk_telemetry.v2');
  const server = listenSeqpacket(path);
  const result = { cases: 0, crashes: [] as FuzzResult['crashes'], gzmemErrors: 0, slowest: 0, overDeadline: 0 };
  let behaviour: (typeof BEHAVIOURS)[number] = 'nothing';
  let r = rng(seed0);
  const serve = async (s: SeqpacketSocket) => {
    const b = behaviour;
    const rr = r;
    if (b === 'hangup') { s.close(); return; }
    if (b !== 'silent') s.send(Buffer.from(JSON.stringify({ version: 'DPDK 24.11.6', pid: process.pid, max_output_len: 16384 })));
    for (;;) {
      const got = await s.receive(2000);
      if (typeof got === 'string') break;
      const cmd = got.toString();
      const key = cmd.split(',')[0]!;
      if (b === 'silent') continue;
      if (b === 'slow') await new Promise((x) => setTimeout(x, 30 + rr() * 200));
      if (b === 'truncated' && rr() < 0.3) break;
      const data = b === 'endless' ? (key.endsWith('_list') ? Array.from({ length: 512 }, (_, i) => i) : { Zone: 1, Name: 'z', Length: 1, Address: '0x1', Socket: 0, Flags: 0, Hugepage_size: 1, Hugepage_base: '0x1', Hugepage_used: 1 })
        : key === '/eal/params' ? ['fuzz'] : key.endsWith('list') ? [] : null;
      let text = JSON.stringify({ [key]: data });
      if (b === 'garbage') text = mutateText(rr, text);
      if (b === 'oversized') text = text + ' '.repeat(70_000);
      if (b === 'truncated') text = text.slice(0, Math.floor(rr() * text.length));
      try { s.send(Buffer.from(text)); } catch { break; }
    }
    s.close();
  };
  let accepting = true;
  const acceptLoop = (async () => {
    while (accepting) {
      const s = await server.accept(100);
      if (s) void serve(s);
    }
  })();
  try {
    for (let i = 0; i < cases; i++) {
      const seed = seed0 + i;
      r = rng(seed);
      behaviour = BEHAVIOURS[i % BEHAVIOURS.length]!;
      result.cases++;
      const t0 = performance.now();
      try {
        const deadline = performance.now() + deadlineMs;
        const conn = await openTelemetry(path, { timeoutMs: 100, deadline });
        try {
          await readTelemetry(conn);
        } finally {
          conn.close();
        }
      } catch (err) {
        classify(result, seed, `socket case ${i} (${behaviour})`, err);
      }
      const took = performance.now() - t0;
      result.slowest = Math.max(result.slowest, took);
      // The deadline ends the wait for a message; the reply in hand may still be parsed.
      if (took > deadlineMs + 150) result.overDeadline++;
    }
  } finally {
    accepting = false;
    await acceptLoop;
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cases = Number(process.argv[2] ?? 10000);
  const socketCases = Number(process.argv[3] ?? 300);
  const t0 = performance.now();
  const p = await fuzzParsers(cases);
  const s = await fuzzSockets(socketCases);
  console.log(`parsers and collector: ${p.cases} cases, ${p.gzmemErrors} clear errors, ${p.crashes.length} crashes`);
  console.log(`socket client: ${s.cases} cases, ${s.gzmemErrors} clear errors, ${s.crashes.length} crashes, ${s.overDeadline} past the deadline, slowest ${s.slowest.toFixed(0)} ms`);
  for (const c of [...p.crashes, ...s.crashes].slice(0, 20)) console.log(`  crash seed ${c.seed} ${c.what}: ${c.error}`);
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  process.exit(p.crashes.length + s.crashes.length + s.overDeadline === 0 ? 0 : 1);
}
