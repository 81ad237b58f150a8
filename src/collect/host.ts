// Where a collector finds the kernel's and DPDK's files: the live machine, or a captured fixture tree.

import { join } from 'node:path';

export interface Host {
  /** Root of procfs, '/proc' on a live machine. */
  procRoot: string;
  /** Root of sysfs, '/sys' on a live machine. */
  sysRoot: string;
  /** Directories that may hold DPDK runtime dirs (each containing <prefix>/dpdk_telemetry.v2). */
  dpdkRuntimeDirs: string[];
  now(): Date;
}

/**
 * EAL puts its runtime dir under /var/run for root, else $XDG_RUNTIME_DIR or /tmp, and
 * $RUNTIME_DIRECTORY overrides both (eal_create_runtime_dir). A scan of the host looks in all of
 * them, for every user, because the observer need not be the user that started the target.
 */
export function liveDpdkRuntimeDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  // GZMEM_DPDK_RUNTIME_DIRS (colon-separated) replaces the scan list, e.g. for containers.
  if (env.GZMEM_DPDK_RUNTIME_DIRS) return env.GZMEM_DPDK_RUNTIME_DIRS.split(':').filter((d) => d.length > 0);
  const dirs = ['/var/run/dpdk', '/run/dpdk', '/tmp/dpdk'];
  if (env.XDG_RUNTIME_DIR) dirs.push(join(env.XDG_RUNTIME_DIR, 'dpdk'));
  if (env.RUNTIME_DIRECTORY) dirs.push(join(env.RUNTIME_DIRECTORY, 'dpdk'));
  return dirs;
}

export function liveHost(): Host {
  return {
    procRoot: '/proc',
    sysRoot: '/sys',
    dpdkRuntimeDirs: liveDpdkRuntimeDirs(),
    now: () => new Date(),
  };
}
