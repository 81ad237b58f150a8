/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libgzmem: a preload library that gives gzmem exact, in-process figures
 * through the target's own DPDK telemetry socket:
 *   /gzmem/info              counters and page sizes
 *   /gzmem/mempools,<start>  occupancy of every mempool, paginated
 *   /gzmem/mempool,<name>    one pool, with per-lcore cache lengths
 *   /gzmem/rings,<start>     every ring ever rte_ring_init'ed and still live
 *   /gzmem/peaks,<reader>[,<start>]  each mempool's highest in-use since this
 *                            reader's last read, and since start
 *   /gzmem/sample,<reader>   what a steady sample needs, in one message
 *   /gzmem/subsamples,<reader>,<every_ms>  the pools' occupancy the sampler
 *                            recorded every every_ms for this reader since
 *                            its last read
 *   /gzmem/calls,<start>     POSIX socket calls per thread (calls.c)
 *   /gzmem/latency,<start>   their times in log2 buckets, when asked (calls.c)
 *
 * Rings are recorded by interposing rte_ring_init (rte_ring_create reaches
 * it through librte_ring's PLT) and forgotten in rte_ring_free and rte_free.
 * Nothing here runs per packet: the hooks are control-path calls and all
 * reading happens in telemetry callbacks, except the peak sampler: a
 * low-priority thread (started by the interposed rte_eal_init, off the
 * lcores' CPUs) that reads every pool's occupancy 100 times a second, and
 * 1,000 times while one fills, so a burst between two of gzmem's samples
 * still shows; it also sums the rings' entries per creating thread, up to
 * four times a second. GZMEM_PEAKS=off leaves it out, GZMEM_PEAK_HZ sets its full
 * rate (10..10000), GZMEM_PEAK_IDLE_HZ its rate while no pool fills.
 * No code path exits or aborts.
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_eal_memconfig.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_fbarray.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_spinlock.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "calls.h"

/* 23.03 renamed the 64-bit adders to *_uint (same wire format) and 23.11 deprecates the old names. */
#if RTE_VERSION >= RTE_VERSION_NUM(23, 3, 0, 0)
#define gzm_dict_u64 rte_tel_data_add_dict_uint
#define gzm_array_u64 rte_tel_data_add_array_uint
#else
#define gzm_dict_u64 rte_tel_data_add_dict_u64
#define gzm_array_u64 rte_tel_data_add_array_u64
#endif

#define GZM_VERSION 1

/* registry slots; a freed ring's slot is reused (tests build it smaller) */
#ifndef GZM_REG_MAX
#define GZM_REG_MAX 65536u
#endif
/* open addressing, at most half full of live keys */
#define GZM_HASH_SIZE (2 * GZM_REG_MAX)
#define GZM_HASH_MASK (GZM_HASH_SIZE - 1)
/* rebuild once live keys plus tombstones reach 3/4 of the table */
#define GZM_HASH_REBUILD (GZM_HASH_SIZE / 4 * 3)
#define GZM_KEY_EMPTY ((uintptr_t)0)
#define GZM_KEY_TOMB ((uintptr_t)1)
#define GZM_IDX_NONE UINT32_MAX
_Static_assert((GZM_REG_MAX & (GZM_REG_MAX - 1)) == 0, "GZM_REG_MAX must be a power of two");

/* entries validated per hold of the locks, so ring creation never waits long */
#define GZM_SCAN_CHUNK 256u

#define GZM_RING_PAGE 128u
#define GZM_MEMPOOL_PAGE 64u
/*
 * DPDK 22.11 replies are at most 16384 bytes and silently drop what does
 * not fit; pages also stop when their JSON estimate reaches this budget,
 * leaving room for the keys and the {"/cmd": ...} wrapper.
 */
#ifndef GZM_REPLY_BUDGET
#define GZM_REPLY_BUDGET (16384u - 1024u)
#endif

#define GZM_ADDR_LEN 24

struct gzm_ring_ent {
	struct rte_ring *ring;		/* NULL: free slot */
	/* DPDK memory list the header lives in; NULL: read with process_vm_readv */
	struct rte_memseg_list *msl;
	uint64_t created_ns;		/* CLOCK_REALTIME */
	pid_t tid;			/* kernel tid of the creating thread */
	char name[RTE_RING_NAMESIZE];
};

typedef int (*gzm_ring_init_t)(struct rte_ring *, const char *, unsigned int, unsigned int);
typedef void (*gzm_ring_free_t)(struct rte_ring *);
typedef void (*gzm_free_t)(void *);

static gzm_ring_init_t gzm_real_ring_init;
static gzm_ring_free_t gzm_real_ring_free;
static gzm_free_t gzm_real_free;
typedef int (*gzm_eal_init_t)(int, char **);
static gzm_eal_init_t gzm_real_eal_init;
typedef void (*gzm_mempool_free_t)(struct rte_mempool *);
static gzm_mempool_free_t gzm_real_mempool_free;
typedef int (*gzm_eal_cleanup_t)(void);
static gzm_eal_cleanup_t gzm_real_eal_cleanup;

/* g_lock guards the registry, the free list and every hash write */
static rte_spinlock_t g_lock = RTE_SPINLOCK_INITIALIZER;
static struct gzm_ring_ent g_reg[GZM_REG_MAX];
static uint32_t g_reg_hw;		/* slots ever used */
static uint32_t g_free_idx[GZM_REG_MAX];
static uint32_t g_nb_free;
/* atomic, written under g_lock: live entries, and a count of every add and removal, which
 * /gzmem/info reports without taking g_lock, so a sampler never makes a stack thread wait */
static uint32_t g_nb_live;
static uint64_t g_generation;
static uint64_t g_dropped;		/* atomic: rings not recorded, registry full */
static uint32_t g_stale;		/* atomic: failed validation at the last scan */

static uintptr_t g_hkey[GZM_HASH_SIZE];
static uint32_t g_hidx[GZM_HASH_SIZE];
static uint32_t g_hfill;		/* non-empty slots, tombstones included */
/* odd while the table is rebuilt: rte_free's lock-free probe then takes the lock */
static uint32_t g_hseq;

/* ---- real functions ---- */

static void *
gzm_resolve(void **slot, const char *sym)
{
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (fn == NULL) {
		fn = dlsym(RTLD_NEXT, sym);
		if (fn != NULL)
			__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

#define GZM_REAL(var, sym) \
	((__typeof__(var))gzm_resolve((void **)&(var), (sym)))

/* ---- pointer hash (writers hold g_lock) ---- */

static inline uint32_t
gzm_hash(uintptr_t key)
{
	return (uint32_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 40) & GZM_HASH_MASK;
}

/* Slot holding key, or GZM_IDX_NONE. Safe without g_lock, see gzm_hash_probe. */
static uint32_t
gzm_hash_slot(uintptr_t key)
{
	uint32_t h = gzm_hash(key);
	uint32_t n;
	uintptr_t k;

	/* the marker values would match empty or deleted slots */
	if (key <= GZM_KEY_TOMB)
		return GZM_IDX_NONE;
	for (n = 0; n < GZM_HASH_SIZE; n++, h = (h + 1) & GZM_HASH_MASK) {
		k = __atomic_load_n(&g_hkey[h], __ATOMIC_RELAXED);
		if (k == key)
			return h;
		if (k == GZM_KEY_EMPTY)
			break;
	}
	return GZM_IDX_NONE;
}

static void
gzm_hash_put(uintptr_t key, uint32_t idx)
{
	uint32_t h = gzm_hash(key);
	uint32_t n, tomb = GZM_IDX_NONE;
	uintptr_t k;

	for (n = 0; n < GZM_HASH_SIZE; n++, h = (h + 1) & GZM_HASH_MASK) {
		k = g_hkey[h];
		if (k == GZM_KEY_EMPTY)
			break;
		if (k == GZM_KEY_TOMB && tomb == GZM_IDX_NONE)
			tomb = h;
	}
	if (tomb != GZM_IDX_NONE)
		h = tomb;
	else
		g_hfill++;
	g_hidx[h] = idx;
	__atomic_store_n(&g_hkey[h], key, __ATOMIC_RELAXED);
}

/* Drops every tombstone; lock-free probes see the odd sequence and take the lock. */
static void
gzm_hash_rebuild(void)
{
	uint32_t i;

	__atomic_store_n(&g_hseq, g_hseq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (i = 0; i < GZM_HASH_SIZE; i++)
		__atomic_store_n(&g_hkey[i], GZM_KEY_EMPTY, __ATOMIC_RELAXED);
	g_hfill = 0;
	for (i = 0; i < g_reg_hw; i++)
		if (g_reg[i].ring != NULL)
			gzm_hash_put((uintptr_t)g_reg[i].ring, i);
	__atomic_store_n(&g_hseq, g_hseq + 1, __ATOMIC_RELEASE);
}

/*
 * rte_free's fast path: is key possibly registered? Lock-free; a false
 * answer is exact, a true one is rechecked under g_lock.
 */
static bool
gzm_hash_probe(uintptr_t key)
{
	uint32_t s1, s2, slot;

	s1 = __atomic_load_n(&g_hseq, __ATOMIC_ACQUIRE);
	if (s1 & 1)
		return true;
	slot = gzm_hash_slot(key);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	s2 = __atomic_load_n(&g_hseq, __ATOMIC_RELAXED);
	return slot != GZM_IDX_NONE || s1 != s2;
}

/* ---- registry ---- */

static pid_t
gzm_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static uint64_t
gzm_clock_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wall time: what replies report, comparable across processes. */
static uint64_t
gzm_now_ns(void)
{
	return gzm_clock_ns(CLOCK_REALTIME);
}

/* Only internal DPDK memory is read directly: its pages stay mapped under the mem lock. */
static struct rte_memseg_list *
gzm_msl_of(const void *p)
{
	struct rte_memseg_list *msl = rte_mem_virt2memseg_list(p);

	if (msl == NULL || msl->external)
		return NULL;
	return msl;
}

static void
gzm_reg_remove_slot(uint32_t slot)
{
	uint32_t idx = g_hidx[slot];

	__atomic_store_n(&g_hkey[slot], GZM_KEY_TOMB, __ATOMIC_RELAXED);
	/* the ring pointer first, for the sampler's walk (see gzm_reg_add) */
	__atomic_store_n(&g_reg[idx].ring, NULL, __ATOMIC_RELEASE);
	memset(&g_reg[idx], 0, sizeof(g_reg[idx]));
	g_free_idx[g_nb_free++] = idx;
	__atomic_store_n(&g_nb_live, g_nb_live - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&g_generation, g_generation + 1, __ATOMIC_RELEASE);
}

/* Records a ring rte_ring_init just set up; re-initialised rings are updated in place. */
static void
gzm_reg_add(struct rte_ring *r)
{
	struct rte_memseg_list *msl = gzm_msl_of(r);
	char name[RTE_RING_NAMESIZE];
	uint64_t now = gzm_now_ns();
	pid_t tid = gzm_gettid();
	struct gzm_ring_ent *e;
	uint32_t slot, idx;

	/* the stored name, as rte_ring_init truncated it, is what validation compares */
	memcpy(name, r->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';

	rte_spinlock_lock(&g_lock);
	slot = gzm_hash_slot((uintptr_t)r);
	if (slot != GZM_IDX_NONE) {
		idx = g_hidx[slot];
	} else {
		if (g_nb_free != 0) {
			idx = g_free_idx[--g_nb_free];
		} else if (g_reg_hw < GZM_REG_MAX) {
			idx = g_reg_hw;
			__atomic_store_n(&g_reg_hw, g_reg_hw + 1, __ATOMIC_RELEASE);
		} else {
			rte_spinlock_unlock(&g_lock);
			__atomic_fetch_add(&g_dropped, 1, __ATOMIC_RELAXED);
			return;
		}
		if (g_hfill + 1 > GZM_HASH_REBUILD)
			gzm_hash_rebuild();
		gzm_hash_put((uintptr_t)r, idx);
		__atomic_store_n(&g_nb_live, g_nb_live + 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&g_generation, g_generation + 1, __ATOMIC_RELEASE);
	e = &g_reg[idx];
	e->msl = msl;
	e->created_ns = now;
	e->tid = tid;
	memcpy(e->name, name, sizeof(e->name));
	/* last: the sampler's walk reads entries without g_lock, from the ring pointer on */
	__atomic_store_n(&e->ring, r, __ATOMIC_RELEASE);
	rte_spinlock_unlock(&g_lock);
}

/* Forgets p if it is a registered ring; called before its memory is freed. */
static void
gzm_reg_forget(const void *p)
{
	uint32_t slot;

	if (p == NULL || !gzm_hash_probe((uintptr_t)p))
		return;
	rte_spinlock_lock(&g_lock);
	slot = gzm_hash_slot((uintptr_t)p);
	if (slot != GZM_IDX_NONE)
		gzm_reg_remove_slot(slot);
	rte_spinlock_unlock(&g_lock);
}

/* ---- interposed DPDK functions ---- */

int
rte_ring_init(struct rte_ring *r, const char *name, unsigned int count, unsigned int flags)
{
	gzm_ring_init_t fn = GZM_REAL(gzm_real_ring_init, "rte_ring_init");
	int rc;

	if (fn == NULL)
		return -ENOSYS;
	rc = fn(r, name, count, flags);
	if (rc == 0 && (uintptr_t)r > GZM_KEY_TOMB)
		gzm_reg_add(r);
	return rc;
}

void
rte_ring_free(struct rte_ring *r)
{
	gzm_ring_free_t fn = GZM_REAL(gzm_real_ring_free, "rte_ring_free");

	/* like DPDK, a ring without a memzone is not freed here, so it stays recorded */
	if (r != NULL && r->memzone != NULL)
		gzm_reg_forget(r);
	if (fn != NULL)
		fn(r);
}

void
rte_free(void *ptr)
{
	gzm_free_t fn = GZM_REAL(gzm_real_free, "rte_free");

	gzm_reg_forget(ptr);
	if (fn != NULL)
		fn(ptr);
}

/* ---- reading rings (telemetry threads) ---- */

struct gzm_ring_snap {
	const char *name;
	struct rte_ring *ring;
	uint32_t capacity;
	uint32_t count;
	uint32_t flags;
	pid_t tid;
};

/* True if every page of [p, p + len) is allocated; caller holds the mem read lock. */
static bool
gzm_mapped(struct rte_memseg_list *msl, const void *p, size_t len)
{
	uintptr_t base = (uintptr_t)msl->base_va;
	uintptr_t a = (uintptr_t)p, b = a + len - 1;
	uint64_t pg;

	if (msl->page_sz == 0 || a < base || b < a || b - base >= msl->len)
		return false;
	for (pg = (a - base) / msl->page_sz; pg <= (b - base) / msl->page_sz; pg++)
		if (rte_fbarray_is_used(&msl->memseg_arr, (unsigned int)pg) != 1)
			return false;
	return true;
}

/* Copies memory that may be gone: a fault becomes EFAULT, never a signal. */
static int
gzm_safe_copy(void *dst, const void *src, size_t len)
{
	struct iovec local = { .iov_base = dst, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)src, .iov_len = len };
	ssize_t n;

	n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EFAULT;
}

/* True if r (in place, or a copy) is still the ring named name: a freed one's memory is not. */
static bool
gzm_ring_holds(const struct rte_ring *r, const char *name)
{
	return strncmp(r->name, name, RTE_RING_NAMESIZE) == 0 && rte_is_power_of_2(r->size) &&
	       r->mask == r->size - 1 && r->capacity <= r->mask;
}

/*
 * Reads one registered ring; g_lock and the mem read lock are held.
 * Returns 0, -EINVAL when the memory no longer holds this ring (the entry
 * is to be dropped), or another -errno when it could not be checked.
 */
static int
gzm_ring_read(const struct gzm_ring_ent *e, struct gzm_ring_snap *sn)
{
	struct rte_ring copy;
	const struct rte_ring *r = e->ring;
	int rc;

	if (e->msl != NULL) {
		if (!gzm_mapped(e->msl, r, sizeof(*r)))
			return -EINVAL;
	} else {
		rc = gzm_safe_copy(&copy, r, sizeof(copy));
		if (rc < 0)
			return rc == -EFAULT ? -EINVAL : rc;
		r = &copy;
	}
	if (!gzm_ring_holds(r, e->name))
		return -EINVAL;
	sn->name = e->name;
	sn->ring = e->ring;
	sn->capacity = rte_ring_get_capacity(r);
	sn->count = rte_ring_count(r);
	sn->flags = (uint32_t)r->flags;
	sn->tid = e->tid;
	return 0;
}

/* Takes one ring; false when it does not fit and the walk stops before it. */
typedef bool (*gzm_ring_visit_t)(const struct gzm_ring_snap *sn, void *arg);

/* Registry slots from which the walk of a page goes on: UINT32_MAX when it reached the end. */
#define GZM_SCAN_END UINT32_MAX

/*
 * Calls visit for every live ring that passes validation, in registry order from slot `from`, until
 * visit declines one; returns how many it took and sets *next to the slot it stopped at. A page
 * therefore costs its own rings, not a walk of the whole registry. Entries whose memory no longer
 * holds their ring are dropped. Locks are taken per chunk (mem read lock first, then g_lock, the
 * order every path keeps), so rte_ring_init on a stack thread never waits for more than a chunk.
 */
static uint32_t
gzm_rings_scan(uint32_t from, gzm_ring_visit_t visit, void *arg, uint32_t *next)
{
	struct gzm_ring_snap sn;
	uint32_t i = from, end, hw, valid = 0, stale = 0;
	uint32_t slot;
	bool stop = false;
	int rc;

	do {
		rte_mcfg_mem_read_lock();
		rte_spinlock_lock(&g_lock);
		hw = g_reg_hw;
		for (end = RTE_MIN(i + GZM_SCAN_CHUNK, hw); i < end; i++) {
			if (g_reg[i].ring == NULL)
				continue;
			rc = gzm_ring_read(&g_reg[i], &sn);
			if (rc < 0) {
				stale++;
				slot = gzm_hash_slot((uintptr_t)g_reg[i].ring);
				if (rc == -EINVAL && slot != GZM_IDX_NONE)
					gzm_reg_remove_slot(slot);
				continue;
			}
			if (!visit(&sn, arg)) {
				stop = true;
				break;
			}
			valid++;
		}
		rte_spinlock_unlock(&g_lock);
		rte_mcfg_mem_read_unlock();
	} while (!stop && i < hw);
	/* stale counts a whole pass: it starts again with the first page */
	if (from == 0)
		__atomic_store_n(&g_stale, stale, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&g_stale, stale, __ATOMIC_RELAXED);
	*next = stop ? i : GZM_SCAN_END;
	return valid;
}

/* Rings registered now (validated only when listed); read without g_lock. */
static uint32_t
gzm_rings_registered(void)
{
	return __atomic_load_n(&g_nb_live, __ATOMIC_RELAXED);
}

/* ---- JSON size estimates (DPDK 22.11 escaping) ---- */

static uint32_t
gzm_json_str_len(const char *s)
{
	uint32_t n = 2;

	for (; *s != '\0'; s++)
		n += (*s == '"' || *s == '\\') ? 2 : 1;
	return n + 1;	/* separator */
}

static uint32_t
gzm_json_u64_len(uint64_t v)
{
	uint32_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n + 1;	/* separator */
}

/*
 * 22.11 drops control characters and mis-indexes bytes >= 0x80 while
 * escaping, so names are shown with such bytes replaced.
 */
static void
gzm_printable(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < len && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* ---- telemetry helpers ---- */

/* Parses an optional page start; 0 or -EINVAL. */
static int
gzm_parse_start(const char *params, uint32_t *start)
{
	uint64_t v = 0;
	const char *p;

	*start = 0;
	if (params == NULL || *params == '\0')
		return 0;
	for (p = params; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > INT32_MAX)
			return -EINVAL;
	}
	*start = (uint32_t)v;
	return 0;
}

static void
gzm_tel_free_all(struct rte_tel_data **arr, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		rte_tel_data_free(arr[i]);
		arr[i] = NULL;
	}
}

/* Allocates n arrays of the given types; 0 or -ENOMEM. */
static int
gzm_tel_alloc_arrays(struct rte_tel_data **arr, const enum rte_tel_value_type *types,
		     unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		arr[i] = rte_tel_data_alloc();
		if (arr[i] == NULL) {
			gzm_tel_free_all(arr, i);
			return -ENOMEM;
		}
		rte_tel_data_start_array(arr[i], types[i]);
	}
	return 0;
}

/* Hands the arrays to the dict, which frees them after the reply. */
static void
gzm_tel_add_arrays(struct rte_tel_data *d, struct rte_tel_data **arr,
		   const char * const *keys, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (rte_tel_data_add_dict_container(d, keys[i], arr[i], 0) != 0)
			rte_tel_data_free(arr[i]);
		arr[i] = NULL;
	}
}

static void
gzm_tel_page_header(struct rte_tel_data *d, uint32_t total, uint32_t start, uint32_t shown)
{
	gzm_dict_u64(d, "total", total);
	gzm_dict_u64(d, "start", start);
	rte_tel_data_add_dict_int(d, "next",
		(uint64_t)start + shown < total ? (int)(start + shown) : -1);
}

/* ---- mempools ---- */

struct gzm_pool_stat {
	uint32_t size;
	uint32_t avail;
	uint32_t in_use;
	uint32_t common;
	uint32_t cache;
	uint32_t cache_size;
};

/*
 * One pass with rte_mempool_avail_count's formula, so the fields agree:
 * avail = min(size, common + cache), in_use = size - avail. lens, when
 * given, receives every lcore's cache length.
 */
static void
gzm_pool_stat(const struct rte_mempool *mp, struct gzm_pool_stat *st, uint32_t *lens)
{
	const struct rte_mempool_ops *ops;
	uint64_t avail;
	uint32_t k, len;
	bool created;

	memset(st, 0, sizeof(*st));
	st->size = mp->size;
	st->cache_size = mp->cache_size;
	/* an unpopulated pool has no pool_data yet: get_count would crash */
	created = (mp->flags & RTE_MEMPOOL_F_POOL_CREATED) != 0;
	if (created && mp->ops_index >= 0 && mp->ops_index < RTE_MEMPOOL_MAX_OPS_IDX) {
		/* rte_mempool_ops_get_count is not exported by the shared library */
		ops = &rte_mempool_ops_table.ops[mp->ops_index];
		if (ops->get_count != NULL)
			st->common = ops->get_count(mp);
	}
	if (mp->cache_size != 0 && mp->local_cache != NULL) {
		for (k = 0; k < RTE_MAX_LCORE; k++) {
			len = mp->local_cache[k].len;
			st->cache += len;
			if (lens != NULL)
				lens[k] = len;
		}
	}
	avail = (uint64_t)st->common + st->cache;
	st->avail = (uint32_t)RTE_MIN(avail, (uint64_t)st->size);
	st->in_use = created ? st->size - st->avail : 0;
}

enum {
	GZM_MP_NAME,
	GZM_MP_SIZE,
	GZM_MP_AVAIL,
	GZM_MP_IN_USE,
	GZM_MP_COMMON,
	GZM_MP_CACHE,
	GZM_MP_CACHE_SIZE,
	GZM_MP_NB,
};

static const char * const gzm_mp_keys[GZM_MP_NB] = {
	"name", "size", "avail", "in_use", "common", "cache", "cache_size",
};

static const enum rte_tel_value_type gzm_mp_types[GZM_MP_NB] = {
	RTE_TEL_STRING_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL,
	RTE_TEL_U64_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL,
};

/* Where a paginated reply stands: which entries it skips, how many rows and bytes it holds. */
struct gzm_page_cursor {
	uint32_t start;
	uint32_t index;		/* entries walked so far */
	uint32_t shown;
	uint32_t bytes;
	uint32_t budget;	/* 0: GZM_REPLY_BUDGET, a reply of its own */
	bool full;
};

/* Takes one row of `cost` bytes into the page, or marks it full; false when the row is not taken. */
static bool
gzm_page_take(struct gzm_page_cursor *c, uint32_t cost, uint32_t max_rows)
{
	if (c->shown == max_rows || c->bytes + cost > (c->budget != 0 ? c->budget : GZM_REPLY_BUDGET)) {
		c->full = true;
		return false;
	}
	c->bytes += cost;
	c->shown++;
	return true;
}

struct gzm_mp_page {
	struct rte_tel_data *arr[GZM_MP_NB];
	struct gzm_page_cursor c;
	uint32_t max_rows;
};

static void
gzm_mp_page_visit(struct rte_mempool *mp, void *arg)
{
	struct gzm_mp_page *pg = arg;
	struct gzm_pool_stat st;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t cost;

	if (pg->c.index++ < pg->c.start || pg->c.full)
		return;
	gzm_printable(name, sizeof(name), mp->name);
	gzm_pool_stat(mp, &st, NULL);
	cost = gzm_json_str_len(name) + gzm_json_u64_len(st.size) +
		gzm_json_u64_len(st.avail) + gzm_json_u64_len(st.in_use) +
		gzm_json_u64_len(st.common) + gzm_json_u64_len(st.cache) +
		gzm_json_u64_len(st.cache_size);
	if (!gzm_page_take(&pg->c, cost, pg->max_rows))
		return;
	rte_tel_data_add_array_string(pg->arr[GZM_MP_NAME], name);
	gzm_array_u64(pg->arr[GZM_MP_SIZE], st.size);
	gzm_array_u64(pg->arr[GZM_MP_AVAIL], st.avail);
	gzm_array_u64(pg->arr[GZM_MP_IN_USE], st.in_use);
	gzm_array_u64(pg->arr[GZM_MP_COMMON], st.common);
	gzm_array_u64(pg->arr[GZM_MP_CACHE], st.cache);
	gzm_array_u64(pg->arr[GZM_MP_CACHE_SIZE], st.cache_size);
}

static int
gzm_cmd_mempools(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct gzm_mp_page pg;

	memset(&pg, 0, sizeof(pg));
	pg.max_rows = GZM_MEMPOOL_PAGE;
	if (gzm_parse_start(params, &pg.c.start) < 0)
		return -EINVAL;
	if (gzm_tel_alloc_arrays(pg.arr, gzm_mp_types, GZM_MP_NB) < 0)
		return -ENOMEM;
	rte_mempool_walk(gzm_mp_page_visit, &pg);

	rte_tel_data_start_dict(d);
	gzm_tel_page_header(d, pg.c.index, pg.c.start, pg.c.shown);
	gzm_tel_add_arrays(d, pg.arr, gzm_mp_keys, GZM_MP_NB);
	return 0;
}

struct gzm_mp_find {
	const char *name;
	bool found;
	char shown[RTE_MEMPOOL_NAMESIZE];
	struct gzm_pool_stat st;
	uint32_t lens[RTE_MAX_LCORE];
};

static void
gzm_mp_find_visit(struct rte_mempool *mp, void *arg)
{
	struct gzm_mp_find *f = arg;

	if (f->found || strcmp(mp->name, f->name) != 0)
		return;
	f->found = true;
	gzm_printable(f->shown, sizeof(f->shown), mp->name);
	gzm_pool_stat(mp, &f->st, f->lens);
}

static int
gzm_cmd_mempool(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	static const enum rte_tel_value_type types[2] = { RTE_TEL_U64_VAL, RTE_TEL_U64_VAL };
	static const char * const keys[2] = { "lcore", "len" };
	struct rte_tel_data *arr[2];
	struct gzm_mp_find f;
	uint32_t k;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	f.name = params;
	/* matched inside the walk: the pool cannot be freed while it is read */
	rte_mempool_walk(gzm_mp_find_visit, &f);
	if (!f.found)
		return -ENOENT;
	if (gzm_tel_alloc_arrays(arr, types, 2) < 0)
		return -ENOMEM;
	for (k = 0; k < RTE_MAX_LCORE; k++) {
		if (f.lens[k] == 0)
			continue;
		gzm_array_u64(arr[0], k);
		gzm_array_u64(arr[1], f.lens[k]);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", f.shown);
	gzm_dict_u64(d, "size", f.st.size);
	gzm_dict_u64(d, "avail", f.st.avail);
	gzm_dict_u64(d, "in_use", f.st.in_use);
	gzm_dict_u64(d, "common", f.st.common);
	gzm_dict_u64(d, "cache", f.st.cache);
	gzm_dict_u64(d, "cache_size", f.st.cache_size);
	gzm_tel_add_arrays(d, arr, keys, 2);
	return 0;
}

/* ---- rings ---- */

enum {
	GZM_RG_NAME,
	GZM_RG_CAPACITY,
	GZM_RG_COUNT,
	GZM_RG_TID,
	GZM_RG_FLAGS,
	GZM_RG_ADDR,
	GZM_RG_NB,
};

static const char * const gzm_rg_keys[GZM_RG_NB] = {
	"name", "capacity", "count", "tid", "flags", "addr",
};

static const enum rte_tel_value_type gzm_rg_types[GZM_RG_NB] = {
	RTE_TEL_STRING_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL,
	RTE_TEL_U64_VAL, RTE_TEL_STRING_VAL,
};

struct gzm_rg_page {
	struct rte_tel_data *arr[GZM_RG_NB];
	struct gzm_page_cursor c;	/* over valid rings */
};

static bool
gzm_rg_page_visit(const struct gzm_ring_snap *sn, void *arg)
{
	struct gzm_rg_page *pg = arg;
	char name[RTE_RING_NAMESIZE];
	char addr[GZM_ADDR_LEN];
	uint32_t cost;

	if (pg->c.full)
		return false;
	gzm_printable(name, sizeof(name), sn->name);
	snprintf(addr, sizeof(addr), "0x%" PRIxPTR, (uintptr_t)sn->ring);
	cost = gzm_json_str_len(name) + gzm_json_u64_len(sn->capacity) +
		gzm_json_u64_len(sn->count) + gzm_json_u64_len((uint64_t)sn->tid) +
		gzm_json_u64_len(sn->flags) + gzm_json_str_len(addr);
	if (!gzm_page_take(&pg->c, cost, GZM_RING_PAGE))
		return false;
	rte_tel_data_add_array_string(pg->arr[GZM_RG_NAME], name);
	gzm_array_u64(pg->arr[GZM_RG_CAPACITY], sn->capacity);
	gzm_array_u64(pg->arr[GZM_RG_COUNT], sn->count);
	gzm_array_u64(pg->arr[GZM_RG_TID], (uint64_t)sn->tid);
	gzm_array_u64(pg->arr[GZM_RG_FLAGS], sn->flags);
	rte_tel_data_add_array_string(pg->arr[GZM_RG_ADDR], addr);
	return true;
}

/*
 * /gzmem/rings,<slot>: a page of rings from registry slot <slot> on; "next" is the slot the next
 * page starts at (-1 after the last), "total" the rings registered now.
 */
static int
gzm_cmd_rings(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct gzm_rg_page pg;
	uint32_t next;

	memset(&pg, 0, sizeof(pg));
	if (gzm_parse_start(params, &pg.c.start) < 0)
		return -EINVAL;
	if (gzm_tel_alloc_arrays(pg.arr, gzm_rg_types, GZM_RG_NB) < 0)
		return -ENOMEM;
	gzm_rings_scan(pg.c.start, gzm_rg_page_visit, &pg, &next);

	rte_tel_data_start_dict(d);
	gzm_dict_u64(d, "total", gzm_rings_registered());
	gzm_dict_u64(d, "start", pg.c.start);
	rte_tel_data_add_dict_int(d, "next", next == GZM_SCAN_END ? -1 : (int)next);
	gzm_tel_add_arrays(d, pg.arr, gzm_rg_keys, GZM_RG_NB);
	return 0;
}

/* ---- info ---- */

static void
gzm_mp_count_visit(struct rte_mempool *mp __rte_unused, void *arg)
{
	(*(uint32_t *)arg)++;
}

static void
gzm_info_fill(struct rte_tel_data *d)
{
	uint32_t rings, pools = 0;

	rings = gzm_rings_registered();
	rte_mempool_walk(gzm_mp_count_visit, &pools);
	gzm_dict_u64(d, "version", GZM_VERSION);
	gzm_dict_u64(d, "rings", rings);
	gzm_dict_u64(d, "rings_generation",
				  __atomic_load_n(&g_generation, __ATOMIC_ACQUIRE));
	gzm_dict_u64(d, "rings_dropped",
				  __atomic_load_n(&g_dropped, __ATOMIC_RELAXED));
	gzm_dict_u64(d, "rings_stale",
				  __atomic_load_n(&g_stale, __ATOMIC_RELAXED));
	gzm_dict_u64(d, "mempools", pools);
	gzm_dict_u64(d, "ring_page", GZM_RING_PAGE);
	gzm_dict_u64(d, "mempool_page", GZM_MEMPOOL_PAGE);
}

static int
gzm_cmd_info(const char *cmd __rte_unused, const char *params __rte_unused,
	     struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	gzm_info_fill(d);
	return 0;
}

/* ---- constructor ---- */

/* ---- true peaks: a sampler thread ---- */

/*
 * The sampler takes no DPDK lock: a low-priority thread preempted while holding one would stall
 * every thread that wants it. It reads the pools of its own list under g_peak_mutex, which only
 * it, telemetry threads and the rte_mempool_free hook take (a sleeping lock: a waiter does not spin
 * against it). The list is filled by telemetry threads, which walk the pools under the mempool
 * list's read lock as /gzmem/mempools does, at each /gzmem/peaks read: a new pool is sampled from
 * the first read after its creation. rte_mempool_free first takes the pool off the list (and
 * keeps it off while it frees), so the sampler never reads a freed pool.
 */
#define GZM_PEAK_POOLS 256u
#define GZM_PEAK_READERS 16u
#define GZM_PEAK_HZ_DEFAULT 1000u
/* while no pool rises: waking costs the sampler more than reading (about 20 us on a VM) */
#define GZM_PEAK_IDLE_HZ_DEFAULT 100u
/* a rise of more than 1/256 of a pool's size (at least 1) between two passes starts the full rate ... */
#define GZM_PEAK_RISE 256u
/* ... which holds this long after the last such rise */
#define GZM_PEAK_HOLD_NS 50000000ull
#define GZM_PEAK_PAGE 64u

struct gzm_peak {
	const struct rte_mempool *mp;	/* NULL: a free slot */
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t size;
	uint32_t now;			/* in use at the last pass */
	uint32_t common;		/* in the common pool then */
	uint32_t hwm;			/* highest in use since the pool was first seen */
	uint32_t max[GZM_PEAK_READERS];	/* highest since each reader's last read */
	bool seen;			/* in the current discovery walk */
	bool ready;			/* populated: sampled */
	uint64_t since_ns;		/* first sampled: where hwm begins */
};

/*
 * Sub-samples: a reader that wants samples more often than it reads (gzmem record -i 0.1) lets the
 * sampler take them, from the pass it makes anyway, and fetches them together once a second: one
 * wakeup of the reader instead of ten. Only the first GZM_SUB_POOLS pool slots; a row is the state
 * of the last pass at or after the time it was due, so it is at most one idle period late.
 */
#define GZM_SUB_POOLS 64u
#define GZM_SUB_ROWS 64u
#define GZM_SUB_UNKNOWN UINT32_MAX	/* the slot held no sampled pool then */

struct gzm_sub_row {
	uint64_t t_ns;			/* wall time */
	uint32_t in_use[GZM_SUB_POOLS];
	uint32_t common[GZM_SUB_POOLS];
	uint32_t peak[GZM_SUB_POOLS];	/* highest since the reader's previous row or read */
};

struct gzm_sub {
	uint64_t every_ns;
	uint64_t next_ns;		/* monotonic */
	uint32_t head, count;		/* oldest row, rows held */
	uint64_t dropped;		/* rows overwritten before they were read */
	struct gzm_sub_row rows[GZM_SUB_ROWS];
};

struct gzm_peak_reader {
	uint64_t id;			/* 0: free */
	uint64_t since_ns;		/* start of the window being measured */
	uint64_t since_passes;		/* passes made when it started */
	uint64_t since_due;		/* and passes due */
};

static pthread_mutex_t g_peak_mutex = PTHREAD_MUTEX_INITIALIZER;
/* pools inside rte_mempool_free: discovery must not take them back */
#define GZM_PEAK_FREEING 16u
static const struct rte_mempool *g_freeing[GZM_PEAK_FREEING];
static uint32_t g_nb_freeing;
static bool g_peak_closed;		/* rte_eal_cleanup ran: no pool is taken any more */
static struct gzm_peak g_peaks[GZM_PEAK_POOLS];
static struct gzm_peak_reader g_readers[GZM_PEAK_READERS];
/* each reader slot's sub-samples (every_ns 0: none); pages of a slot never used stay untouched */
static struct gzm_sub g_subs[GZM_PEAK_READERS];
static uint64_t g_peak_passes;		/* atomic */
/* atomic: passes the schedule asked for, at whichever rate held; fewer passes made than due means
 * the sampler was kept off the CPU */
static uint64_t g_peak_due;
static uint64_t g_peak_started_ns;
static uint32_t g_peak_hz;		/* 0: not running */
static uint32_t g_peak_idle_hz;
static uint32_t g_peak_untracked;	/* pools beyond GZM_PEAK_POOLS at the last discovery */
static cpu_set_t g_peak_cpus;		/* the process's CPUs before EAL pinned the main thread */
/* lcores that may hold objects in a pool's cache (role not OFF), refreshed every 128 passes: each
 * cache sits in its own cache lines, so reading all RTE_MAX_LCORE of them would dominate a pass */
static unsigned int g_peak_lcores[RTE_MAX_LCORE];
static unsigned int g_peak_nb_lcores;

/* In use as rte_mempool_avail_count counts it, over the active lcores' caches only; *common: the
 * objects in the common pool. */
static uint32_t
gzm_peak_in_use(const struct rte_mempool *mp, uint32_t *common)
{
	const struct rte_mempool_ops *ops;
	uint64_t avail = 0;
	unsigned int k;

	*common = 0;
	if (mp->ops_index < 0 || mp->ops_index >= RTE_MEMPOOL_MAX_OPS_IDX)
		return 0;
	ops = &rte_mempool_ops_table.ops[mp->ops_index];
	if (ops->get_count == NULL)
		return 0;
	avail = ops->get_count(mp);
	*common = (uint32_t)RTE_MIN(avail, (uint64_t)mp->size);
	if (mp->cache_size != 0 && mp->local_cache != NULL)
		for (k = 0; k < g_peak_nb_lcores; k++)
			avail += mp->local_cache[g_peak_lcores[k]].len;
	return mp->size - (uint32_t)RTE_MIN(avail, (uint64_t)mp->size);
}

static bool
gzm_peak_freeing(const struct rte_mempool *mp)
{
	uint32_t i;

	/* a full list of frees in flight: take no pool this walk */
	if (g_nb_freeing == GZM_PEAK_FREEING)
		return true;
	for (i = 0; i < g_nb_freeing; i++)
		if (g_freeing[i] == mp)
			return true;
	return false;
}

/* Rows taken before slot i held its current pool say nothing of it. Under g_peak_mutex. */
static void
gzm_sub_forget_slot(uint32_t i)
{
	uint32_t r, k;

	if (i >= GZM_SUB_POOLS)
		return;
	for (r = 0; r < GZM_PEAK_READERS; r++)
		for (k = 0; g_subs[r].every_ns != 0 && k < GZM_SUB_ROWS; k++)
			g_subs[r].rows[k].in_use[i] = GZM_SUB_UNKNOWN;
}

/* A row for reader r: the pools as the pass just left them; each row's peak window restarts. */
static void
gzm_sub_take(uint32_t r, uint64_t now)
{
	struct gzm_sub *s = &g_subs[r];
	struct gzm_sub_row *row;
	struct gzm_peak *pk;
	uint32_t i;

	if (s->count == GZM_SUB_ROWS) {
		s->head = (s->head + 1) % GZM_SUB_ROWS;
		s->count--;
		s->dropped++;
	}
	row = &s->rows[(s->head + s->count++) % GZM_SUB_ROWS];
	row->t_ns = gzm_now_ns();
	for (i = 0; i < GZM_SUB_POOLS; i++) {
		pk = &g_peaks[i];
		if (pk->mp == NULL || !pk->ready) {
			row->in_use[i] = GZM_SUB_UNKNOWN;
			continue;
		}
		row->in_use[i] = pk->now;
		row->common[i] = pk->common;
		row->peak[i] = pk->max[r];
		pk->max[r] = pk->now;
	}
	s->next_ns += s->every_ns;
	if (s->next_ns <= now)
		s->next_ns = now + s->every_ns;
}

/* Under the mempool list's read lock (rte_mempool_walk), so no pool it sees can be freed meanwhile. */
static void
gzm_peak_discover_visit(struct rte_mempool *mp, void *arg)
{
	struct gzm_peak *pk, *free_slot = NULL;
	uint32_t i, *untracked = arg;

	pthread_mutex_lock(&g_peak_mutex);
	if (g_peak_closed || gzm_peak_freeing(mp))
		goto out;
	for (i = 0; i < GZM_PEAK_POOLS; i++) {
		pk = &g_peaks[i];
		if (pk->mp == mp && strncmp(pk->name, mp->name, sizeof(pk->name)) == 0)
			break;
		if (pk->mp == NULL && free_slot == NULL)
			free_slot = pk;
	}
	if (i == GZM_PEAK_POOLS) {
		if (free_slot == NULL) {
			(*untracked)++;
			goto out;
		}
		pk = free_slot;
		gzm_sub_forget_slot((uint32_t)(pk - g_peaks));
		memset(pk, 0, sizeof(*pk));
		memcpy(pk->name, mp->name, sizeof(pk->name));
		pk->name[sizeof(pk->name) - 1] = '\0';
		pk->size = mp->size;
		pk->mp = mp;
	}
	pk->seen = true;
out:
	pthread_mutex_unlock(&g_peak_mutex);
}

/* Brings the sampler's list up to the process's pools; a telemetry thread calls it. */
static void
gzm_peak_discover(void)
{
	uint32_t i, untracked = 0;

	pthread_mutex_lock(&g_peak_mutex);
	for (i = 0; i < GZM_PEAK_POOLS; i++)
		g_peaks[i].seen = false;
	pthread_mutex_unlock(&g_peak_mutex);
	rte_mempool_walk(gzm_peak_discover_visit, &untracked);
	pthread_mutex_lock(&g_peak_mutex);
	/* not seen: freed since the last walk (rte_mempool_free has taken it off already) */
	for (i = 0; i < GZM_PEAK_POOLS; i++) {
		if (g_peaks[i].mp != NULL && !g_peaks[i].seen) {
			g_peaks[i].mp = NULL;
			gzm_sub_forget_slot(i);
		}
	}
	g_peak_untracked = untracked;
	pthread_mutex_unlock(&g_peak_mutex);
}

/*
 * One pass over the listed pools: no DPDK lock, only memory the data path writes. True when a
 * pool's in-use rose by more than GZM_PEAK_RISE of its size since the previous pass: a burst may be
 * under way, and the sampler goes to its full rate.
 */
static bool
gzm_peak_pass(void)
{
	struct gzm_peak *pk;
	uint32_t i, r, in_use;
	unsigned int lcore;
	bool rose = false;
	uint64_t now = 0;

	/* under the mutex: a telemetry thread may make a pass too (gzm_peaks_fill) */
	pthread_mutex_lock(&g_peak_mutex);
	if (__atomic_load_n(&g_peak_passes, __ATOMIC_RELAXED) % 128 == 0) {
		g_peak_nb_lcores = 0;
		for (lcore = 0; lcore < RTE_MAX_LCORE; lcore++)
			if (rte_eal_lcore_role(lcore) != ROLE_OFF)
				g_peak_lcores[g_peak_nb_lcores++] = lcore;
	}
	for (i = 0; i < GZM_PEAK_POOLS; i++) {
		pk = &g_peaks[i];
		if (pk->mp == NULL)
			continue;
		/* while a pool is populated its objects are not in it yet: that is not use */
		if (!pk->ready) {
			if (pk->mp->populated_size < pk->mp->size ||
			    (pk->mp->flags & RTE_MEMPOOL_F_POOL_CREATED) == 0)
				continue;
			pk->ready = true;
			pk->since_ns = gzm_now_ns();
			pk->now = gzm_peak_in_use(pk->mp, &pk->common);
		}
		in_use = gzm_peak_in_use(pk->mp, &pk->common);
		if (in_use > pk->now + RTE_MAX(1u, pk->size / GZM_PEAK_RISE))
			rose = true;
		pk->now = in_use;
		if (in_use > pk->hwm)
			pk->hwm = in_use;
		for (r = 0; r < GZM_PEAK_READERS; r++)
			if (in_use > pk->max[r])
				pk->max[r] = in_use;
	}
	for (r = 0; r < GZM_PEAK_READERS; r++) {
		if (g_subs[r].every_ns == 0)
			continue;
		if (now == 0)
			now = gzm_clock_ns(CLOCK_MONOTONIC);
		if (now >= g_subs[r].next_ns)
			gzm_sub_take(r, now);
	}
	/* under the mutex a reader takes both from: never a pass without its due */
	__atomic_fetch_add(&g_peak_due, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g_peak_passes, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&g_peak_mutex);
	return rose;
}

/* rte_mempool_free: off the sampler's list before the pool is freed, and kept off until it is. */
static void
gzm_peak_forget(const struct rte_mempool *mp, bool freeing)
{
	uint32_t i;

	pthread_mutex_lock(&g_peak_mutex);
	if (freeing) {
		for (i = 0; i < GZM_PEAK_POOLS; i++) {
			if (g_peaks[i].mp == mp) {
				g_peaks[i].mp = NULL;
				gzm_sub_forget_slot(i);
			}
		}
		if (g_nb_freeing < GZM_PEAK_FREEING)
			g_freeing[g_nb_freeing++] = mp;
	} else {
		for (i = 0; i < g_nb_freeing; i++) {
			if (g_freeing[i] == mp) {
				g_freeing[i] = g_freeing[--g_nb_freeing];
				break;
			}
		}
	}
	pthread_mutex_unlock(&g_peak_mutex);
}

/*
 * rte_eal_cleanup unmaps what the /gzmem commands read (the memory config, pools, ports) while
 * DPDK's telemetry threads may still be serving a connection (seen on 23.11: a sample during the
 * unmap crashed the process). Every command runs between gzm_command_enter and gzm_command_leave;
 * the cleanup hook closes the door, then waits for the commands inside before DPDK unmaps.
 */
static uint32_t g_commands_closed;
static uint32_t g_commands_running;
/* A command takes well under a millisecond; past this the cleanup goes on regardless. */
#define GZM_CLOSE_WAIT_MS 2000u

static bool
gzm_command_enter(void)
{
	__atomic_add_fetch(&g_commands_running, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&g_commands_closed, __ATOMIC_SEQ_CST))
		return true;
	__atomic_sub_fetch(&g_commands_running, 1, __ATOMIC_SEQ_CST);
	return false;
}

static void
gzm_command_leave(void)
{
	__atomic_sub_fetch(&g_commands_running, 1, __ATOMIC_SEQ_CST);
}

static void
gzm_commands_close(void)
{
	uint32_t waited;

	__atomic_store_n(&g_commands_closed, 1, __ATOMIC_SEQ_CST);
	for (waited = 0; waited < GZM_CLOSE_WAIT_MS; waited++) {
		if (__atomic_load_n(&g_commands_running, __ATOMIC_SEQ_CST) == 0)
			return;
		usleep(1000);
	}
}

/*
 * rte_eal_cleanup unmaps DPDK's memory, pools that were never freed included: the sampler lets go
 * of every pool first, and takes no more (the process is ending).
 */
int
rte_eal_cleanup(void)
{
	gzm_eal_cleanup_t fn = GZM_REAL(gzm_real_eal_cleanup, "rte_eal_cleanup");
	uint32_t i;

	pthread_mutex_lock(&g_peak_mutex);
	for (i = 0; i < GZM_PEAK_POOLS; i++)
		g_peaks[i].mp = NULL;
	g_peak_closed = true;
	pthread_mutex_unlock(&g_peak_mutex);
	gzm_commands_close();
	return fn != NULL ? fn() : 0;
}

void
rte_mempool_free(struct rte_mempool *mp)
{
	gzm_mempool_free_t fn = GZM_REAL(gzm_real_mempool_free, "rte_mempool_free");

	if (mp != NULL)
		gzm_peak_forget(mp, true);
	if (fn != NULL)
		fn(mp);
	if (mp != NULL)
		gzm_peak_forget(mp, false);
}

/* ---- ring totals per owner, walked by the sampler ---- */

/*
 * Every GZM_RING_WALK_MIN_NS or more the sampler sums the entries of the rings outside memzones (rte_malloc'd,
 * as gazelle's per-connection rings are) by the thread that created them (gazelle's stack threads
 * create their connections' rings). It takes no lock a stack thread waits for: not g_lock, which
 * rte_ring_init takes (it reads the registry as it stands; an entry that changes under it fails
 * validation and counts again at the next walk), and not DPDK's memory lock, which a thread growing
 * the heap takes (a thread at nice 19 preempted while holding it would stall that thread). Instead
 * it copies the ring headers with process_vm_readv, 64 to a call: a ring freed and unmapped since it
 * was listed is a failed copy, never a fault.
 */
#define GZM_RING_OWNERS 64u
/* a copy costs about 0.5 us a ring, so walks are spaced to take at most 1/1000 of a core: 4 a
 * second up to about 500 rings, one every 3 s at 6,000 */
#define GZM_RING_WALK_MIN_NS 250000000ull
#define GZM_RING_WALK_SHARE 1000u
#define GZM_RING_WALK_BATCH 64u

struct gzm_ring_owner {
	pid_t tid;			/* 0: a free slot */
	uint32_t rings;
	uint64_t capacity;
	uint64_t now;			/* entries at the last walk */
	uint64_t hwm;
	uint64_t max[GZM_PEAK_READERS];
};

/* under g_peak_mutex */
static struct gzm_ring_owner g_owners[GZM_RING_OWNERS];
static uint32_t g_owners_untracked;	/* rings of owners beyond GZM_RING_OWNERS, last walk */
static uint64_t g_ring_walks;
static uint64_t g_ring_walk_ns;		/* when the last walk ended */
static uint64_t g_ring_walk_period_ns;	/* from the last walk to the next */
static uint64_t g_ring_walk_cpu_ns;	/* CPU time of every walk so far: what walking costs */
static int g_ring_walk_errno;		/* why the last walk could not copy headers; 0: it could */

struct gzm_owner_sum {
	pid_t tid;
	uint32_t rings;
	uint64_t capacity;
	uint64_t count;
};

struct gzm_owner_walk {
	struct gzm_owner_sum o[GZM_RING_OWNERS];
	uint32_t n;
	uint32_t untracked;
	/* one batch: the registry entries as read, and their rings' headers as copied */
	struct gzm_ring_ent ent[GZM_RING_WALK_BATCH];
	struct rte_ring hdr[GZM_RING_WALK_BATCH];
	struct iovec local[GZM_RING_WALK_BATCH], remote[GZM_RING_WALK_BATCH];
};

/* Adds one copied header to its creator's sums, if it is still the ring the registry names. */
static void
gzm_owner_add(struct gzm_owner_walk *w, const struct gzm_ring_ent *e, const struct rte_ring *r)
{
	uint32_t i;

	if (!gzm_ring_holds(r, e->name))
		return;
	/* a memzone's ring (a pool's free objects, a named ring) is listed on its own */
	if (r->memzone != NULL)
		return;
	for (i = 0; i < w->n && w->o[i].tid != e->tid; i++)
		;
	if (i == w->n) {
		if (w->n == GZM_RING_OWNERS) {
			w->untracked++;
			return;
		}
		memset(&w->o[w->n++], 0, sizeof(w->o[0]));
		w->o[i].tid = e->tid;
	}
	w->o[i].rings++;
	w->o[i].capacity += rte_ring_get_capacity(r);
	w->o[i].count += rte_ring_count(r);
}

/* Copies the headers of batch entries [from, n); returns the index of the first it could not copy. */
static uint32_t
gzm_owner_copy(struct gzm_owner_walk *w, uint32_t from, uint32_t n, int *err)
{
	ssize_t got;

	got = process_vm_readv(getpid(), &w->local[from], n - from, &w->remote[from], n - from, 0);
	if (got < 0) {
		/* EFAULT on the first: that ring is gone; anything else stops the walk */
		*err = errno == EFAULT ? 0 : errno;
		return from;
	}
	*err = 0;
	/* the kernel copies in order and stops at the first page it cannot read */
	return from + (uint32_t)((size_t)got / sizeof(struct rte_ring));
}

/* Folds a walk into the owners' table: now, high-water mark and each reader's maximum. */
static void
gzm_owners_update(const struct gzm_owner_walk *w, uint64_t cpu_ns, int err)
{
	struct gzm_ring_owner *ow;
	uint32_t i, j, r, untracked = w->untracked;

	pthread_mutex_lock(&g_peak_mutex);
	g_ring_walk_errno = err;
	g_ring_walk_cpu_ns += cpu_ns;
	g_ring_walk_period_ns = RTE_MAX(GZM_RING_WALK_MIN_NS, cpu_ns * GZM_RING_WALK_SHARE);
	if (err != 0) {
		pthread_mutex_unlock(&g_peak_mutex);
		return;
	}
	/* owners without rings now first, so their slots are free for new ones */
	for (j = 0; j < GZM_RING_OWNERS; j++) {
		for (i = 0; i < w->n && w->o[i].tid != g_owners[j].tid; i++)
			;
		if (g_owners[j].tid != 0 && i == w->n) {
			g_owners[j].rings = 0;
			g_owners[j].capacity = 0;
			g_owners[j].now = 0;
		}
	}
	for (i = 0; i < w->n; i++) {
		ow = NULL;
		for (j = 0; j < GZM_RING_OWNERS && g_owners[j].tid != w->o[i].tid; j++)
			if (ow == NULL && (g_owners[j].tid == 0 || g_owners[j].rings == 0))
				ow = &g_owners[j];
		if (j < GZM_RING_OWNERS) {
			ow = &g_owners[j];
		} else if (ow == NULL) {
			untracked += w->o[i].rings;
			continue;
		} else {
			/* a slot given up: its owner's peaks go with it */
			memset(ow, 0, sizeof(*ow));
			ow->tid = w->o[i].tid;
		}
		ow->rings = w->o[i].rings;
		ow->capacity = w->o[i].capacity;
		ow->now = w->o[i].count;
		if (ow->now > ow->hwm)
			ow->hwm = ow->now;
		for (r = 0; r < GZM_PEAK_READERS; r++)
			if (ow->now > ow->max[r])
				ow->max[r] = ow->now;
	}
	g_owners_untracked = untracked;
	g_ring_walks++;
	g_ring_walk_ns = gzm_now_ns();
	pthread_mutex_unlock(&g_peak_mutex);
}

/* One walk of the registry, batch by batch; returns when the next is due (CLOCK_MONOTONIC). */
static uint64_t
gzm_owners_walk(void)
{
	static struct gzm_owner_walk w;
	uint64_t cpu = gzm_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint32_t slot, hw, n, k, done;
	struct rte_ring *ring;
	int err = 0;

	w.n = 0;
	w.untracked = 0;
	hw = __atomic_load_n(&g_reg_hw, __ATOMIC_ACQUIRE);
	for (slot = 0; slot < hw && err == 0;) {
		for (n = 0; n < GZM_RING_WALK_BATCH && slot < hw; slot++) {
			/* the ring pointer is published last and cleared first (gzm_reg_add, removal) */
			ring = __atomic_load_n(&g_reg[slot].ring, __ATOMIC_ACQUIRE);
			if (ring == NULL)
				continue;
			w.ent[n] = g_reg[slot];
			w.ent[n].name[sizeof(w.ent[n].name) - 1] = '\0';
			w.local[n] = (struct iovec){ .iov_base = &w.hdr[n], .iov_len = sizeof(w.hdr[n]) };
			w.remote[n] = (struct iovec){ .iov_base = ring, .iov_len = sizeof(w.hdr[n]) };
			n++;
		}
		for (k = 0; k < n && err == 0; k++) {
			done = gzm_owner_copy(&w, k, n, &err);
			for (; k < done; k++)
				gzm_owner_add(&w, &w.ent[k], &w.hdr[k]);
			/* k: the header that could not be copied, skipped */
		}
	}
	gzm_owners_update(&w, gzm_clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu, err);
	return gzm_clock_ns(CLOCK_MONOTONIC) + __atomic_load_n(&g_ring_walk_period_ns, __ATOMIC_RELAXED);
}

/* Off the lcores' CPUs (rte_mempool_walk is not exported before EAL is up, so it starts after). */
static void
gzm_peak_place(void)
{
	cpu_set_t cpus;
	unsigned int lcore;
	int cpu;

	cpus = g_peak_cpus;
	/* the CPU each lcore runs on; stable from 22.11, exported as experimental in 21.11 */
	RTE_LCORE_FOREACH(lcore) {
#if RTE_VERSION < RTE_VERSION_NUM(22, 11, 0, 0)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
		cpu = rte_lcore_to_cpu_id((int)lcore);
#if RTE_VERSION < RTE_VERSION_NUM(22, 11, 0, 0)
#pragma GCC diagnostic pop
#endif
		if (cpu >= 0 && cpu < CPU_SETSIZE)
			CPU_CLR(cpu, &cpus);
	}
	/* every CPU an lcore: share them, at the lowest priority */
	if (CPU_COUNT(&cpus) == 0)
		cpus = g_peak_cpus;
	if (CPU_COUNT(&cpus) != 0)
		(void)pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	(void)setpriority(PRIO_PROCESS, (id_t)gzm_gettid(), 19);
}

/*
 * Passes at the idle rate while the pools are still, at the full rate from the first pass that
 * sees one rise until GZM_PEAK_HOLD_NS after the last rise. A burst is seen rising within an idle
 * period and its top is then read at the full rate.
 */
static void *
gzm_peak_thread(void *arg __rte_unused)
{
	uint64_t fast = 1000000000ull / g_peak_hz, idle = 1000000000ull / g_peak_idle_hz;
	uint64_t now, next, period, fast_until = 0, next_walk = 0;
	struct timespec ts;

	gzm_peak_place();
	next = gzm_clock_ns(CLOCK_MONOTONIC);
	for (;;) {
		now = gzm_clock_ns(CLOCK_MONOTONIC);
		if (gzm_peak_pass())
			fast_until = now + GZM_PEAK_HOLD_NS;
		/* walks wait while the full rate holds (a walk of thousands of rings takes a pass or
		 * more), but not for more than a second */
		if (now >= next_walk && (now >= fast_until || now >= next_walk + 1000000000ull))
			next_walk = gzm_owners_walk();
		period = now < fast_until ? fast : idle;
		/* absolute deadlines: the rate holds however long a pass takes */
		next += period;
		ts.tv_sec = (time_t)(next / 1000000000ull);
		ts.tv_nsec = (long)(next % 1000000000ull);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		/* kept off the CPU for whole periods: those passes are due and missed, not caught up */
		now = gzm_clock_ns(CLOCK_MONOTONIC);
		if (now > next + period) {
			__atomic_fetch_add(&g_peak_due, (now - next) / period, __ATOMIC_RELAXED);
			next = now;
		}
	}
	return NULL;
}

/* A rate from the environment, 10..max; fallback when unset or out of range. */
static uint32_t
gzm_env_hz(const char *var, uint32_t max, uint32_t fallback)
{
	const char *hz = getenv(var);
	unsigned long n;
	char *end;

	if (hz == NULL || *hz == '\0')
		return fallback;
	n = strtoul(hz, &end, 10);
	if (*end != '\0' || n < 10 || n > max)
		return fallback;
	return (uint32_t)n;
}

static uint32_t
gzm_peak_rate(void)
{
	const char *v = getenv("GZMEM_PEAKS");

	if (v != NULL && (strcmp(v, "off") == 0 || strcmp(v, "0") == 0))
		return 0;
	return gzm_env_hz("GZMEM_PEAK_HZ", 10000, GZM_PEAK_HZ_DEFAULT);
}

static void
gzm_peaks_start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	uint32_t hz = gzm_peak_rate();

	if (hz == 0 || rte_eal_process_type() != RTE_PROC_PRIMARY)
		return;
	g_peak_started_ns = gzm_now_ns();
	/* GZMEM_PEAK_IDLE_HZ=<the full rate> keeps the full rate all the time; set before g_peak_hz,
	 * which telemetry threads read to tell whether the sampler runs */
	g_peak_idle_hz = gzm_env_hz("GZMEM_PEAK_IDLE_HZ", hz, RTE_MIN(GZM_PEAK_IDLE_HZ_DEFAULT, hz));
	__atomic_store_n(&g_peak_hz, hz, __ATOMIC_RELEASE);
	if (pthread_attr_init(&attr) != 0) {
		g_peak_hz = 0;
		return;
	}
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, gzm_peak_thread, NULL) == 0)
		(void)pthread_setname_np(t, "gzmem-peaks");
	else
		g_peak_hz = 0;
	(void)pthread_attr_destroy(&attr);
}

int
rte_eal_init(int argc, char **argv)
{
	gzm_eal_init_t fn = GZM_REAL(gzm_real_eal_init, "rte_eal_init");
	int rc;

	if (fn == NULL)
		return -1;
	/* before EAL pins this thread to the main lcore */
	if (sched_getaffinity(0, sizeof(g_peak_cpus), &g_peak_cpus) != 0)
		CPU_ZERO(&g_peak_cpus);
	rc = fn(argc, argv);
	if (rc >= 0)
		gzm_peaks_start();
	return rc;
}

/* The reader's slot: its own, a free one, or the one read longest ago. Under g_peak_mutex. */
static uint32_t
gzm_peak_reader(uint64_t id, bool *fresh)
{
	uint32_t r, pick = 0;

	for (r = 0; r < GZM_PEAK_READERS; r++) {
		if (g_readers[r].id == id) {
			*fresh = false;
			return r;
		}
		if (g_readers[r].id == 0 ||
		    (g_readers[pick].id != 0 && g_readers[r].since_ns < g_readers[pick].since_ns))
			pick = r;
	}
	g_readers[pick].id = id;
	/* a new reader asks for sub-samples itself */
	g_subs[pick].every_ns = 0;
	g_readers[pick].since_ns = g_peak_started_ns;
	g_readers[pick].since_passes = 0;
	g_readers[pick].since_due = 0;
	*fresh = true;
	return pick;
}

enum { GZM_PK_NAME, GZM_PK_SIZE, GZM_PK_NOW, GZM_PK_PEAK, GZM_PK_HWM, GZM_PK_SINCE, GZM_PK_NB };
static const char * const gzm_pk_keys[GZM_PK_NB] = { "name", "size", "in_use", "peak", "hwm", "sampled_since_ns" };
static const enum rte_tel_value_type gzm_pk_types[GZM_PK_NB] = {
	RTE_TEL_STRING_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL,
	RTE_TEL_U64_VAL,
};

/* True when every listed pool has been sampled at least once. */
static bool
gzm_peak_all_ready(void)
{
	bool ready = true;
	uint32_t i;

	pthread_mutex_lock(&g_peak_mutex);
	for (i = 0; i < GZM_PEAK_POOLS; i++)
		if (g_peaks[i].mp != NULL && !g_peaks[i].ready &&
		    g_peaks[i].mp->populated_size == g_peaks[i].mp->size)
			ready = false;
	pthread_mutex_unlock(&g_peak_mutex);
	return ready;
}

/*
 * /gzmem/peaks,<reader>[,<start>]: per pool, the highest in-use since this reader's last read of
 * that pool (reset by the read; a new reader's window starts with the sampler) and since start.
 * Readers are told apart by an id of their choosing (gzmem uses its pid); the least recently
 * read of 16 slots is reused for a new one.
 */
/* "<reader id>[,<start>]": the reader (1..2^32-1) and the page's first row. */
static int
gzm_parse_reader(const char *params, uint64_t *id, uint32_t *start)
{
	const char *p = params;

	*id = 0;
	*start = 0;
	if (p == NULL || *p < '1' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		*id = *id * 10 + (uint64_t)(*p - '0');
		if (*id > UINT32_MAX)
			return -EINVAL;
	}
	if (*p == ',')
		return gzm_parse_start(p + 1, start);
	return *p == '\0' ? 0 : -EINVAL;
}

static const char * const gzm_pk_sample_keys[GZM_PK_NB] = {
	"peak_name", "peak_size", "peak_in_use", "peak", "peak_hwm", "peak_sampled_since_ns",
};

static const enum rte_tel_value_type gzm_u64_types[8] = {
	RTE_TEL_U64_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL,
	RTE_TEL_U64_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL, RTE_TEL_U64_VAL,
};

enum { GZM_OW_TID, GZM_OW_RINGS, GZM_OW_CAPACITY, GZM_OW_NOW, GZM_OW_PEAK, GZM_OW_HWM, GZM_OW_NB };
static const char * const gzm_ow_keys[GZM_OW_NB] = {
	"ring_owner_tid", "ring_owner_rings", "ring_owner_capacity", "ring_owner_in_use",
	"ring_owner_peak", "ring_owner_hwm",
};

/* rows of pools and of peaks in one /gzmem/sample reply, and the bytes each page may take: with
 * the call counts (3 KiB at most), 1 KiB of ring owners, the heaps, ports and keys, one message */
#define GZM_SAMPLE_ROWS 32u
#define GZM_SAMPLE_PAGE_BUDGET 4096u
/* bytes of ring owner rows in one /gzmem/sample reply */
#define GZM_SAMPLE_OWNER_BUDGET 1024u

/*
 * The ring owners of the last walk, for reader slot r (under g_peak_mutex): entries now, the highest
 * since this reader's window began (a new reader: since the sampler started) and since start. An
 * owner whose rings all went in the window still shows, with its peak. Added last to /gzmem/sample.
 */
static void
gzm_owners_fill(struct rte_tel_data *d, struct rte_tel_data **arr, uint32_t r, bool fresh)
{
	struct gzm_page_cursor c = { .budget = GZM_SAMPLE_OWNER_BUDGET };
	struct gzm_ring_owner *ow;
	uint64_t peak;
	uint32_t j, total = 0;

	for (j = 0; j < GZM_RING_OWNERS; j++) {
		ow = &g_owners[j];
		peak = fresh ? ow->hwm : ow->max[r];
		if (ow->tid == 0 || (ow->rings == 0 && peak == 0))
			continue;
		total++;
		if (!gzm_page_take(&c, gzm_json_u64_len((uint64_t)ow->tid) + gzm_json_u64_len(ow->rings) +
				   gzm_json_u64_len(ow->capacity) + gzm_json_u64_len(ow->now) +
				   gzm_json_u64_len(peak) + gzm_json_u64_len(ow->hwm), GZM_RING_OWNERS))
			continue;
		gzm_array_u64(arr[GZM_OW_TID], (uint64_t)ow->tid);
		gzm_array_u64(arr[GZM_OW_RINGS], ow->rings);
		gzm_array_u64(arr[GZM_OW_CAPACITY], ow->capacity);
		gzm_array_u64(arr[GZM_OW_NOW], ow->now);
		gzm_array_u64(arr[GZM_OW_PEAK], peak);
		gzm_array_u64(arr[GZM_OW_HWM], ow->hwm);
	}
	gzm_dict_u64(d, "ring_walks", g_ring_walks);
	gzm_dict_u64(d, "ring_walk_ns", g_ring_walk_ns);
	gzm_dict_u64(d, "ring_walk_period_ns", g_ring_walk_period_ns);
	gzm_dict_u64(d, "ring_walk_cpu_ns", g_ring_walk_cpu_ns);
	gzm_dict_u64(d, "ring_walk_errno", (uint64_t)g_ring_walk_errno);
	gzm_dict_u64(d, "ring_owner_total", total);
	gzm_dict_u64(d, "ring_owner_untracked_rings", g_owners_untracked);
	gzm_tel_add_arrays(d, arr, gzm_ow_keys, GZM_OW_NB);
}

/* A reader's window moved on: its owner maxima start again where the last walk stands. */
static void
gzm_owners_reset(uint32_t r)
{
	uint32_t j;

	for (j = 0; j < GZM_RING_OWNERS; j++)
		g_owners[j].max[r] = g_owners[j].now;
}

/*
 * Adds reader id's peaks from row `start` to d (an open dict): under /gzmem/peaks with its own
 * keys, under /gzmem/sample with keys starting "peak" (so they sit beside the pools' columns).
 */
static int
gzm_peaks_fill(struct rte_tel_data *d, uint64_t id, uint32_t start, bool sample, uint32_t max_rows)
{
	const char * const *keys = sample ? gzm_pk_sample_keys : gzm_pk_keys;
	struct rte_tel_data *arr[GZM_PK_NB], *ow[GZM_OW_NB];
	struct gzm_page_cursor c;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint64_t now = gzm_now_ns(), since, since_passes, passes, since_due, due;
	uint32_t i, r, total = 0, peak, cost;
	uint32_t hz = __atomic_load_n(&g_peak_hz, __ATOMIC_ACQUIRE);
	bool fresh;

	memset(&c, 0, sizeof(c));
	c.start = start;
	if (sample)
		c.budget = GZM_SAMPLE_PAGE_BUDGET;
	gzm_dict_u64(d, sample ? "peak_hz" : "hz", hz);
	if (hz == 0)
		return 0;
	if (gzm_tel_alloc_arrays(arr, gzm_pk_types, GZM_PK_NB) < 0)
		return -ENOMEM;
	if (sample && gzm_tel_alloc_arrays(ow, gzm_u64_types, GZM_OW_NB) < 0) {
		gzm_tel_free_all(arr, GZM_PK_NB);
		return -ENOMEM;
	}
	if (c.start == 0) {
		gzm_peak_discover();
		/* pools this read found: a pass here, so even a first read has a sample of them */
		if (!gzm_peak_all_ready())
			(void)gzm_peak_pass();
	}
	pthread_mutex_lock(&g_peak_mutex);
	r = gzm_peak_reader(id, &fresh);
	since = g_readers[r].since_ns;
	since_passes = g_readers[r].since_passes;
	since_due = g_readers[r].since_due;
	passes = __atomic_load_n(&g_peak_passes, __ATOMIC_RELAXED);
	due = __atomic_load_n(&g_peak_due, __ATOMIC_RELAXED);
	for (i = 0; i < GZM_PEAK_POOLS; i++) {
		/* a pool discovered by this read has no sample yet: it shows from the next */
		if (g_peaks[i].mp == NULL || !g_peaks[i].ready || c.index++ < c.start || c.full)
			continue;
		gzm_printable(name, sizeof(name), g_peaks[i].name);
		/* a window that started before the pool was seen still has the pool's own peak */
		peak = fresh ? g_peaks[i].hwm : g_peaks[i].max[r];
		cost = gzm_json_str_len(name) + gzm_json_u64_len(g_peaks[i].size) +
			gzm_json_u64_len(g_peaks[i].now) + gzm_json_u64_len(peak) +
			gzm_json_u64_len(g_peaks[i].hwm) + gzm_json_u64_len(g_peaks[i].since_ns);
		if (!gzm_page_take(&c, cost, max_rows))
			continue;
		rte_tel_data_add_array_string(arr[GZM_PK_NAME], name);
		gzm_array_u64(arr[GZM_PK_SIZE], g_peaks[i].size);
		gzm_array_u64(arr[GZM_PK_NOW], g_peaks[i].now);
		gzm_array_u64(arr[GZM_PK_PEAK], peak);
		gzm_array_u64(arr[GZM_PK_HWM], g_peaks[i].hwm);
		gzm_array_u64(arr[GZM_PK_SINCE], g_peaks[i].since_ns);
		/* the next window of this pool starts where the last pass stands */
		g_peaks[i].max[r] = g_peaks[i].now;
	}
	for (i = 0; i < GZM_PEAK_POOLS; i++)
		if (g_peaks[i].mp != NULL && g_peaks[i].ready)
			total++;
	/* passes in this window against those due: how much of it the sampler really covered */
	gzm_dict_u64(d, sample ? "peak_passes" : "passes", passes - since_passes);
	gzm_dict_u64(d, sample ? "peak_due" : "due", due - since_due);
	gzm_dict_u64(d, sample ? "peak_idle_hz" : "idle_hz", g_peak_idle_hz);
	gzm_dict_u64(d, sample ? "peak_since_ns" : "since_ns", since);
	gzm_dict_u64(d, sample ? "peak_now_ns" : "now_ns", now);
	gzm_dict_u64(d, sample ? "peak_untracked" : "untracked", g_peak_untracked);
	if (sample) {
		gzm_dict_u64(d, "peak_total", total);
		rte_tel_data_add_dict_int(d, "peak_next",
			(uint64_t)c.start + c.shown < total ? (int)(c.start + c.shown) : -1);
	} else {
		gzm_tel_page_header(d, total, c.start, c.shown);
	}
	gzm_tel_add_arrays(d, arr, keys, GZM_PK_NB);
	/* last, so that if a reply ever ran out of room, the owners are what it lost */
	if (sample)
		gzm_owners_fill(d, ow, r, fresh);
	if (!c.full) {
		g_readers[r].since_ns = now;
		g_readers[r].since_passes = passes;
		g_readers[r].since_due = due;
		gzm_owners_reset(r);
	}
	pthread_mutex_unlock(&g_peak_mutex);
	return 0;
}

static int
gzm_cmd_peaks(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	uint32_t start;
	uint64_t id;

	if (gzm_parse_reader(params, &id, &start) < 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	return gzm_peaks_fill(d, id, start, false, GZM_PEAK_PAGE);
}

/* ---- one command per sample ---- */


static const char * const gzm_mp_sample_keys[GZM_MP_NB] = {
	"pool_name", "pool_size", "pool_avail", "pool_in_use", "pool_common", "pool_cache",
	"pool_cache_size",
};

enum { GZM_HP_SOCKET, GZM_HP_SIZE, GZM_HP_FREE, GZM_HP_ALLOC, GZM_HP_GREATEST, GZM_HP_ALLOCS,
	GZM_HP_FREES, GZM_HP_NB };
static const char * const gzm_hp_keys[GZM_HP_NB] = {
	"heap_socket", "heap_size", "heap_free", "heap_alloc", "heap_greatest_free",
	"heap_alloc_count", "heap_free_count",
};

enum { GZM_PT_PORT, GZM_PT_NOMBUF, GZM_PT_IPACKETS, GZM_PT_OPACKETS, GZM_PT_NB };
static const char * const gzm_pt_keys[GZM_PT_NB] = {
	"port", "port_rx_nombuf", "port_ipackets", "port_opackets",
};

/*
 * /gzmem/sample,<reader>: what a steady sample needs, in one message: the registry counters of
 * /gzmem/info, the first page of /gzmem/mempools (32 rows), the socket heaps as
 * rte_malloc_get_socket_stats gives them (what /eal/heap_info reports), each port's rx_nombuf and
 * packet counters, and the reader's first page of /gzmem/peaks. A sampler saves a round trip per
 * part, and the context switches each costs the core it shares.
 */
static int
gzm_cmd_sample(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *hp[GZM_HP_NB], *pt[GZM_PT_NB];
	struct rte_malloc_socket_stats ms;
	struct rte_eth_stats es;
	struct gzm_mp_page pg;
	uint32_t start;
	uint64_t id;
	uint16_t port;
	int socket;

	if (gzm_parse_reader(params, &id, &start) < 0 || start != 0)
		return -EINVAL;
	memset(&pg, 0, sizeof(pg));
	pg.max_rows = GZM_SAMPLE_ROWS;
	pg.c.budget = GZM_SAMPLE_PAGE_BUDGET;
	if (gzm_tel_alloc_arrays(pg.arr, gzm_mp_types, GZM_MP_NB) < 0)
		return -ENOMEM;
	if (gzm_tel_alloc_arrays(hp, gzm_u64_types, GZM_HP_NB) < 0) {
		gzm_tel_free_all(pg.arr, GZM_MP_NB);
		return -ENOMEM;
	}
	if (gzm_tel_alloc_arrays(pt, gzm_u64_types, GZM_PT_NB) < 0) {
		gzm_tel_free_all(pg.arr, GZM_MP_NB);
		gzm_tel_free_all(hp, GZM_HP_NB);
		return -ENOMEM;
	}
	rte_tel_data_start_dict(d);
	gzm_info_fill(d);

	rte_mempool_walk(gzm_mp_page_visit, &pg);
	gzm_dict_u64(d, "pool_total", pg.c.index);
	rte_tel_data_add_dict_int(d, "pool_next", pg.c.shown < pg.c.index ? (int)pg.c.shown : -1);
	gzm_tel_add_arrays(d, pg.arr, gzm_mp_sample_keys, GZM_MP_NB);

	for (socket = 0; socket < RTE_MAX_NUMA_NODES; socket++) {
		if (rte_malloc_get_socket_stats(socket, &ms) != 0 || ms.heap_totalsz_bytes == 0)
			continue;
		gzm_array_u64(hp[GZM_HP_SOCKET], (uint64_t)socket);
		gzm_array_u64(hp[GZM_HP_SIZE], ms.heap_totalsz_bytes);
		gzm_array_u64(hp[GZM_HP_FREE], ms.heap_freesz_bytes);
		gzm_array_u64(hp[GZM_HP_ALLOC], ms.heap_allocsz_bytes);
		gzm_array_u64(hp[GZM_HP_GREATEST], ms.greatest_free_size);
		gzm_array_u64(hp[GZM_HP_ALLOCS], ms.alloc_count);
		gzm_array_u64(hp[GZM_HP_FREES], ms.free_count);
	}
	gzm_tel_add_arrays(d, hp, gzm_hp_keys, GZM_HP_NB);

	RTE_ETH_FOREACH_DEV(port) {
		if (rte_eth_stats_get(port, &es) != 0)
			continue;
		gzm_array_u64(pt[GZM_PT_PORT], port);
		gzm_array_u64(pt[GZM_PT_NOMBUF], es.rx_nombuf);
		gzm_array_u64(pt[GZM_PT_IPACKETS], es.ipackets);
		gzm_array_u64(pt[GZM_PT_OPACKETS], es.opackets);
	}
	gzm_tel_add_arrays(d, pt, gzm_pt_keys, GZM_PT_NB);

	if (gzm_calls_sample(d) < 0)
		return -ENOMEM;
	return gzm_peaks_fill(d, id, 0, true, GZM_SAMPLE_ROWS);
}

/* entries of each flattened array in one /gzmem/subsamples reply: three of them, 11 bytes an
 * entry at most, with the names and times, well under the 16 KiB a reply may take */
#define GZM_SUB_CELLS 256u
/* the shortest sub-sample period a reader may ask for (the idle rate's is 10 ms) */
#define GZM_SUB_MIN_MS 10u
#define GZM_SUB_MAX_MS 60000u

enum { GZM_SB_T, GZM_SB_IN_USE, GZM_SB_COMMON, GZM_SB_PEAK, GZM_SB_NB };
static const char * const gzm_sb_keys[GZM_SB_NB] = { "t_ns", "in_use", "common", "peak" };

/*
 * /gzmem/subsamples,<reader>,<every_ms>: the rows the sampler took for this reader since its last
 * read (oldest first; "more" when they did not all fit), and from now on one every every_ms (0:
 * none). Each row has, per pool of "names" (the first 64 slots), its in-use, the objects in the
 * common pool and the highest in-use since the previous row; 4294967295 where the pool was not
 * sampled then. Without the sampler (GZMEM_PEAKS=off) only "hz": 0.
 */
static int
gzm_cmd_subsamples(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *arr[GZM_SB_NB], *names;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t every_ms, r, i, k, nb_pools = 0, rows, shown = 0;
	uint32_t slots[GZM_SUB_POOLS];
	struct gzm_sub_row *row;
	struct gzm_sub *s;
	uint64_t id, every_ns;
	uint32_t hz = __atomic_load_n(&g_peak_hz, __ATOMIC_ACQUIRE);
	bool fresh;

	if (gzm_parse_reader(params, &id, &every_ms) < 0 ||
	    (every_ms != 0 && (every_ms < GZM_SUB_MIN_MS || every_ms > GZM_SUB_MAX_MS)))
		return -EINVAL;
	rte_tel_data_start_dict(d);
	gzm_dict_u64(d, "hz", hz);
	if (hz == 0)
		return 0;
	if (gzm_tel_alloc_arrays(arr, gzm_u64_types, GZM_SB_NB) < 0)
		return -ENOMEM;
	names = rte_tel_data_alloc();
	if (names == NULL) {
		gzm_tel_free_all(arr, GZM_SB_NB);
		return -ENOMEM;
	}
	rte_tel_data_start_array(names, RTE_TEL_STRING_VAL);
	every_ns = (uint64_t)every_ms * 1000000ull;
	pthread_mutex_lock(&g_peak_mutex);
	r = gzm_peak_reader(id, &fresh);
	s = &g_subs[r];
	/* another period, or another reader in the slot: its rows are not this reader's */
	if (fresh || s->every_ns != every_ns) {
		s->head = 0;
		s->count = 0;
		s->dropped = 0;
		s->every_ns = every_ns;
		s->next_ns = gzm_clock_ns(CLOCK_MONOTONIC) + every_ns;
	}
	for (i = 0; i < GZM_SUB_POOLS; i++) {
		if (g_peaks[i].mp == NULL)
			continue;
		slots[nb_pools++] = i;
		gzm_printable(name, sizeof(name), g_peaks[i].name);
		rte_tel_data_add_array_string(names, name);
	}
	rows = RTE_MIN(s->count, nb_pools == 0 ? s->count : GZM_SUB_CELLS / nb_pools);
	for (; shown < rows; shown++) {
		row = &s->rows[(s->head + shown) % GZM_SUB_ROWS];
		gzm_array_u64(arr[GZM_SB_T], row->t_ns);
		for (k = 0; k < nb_pools; k++) {
			i = slots[k];
			gzm_array_u64(arr[GZM_SB_IN_USE], row->in_use[i]);
			gzm_array_u64(arr[GZM_SB_COMMON], row->in_use[i] == GZM_SUB_UNKNOWN ? GZM_SUB_UNKNOWN : row->common[i]);
			gzm_array_u64(arr[GZM_SB_PEAK], row->in_use[i] == GZM_SUB_UNKNOWN ? GZM_SUB_UNKNOWN : row->peak[i]);
		}
	}
	gzm_dict_u64(d, "every_ms", every_ms);
	gzm_dict_u64(d, "dropped", s->dropped);
	gzm_dict_u64(d, "more", shown < s->count ? 1 : 0);
	s->head = (s->head + shown) % GZM_SUB_ROWS;
	s->count -= shown;
	s->dropped = 0;
	pthread_mutex_unlock(&g_peak_mutex);
	if (rte_tel_data_add_dict_container(d, "names", names, 0) != 0)
		rte_tel_data_free(names);
	gzm_tel_add_arrays(d, arr, gzm_sb_keys, GZM_SB_NB);
	return 0;
}

static const struct {
	const char *cmd;
	telemetry_cb fn;
	const char *help;
} gzm_cmds[] = {
	{ "/gzmem/info", gzm_cmd_info,
	  "gzmem preload: version, ring registry counters, page sizes. No parameters" },
	{ "/gzmem/mempools", gzm_cmd_mempools,
	  "gzmem preload: occupancy of every mempool, one page. Parameter: start index" },
	{ "/gzmem/mempool", gzm_cmd_mempool,
	  "gzmem preload: occupancy and per-lcore cache of one mempool. Parameter: name" },
	{ "/gzmem/rings", gzm_cmd_rings,
	  "gzmem preload: every live ring with its count, one page. Parameter: start index" },
	{ "/gzmem/sample", gzm_cmd_sample,
	  "gzmem preload: registry counters, pools, socket heaps, port counters and peaks for one sample. Parameter: reader id" },
	{ "/gzmem/subsamples", gzm_cmd_subsamples,
	  "gzmem preload: pools' occupancy the sampler recorded for this reader. Parameters: reader id,every ms" },
	{ "/gzmem/peaks", gzm_cmd_peaks,
	  "gzmem preload: each mempool's highest in-use since this reader's last read. Parameters: reader id[,start]" },
	{ "/gzmem/calls", gzm_cmd_calls,
	  "gzmem preload: POSIX socket calls and their failures per thread, one page. Parameter: start row" },
	{ "/gzmem/latency", gzm_cmd_latency,
	  "gzmem preload: POSIX call times per thread in log2 buckets (GZMEM_CALLS_LATENCY=on), one page. Parameter: start row" },
};

/* Every command goes through here: none runs once rte_eal_cleanup has begun; each says "closing". */
static int
gzm_cmd_guarded(const char *cmd, const char *params, struct rte_tel_data *d)
{
	unsigned int i;
	int rc = -EINVAL;

	/* A reply that says so, where an error would send the reader to DPDK's own commands, which
	 * the same unmapping crashes. */
	if (!gzm_command_enter()) {
		rte_tel_data_start_dict(d);
		gzm_dict_u64(d, "closing", 1);
		return 0;
	}
	for (i = 0; i < RTE_DIM(gzm_cmds); i++) {
		if (strcmp(cmd, gzm_cmds[i].cmd) == 0) {
			rc = gzm_cmds[i].fn(cmd, params, d);
			break;
		}
	}
	gzm_command_leave();
	return rc;
}

static void __attribute__((constructor))
gzm_init(void)
{
	const char *failed = NULL;
	unsigned int i, ok = 0;
	int rc, err = 0;

	/* resolve now, so the hooks rarely need dlsym */
	GZM_REAL(gzm_real_ring_init, "rte_ring_init");
	GZM_REAL(gzm_real_ring_free, "rte_ring_free");
	GZM_REAL(gzm_real_free, "rte_free");
	GZM_REAL(gzm_real_eal_init, "rte_eal_init");
	GZM_REAL(gzm_real_mempool_free, "rte_mempool_free");
	GZM_REAL(gzm_real_eal_cleanup, "rte_eal_cleanup");
	gzm_calls_init();

	for (i = 0; i < RTE_DIM(gzm_cmds); i++) {
		rc = rte_telemetry_register_cmd(gzm_cmds[i].cmd, gzm_cmd_guarded,
						gzm_cmds[i].help);
		if (rc == 0) {
			ok++;
		} else if (failed == NULL) {
			failed = gzm_cmds[i].cmd;
			err = rc < 0 ? -rc : rc;
		}
	}
	/* a host process never hears from us unless asked */
	if (getenv("GZMEM_PRELOAD_DEBUG") == NULL)
		return;
	if (failed != NULL)
		fprintf(stderr, "libgzmem: pid %d: %u of %u telemetry commands registered,"
			" %s failed: %s\n", (int)getpid(), ok, (unsigned int)RTE_DIM(gzm_cmds),
			failed, strerror(err));
	else
		fprintf(stderr, "libgzmem: pid %d: %u telemetry commands registered\n",
			(int)getpid(), ok);
}
