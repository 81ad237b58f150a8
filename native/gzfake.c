/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gzfake: stands in for liblstack.so behind libgzmem.so in tests,
 *   LD_PRELOAD="libgzmem.so libgzfake.so" callcount ...
 * It interposes the same calls, counts each per thread (as liblstack.so handles them), and hands
 * them on to libc, so a test can check that libgzmem forwards every call to the library behind it,
 * once, and that both count the same. gzfake_thread_calls() tells its count for a thread.
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "calls-list.h"

#define GF_NAMES(X) GZMEM_CALLS(X)

#define GF_ENUM(n) GF_##n,
enum gf_call { GF_NAMES(GF_ENUM) GF_NB };
#define GF_STR(n) #n,
static const char * const gf_names[GF_NB] = { GF_NAMES(GF_STR) };

#define GF_THREADS 256
static struct {
	pid_t tid;
	uint64_t calls[GF_NB];
} g_threads[GF_THREADS];
static uint32_t g_nb;
static __thread int t_idx = -1;

static void
gf_count(enum gf_call c)
{
	int saved = errno;

	if (t_idx < 0) {
		uint32_t i = __atomic_fetch_add(&g_nb, 1, __ATOMIC_RELAXED);

		if (i >= GF_THREADS)
			return;
		g_threads[i].tid = (pid_t)syscall(SYS_gettid);
		t_idx = (int)i;
	}
	g_threads[t_idx].calls[c]++;
	errno = saved;
}

int
gzfake_thread_calls(pid_t tid, const char *call, uint64_t *calls)
{
	uint32_t i, n = __atomic_load_n(&g_nb, __ATOMIC_RELAXED);
	int c;

	for (c = 0; c < GF_NB; c++)
		if (strcmp(gf_names[c], call) == 0)
			break;
	if (c == GF_NB)
		return -1;
	for (i = 0; i < n && i < GF_THREADS; i++)
		if (g_threads[i].tid == tid) {
			*calls = g_threads[i].calls[c];
			return 0;
		}
	*calls = 0;
	return 0;
}

#define GF_NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))
/* Counts, then calls libc's definition with the same arguments. */
#define GF(ret, name, params, args) \
	ret name params \
	{ \
		gf_count(GF_##name); \
		return GF_NEXT(name) args; \
	}

GF(int, socket, (int d, int t, int p), (d, t, p))
GF(int, bind, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l))
GF(int, listen, (int fd, int b), (fd, b))
GF(int, accept, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
GF(int, accept4, (int fd, struct sockaddr *a, socklen_t *l, int f), (fd, a, l, f))
GF(int, connect, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l))
GF(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))
GF(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
GF(ssize_t, readv, (int fd, const struct iovec *v, int n), (fd, v, n))
GF(ssize_t, writev, (int fd, const struct iovec *v, int n), (fd, v, n))
GF(ssize_t, recv, (int fd, void *b, size_t n, int f), (fd, b, n, f))
GF(ssize_t, recvfrom, (int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l), (fd, b, n, f, a, l))
GF(ssize_t, recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f))
GF(ssize_t, send, (int fd, const void *b, size_t n, int f), (fd, b, n, f))
GF(ssize_t, sendto, (int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l), (fd, b, n, f, a, l))
GF(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f), (fd, m, f))
GF(int, close, (int fd), (fd))
GF(int, shutdown, (int fd, int h), (fd, h))
GF(int, getsockopt, (int fd, int lv, int n, void *v, socklen_t *l), (fd, lv, n, v, l))
GF(int, setsockopt, (int fd, int lv, int n, const void *v, socklen_t l), (fd, lv, n, v, l))
GF(int, getsockname, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
GF(int, getpeername, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
GF(int, poll, (struct pollfd *f, nfds_t n, int t), (f, n, t))
GF(int, ppoll, (struct pollfd *f, nfds_t n, const struct timespec *t, const sigset_t *m), (f, n, t, m))
GF(int, select, (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t), (n, r, w, e, t))
GF(int, epoll_create, (int s), (s))
GF(int, epoll_create1, (int f), (f))
GF(int, epoll_ctl, (int e, int o, int fd, struct epoll_event *ev), (e, o, fd, ev))
GF(int, epoll_wait, (int e, struct epoll_event *ev, int m, int t), (e, ev, m, t))
GF(int, epoll_pwait, (int e, struct epoll_event *ev, int m, int t, const sigset_t *s), (e, ev, m, t, s))
GF(ssize_t, sendfile, (int o, int i, off_t *off, size_t n), (o, i, off, n))

int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	gf_count(GF_fcntl);
	return ((int (*)(int, int, void *))dlsym(RTLD_NEXT, "fcntl"))(fd, cmd, arg);
}

int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	gf_count(GF_ioctl);
	return ((int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl"))(fd, req, arg);
}
