/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libgzmem's POSIX call counters. gazelle serves an application's socket calls in user space
 * (liblstack.so interposes them), so the kernel's tools no longer see them; this part of the
 * preload counts them per thread, on the way in:
 *
 *   LD_PRELOAD="libgzmem.so liblstack.so" app
 *
 * Each wrapper forwards to the next definition of its symbol (dlsym(RTLD_NEXT): liblstack.so
 * when it follows, else libc) and counts the call, and its failure when it returns -1, in the
 * calling thread's own slot: no lock, no allocation, no system call and errno untouched on the
 * call path. A thread claims a slot at its first call with one atomic add; threads past the slot
 * table share one overflow slot (atomic adds). Telemetry threads read the slots: /gzmem/calls.
 * GZMEM_CALLS=off forwards without counting; GZMEM_CALLS_DUMP=<file> writes the counts at exit.
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "calls.h"
#include "calls-list.h"

#if RTE_VERSION >= RTE_VERSION_NUM(23, 3, 0, 0)
#define gzc_array_u64 rte_tel_data_add_array_uint
#define gzc_dict_u64 rte_tel_data_add_dict_uint
#else
#define gzc_array_u64 rte_tel_data_add_array_u64
#define gzc_dict_u64 rte_tel_data_add_dict_u64
#endif

#define GZC_CALLS(X) GZMEM_CALLS(X)

#define GZC_ENUM(n) GZC_##n,
enum gzc_call { GZC_CALLS(GZC_ENUM) GZC_NB };

#define GZC_NAME(n) #n,
static const char * const gzc_names[GZC_NB] = { GZC_CALLS(GZC_NAME) };

/* Threads with a slot of their own; later ones share the overflow slot. */
#ifndef GZC_THREADS
#define GZC_THREADS 1024u
#endif
/* A page's rows stay under the telemetry reply cap (16 KiB) with room for the header. */
#define GZC_REPLY_BUDGET (16384u - 1024u)
#define GZC_PAGE_ROWS 400u

struct gzc_slot {
	int32_t tid;		/* 0 for the overflow slot */
	uint32_t used;		/* set (release) once tid is written */
	uint64_t calls[GZC_NB];
	uint64_t errors[GZC_NB];
} __attribute__((aligned(64)));

static struct gzc_slot g_slots[GZC_THREADS + 1];
static uint32_t g_claimed;	/* atomic: slots handed out, may pass GZC_THREADS */
static bool g_off;		/* GZMEM_CALLS=off, read once by the constructor */
static __thread struct gzc_slot *t_slot __attribute__((tls_model("initial-exec")));

static void *g_next[GZC_NB];

/* The next definition of `sym`, looked up (errno kept) when the constructor has not yet. */
static __attribute__((noinline)) void *
gzc_lookup(void **slot, const char *sym)
{
	void *fn;
	int saved;

	saved = errno;
	fn = dlsym(RTLD_NEXT, sym);
	if (fn != NULL)
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	errno = saved;
	return fn;
}

/* The next definition of `sym`: resolved by the constructor, so one load on the call path. */
static inline void *
gzc_resolve(void **slot, const char *sym)
{
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	return __builtin_expect(fn != NULL, 1) ? fn : gzc_lookup(slot, sym);
}

static inline void *
gzc_next(enum gzc_call c)
{
	return gzc_resolve(&g_next[c], gzc_names[c]);
}

/* A thread's first counted call: its slot, kept off the call path's registers. */
static __attribute__((noinline, cold)) struct gzc_slot *
gzc_claim(void)
{
	struct gzc_slot *s;
	uint32_t i;

	i = __atomic_fetch_add(&g_claimed, 1, __ATOMIC_RELAXED);
	if (i < GZC_THREADS) {
		s = &g_slots[i];
		/* gettid never fails, so errno stays as the call left it */
		s->tid = (int32_t)syscall(SYS_gettid);
		__atomic_store_n(&s->used, 1, __ATOMIC_RELEASE);
	} else {
		s = &g_slots[GZC_THREADS];
	}
	t_slot = s;
	return s;
}

static inline struct gzc_slot *
gzc_slot(void)
{
	struct gzc_slot *s = t_slot;

	return __builtin_expect(s != NULL, 1) ? s : gzc_claim();
}

static inline void
gzc_bump(uint64_t *v, bool shared)
{
	/* a slot has one writer: a plain increment, seen whole by 64-bit readers */
	if (shared)
		__atomic_fetch_add(v, 1, __ATOMIC_RELAXED);
	else
		__atomic_store_n(v, __atomic_load_n(v, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* Before the call: one more call in this thread's slot (claimed at its first call). */
static inline void
gzc_enter(enum gzc_call c)
{
	struct gzc_slot *s = gzc_slot();

	gzc_bump(&s->calls[c], s == &g_slots[GZC_THREADS]);
}

/* After a call that returned -1: nothing is held across the call but its result. */
static inline void
gzc_failed(enum gzc_call c)
{
	struct gzc_slot *s = t_slot;

	gzc_bump(&s->errors[c], s == &g_slots[GZC_THREADS]);
}

/*
 * A wrapper's body: counting off, a tail call; else count, call, count a failure. No definition
 * behind the preload (not even libc's) fails with ENOSYS, counted.
 */
#define GZC_FORWARD(fail, call, type, ...) do { \
		__typeof__(type) fn_ = (__typeof__(type))gzc_next(GZC_##call); \
		__typeof__(fn_(__VA_ARGS__)) r_; \
		if (__builtin_expect(g_off, 0) && fn_ != NULL) \
			return fn_(__VA_ARGS__); \
		gzc_enter(GZC_##call); \
		if (fn_ == NULL) { \
			errno = ENOSYS; \
			r_ = fail; \
		} else { \
			r_ = fn_(__VA_ARGS__); \
		} \
		if (r_ == fail) \
			gzc_failed(GZC_##call); \
		return r_; \
	} while (0)

int
socket(int domain, int type, int protocol)
{
	GZC_FORWARD(-1, socket, int (*)(int, int, int), domain, type, protocol);
}

int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	GZC_FORWARD(-1, bind, int (*)(int, const struct sockaddr *, socklen_t), fd, addr, len);
}

int
listen(int fd, int backlog)
{
	GZC_FORWARD(-1, listen, int (*)(int, int), fd, backlog);
}

int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	GZC_FORWARD(-1, accept, int (*)(int, struct sockaddr *, socklen_t *), fd, addr, len);
}

int
accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	GZC_FORWARD(-1, accept4, int (*)(int, struct sockaddr *, socklen_t *, int), fd, addr, len, flags);
}

int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	GZC_FORWARD(-1, connect, int (*)(int, const struct sockaddr *, socklen_t), fd, addr, len);
}

ssize_t
read(int fd, void *buf, size_t n)
{
	GZC_FORWARD(-1, read, ssize_t (*)(int, void *, size_t), fd, buf, n);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	GZC_FORWARD(-1, write, ssize_t (*)(int, const void *, size_t), fd, buf, n);
}

ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	GZC_FORWARD(-1, readv, ssize_t (*)(int, const struct iovec *, int), fd, iov, cnt);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	GZC_FORWARD(-1, writev, ssize_t (*)(int, const struct iovec *, int), fd, iov, cnt);
}

ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	GZC_FORWARD(-1, recv, ssize_t (*)(int, void *, size_t, int), fd, buf, n, flags);
}

ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *len)
{
	GZC_FORWARD(-1, recvfrom, ssize_t (*)(int, void *, size_t, int, struct sockaddr *, socklen_t *),
		    fd, buf, n, flags, addr, len);
}

ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	GZC_FORWARD(-1, recvmsg, ssize_t (*)(int, struct msghdr *, int), fd, msg, flags);
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	GZC_FORWARD(-1, send, ssize_t (*)(int, const void *, size_t, int), fd, buf, n, flags);
}

ssize_t
sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len)
{
	GZC_FORWARD(-1, sendto, ssize_t (*)(int, const void *, size_t, int, const struct sockaddr *, socklen_t),
		    fd, buf, n, flags, addr, len);
}

ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	GZC_FORWARD(-1, sendmsg, ssize_t (*)(int, const struct msghdr *, int), fd, msg, flags);
}

int
close(int fd)
{
	GZC_FORWARD(-1, close, int (*)(int), fd);
}

int
shutdown(int fd, int how)
{
	GZC_FORWARD(-1, shutdown, int (*)(int, int), fd, how);
}

/* fcntl and ioctl take one optional argument: int or pointer, passed on as a pointer, as libc does. */
int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	GZC_FORWARD(-1, fcntl, int (*)(int, int, void *), fd, cmd, arg);
}

int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	GZC_FORWARD(-1, ioctl, int (*)(int, unsigned long, void *), fd, req, arg);
}

int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	GZC_FORWARD(-1, getsockopt, int (*)(int, int, int, void *, socklen_t *), fd, level, name, val, len);
}

int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	GZC_FORWARD(-1, setsockopt, int (*)(int, int, int, const void *, socklen_t), fd, level, name, val, len);
}

int
getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	GZC_FORWARD(-1, getsockname, int (*)(int, struct sockaddr *, socklen_t *), fd, addr, len);
}

int
getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	GZC_FORWARD(-1, getpeername, int (*)(int, struct sockaddr *, socklen_t *), fd, addr, len);
}

int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	GZC_FORWARD(-1, poll, int (*)(struct pollfd *, nfds_t, int), fds, n, timeout);
}

int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
	GZC_FORWARD(-1, ppoll, int (*)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *),
		    fds, n, timeout, mask);
}

int
select(int n, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *timeout)
{
	GZC_FORWARD(-1, select, int (*)(int, fd_set *, fd_set *, fd_set *, struct timeval *), n, rd, wr, ex, timeout);
}

int
epoll_create(int size)
{
	GZC_FORWARD(-1, epoll_create, int (*)(int), size);
}

int
epoll_create1(int flags)
{
	GZC_FORWARD(-1, epoll_create1, int (*)(int), flags);
}

int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	GZC_FORWARD(-1, epoll_ctl, int (*)(int, int, int, struct epoll_event *), epfd, op, fd, ev);
}

int
epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	GZC_FORWARD(-1, epoll_wait, int (*)(int, struct epoll_event *, int, int), epfd, evs, max, timeout);
}

int
epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout, const sigset_t *mask)
{
	GZC_FORWARD(-1, epoll_pwait, int (*)(int, struct epoll_event *, int, int, const sigset_t *),
		    epfd, evs, max, timeout, mask);
}

ssize_t
sendfile(int out, int in, off_t *off, size_t n)
{
	GZC_FORWARD(-1, sendfile, ssize_t (*)(int, int, off_t *, size_t), out, in, off, n);
}

/*
 * Programs built with _FILE_OFFSET_BITS=64 (MariaDB is) call fcntl64 and sendfile64: the same
 * calls, counted under their plain names, forwarded to the next definition of the 64 name.
 */
static void *g_next_fcntl64;
static void *g_next_sendfile64;

int
fcntl64(int fd, int cmd, ...)
{
	int (*fn)(int, int, void *) = (int (*)(int, int, void *))gzc_resolve(&g_next_fcntl64, "fcntl64");
	va_list ap;
	void *arg;
	int r;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (g_off && fn != NULL)
		return fn(fd, cmd, arg);
	gzc_enter(GZC_fcntl);
	if (fn == NULL) {
		errno = ENOSYS;
		r = -1;
	} else {
		r = fn(fd, cmd, arg);
	}
	if (r == -1)
		gzc_failed(GZC_fcntl);
	return r;
}

ssize_t
sendfile64(int out, int in, off_t *off, size_t n)
{
	ssize_t (*fn)(int, int, off_t *, size_t) =
		(ssize_t (*)(int, int, off_t *, size_t))gzc_resolve(&g_next_sendfile64, "sendfile64");
	ssize_t r;

	if (g_off && fn != NULL)
		return fn(out, in, off, n);
	gzc_enter(GZC_sendfile);
	if (fn == NULL) {
		errno = ENOSYS;
		r = -1;
	} else {
		r = fn(out, in, off, n);
	}
	if (r == -1)
		gzc_failed(GZC_sendfile);
	return r;
}

/* ---- reading ---- */

static uint32_t
gzc_digits(uint64_t v)
{
	uint32_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/*
 * /gzmem/calls,<start>: one row per thread and call that was made, from row <start> on (rows are
 * numbered slot x calls + call, so a page resumes where the last stopped): columns tid (0: threads
 * past the slot table, together), call, calls, errors; "next" is where the next page starts, -1
 * after the last; "total" the threads counted.
 */
int
gzm_cmd_calls(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	static const char * const keys[4] = { "tid", "call", "calls", "errors" };
	struct rte_tel_data *arr[4];
	uint32_t claimed, slots, start = 0, row, shown = 0, bytes = 0, i;
	char *end;
	long v;

	if (params != NULL && *params != '\0') {
		errno = 0;
		v = strtol(params, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0 || v > INT32_MAX)
			return -EINVAL;
		start = (uint32_t)v;
	}
	for (i = 0; i < 4; i++) {
		arr[i] = rte_tel_data_alloc();
		if (arr[i] == NULL) {
			while (i > 0)
				rte_tel_data_free(arr[--i]);
			return -ENOMEM;
		}
		rte_tel_data_start_array(arr[i], i == 1 ? RTE_TEL_STRING_VAL : RTE_TEL_U64_VAL);
	}
	claimed = __atomic_load_n(&g_claimed, __ATOMIC_RELAXED);
	slots = RTE_MIN(claimed, GZC_THREADS);
	/* the overflow slot comes last, as row numbers past the named slots */
	for (row = start; row < (GZC_THREADS + 1) * GZC_NB; row++) {
		uint32_t slot = row / GZC_NB, c = row % GZC_NB;
		const struct gzc_slot *s;
		uint64_t calls, errors;
		uint32_t cost;

		if (slot < GZC_THREADS && slot >= slots) {
			row = GZC_THREADS * GZC_NB - 1;	/* on to the overflow slot */
			continue;
		}
		s = &g_slots[slot];
		if (slot < GZC_THREADS && !__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
			continue;
		calls = __atomic_load_n(&s->calls[c], __ATOMIC_RELAXED);
		if (calls == 0)
			continue;
		errors = __atomic_load_n(&s->errors[c], __ATOMIC_RELAXED);
		cost = 12 + gzc_digits((uint64_t)s->tid) + (uint32_t)strlen(gzc_names[c]) +
			gzc_digits(calls) + gzc_digits(errors);
		if (shown == GZC_PAGE_ROWS || bytes + cost > GZC_REPLY_BUDGET)
			break;
		bytes += cost;
		shown++;
		gzc_array_u64(arr[0], (uint64_t)(uint32_t)s->tid);
		rte_tel_data_add_array_string(arr[1], gzc_names[c]);
		gzc_array_u64(arr[2], calls);
		gzc_array_u64(arr[3], errors);
	}
	rte_tel_data_start_dict(d);
	gzc_dict_u64(d, "total", claimed);	/* threads counted */
	gzc_dict_u64(d, "counting", g_off ? 0 : 1);
	gzc_dict_u64(d, "start", start);
	rte_tel_data_add_dict_int(d, "next", row < (GZC_THREADS + 1) * GZC_NB ? (int)row : -1);
	for (i = 0; i < 4; i++)
		if (rte_tel_data_add_dict_container(d, keys[i], arr[i], 0) != 0)
			rte_tel_data_free(arr[i]);
	return 0;
}

/*
 * GZMEM_CALLS_DUMP=<file>: at exit, every thread's counts as JSON lines, for a process that never
 * starts DPDK (so has no telemetry socket), such as a database measured without gazelle.
 */
static void __attribute__((destructor))
gzc_dump(void)
{
	const char *path = getenv("GZMEM_CALLS_DUMP");
	uint32_t i, c, slots;
	FILE *f;

	if (path == NULL || g_off)
		return;
	f = fopen(path, "we");
	if (f == NULL)
		return;
	slots = RTE_MIN(__atomic_load_n(&g_claimed, __ATOMIC_RELAXED), GZC_THREADS);
	for (i = 0; i <= GZC_THREADS; i++) {
		const struct gzc_slot *s = &g_slots[i];

		if (i < GZC_THREADS && (i >= slots || !__atomic_load_n(&s->used, __ATOMIC_ACQUIRE)))
			continue;
		for (c = 0; c < GZC_NB; c++)
			if (s->calls[c] != 0)
				fprintf(f, "{\"tid\":%d,\"call\":\"%s\",\"calls\":%" PRIu64 ",\"errors\":%" PRIu64 "}\n",
					(int)s->tid, gzc_names[c], s->calls[c], s->errors[c]);
	}
	fclose(f);
}

void
gzm_calls_init(void)
{
	const char *v = getenv("GZMEM_CALLS");
	unsigned int c;

	g_off = v != NULL && strcmp(v, "off") == 0;
	for (c = 0; c < GZC_NB; c++)
		(void)gzc_next((enum gzc_call)c);
	(void)gzc_resolve(&g_next_fcntl64, "fcntl64");
	(void)gzc_resolve(&g_next_sendfile64, "sendfile64");
}
