// Gathering for the gazelle view: finds the process (by pid or lstack.conf host_addr), reads its
// lstack.conf and, when asked (--gazellectl), gazellectl's report, and groups the snapshot per stack thread.

import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Host } from '../collect/host.js';
import { readGazellectl, type GazellectlReading } from '../collect/gazellectl.js';
import { DEFAULT_LSTACK_CONF, readEnviron, readLstackConf, type LstackConfReading } from '../collect/lstack-conf.js';
import { buildProcess } from '../model/build.js';
import { buildGazelleView, gazellectlOccupancy, lstackParams, stackThreads, type GazelleView } from '../model/stack-view.js';
import type { DpdkProcess } from '../model/snapshot.js';
import { probeSockets, readTargetInput, type GatherOptions, type SampleCache } from './processes.js';
import { GzmemError, NotFoundError, errorMessage } from '../errors.js';

/** The config as the target sees it: through its own root, which differs inside a container. */
async function confOf(host: Host, pid: number, cache?: SampleCache): Promise<LstackConfReading> {
  const kept = cache?.lstackConf.get(pid);
  if (kept) return kept;
  const env = await readEnviron(host, pid);
  const path = env?.LSTACK_CONF_PATH ?? DEFAULT_LSTACK_CONF;
  const reading = { ...(await readLstackConf(join(host.procRoot, String(pid), 'root', path))), path };
  cache?.lstackConf.set(pid, reading);
  return reading;
}

async function findByHostAddr(host: Host, ip: string, options: GatherOptions): Promise<number> {
  const found = await probeSockets(host, options);
  for (const s of found) {
    if (s.pid === undefined) continue;
    const conf = await confOf(host, s.pid);
    if (conf.config?.host_addr === ip) return s.pid;
  }
  const pids = found.filter((s) => s.pid !== undefined).length;
  throw new NotFoundError(
    `no gazelle process with host_addr ${ip} in its lstack.conf (${pids} DPDK process${pids === 1 ? '' : 'es'} checked)`,
  );
}

export interface LstackResult {
  process: DpdkProcess;
  view: GazelleView;
}

export async function readLstack(
  host: Host,
  target: string,
  options: GatherOptions & { gazellectl?: boolean } = {},
): Promise<LstackResult> {
  const pidTarget = isIP(target) ? String(await findByHostAddr(host, target, options)) : target;
  const { process: first, input } = await readTargetInput(host, pidTarget, options);
  const conf = await confOf(host, first.pid, options.cache);
  const notes: string[] = [];
  if (conf.error) notes.push(`lstack.conf: ${conf.error}`);
  let gazellectl: GazellectlReading | undefined;
  if (options.gazellectl === true) {
    notes.push('gazellectl was asked (--gazellectl): gazelle allocates an rpc pool for its control thread on the first request');
    try {
      gazellectl = await readGazellectl(isIP(target) ? target : String(first.pid));
      if (!gazellectl) notes.push('gazellectl is not installed');
    } catch (err) {
      notes.push(`gazellectl failed: ${err instanceof GzmemError ? err.message : errorMessage(err).split('\n')[0]}`);
    }
  }
  let process = first;
  if (gazellectl) {
    const extra = gazellectlOccupancy(first, gazellectl);
    if (extra.size > 0) process = buildProcess({ ...input, extraOccupancy: extra });
  }
  const view = buildGazelleView(process, lstackParams(conf.config, conf.config ? conf.path : null), gazellectl);
  view.notes.push(...notes);
  return { process, view };
}

/** The gazelle view of a process already read, or undefined when it has no stack threads. */
export async function gazelleViewOf(host: Host, process: DpdkProcess, cache?: SampleCache): Promise<GazelleView | undefined> {
  if (stackThreads(process).length === 0) return undefined;
  const conf = await confOf(host, process.pid, cache);
  return buildGazelleView(process, lstackParams(conf.config, conf.config ? conf.path : null));
}
