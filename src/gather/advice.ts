// Advice for one process: what it used (now, or over a recorded window), its settings (its
// lstack.conf, or gzload's options), and the predictor's hugepages for the advised settings. The
// CLI and the server both ask here.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createTwoFilesPatch } from 'diff';
import type { Host } from '../collect/host.js';
import { readCpuNodes } from '../collect/cpus.js';
import { readDefaultHugepageBytes } from '../collect/hugepages.js';
import { parseLibconfig, type ConfigGroup } from '../collect/libconfig.js';
import { adviseStacks, advisePools, applyToConf, type Advice, type Observation, type PoolObservation } from '../analysis/advice.js';
import { dpdkBuild, type Arch, type DpdkBuild } from '../analysis/dpdk-sizes.js';
import { GAZELLE_2024_PROFILE, GZLOAD_PROFILE, stackSettings, type PredictOptions, type StackSettings } from '../analysis/predict.js';
import { isMbufPool, stackThreads, type GazelleView } from '../model/stack-view.js';
import type { DpdkProcess } from '../model/snapshot.js';
import { sumKnown, targetKey } from '../model/series.js';
import type { Store } from '../store/store.js';
import { NotFoundError, ProtocolError, UsageError, errorMessage } from '../errors.js';

/** What sizing needs beyond the target: the release and machine to size for, the headroom. */
export interface SizingOptions {
  dpdk?: string;
  arch?: string;
  connections?: number;
  appThreads?: number;
  pageBytes?: number;
}

export interface AdviceRequest extends SizingOptions {
  headroom: number;
  /** With a store: from the peaks of this window; else from the snapshot. */
  windowMs?: number;
  store?: Store;
}

export interface AdviceResult {
  target: { pid: number; key: string; command: string };
  observation: Observation;
  advice: Advice;
  /** lstack.conf as advised, a unified diff; null where there is no file or no change. */
  diff: string | null;
}

export const PROFILES = { gazelle: GAZELLE_2024_PROFILE, gzload: GZLOAD_PROFILE };

function hostArch(): Arch {
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

/** The DPDK release to size for: the one named, the installed libdpdk's, else 22.11 (said in a note). */
export function buildFor(o: SizingOptions, notes: string[], running?: string | null): DpdkBuild {
  let release = o.dpdk ?? running ?? undefined;
  if (release === undefined) {
    try {
      release = execFileSync('pkg-config', ['--modversion', 'libdpdk'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      release = '22.11';
      notes.push('DPDK release assumed 22.11 (no libdpdk found by pkg-config; give --dpdk <release>).');
    }
  }
  const arch = (o.arch ?? hostArch()) as Arch;
  const b = dpdkBuild(release, arch);
  if (!b) throw new UsageError(`no sizes known for DPDK ${release} on ${arch} (known: 21.11, 22.11, 23.11, 24.11 on x86_64 and aarch64)`);
  return b;
}

export async function predictOptions(
  host: Host,
  o: SizingOptions,
  build: DpdkBuild,
  profile: PredictOptions['profile'],
): Promise<PredictOptions> {
  const nodes = await readCpuNodes(host);
  const pageBytes = o.pageBytes ?? (await readDefaultHugepageBytes(host)) ?? 2 * 2 ** 20;
  return {
    profile,
    build,
    pageBytes,
    cpuNode: (cpu) => nodes.get(cpu) ?? 0,
    ...(o.connections !== undefined ? { connections: o.connections } : {}),
    ...(o.appThreads !== undefined ? { appThreads: o.appThreads } : {}),
  };
}

export function settingsOf(config: ConfigGroup, where: string): StackSettings {
  try {
    return stackSettings(config);
  } catch (err) {
    throw new ProtocolError(`${where}: ${errorMessage(err)}`);
  }
}

/** gzload takes lstack.conf's settings as options after `--`. */
function gzloadConfig(p: DpdkProcess): ConfigGroup {
  const args = p.cmdline.slice(p.cmdline.indexOf('--') + 1);
  const config: ConfigGroup = {
    tcp_conn_count: 64,
    mbuf_count_per_conn: 170,
    nic_rxqueue_size: 512,
    nic_txqueue_size: 512,
    recv_ring_size: 128,
  };
  const names: Record<string, string> = { '--ring-size': 'recv_ring_size' };
  for (let i = 0; i < args.length - 1; i++) {
    const key = names[args[i]!] ?? args[i]!.replace(/^--/, '');
    if (key in config && /^\d+$/.test(args[i + 1]!)) config[key] = Number(args[i + 1]);
  }
  config.send_ring_size = config.recv_ring_size!;
  config.num_cpus = stackThreads(p)
    .map((t) => t.cpu ?? 0)
    .join(',');
  return config;
}

/** The highest in-use per pool over the window, from the history, and the port's failures. */
function observeHistory(store: Store, windowMs: number, p: DpdkProcess): Observation {
  {
    const key = targetKey(p);
    const to = Date.now();
    const from = to - windowMs;
    const target = store.targets().find((t) => t.key === key);
    if (!target)
      throw new NotFoundError(`no history for ${key} in ${store.path} (record it first: gzmem record ${key} --db ${store.path})`);
    const q = (scope: 'pool' | 'pool_peak' | 'process') => store.query({ key, scope, from, to, maxPoints: 100_000 });
    const sampled = new Map(q('pool').peaks.map((x) => [x.name, x.value]));
    const truePeaks = new Map(q('pool_peak').peaks.map((x) => [x.name, x.value]));
    const proc = q('process');
    const nombuf = proc.series.find((s) => s.name === 'rx_nombuf')?.values.filter((v): v is number => v !== null) ?? [];
    let failures: number | null = nombuf.length ? 0 : null;
    for (let i = 1; i < nombuf.length; i++) failures! += Math.max(0, nombuf[i]! - nombuf[i - 1]!);
    const firstTs = proc.ts.find((_, i) => proc.series.some((s) => s.values[i] !== null)) ?? from;
    const pools: PoolObservation[] = p.mempools.map((m) => {
      const t = truePeaks.get(m.name);
      const s = sampled.get(m.name);
      const peak = Math.max(t ?? -1, s ?? -1);
      return { name: m.name, size: m.size, objectBytes: m.objectBytes, peakInUse: peak < 0 ? null : peak, peakIsTrue: t !== undefined };
    });
    return {
      source: 'history',
      windowMs: to - Math.max(from, firstTs),
      pools,
      allocFailures: failures,
      reservedBytes: p.waterfall.reserved.bytes,
      connectionsPeak: null,
    };
  }
}

function observeNow(p: DpdkProcess): Observation {
  const pools = p.mempools.map((m): PoolObservation => {
    const peak = Math.max(m.occupancy?.inUse ?? -1, m.peak?.inUse ?? -1, m.peak?.highWater ?? -1);
    return { name: m.name, size: m.size, objectBytes: m.objectBytes, peakInUse: peak < 0 ? null : peak, peakIsTrue: m.peak !== null };
  });
  const allocFailures = sumKnown(p.ethdevs.map((e) => e.rxNombuf));
  const ringsKnown = p.rings.length > 0 || p.sources.some((s) => s.name === 'preload' && s.ok);
  return {
    source: 'now',
    windowMs: 0,
    pools,
    allocFailures,
    reservedBytes: p.waterfall.reserved.bytes,
    connectionsPeak: ringsKnown ? p.rings.filter((r) => /^sock_recv/.test(r.name)).length : null,
  };
}

export async function adviceFor(host: Host, p: DpdkProcess, view: GazelleView | undefined, o: AdviceRequest): Promise<AdviceResult> {
  const observation = o.store && o.windowMs !== undefined ? observeHistory(o.store, o.windowMs, p) : observeNow(p);
  const notes: string[] = [];
  const isGzload = p.command === 'gzload' || /(^|\/)gzload$/.test(p.cmdline[0] ?? '');
  let advice: Advice;
  let confText: string | undefined;
  let confPath: string | undefined;
  if (stackThreads(p).length > 0) {
    const profile = isGzload ? GZLOAD_PROFILE : GAZELLE_2024_PROFILE;
    let config: ConfigGroup;
    if (isGzload) config = gzloadConfig(p);
    else {
      if (!view?.params.confPath)
        throw new NotFoundError(`the lstack.conf of pid ${p.pid} is not readable (${view?.notes.join('; ') || 'unknown reason'})`);
      confPath = view.params.confPath;
      confText = readFileSync(`${host.procRoot}/${p.pid}/root${confPath}`, 'utf8');
      config = parseLibconfig(confText, confPath);
    }
    const settings = settingsOf(config, confPath ?? 'gzload options');
    const build = buildFor(o, notes, p.dpdkVersion);
    const rpcPools = p.mempools.filter((m) => /^rpc_pool_\d+$/.test(m.name)).length;
    const options = await predictOptions(
      host,
      { appThreads: Math.max(1, rpcPools - (isGzload ? stackThreads(p).length : 0)), ...o },
      build,
      profile,
    );
    advice = adviseStacks(settings, observation, o.headroom, options, isMbufPool);
  } else {
    const page = p.memzones[0]?.hugepageBytes ?? (await readDefaultHugepageBytes(host)) ?? 2 * 2 ** 20;
    advice = advisePools(observation, o.headroom, p.waterfall.allocated.bytes, page);
  }
  advice.notes.unshift(...notes);
  const diff =
    confText !== undefined && confPath !== undefined && advice.changes.length > 0
      ? createTwoFilesPatch(confPath, confPath, confText, applyToConf(confText, advice.changes), 'current', 'advised')
      : undefined;
  const target = { pid: p.pid, key: targetKey(p), command: p.command };
  return { target, observation, advice, diff: diff ?? null };
}
