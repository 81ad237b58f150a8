// Reading a running process's memory without stopping it, only inside the ranges given. Through
// process_vm_readv (libc, by koffi): many pieces in one system call, and only their bytes (a
// pool's 128 lcore caches are 1 MiB, of which 12 bytes each are read). Where that call is not
// allowed (a seccomp profile), through /proc/<pid>/mem, a piece at a time.

import { closeSync, openSync, readSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { ProtocolError, TargetGoneError } from '../errors.js';
import { errnoOf, fsError } from './files.js';

export interface MemoryRange {
  start: bigint;
  end: bigint;
}

/** Pieces of the target's memory checked against its ranges, with their iovecs made once. */
export interface Pieces {
  addresses: bigint[];
  lengths: number[];
  /** Their bytes together. */
  total: number;
  /** struct iovec[] of the pieces, for process_vm_readv. */
  iov: Buffer;
}

/** process_vm_readv(pid, local iovec[], 1, remote iovec[], count, 0), both iovec arrays as raw bytes. */
type VmRead = (pid: number, local: Buffer, remote: Buffer, count: number) => number;

/** process_vm_readv, or null where koffi or the call is missing; loaded by loadVmRead. */
let vmRead: VmRead | null | undefined;
let vmErrno: () => number = () => 0;
let addressOf: (b: Buffer) => bigint = () => 0n;

/** Loads the process_vm_readv binding once (koffi is loaded only by commands that need it). */
export async function loadVmRead(): Promise<void> {
  if (vmRead !== undefined) return;
  try {
    const koffi = (await import('koffi')).default;
    const libc = koffi.load('libc.so.6');
    // Plain pointers, no struct to convert at each call: the iovecs are built as bytes.
    const call = libc.func(
      'intptr_t process_vm_readv(int pid, void *local, unsigned long liovcnt, void *remote, unsigned long riovcnt, unsigned long flags)',
    );
    vmRead = (pid, local, remote, count) => Number(call(pid, local, 1, remote, count, 0));
    vmErrno = () => koffi.errno();
    addressOf = (b) => BigInt(koffi.address(b) as bigint | number);
  } catch {
    vmRead = null;
  }
}

/** Linux reads at most this many pieces per call (IOV_MAX). */
const IOV_MAX = 1024;

/**
 * One buffer for every read (each read overwrites the last: callers parse before they read again),
 * and its address for the one-entry iovec that points into it (0 until a call needs it).
 */
let scratch = Buffer.alloc(0);
let scratchAddress = 0n;
const localIov = Buffer.alloc(16);

export class TargetMemory {
  private memFd: number | undefined;
  private throughMem: boolean;

  constructor(
    private readonly pid: number,
    private readonly procDir: string,
    readonly ranges: readonly MemoryRange[],
    through?: 'mem',
  ) {
    this.throughMem = through === 'mem' || !vmRead;
  }

  /** How the last read was made (tests check that process_vm_readv is used where it can be). */
  get via(): 'process_vm_readv' | 'mem' {
    return this.throughMem ? 'mem' : 'process_vm_readv';
  }

  /** The pieces ([address, length]), each checked to lie inside one of the ranges. */
  prepare(list: readonly (readonly [bigint, number])[]): Pieces {
    const iov = Buffer.alloc(16 * list.length);
    let total = 0;
    list.forEach(([address, length], i) => {
      const end = address + BigInt(length);
      if (!this.ranges.some((r) => r.start <= address && end <= r.end))
        throw new ProtocolError(`0x${address.toString(16)} is outside the target's hugepage mappings`);
      iov.writeBigUInt64LE(address, 16 * i);
      iov.writeBigUInt64LE(BigInt(length), 16 * i + 8);
      total += length;
    });
    return { addresses: list.map((p) => p[0]), lengths: list.map((p) => p[1]), total, iov };
  }

  /** The pieces' bytes back to back, in a buffer the next read overwrites. */
  read(p: Pieces): Buffer {
    if (scratch.length < p.total) {
      scratch = Buffer.alloc(Math.max(p.total, 4096));
      scratchAddress = 0n;
    }
    const out = scratch.subarray(0, p.total);
    if (!this.throughMem && this.readVm(p)) return out;
    this.readMem(p, out);
    return out;
  }

  /** False when the call is not allowed here: then /proc/<pid>/mem. */
  private readVm(p: Pieces): boolean {
    let offset = 0;
    for (let first = 0; first < p.lengths.length; first += IOV_MAX) {
      const count = Math.min(IOV_MAX, p.lengths.length - first);
      let length = 0;
      for (let i = first; i < first + count; i++) length += p.lengths[i]!;
      if (scratchAddress === 0n) scratchAddress = addressOf(scratch);
      localIov.writeBigUInt64LE(scratchAddress + BigInt(offset), 0);
      localIov.writeBigUInt64LE(BigInt(length), 8);
      const n = vmRead!(this.pid, localIov, p.iov.subarray(16 * first), count);
      if (n < 0) {
        const errno = vmErrno();
        if (errno === constants.errno.EPERM || errno === constants.errno.ENOSYS) {
          this.throughMem = true;
          return false;
        }
        if (errno === constants.errno.ESRCH) throw new TargetGoneError(`process ${this.pid} exited while being read`);
        throw new ProtocolError(`cannot read target memory at 0x${p.addresses[first]!.toString(16)} (errno ${errno})`);
      }
      // A piece unmapped since maps was read ends the copy there: this read fails, the snapshot does not.
      if (n !== length) throw new ProtocolError(`short read at 0x${p.addresses[first]!.toString(16)}`);
      offset += length;
    }
    return true;
  }

  private readMem(p: Pieces, out: Buffer): void {
    if (this.memFd === undefined) {
      const path = join(this.procDir, 'mem');
      try {
        this.memFd = openSync(path, 'r');
      } catch (err) {
        throw fsError(err, path);
      }
    }
    let offset = 0;
    p.addresses.forEach((address, i) => {
      const length = p.lengths[i]!;
      const hex = `0x${address.toString(16)}`;
      let n: number;
      try {
        // Hugetlb mappings lie well inside a double's exact range (user space ends below 2^48).
        n = readSync(this.memFd!, out, offset, length, Number(address));
      } catch (err) {
        throw new ProtocolError(`cannot read target memory at ${hex} (${errnoOf(err) ?? 'error'})`);
      }
      if (n !== length) throw new ProtocolError(`short read at ${hex}`);
      offset += length;
    });
  }

  close(): void {
    if (this.memFd !== undefined) closeSync(this.memFd);
    this.memFd = undefined;
  }
}
