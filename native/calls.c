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
#include <time.h>
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

/*
 * GZMEM_CALLS_LATENCY=on: each call's time in log2 buckets per thread: bucket 0 under 128 ns,
 * bucket b under 2^(b+7) ns, the last one 4.2 ms and more. Kept apart from the slots, so pages of
 * it are touched only when it is on.
 */
#define GZC_BUCKETS 17u
static uint64_t g_hist[GZC_THREADS + 1][GZC_NB][GZC_BUCKETS];
static uint32_t g_claimed;	/* atomic: slots handed out, may pass GZC_THREADS */
/* GZMEM_CALLS=off and GZMEM_CALLS_LATENCY=on, read once by the constructor */
enum gzc_mode { GZC_COUNT, GZC_OFF, GZC_TIMED };
static enum gzc_mode g_mode;
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

static inline uint64_t
gzc_now(void)
{
	struct timespec ts;

	/* the vDSO's clock: no system call, and it cannot fail for CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One call's time into this thread's histogram. */
static void
gzc_took(enum gzc_call c, uint64_t ns)
{
	struct gzc_slot *s = t_slot;
	uint32_t b = ns < 128 ? 0 : (uint32_t)(63 - __builtin_clzll(ns)) - 6;
	uint64_t *h = &g_hist[s - g_slots][c][RTE_MIN(b, GZC_BUCKETS - 1)];

	gzc_bump(h, s == &g_slots[GZC_THREADS]);
}

/* No definition behind the preload (not even libc's): the call fails with ENOSYS, counted. */
static __attribute__((noinline, cold)) long
gzc_missing(enum gzc_call c)
{
	gzc_enter(c);
	gzc_failed(c);
	errno = ENOSYS;
	return -1;
}

/* Before a call: counted, and its start when timing. */
static inline uint64_t
gzc_start(enum gzc_call c)
{
	gzc_enter(c);
	return g_mode == GZC_TIMED ? gzc_now() : 0;
}

/* After it: its time when timing, and its failure. */
static inline void
gzc_end(enum gzc_call c, uint64_t t0, bool failed)
{
	if (g_mode == GZC_TIMED)
		gzc_took(c, gzc_now() - t0);
	if (failed)
		gzc_failed(c);
}

/*
 * A wrapper and its timed twin. Counting off: a tail call. Counting: count, call, count a
 * failure; with GZMEM_CALLS_LATENCY=on the twin (out of line, so the usual path keeps no state
 * across the call) also times it. No definition behind the preload (not even libc's) fails with
 * ENOSYS, counted.
 */
#define GZC_DEFINE(ret, name, params, args) \
	static __attribute__((noinline, cold)) ret \
	gzc_timed_##name params \
	{ \
		ret (*fn_) params = (ret (*) params)gzc_next(GZC_##name); \
		uint64_t t0_ = gzc_now(); \
		ret r_ = fn_ args; \
		gzc_took(GZC_##name, gzc_now() - t0_); \
		if (r_ == -1) \
			gzc_failed(GZC_##name); \
		return r_; \
	} \
	ret \
	name params \
	{ \
		ret (*fn_) params = (ret (*) params)gzc_next(GZC_##name); \
		ret r_; \
		if (__builtin_expect(fn_ == NULL, 0)) \
			return (ret)gzc_missing(GZC_##name); \
		if (__builtin_expect(g_mode != GZC_COUNT, 0)) { \
			if (g_mode == GZC_OFF) \
				return fn_ args; \
			gzc_enter(GZC_##name); \
			return gzc_timed_##name args; \
		} \
		gzc_enter(GZC_##name); \
		r_ = fn_ args; \
		if (r_ == -1) \
			gzc_failed(GZC_##name); \
		return r_; \
	}

GZMEM_CALL_PROTOTYPES(GZC_DEFINE)

/*
 * fcntl and ioctl take one optional argument, int or pointer, passed on as a pointer as libc does;
 * programs built with _FILE_OFFSET_BITS=64 (MariaDB is) call fcntl64 and sendfile64, counted under
 * the plain names and forwarded to the next definition of the 64 name.
 */
static void *g_next_fcntl64;
static void *g_next_sendfile64;

static int
gzc_fcntl_like(enum gzc_call c, int (*fn)(int, int, void *), int fd, int cmd, void *arg)
{
	uint64_t t0;
	int r;

	if (fn == NULL)
		return (int)gzc_missing(c);
	if (g_mode == GZC_OFF)
		return fn(fd, cmd, arg);
	t0 = gzc_start(c);
	r = fn(fd, cmd, arg);
	gzc_end(c, t0, r == -1);
	return r;
}

int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return gzc_fcntl_like(GZC_fcntl, (int (*)(int, int, void *))gzc_next(GZC_fcntl), fd, cmd, arg);
}

int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return gzc_fcntl_like(GZC_fcntl, (int (*)(int, int, void *))gzc_resolve(&g_next_fcntl64, "fcntl64"), fd, cmd, arg);
}

int
ioctl(int fd, unsigned long req, ...)
{
	int (*fn)(int, unsigned long, void *) = (int (*)(int, unsigned long, void *))gzc_next(GZC_ioctl);
	uint64_t t0;
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fn == NULL)
		return (int)gzc_missing(GZC_ioctl);
	if (g_mode == GZC_OFF)
		return fn(fd, req, arg);
	t0 = gzc_start(GZC_ioctl);
	r = fn(fd, req, arg);
	gzc_end(GZC_ioctl, t0, r == -1);
	return r;
}

ssize_t
sendfile64(int out, int in, off_t *off, size_t n)
{
	ssize_t (*fn)(int, int, off_t *, size_t) =
		(ssize_t (*)(int, int, off_t *, size_t))gzc_resolve(&g_next_sendfile64, "sendfile64");
	uint64_t t0;
	ssize_t r;

	if (fn == NULL)
		return gzc_missing(GZC_sendfile);
	if (g_mode == GZC_OFF)
		return fn(out, in, off, n);
	t0 = gzc_start(GZC_sendfile);
	r = fn(out, in, off, n);
	gzc_end(GZC_sendfile, t0, r == -1);
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

/* One row of a page: the call's name and two counts; false for a row with nothing to say. */
typedef bool (*gzc_row_t)(uint32_t slot, uint32_t k, const char **call, uint64_t *a, uint64_t *b);

/* Where a page's rows go in a reply: the column keys, and the keys of its counters (NULL: left out). */
struct gzc_layout {
	const char *cols[4];	/* tid, call, then two counts */
	const char *total, *counting, *latency, *start, *next;
};

/*
 * Adds to the dict `d` rows numbered slot x per_slot + k from row `start` on, so a page resumes
 * where the last stopped; the overflow slot's rows come last. Columns: tid (0: threads past the
 * slot table, together), call, two counts; `next` is where the next page starts, -1 after the
 * last; `total` the threads counted.
 */
static int
gzc_fill(struct rte_tel_data *d, uint32_t start, uint32_t per_slot, gzc_row_t row_of,
	 const struct gzc_layout *l, uint32_t max_rows, uint32_t budget)
{
	struct rte_tel_data *arr[4];
	uint32_t claimed, slots, row, shown = 0, bytes = 0, i;
	const uint32_t rows = (GZC_THREADS + 1) * per_slot;

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
	for (row = start; row < rows; row++) {
		uint32_t slot = row / per_slot, cost;
		const char *call;
		uint64_t a, b;

		if (slot < GZC_THREADS && slot >= slots) {
			row = GZC_THREADS * per_slot - 1;	/* on to the overflow slot */
			continue;
		}
		if (slot < GZC_THREADS && !__atomic_load_n(&g_slots[slot].used, __ATOMIC_ACQUIRE))
			continue;
		if (!row_of(slot, row % per_slot, &call, &a, &b))
			continue;
		cost = 12 + gzc_digits((uint64_t)g_slots[slot].tid) + (uint32_t)strlen(call) + gzc_digits(a) + gzc_digits(b);
		if (shown == max_rows || bytes + cost > budget)
			break;
		bytes += cost;
		shown++;
		gzc_array_u64(arr[0], (uint64_t)(uint32_t)g_slots[slot].tid);
		rte_tel_data_add_array_string(arr[1], call);
		gzc_array_u64(arr[2], a);
		gzc_array_u64(arr[3], b);
	}
	gzc_dict_u64(d, l->total, claimed);	/* threads counted */
	gzc_dict_u64(d, l->counting, g_mode == GZC_OFF ? 0 : 1);
	gzc_dict_u64(d, l->latency, g_mode == GZC_TIMED ? 1 : 0);
	if (l->start != NULL)
		gzc_dict_u64(d, l->start, start);
	rte_tel_data_add_dict_int(d, l->next, row < rows ? (int)row : -1);
	for (i = 0; i < 4; i++)
		if (rte_tel_data_add_dict_container(d, l->cols[i], arr[i], 0) != 0)
			rte_tel_data_free(arr[i]);
	return 0;
}

/* A page of its own (/gzmem/calls, /gzmem/latency): params is the row it starts at. */
static int
gzc_page(const char *params, struct rte_tel_data *d, uint32_t per_slot, gzc_row_t row_of, const char *c2, const char *c3)
{
	const struct gzc_layout l = {
		.cols = { "tid", "call", c2, c3 },
		.total = "total", .counting = "counting", .latency = "latency", .start = "start", .next = "next",
	};
	uint32_t start = 0;
	char *end;
	long v;

	if (params != NULL && *params != '\0') {
		errno = 0;
		v = strtol(params, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0 || v > INT32_MAX)
			return -EINVAL;
		start = (uint32_t)v;
	}
	rte_tel_data_start_dict(d);
	return gzc_fill(d, start, per_slot, row_of, &l, GZC_PAGE_ROWS, GZC_REPLY_BUDGET);
}

static bool
gzc_calls_row(uint32_t slot, uint32_t c, const char **call, uint64_t *calls, uint64_t *errors)
{
	*calls = __atomic_load_n(&g_slots[slot].calls[c], __ATOMIC_RELAXED);
	*errors = __atomic_load_n(&g_slots[slot].errors[c], __ATOMIC_RELAXED);
	*call = gzc_names[c];
	return *calls != 0;
}

/* /gzmem/calls,<start>: per thread and call made: calls, errors (failures, -1 returned). */
int
gzm_cmd_calls(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	return gzc_page(params, d, GZC_NB, gzc_calls_row, "calls", "errors");
}

/*
 * The first rows of /gzmem/calls inside /gzmem/sample (keys call_*, calls_*), within a small part
 * of its reply, so a steady sample of a process with a few threads needs no second command.
 */
int
gzm_calls_sample(struct rte_tel_data *d)
{
	static const struct gzc_layout l = {
		.cols = { "call_tid", "call_name", "call_calls", "call_errors" },
		.total = "calls_total", .counting = "calls_counting", .latency = "calls_latency", .start = NULL,
		.next = "calls_next",
	};

	return gzc_fill(d, 0, GZC_NB, gzc_calls_row, &l, 96, 3072);
}

static bool
gzc_latency_row(uint32_t slot, uint32_t k, const char **call, uint64_t *le_ns, uint64_t *count)
{
	uint32_t c = k / GZC_BUCKETS, b = k % GZC_BUCKETS;

	*count = __atomic_load_n(&g_hist[slot][c][b], __ATOMIC_RELAXED);
	*le_ns = b == GZC_BUCKETS - 1 ? 0 : (uint64_t)1 << (b + 7);
	*call = gzc_names[c];
	return *count != 0;
}

/*
 * /gzmem/latency,<start>: with GZMEM_CALLS_LATENCY=on, per thread, call and time bucket: le_ns
 * (the bucket's bound: calls that took less; 0 for the last bucket, 4.2 ms and more) and count.
 */
int
gzm_cmd_latency(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	return gzc_page(params, d, GZC_NB * GZC_BUCKETS, gzc_latency_row, "le_ns", "count");
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

	if (path == NULL || g_mode == GZC_OFF)
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

	if (v != NULL && strcmp(v, "off") == 0)
		g_mode = GZC_OFF;
	else if ((v = getenv("GZMEM_CALLS_LATENCY")) != NULL && strcmp(v, "on") == 0)
		g_mode = GZC_TIMED;
	for (c = 0; c < GZC_NB; c++)
		(void)gzc_next((enum gzc_call)c);
	(void)gzc_resolve(&g_next_fcntl64, "fcntl64");
	(void)gzc_resolve(&g_next_sendfile64, "sendfile64");
}
