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


GZMEM_CALL_PROTOTYPES(GF)

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
