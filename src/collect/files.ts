// Reading pseudo-files whole, once, with a size cap, and turning errno into gzmem's errors.
// procfs and sysfs answer from memory in microseconds, so the reads are synchronous: a promise and a
// thread-pool hop per file cost more than the read (a snapshot opens dozens of them).

import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { NotFoundError, PermissionError, GzmemError, ExitCode } from '../errors.js';

/** procfs files report size 0, so never size a buffer from stat: read up to a cap. */
export const DEFAULT_CAP = 64 * 1024 * 1024;

export async function readText(path: string, cap = DEFAULT_CAP): Promise<string> {
  try {
    const buf = readFileSync(path);
    if (buf.length > cap) throw new GzmemError(`${path}: larger than ${cap} bytes`, ExitCode.runtime);
    return buf.toString('utf8');
  } catch (err) {
    throw fsError(err, path);
  }
}

/** Like readText but absent (or unreadable) is undefined, never an empty string. */
export async function readOptional(path: string, cap = DEFAULT_CAP): Promise<string | undefined> {
  try {
    return await readText(path, cap);
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof PermissionError) return undefined;
    throw err;
  }
}

export async function listDirOptional(path: string): Promise<string[]> {
  // A thrown error costs more than the lookup: scans ask for directories that mostly do not exist.
  if (!existsSync(path)) return [];
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

export async function readLinkOptional(path: string): Promise<string | undefined> {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

export function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export function fsError(err: unknown, path: string): Error {
  if (err instanceof GzmemError) return err;
  switch (errnoOf(err)) {
    case 'ENOENT':
    case 'ESRCH':
      return new NotFoundError(`${path}: no such file`);
    case 'EACCES':
    case 'EPERM':
      return new PermissionError(`${path}: permission denied (run gzmem as the target's user or as root)`);
    default:
      return new GzmemError(`${path}: ${err instanceof Error ? err.message : String(err)}`, ExitCode.runtime);
  }
}
