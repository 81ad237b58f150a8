// gazelle's own CLI, when it is on PATH: `gazellectl lstack show <ip>` (per-stack counters,
// including mbuf_pool_freecnt) and `-c` (connections). Parsed from text: its control socket
// speaks binary structs that change between releases, its printed output is steadier.

import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface GazellectlStack {
  tid: number;
  counters: Record<string, number>;
}

export interface GazellectlConnection {
  proto: string;
  recvRing: number | null;
  sendRing: number | null;
  local: string;
  foreign: string;
  state: string;
}

export interface GazellectlReading {
  stacks: GazellectlStack[];
  connections: { tid: number; connections: GazellectlConnection[] }[];
}

const STACK_HEADER = /^-+\s*stack tid:\s*(\d+)\s*-+/;

/** `lstack show`: `------ stack tid: N ------` then `name: value` pairs, several per line. */
export function parseLstackShow(text: string): GazellectlStack[] {
  const stacks: GazellectlStack[] = [];
  let cur: GazellectlStack | undefined;
  for (const line of text.split('\n')) {
    const h = STACK_HEADER.exec(line.trim());
    if (h) {
      cur = { tid: Number(h[1]), counters: {} };
      stacks.push(cur);
      continue;
    }
    if (!cur) continue;
    for (const m of line.matchAll(/([a-z_]+):\s*(-?\d+)(?=\s|$)/g)) cur.counters[m[1]!] = Number(m[2]);
  }
  return stacks;
}

/** `lstack show -c`: one table per stack; listening rows leave the ring columns empty. */
export function parseLstackConnections(text: string): { tid: number; connections: GazellectlConnection[] }[] {
  const out: { tid: number; connections: GazellectlConnection[] }[] = [];
  let cur: { tid: number; connections: GazellectlConnection[] } | undefined;
  for (const line of text.split('\n')) {
    const h = /stack tid:\s*(\d+)/.exec(line);
    if (h) {
      cur = { tid: Number(h[1]), connections: [] };
      out.push(cur);
      continue;
    }
    if (!cur || !/^\d+\s+(tcp|udp)\s/.test(line)) continue;
    const words = line.trim().split(/\s+/);
    const addr = words.findIndex((w) => /^[\d.:a-fA-F[\]]+:(\d+|\*)$/.test(w));
    if (addr < 0 || words[addr + 1] === undefined) continue;
    const full = addr >= 17;
    const num = (i: number) => (full && /^\d+$/.test(words[i] ?? '') ? Number(words[i]) : null);
    cur.connections.push({ proto: words[1]!, recvRing: num(3), sendRing: num(5), local: words[addr]!, foreign: words[addr + 1]!, state: words[addr + 2] ?? '' });
  }
  return out;
}

export async function findOnPath(command: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** undefined when gazellectl is not installed; a failing gazellectl gives its error. */
export async function readGazellectl(target: string, timeoutMs = 5000): Promise<GazellectlReading | undefined> {
  const bin = await findOnPath('gazellectl');
  if (!bin) return undefined;
  const show = await run(bin, ['lstack', 'show', target], timeoutMs);
  const conns = await run(bin, ['lstack', 'show', target, '-c'], timeoutMs).catch(() => '');
  return { stacks: parseLstackShow(show), connections: parseLstackConnections(conns) };
}
