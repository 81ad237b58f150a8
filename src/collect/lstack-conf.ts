// gazelle's lstack.conf for one process: its path comes from LSTACK_CONF_PATH in the process's
// environment (/proc/<pid>/environ), else gazelle's default.

import { join } from 'node:path';
import type { Host } from './host.js';
import { readOptional, readText } from './files.js';
import { parseLibconfig, type ConfigGroup } from './libconfig.js';
import { GzmemError, errorMessage } from '../errors.js';

export const DEFAULT_LSTACK_CONF = '/etc/gazelle/lstack.conf';

export interface LstackConfReading {
  path: string;
  config?: ConfigGroup;
  /** Why there is no config (absent, unreadable, malformed). */
  error?: string;
}

export function parseEnviron(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The environment says whether liblstack is preloaded, and where its config is. */
export async function readEnviron(host: Host, pid: number): Promise<Record<string, string> | undefined> {
  const text = await readOptional(join(host.procRoot, String(pid), 'environ'));
  return text === undefined ? undefined : parseEnviron(text);
}

export async function readLstackConf(path: string): Promise<LstackConfReading> {
  try {
    return { path, config: parseLibconfig(await readText(path, 1024 * 1024), path) };
  } catch (err) {
    if (err instanceof GzmemError) return { path, error: err.message };
    return { path, error: errorMessage(err) };
  }
}
