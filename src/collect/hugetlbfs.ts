// hugetlbfs mounts and their files, and which live processes still map or hold each file.
// A file nobody maps or holds open keeps its pages allocated: an orphan.

import { join } from 'node:path';
import { lstatSync, readdirSync } from 'node:fs';
import type { Host } from './host.js';
import { errnoOf, listDirOptional, readOptional, readLinkOptional } from './files.js';
import { PermissionError } from '../errors.js';
import { isPid } from './process.js';

export interface HugetlbfsMount {
  mountPoint: string;
  /** From the pagesize= option; undefined means the default hugepage size. */
  pageBytes?: number;
}

export interface HugetlbfsFile {
  path: string;
  mount: string;
  /** Bytes of hugepages the file holds (allocated blocks). */
  bytes: number;
  sizeBytes: number;
  /** EAL names its files `<prefix>map_<n>`; undefined for files of other programs. */
  prefix?: string;
}

const PAGE_SIZE_OPTION = /(?:^|,)pagesize=(\d+)([KMG])?/;

/** Mount points are octal-escaped in /proc/mounts (\040 for a space). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseHugetlbfsMounts(mounts: string): HugetlbfsMount[] {
  const out: HugetlbfsMount[] = [];
  for (const line of mounts.split('\n')) {
    const [, mountPoint, fsType, options] = line.split(' ');
    if (fsType !== 'hugetlbfs' || mountPoint === undefined) continue;
    const m = PAGE_SIZE_OPTION.exec(options ?? '');
    const mult = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m?.[2] ?? ''] ?? 1;
    out.push({ mountPoint: unescapeMount(mountPoint), ...(m ? { pageBytes: Number(m[1]) * mult } : {}) });
  }
  return out;
}

/** `rtemap_12` -> `rte`, `gzl1map_0_3` (single-file segments) -> `gzl1`. */
export function prefixOfHugeFile(name: string): string | undefined {
  return /^(.+?)map_\d+(?:_\d+)*$/.exec(name)?.[1];
}

export async function readHugetlbfsMounts(host: Host): Promise<HugetlbfsMount[]> {
  const text = await readOptional(join(host.procRoot, 'mounts'));
  const seen = new Set<string>();
  return parseHugetlbfsMounts(text ?? '').filter((m) => !seen.has(m.mountPoint) && seen.add(m.mountPoint));
}

export async function readHugetlbfsFiles(mounts: HugetlbfsMount[]): Promise<HugetlbfsFile[]> {
  const files: HugetlbfsFile[] = [];
  for (const mount of mounts) {
    for (const name of (await listDirOptional(mount.mountPoint)).sort()) {
      const path = join(mount.mountPoint, name);
      let st;
      try {
        st = lstatSync(path);
      } catch {
        continue; // removed meanwhile
      }
      if (!st.isFile()) continue;
      const prefix = prefixOfHugeFile(name);
      files.push({
        path,
        mount: mount.mountPoint,
        bytes: st.blocks * 512,
        sizeBytes: st.size,
        ...(prefix !== undefined ? { prefix } : {}),
      });
    }
  }
  return files;
}

export interface HugetlbfsUsers {
  /** Paths under the mounts that a live process maps or holds open, with the pids using each. */
  users: Map<string, Set<number>>;
  /** Live processes whose maps or open files could not be read: any of their files may be in use. */
  unreadable: number[];
}

export async function readHugetlbfsUsers(host: Host, mounts: HugetlbfsMount[]): Promise<HugetlbfsUsers> {
  const users = new Map<string, Set<number>>();
  const unreadable: number[] = [];
  if (mounts.length === 0) return { users, unreadable };
  const roots = mounts.map((m) => (m.mountPoint.endsWith('/') ? m.mountPoint : `${m.mountPoint}/`));
  const under = (p: string) => roots.some((r) => p.startsWith(r));
  const add = (path: string, pid: number) => {
    let set = users.get(path);
    if (!set) users.set(path, (set = new Set()));
    set.add(pid);
  };
  for (const name of await listDirOptional(host.procRoot)) {
    if (!isPid(name)) continue;
    const pid = Number(name);
    // A process that exits meanwhile uses nothing; one whose open files we may not list could use
    // any file. EAL holds an fd on every page file it uses, so the fd list is what must be readable;
    // maps adds mappings whose fd was closed (some init processes deny maps even to root).
    const denied = (err: unknown) => {
      if (err instanceof PermissionError || errnoOf(err) === 'EACCES' || errnoOf(err) === 'EPERM') unreadable.push(pid);
      return undefined;
    };
    const maps = await readOptional(join(host.procRoot, name, 'maps'));
    for (const line of (maps ?? '').split('\n')) {
      const slash = line.indexOf('/');
      if (slash < 0) continue;
      const path = line.slice(slash).replace(/ \(deleted\)$/, '');
      if (under(path)) add(path, pid);
    }
    // EAL keeps an fd per page file for its locks even where the mapping is gone.
    const fdDir = join(host.procRoot, name, 'fd');
    let fds: string[] = [];
    try {
      fds = readdirSync(fdDir);
    } catch (err) {
      denied(err);
    }
    for (const fd of fds) {
      const target = await readLinkOptional(join(fdDir, fd));
      if (target !== undefined && under(target)) add(target.replace(/ \(deleted\)$/, ''), pid);
    }
  }
  return { users, unreadable: [...new Set(unreadable)] };
}
