// `gzmem advise --conf <lstack.conf>`: the hugepages a gazelle configuration will need, before it
// starts. `gzmem advise <target>`: settings sized to what the process used (now, or over a recorded
// window), the hugepages they need, what that saves, and the lstack.conf change as a diff.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createTwoFilesPatch } from 'diff';
import type { Host } from '../collect/host.js';
import { readCpuNodes, readDefaultHugepageBytes } from '../collect/cpus.js';
import { parseLibconfig, type ConfigGroup } from '../collect/libconfig.js';
import { adviseStacks, advisePools, applyToConf, type Advice, type Observation, type PoolObservation } from '../analysis/advice.js';
import { dpdkBuild, type Arch, type DpdkBuild } from '../analysis/dpdk-sizes.js';
import {
  GAZELLE_2024_PROFILE,
  GZLOAD_PROFILE,
  predict,
  stackSettings,
  type PredictOptions,
  type StackSettings,
} from '../analysis/predict.js';
import { renderAdvice, renderPrediction } from '../format/advice.js';
import { isMbufPool, stackThreads } from '../model/stack-view.js';
import type { DpdkProcess } from '../model/snapshot.js';
import { targetKey } from '../model/series.js';
import { readLstack } from '../gather/stack-view.js';
import { NotFoundError, ProtocolError, UsageError, errorMessage } from '../errors.js';
import { writeOut } from './output.js';

export interface AdviseOptions {
  conf?: string;
  profile: 'gazelle' | 'gzload';
  dpdk?: string;
  arch?: string;
  connections?: number;
  appThreads?: number;
  pageBytes?: number;
  headroom: number;
  windowMs?: number;
  db: string;
  json: boolean;
  file?: string;
  timeoutMs: number;
}

const PROFILES = { gazelle: GAZELLE_2024_PROFILE, gzload: GZLOAD_PROFILE };

function hostArch(): Arch {
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

/** The DPDK release to size for: the one named, the installed libdpdk's, else 22.11 (said in a note). */
function buildFor(o: AdviseOptions, notes: string[], running?: string | null): DpdkBuild {
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

async function predictOptions(host: Host, o: AdviseOptions, build: DpdkBuild, profile: PredictOptions['profile']): Promise<PredictOptions> {
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

function settingsOf(config: ConfigGroup, where: string): StackSettings {
  try {
    return stackSettings(config);
  } catch (err) {
    throw new ProtocolError(`${where}: ${errorMessage(err)}`);
  }
}

export async function runPredict(host: Host, o: AdviseOptions & { conf: string }): Promise<void> {
  let text: string;
  try {
    text = readFileSync(o.conf, 'utf8');
  } catch (err) {
    throw new NotFoundError(`cannot read ${o.conf}: ${errorMessage(err)}`);
  }
  const settings = settingsOf(parseLibconfig(text, o.conf), o.conf);
  const notes: string[] = [];
  const build = buildFor(o, notes);
  const prediction = predict(settings, await predictOptions(host, o, build, PROFILES[o.profile]));
  prediction.notes.unshift(...notes);
  writeOut(
    o.json ? `${JSON.stringify({ schemaVersion: 1, conf: o.conf, prediction }, null, 2)}\n` : renderPrediction(prediction, o.conf),
    o.file,
  );
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
async function observeHistory(o: AdviseOptions, p: DpdkProcess): Promise<Observation> {
  const { openStore } = await import('../store/store.js');
  const store = openStore(o.db);
  try {
    const key = targetKey(p);
    const to = Date.now();
    const from = to - o.windowMs!;
    const target = store.targets().find((t) => t.key === key);
    if (!target) throw new NotFoundError(`no history for ${key} in ${o.db} (record it first: gzmem record ${key} --db ${o.db})`);
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
  } finally {
    store.close();
  }
}

function observeNow(p: DpdkProcess): Observation {
  const pools = p.mempools.map((m): PoolObservation => {
    const peak = Math.max(m.occupancy?.inUse ?? -1, m.peak?.inUse ?? -1, m.peak?.highWater ?? -1);
    return { name: m.name, size: m.size, objectBytes: m.objectBytes, peakInUse: peak < 0 ? null : peak, peakIsTrue: m.peak !== null };
  });
  const nombuf = p.ethdevs.map((e) => e.rxNombuf).filter((v): v is number => v !== null);
  const ringsKnown = p.rings.length > 0 || p.sources.some((s) => s.name === 'preload' && s.ok);
  return {
    source: 'now',
    windowMs: 0,
    pools,
    allocFailures: nombuf.length ? nombuf.reduce((a, b) => a + b, 0) : null,
    reservedBytes: p.waterfall.reserved.bytes,
    connectionsPeak: ringsKnown ? p.rings.filter((r) => /^sock_recv/.test(r.name)).length : null,
  };
}

export async function runAdvise(host: Host, target: string, o: AdviseOptions): Promise<void> {
  const { process: p, view } = await readLstack(host, target, { timeoutMs: o.timeoutMs, attach: true });
  const observation = o.windowMs !== undefined ? await observeHistory(o, p) : observeNow(p);
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
      if (!view.params.confPath)
        throw new NotFoundError(`the lstack.conf of pid ${p.pid} is not readable (${view.notes.join('; ') || 'unknown reason'})`);
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
  const subject = `${p.command} (pid ${p.pid}, ${targetKey(p)})`;
  const who = { pid: p.pid, key: targetKey(p), command: p.command };
  if (o.json) writeOut(`${JSON.stringify({ schemaVersion: 1, target: who, observation, advice, diff: diff ?? null }, null, 2)}\n`, o.file);
  else writeOut(renderAdvice(advice, subject, observation, diff), o.file);
}

/** "90s", "30m", "24h", "7d" → ms */
export function parseWindow(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  if (!m || Number(m[1]) <= 0)
    throw new UsageError(`--window must be a duration such as 90s, 30m, 24h or 7d, got ${JSON.stringify(value)}`);
  return Number(m[1]) * unit[m[2] as keyof typeof unit];
}
