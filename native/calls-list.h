/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The POSIX calls libgzmem counts, in the order of their counters: X(name) for each. Shared by the
 * preload (calls.c) and the test programs that check its counts (callcount.c, gzfake.c).
 */

#ifndef GZMEM_CALLS_LIST_H
#define GZMEM_CALLS_LIST_H

#define GZMEM_CALLS(X) \
	X(socket) X(bind) X(listen) X(accept) X(accept4) X(connect) \
	X(read) X(write) X(readv) X(writev) X(recv) X(recvfrom) X(recvmsg) \
	X(send) X(sendto) X(sendmsg) X(close) X(shutdown) X(fcntl) X(ioctl) \
	X(getsockopt) X(setsockopt) X(getsockname) X(getpeername) \
	X(poll) X(ppoll) X(select) X(epoll_create) X(epoll_create1) \
	X(epoll_ctl) X(epoll_wait) X(epoll_pwait) X(sendfile)

/*
 * The calls with a fixed prototype, X(return type, name, (parameters), (arguments)), for the
 * wrappers of the preload and of its test stand-in (gzfake.c); the compiler checks each against
 * libc's declaration. fcntl and ioctl (variadic) are written by hand.
 */
#define GZMEM_CALL_PROTOTYPES(X) \
	X(int, socket, (int domain, int type, int protocol), (domain, type, protocol)) \
	X(int, bind, (int fd, const struct sockaddr *addr, socklen_t len), (fd, addr, len)) \
	X(int, listen, (int fd, int backlog), (fd, backlog)) \
	X(int, accept, (int fd, struct sockaddr *addr, socklen_t *len), (fd, addr, len)) \
	X(int, accept4, (int fd, struct sockaddr *addr, socklen_t *len, int flags), (fd, addr, len, flags)) \
	X(int, connect, (int fd, const struct sockaddr *addr, socklen_t len), (fd, addr, len)) \
	X(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n)) \
	X(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n)) \
	X(ssize_t, readv, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt)) \
	X(ssize_t, writev, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt)) \
	X(ssize_t, recv, (int fd, void *buf, size_t n, int flags), (fd, buf, n, flags)) \
	X(ssize_t, recvfrom, (int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *len), (fd, buf, n, flags, addr, len)) \
	X(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags), (fd, msg, flags)) \
	X(ssize_t, send, (int fd, const void *buf, size_t n, int flags), (fd, buf, n, flags)) \
	X(ssize_t, sendto, (int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len), (fd, buf, n, flags, addr, len)) \
	X(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags), (fd, msg, flags)) \
	X(int, close, (int fd), (fd)) \
	X(int, shutdown, (int fd, int how), (fd, how)) \
	X(int, getsockopt, (int fd, int level, int name, void *val, socklen_t *len), (fd, level, name, val, len)) \
	X(int, setsockopt, (int fd, int level, int name, const void *val, socklen_t len), (fd, level, name, val, len)) \
	X(int, getsockname, (int fd, struct sockaddr *addr, socklen_t *len), (fd, addr, len)) \
	X(int, getpeername, (int fd, struct sockaddr *addr, socklen_t *len), (fd, addr, len)) \
	X(int, poll, (struct pollfd *fds, nfds_t n, int timeout), (fds, n, timeout)) \
	X(int, ppoll, (struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask), (fds, n, timeout, mask)) \
	X(int, select, (int n, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *timeout), (n, rd, wr, ex, timeout)) \
	X(int, epoll_create, (int size), (size)) \
	X(int, epoll_create1, (int flags), (flags)) \
	X(int, epoll_ctl, (int epfd, int op, int fd, struct epoll_event *ev), (epfd, op, fd, ev)) \
	X(int, epoll_wait, (int epfd, struct epoll_event *evs, int max, int timeout), (epfd, evs, max, timeout)) \
	X(int, epoll_pwait, (int epfd, struct epoll_event *evs, int max, int timeout, const sigset_t *mask), (epfd, evs, max, timeout, mask)) \
	X(ssize_t, sendfile, (int out, int in, off_t *off, size_t n), (out, in, off, n))

#endif
