// gazelle's own CLI, when asked and on PATH: `gazellectl lstack show <ip>` (per-stack counters,
// including mbuf_pool_freecnt). Parsed from text: its control socket
// speaks binary structs that change between releases, its printed output is steadier.

import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface GazellectlStack {
  tid: number;
  counters: Record<string, number>;
}

export interface GazellectlReading {
  stacks: GazellectlStack[];
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

/**
 * Asks gazellectl, only when the user says so (--gazellectl): gazelle answers the first request by
 * allocating an rpc pool for its control thread, so asking changes the target. undefined when
 * gazellectl is not installed; a failing gazellectl gives its error.
 */
export async function readGazellectl(target: string, timeoutMs = 5000): Promise<GazellectlReading | undefined> {
  const bin = await findOnPath('gazellectl');
  if (!bin) return undefined;
  return { stacks: parseLstackShow(await run(bin, ['lstack', 'show', target], timeoutMs)) };
}
