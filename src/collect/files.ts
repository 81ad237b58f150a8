// Reading pseudo-files whole, once, with a size cap, and turning errno into gzmem's errors.
// procfs and sysfs answer from memory in microseconds, so the reads are synchronous: a promise and a
// thread-pool hop per file cost more than the read (a snapshot opens dozens of them).

import { closeSync, existsSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { NotFoundError, PermissionError, GzmemError, ExitCode } from '../errors.js';

/** procfs files report size 0, so never size a buffer from stat: read up to a cap. */
export const DEFAULT_CAP = 64 * 1024 * 1024;

/**
 * One buffer for every read: procfs files report size 0, so readFileSync would allocate 64 KiB per
 * file, and a sampler reading a dozen files 100 times a second would churn native memory.
 */
const READ_BUFFER_BYTES = 64 * 1024;
let readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

export async function readText(path: string, cap = DEFAULT_CAP): Promise<string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    let length = 0;
    for (;;) {
      if (length === readBuffer.length) {
        if (length > cap) throw new GzmemError(`${path}: larger than ${cap} bytes`, ExitCode.runtime);
        const bigger = Buffer.allocUnsafe(readBuffer.length * 2);
        readBuffer.copy(bigger, 0, 0, length);
        readBuffer = bigger;
      }
      const n = readSync(fd, readBuffer, length, readBuffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > cap) throw new GzmemError(`${path}: larger than ${cap} bytes`, ExitCode.runtime);
    return readBuffer.toString('utf8', 0, length);
  } catch (err) {
    throw fsError(err, path);
  } finally {
    closeSync(fd);
    // A large file (numa_maps of a big process) does not keep its buffer.
    if (readBuffer.length > 16 * READ_BUFFER_BYTES) readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  }
}

/**
 * A file's lines, a few KiB at a time, each batch of complete lines given to `take` until it says
 * it has enough, or to the file's end. A procfs file made line by line (maps, numa_maps) is then
 * made only that far: the kernel walks no further mappings than the lines read.
 */
export async function readLinesUntil(path: string, take: (lines: string) => boolean, cap = DEFAULT_CAP): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  const chunk = Buffer.allocUnsafe(8192);
  let length = 0;
  let partial = '';
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) {
        if (partial.length > 0) take(partial);
        return;
      }
      length += n;
      if (length > cap) throw new GzmemError(`${path}: larger than ${cap} bytes`, ExitCode.runtime);
      const got = partial + chunk.toString('utf8', 0, n);
      const end = got.lastIndexOf('\n') + 1;
      partial = got.slice(end);
      if (end > 0 && take(got.slice(0, end))) return;
    }
  } catch (err) {
    throw fsError(err, path);
  } finally {
    closeSync(fd);
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
