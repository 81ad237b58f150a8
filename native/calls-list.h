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

#endif
