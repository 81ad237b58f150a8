// SOCK_SEQPACKET unix sockets for Node, which `net` cannot open, through libc by koffi (an FFI with
// builds for x86_64 and aarch64 inside its npm packages). One message per send and per receive;
// every wait is bounded; who is on the other end comes from the kernel (SO_PEERCRED), not from
// anything the peer says. Loaded only by the commands that talk to a socket.

import koffi from 'koffi';
import { constants } from 'node:os';

// Linux values, the same on x86_64 and aarch64 (asm-generic).
const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const POLLIN = 0x1;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const SUN_PATH_MAX = 108;
/** DPDK telemetry replies stay under 16 KiB; a larger message is reported, not cut silently. */
const MAX_MESSAGE = 64 * 1024;

const libc = koffi.load('libc.so.6');
const c = {
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  connect: libc.func('int connect(int fd, const void *addr, uint32_t len)'),
  bind: libc.func('int bind(int fd, const void *addr, uint32_t len)'),
  listen: libc.func('int listen(int fd, int backlog)'),
  accept4: libc.func('int accept4(int fd, void *addr, void *len, int flags)'),
  send: libc.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
  recv: libc.func('intptr_t recv(int fd, void *buf, size_t len, int flags)'),
  poll: libc.func('int poll(void *fds, unsigned long nfds, int timeout)'),
  getsockopt: libc.func('int getsockopt(int fd, int level, int name, void *val, _Inout_ uint32_t *len)'),
  close: libc.func('int close(int fd)'),
};

const errnoNames = new Map(Object.entries(constants.errno).map(([name, no]) => [no, name]));

export interface SystemCallError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

function systemError(syscall: string, what: string): SystemCallError {
  const errno = koffi.errno();
  const code = errnoNames.get(errno) ?? `errno ${errno}`;
  return Object.assign(new Error(`${syscall} ${what}: ${code}`), { code, errno, syscall });
}

function socketAddress(path: string): Buffer {
  const bytes = Buffer.from(path);
  if (bytes.length >= SUN_PATH_MAX) throw Object.assign(new Error(`socket path too long: ${path}`), { code: 'ENAMETOOLONG' });
  const addr = Buffer.alloc(2 + bytes.length + 1);
  addr.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return addr;
}

function newSocket(path: string): number {
  const fd = c.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) throw systemError('socket', path);
  return fd;
}

/**
 * A local telemetry thread answers within tens of microseconds: waiting that long in poll() costs
 * less than a thread-pool hop. A slower peer is waited for off the event loop.
 */
const BLOCKING_WAIT_MS = 2;

function pollFds(fd: number): Buffer {
  const fds = Buffer.alloc(8);
  fds.writeInt32LE(fd, 0);
  fds.writeInt16LE(POLLIN, 4);
  return fds;
}

/** Waits until fd is readable or the time is up: briefly in place, then off the event loop. */
function pollReadable(fd: number, timeoutMs: number): Promise<void> | undefined {
  const fds = pollFds(fd);
  if ((c.poll(fds, 1, Math.min(BLOCKING_WAIT_MS, Math.max(0, Math.ceil(timeoutMs)))) as number) !== 0) return undefined;
  if (timeoutMs <= BLOCKING_WAIT_MS) return undefined;
  return new Promise((resolve) => c.poll.async(fds, 1, Math.max(0, Math.ceil(timeoutMs - BLOCKING_WAIT_MS)), () => resolve()));
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export type Received = Buffer | 'closed' | 'timeout';

export interface SeqpacketSocket {
  readonly fd: number;
  /** The peer as the kernel recorded it at connect time. */
  peer(): PeerCredentials;
  send(message: Buffer): void;
  /** The next message, 'closed' when the peer has gone, 'timeout' when none came in time. */
  receive(timeoutMs: number): Promise<Received>;
  /** The peer has closed its end (its process exited), seen without waiting. */
  hungUp(): boolean;
  /** Drops messages already waiting (a reply that came after its command timed out); returns how many. */
  discardPending(): number;
  close(): void;
}

function wrap(fd: number, what: string): SeqpacketSocket {
  const buf = Buffer.alloc(MAX_MESSAGE);
  let polling = 0;
  let closeWanted = false;
  let closed = false;
  const reallyClose = () => {
    if (closed) return;
    closed = true;
    c.close(fd);
  };

  /** One message if one is waiting, else undefined. */
  const tryReceive = (): Buffer | 'closed' | undefined => {
    if (closeWanted) return 'closed';
    const n = Number(c.recv(fd, buf, buf.length, MSG_DONTWAIT | MSG_TRUNC));
    if (n > buf.length) throw Object.assign(new Error(`${what}: a message of ${n} bytes exceeds ${buf.length}`), { code: 'EMSGSIZE' });
    if (n > 0) return Buffer.from(buf.subarray(0, n));
    if (n === 0) return 'closed';
    const errno = koffi.errno();
    if (errno === constants.errno.EAGAIN || errno === constants.errno.EINTR) return undefined;
    if (errno === constants.errno.ECONNRESET) return 'closed';
    throw systemError('recv', what);
  };

  return {
    fd,
    peer() {
      const cred = Buffer.alloc(12);
      if ((c.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, [cred.length]) as number) !== 0) throw systemError('getsockopt', what);
      return { pid: cred.readInt32LE(0), uid: cred.readUInt32LE(4), gid: cred.readUInt32LE(8) };
    },
    send(message) {
      if (closeWanted) throw Object.assign(new Error(`${what}: socket closed`), { code: 'EBADF' });
      const n = Number(c.send(fd, message, message.length, MSG_DONTWAIT | MSG_NOSIGNAL));
      if (n !== message.length) throw systemError('send', what);
    },
    async receive(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const got = tryReceive();
        if (got !== undefined) return got;
        const left = deadline - performance.now();
        if (left <= 0) return 'timeout';
        const wait = pollReadable(fd, left);
        if (!wait) continue;
        polling++;
        try {
          await wait;
        } finally {
          polling--;
          // close() during a wait: the descriptor is released once no thread polls it.
          if (closeWanted && polling === 0) reallyClose();
        }
      }
    },
    hungUp() {
      if (closeWanted) return true;
      const fds = pollFds(fd);
      if ((c.poll(fds, 1, 0) as number) < 0) return true;
      return (fds.readInt16LE(6) & (POLLHUP | POLLERR)) !== 0;
    },
    discardPending() {
      let dropped = 0;
      while (typeof tryReceive() === 'object') dropped++;
      return dropped;
    },
    close() {
      closeWanted = true;
      if (polling === 0) reallyClose();
    },
  };
}

/** Connects without blocking: a unix socket connect either completes or fails at once. */
export function connectSeqpacket(path: string): SeqpacketSocket {
  const fd = newSocket(path);
  const addr = socketAddress(path);
  if ((c.connect(fd, addr, addr.length) as number) !== 0) {
    const err = systemError('connect', path);
    c.close(fd);
    throw err;
  }
  return wrap(fd, path);
}

export interface SeqpacketServer {
  /** The next connection, or undefined when none came in time. */
  accept(timeoutMs: number): Promise<SeqpacketSocket | undefined>;
  close(): void;
}

/** A listening socket, for tests that play a DPDK process. */
export function listenSeqpacket(path: string): SeqpacketServer {
  const fd = newSocket(path);
  const addr = socketAddress(path);
  if ((c.bind(fd, addr, addr.length) as number) !== 0 || (c.listen(fd, 16) as number) !== 0) {
    const err = systemError('bind', path);
    c.close(fd);
    throw err;
  }
  let open = true;
  let polling = 0;
  return {
    async accept(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (open) {
        const conn = c.accept4(fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC) as number;
        if (conn >= 0) return wrap(conn, `${path} (accepted)`);
        const errno = koffi.errno();
        if (errno !== constants.errno.EAGAIN && errno !== constants.errno.EINTR) throw systemError('accept', path);
        const left = deadline - performance.now();
        if (left <= 0) return undefined;
        const wait = pollReadable(fd, Math.min(left, 100));
        if (!wait) continue;
        polling++;
        await wait;
        if (--polling === 0 && !open) c.close(fd);
      }
      return undefined;
    },
    close() {
      if (!open) return;
      open = false;
      if (polling === 0) c.close(fd);
    },
  };
}
