/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gzload: a DPDK workload with the memory layout of openEuler gazelle
 * (DPDK + lwIP user-space TCP/IP stack), so gzmem can be shown and tested
 * without gazelle. Stacks busy-poll a net_null port, hold mbufs in
 * per-connection rings according to a pattern, and the main lcore answers
 * line commands on stdin with one JSON line each on stdout, including the
 * in-process ground truth ("truth") that gzmem's readings are tested against.
 */

#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_memzone.h>
#include <rte_pause.h>
#include <rte_ring.h>

#define GZ_PROG "gzload"

#define GZ_RX_BURST 32
/* 128 B struct rte_mbuf + 64 B private + 1800 B data room = 1992 B, gazelle's element size */
#define GZ_MBUF_PRIV_SIZE 64
#define GZ_MBUF_DATA_ROOM 1800
#define GZ_MBUF_CACHE 512
/* gazelle adds this reserve on top of connections, NIC descriptors and one more rx queue */
#define GZ_MBUF_RESERVE 1024
/* keeps pool sizes far below what a rte_ring (2^31 slots) could index */
#define GZ_MBUF_POOL_MAX (1u << 26)
#define GZ_RPC_COUNT 4096
/* gazelle's rpc_pool objects are 192 B in all: 80 B element + 64 B header + 48 B trailer */
#define GZ_RPC_ELT_SIZE 80
/* thread names hold two digits: gazellelstack00..63 (15 chars, the kernel limit) */
#define GZ_MAX_STACKS 64
#define GZ_MAX_CONNS 65535
#define GZ_MAX_RING_SIZE 65536
#define GZ_LEAK_PER_SEC 64
#define GZ_NULL_VDEV "net_null0"
#define GZ_NAME_LEN 64
#define GZ_LINE_MAX 1024
/* how long main waits for stacks to acknowledge a pause or a pattern switch */
#define GZ_ACK_TIMEOUT_MS 5000
/* pool population can take a while with large pools and --no-huge */
#define GZ_READY_TIMEOUT_MS 120000

enum gz_pattern {
	GZ_PAT_IDLE,
	GZ_PAT_STEADY,
	GZ_PAT_BURST,
	GZ_PAT_SLOW,
	GZ_PAT_LEAK,
	GZ_PAT_SPIKE,
	GZ_PAT_MAX,
};

static const char * const gz_pattern_names[GZ_PAT_MAX] = {
	[GZ_PAT_IDLE] = "idle",
	[GZ_PAT_STEADY] = "steady",
	[GZ_PAT_BURST] = "burst",
	[GZ_PAT_SLOW] = "slow",
	[GZ_PAT_LEAK] = "leak",
	[GZ_PAT_SPIKE] = "spike",
};

/* spike: every recv ring full for this long, once a second */
#define GZ_SPIKE_MS 20

struct gz_conf {
	uint32_t tcp_conn_count;
	uint32_t mbuf_count_per_conn;
	uint32_t nic_rxqueue_size;
	uint32_t nic_txqueue_size;
	uint32_t stacks;	/* 0 = one per worker lcore */
	uint32_t hold;
	uint32_t ring_size;
	enum gz_pattern pattern;
};

/*
 * lwIP keeps its memp pools in hugepage memzones named <pool>_<stack tid>;
 * that suffix is how gzmem maps memory to a stack thread. Sizes are scaled
 * down from gazelle's so a default stack stays around 40 MiB in total.
 */
struct gz_lwip_zone {
	const char *name;
	uint64_t base;
	uint64_t per_conn;
	bool times_mbufs;	/* per_conn is multiplied by mbuf_count_per_conn */
};

static const struct gz_lwip_zone gz_lwip_zones[] = {
	{ "LWIP_RAM_HEAP_POINTER", 1u << 20, 16u << 10, false },
	{ "TCP_PCB", 0, 256, false },
	{ "TCP_SEG", 0, 64, true },
	{ "PBUF_POOL", 0, 1024, false },
	{ "NETCONN", 0, 512, false },
	{ "SYS_MBOX", 0, 1408, false },
	{ "UDP_PCB", 0, 256, false },
	{ "TCP_PCB_LISTEN", 0, 64, false },
};
#define GZ_NB_LWIP_ZONES RTE_DIM(gz_lwip_zones)
#define GZ_LWIP_ZONE_MIN 4096

struct gz_conn {
	struct rte_ring *recv;
	struct rte_ring *send;
};

enum gz_stack_state {
	GZ_STACK_STARTING,
	GZ_STACK_READY,
	GZ_STACK_FAILED,
};

struct gz_stack {
	/* set by main before launch */
	unsigned int id;
	unsigned int lcore;
	int socket;

	/* set by the stack thread before it reports ready */
	pid_t tid;
	char name[GZ_NAME_LEN];
	char err[256];
	struct rte_mempool *mbuf_pool;
	struct rte_mempool *rpc_pool;
	const struct rte_memzone *zones[GZ_NB_LWIP_ZONES];
	struct gz_conn *conns;
	uint32_t nb_conns;
	uint32_t ring_cap;
	struct rte_mbuf **leak;
	uint32_t leak_len;
	uint32_t leak_cap;

	/* data path, written only by the stack thread; main reads it while paused */
	uint64_t mode;
	enum gz_pattern pattern;
	uint32_t target;	/* mbufs each recv ring should hold */
	uint64_t deficit;	/* sum over conns of target - count, when positive */
	uint32_t cursor;
	bool burst_high;
	uint64_t next_flip;
	uint64_t next_tick;
	uint64_t next_leak;
	uint64_t leak_owed;
	uint64_t held;		/* ground truth: mbufs in this stack's rings + leak list */
	uint64_t rx_empty;	/* rx polls that returned nothing (net_null: pool dry) */
	uint32_t max_in_use;	/* spike, burst: the pool's highest in-use this thread saw (atomic) */
	int cpu;

	/* handshakes with main */
	uint32_t state;
	uint64_t mode_ack;
	uint64_t pause_ack;
} __rte_cache_aligned;

static struct gz_conf g_conf = {
	.tcp_conn_count = 64,
	.mbuf_count_per_conn = 170,
	.nic_rxqueue_size = 512,
	.nic_txqueue_size = 512,
	.stacks = 0,
	.hold = 4,
	.ring_size = 128,
	.pattern = GZ_PAT_STEADY,
};

static struct gz_stack g_stacks[GZ_MAX_STACKS];
static unsigned int g_nb_stacks;
static uint16_t g_port = RTE_MAX_ETHPORTS;
static bool g_port_started;
static bool g_vdev_created;
static uint64_t g_hz;
static char g_prefix[PATH_MAX];
static char g_runtime_dir[PATH_MAX];
/* hugetlbfs dirs where this process mapped named <prefix>map_N files */
#define GZ_MAX_HUGE_DIRS 8
static char g_huge_dirs[GZ_MAX_HUGE_DIRS][PATH_MAX];
static unsigned int g_nb_huge_dirs;

/* main -> stacks; accessed with __atomic builtins */
static uint32_t g_go;
static uint32_t g_stop;
/* pattern | hold << 8 | sequence << 40: a new word per switch, so acks are unambiguous */
static uint64_t g_mode;
static uint64_t g_mode_seq;
/* bit 0 = paused, the rest a sequence number, so a stale ack never matches */
static uint64_t g_pause_word;
static uint64_t g_pause_seq;
static bool g_paused;		/* paused by the "pause" command */

static volatile sig_atomic_t g_signal;

#define GZ_MODE(seq, pat, hold) \
	(((uint64_t)(seq) << 40) | ((uint64_t)(hold) << 8) | (uint64_t)(pat))
#define GZ_MODE_PATTERN(m) ((enum gz_pattern)((m) & 0xff))
#define GZ_MODE_HOLD(m) ((uint32_t)(((m) >> 8) & 0xffffffffu))

static void
gz_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
gz_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(GZ_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
gz_usage(FILE *f)
{
	fprintf(f,
		"usage: " GZ_PROG " [EAL args] -- [options]\n"
		"  --tcp_conn_count N       connections per stack (default 64)\n"
		"  --mbuf_count_per_conn N  mbufs sized per connection (default 170)\n"
		"  --nic_rxqueue_size N     rx descriptors per queue (default 512)\n"
		"  --nic_txqueue_size N     tx descriptors per queue (default 512)\n"
		"  --stacks N               stack threads (default: one per worker lcore)\n"
		"  --pattern P              idle|steady|burst|slow|leak|spike (default steady)\n"
		"  --hold K                 mbufs held per connection (default 4)\n"
		"  --ring-size N            per-connection ring size, power of two (default 128)\n"
		"stdin commands: pattern <name> [hold] | pause | resume | truth | churn <n> | unchurn | calls <n> | quit\n");
}

/* Sleeps without spinning (rte_delay_us_sleep is still experimental in DPDK 21.11). */
static void
gz_sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Strict unsigned parse: digits only, no sign, no spaces, within [min, max]. */
static int
gz_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static int
gz_parse_pattern(const char *s, enum gz_pattern *out)
{
	int i;

	for (i = 0; i < GZ_PAT_MAX; i++) {
		if (strcmp(s, gz_pattern_names[i]) == 0) {
			*out = (enum gz_pattern)i;
			return 0;
		}
	}
	return -EINVAL;
}

static uint64_t
gz_mbuf_pool_size(const struct gz_conf *c)
{
	/* gazelle (2024): one more rx queue's worth and 1024 in reserve */
	return (uint64_t)c->tcp_conn_count * c->mbuf_count_per_conn +
		2 * (uint64_t)c->nic_rxqueue_size + c->nic_txqueue_size + GZ_MBUF_RESERVE;
}

enum {
	OPT_TCP_CONN_COUNT = 256,
	OPT_MBUF_COUNT_PER_CONN,
	OPT_NIC_RXQUEUE_SIZE,
	OPT_NIC_TXQUEUE_SIZE,
	OPT_STACKS,
	OPT_PATTERN,
	OPT_HOLD,
	OPT_RING_SIZE,
	OPT_HELP,
};

static const struct option gz_long_opts[] = {
	{ "tcp_conn_count", required_argument, NULL, OPT_TCP_CONN_COUNT },
	{ "mbuf_count_per_conn", required_argument, NULL, OPT_MBUF_COUNT_PER_CONN },
	{ "nic_rxqueue_size", required_argument, NULL, OPT_NIC_RXQUEUE_SIZE },
	{ "nic_txqueue_size", required_argument, NULL, OPT_NIC_TXQUEUE_SIZE },
	{ "stacks", required_argument, NULL, OPT_STACKS },
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "hold", required_argument, NULL, OPT_HOLD },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/*
 * Parses the options after "--". Returns 0, 1 for --help, or -1 after
 * printing one "gzload: ..." line.
 */
static int
gz_parse_args(int argc, char **argv, struct gz_conf *c)
{
	uint64_t pool;
	uint32_t *dst;
	uint32_t min, max;
	const char *what;
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", gz_long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_TCP_CONN_COUNT:
			dst = &c->tcp_conn_count; min = 1; max = GZ_MAX_CONNS;
			what = "--tcp_conn_count";
			break;
		case OPT_MBUF_COUNT_PER_CONN:
			dst = &c->mbuf_count_per_conn; min = 1; max = 65535;
			what = "--mbuf_count_per_conn";
			break;
		case OPT_NIC_RXQUEUE_SIZE:
			dst = &c->nic_rxqueue_size; min = 1; max = UINT16_MAX;
			what = "--nic_rxqueue_size";
			break;
		case OPT_NIC_TXQUEUE_SIZE:
			dst = &c->nic_txqueue_size; min = 1; max = UINT16_MAX;
			what = "--nic_txqueue_size";
			break;
		case OPT_STACKS:
			dst = &c->stacks; min = 1; max = GZ_MAX_STACKS;
			what = "--stacks";
			break;
		case OPT_HOLD:
			dst = &c->hold; min = 0; max = GZ_MAX_RING_SIZE - 1;
			what = "--hold";
			break;
		case OPT_RING_SIZE:
			dst = &c->ring_size; min = 2; max = GZ_MAX_RING_SIZE;
			what = "--ring-size";
			break;
		case OPT_PATTERN:
			if (gz_parse_pattern(optarg, &c->pattern) < 0) {
				gz_usage_error("--pattern must be idle, steady, burst, slow, leak or spike, not '%s'",
					       optarg);
				return -1;
			}
			continue;
		case OPT_HELP:
			gz_usage(stdout);
			return 1;
		case ':':
			gz_usage_error("option '%s' needs a value", argv[optind - 1]);
			return -1;
		default:
			gz_usage_error("unknown option '%s' (see --help)", argv[optind - 1]);
			return -1;
		}
		rc = gz_parse_u32(optarg, min, max, dst);
		if (rc < 0) {
			gz_usage_error("%s must be an integer from %" PRIu32 " to %" PRIu32 ", not '%s'",
				       what, min, max, optarg);
			return -1;
		}
	}
	if (optind < argc) {
		gz_usage_error("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!rte_is_power_of_2(c->ring_size)) {
		gz_usage_error("--ring-size must be a power of two, not %" PRIu32, c->ring_size);
		return -1;
	}
	/* a ring of size N holds N - 1 objects (no RING_F_EXACT_SZ) */
	if (c->hold > c->ring_size - 1) {
		gz_usage_error("--hold %" PRIu32 " exceeds the ring capacity %" PRIu32
			       " (--ring-size %" PRIu32 " holds size - 1)",
			       c->hold, c->ring_size - 1, c->ring_size);
		return -1;
	}
	pool = gz_mbuf_pool_size(c);
	if (pool > GZ_MBUF_POOL_MAX) {
		gz_usage_error("mbuf pool of %" PRIu64 " mbufs is too large (at most %u)",
			       pool, GZ_MBUF_POOL_MAX);
		return -1;
	}
	return 0;
}

/* ---- stack thread ---- */

static void
gz_stack_out(struct gz_stack *st, struct rte_mbuf **pkts, unsigned int n)
{
	uint16_t sent;

	if (n == 0)
		return;
	/* net_null's tx frees what it sends; free what a real queue refuses */
	sent = rte_eth_tx_burst(g_port, st->id, pkts, n);
	if (sent < n)
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
}

/* Trims every recv ring to target and recomputes the fill deficit. */
static void
gz_stack_set_target(struct gz_stack *st, uint32_t target)
{
	struct rte_mbuf *pkts[GZ_RX_BURST];
	unsigned int cnt, k;
	uint32_t j;

	st->target = target;
	st->deficit = 0;
	for (j = 0; j < st->nb_conns; j++) {
		struct rte_ring *r = st->conns[j].recv;

		cnt = rte_ring_count(r);
		while (cnt > target) {
			k = RTE_MIN(cnt - target, (unsigned int)GZ_RX_BURST);
			k = rte_ring_sc_dequeue_burst(r, (void **)pkts, k, NULL);
			if (k == 0)
				break;
			gz_stack_out(st, pkts, k);
			st->held -= k;
			cnt -= k;
		}
		if (cnt < target)
			st->deficit += target - cnt;
	}
}

static void
gz_stack_drain_send(struct gz_stack *st)
{
	struct rte_mbuf *pkts[GZ_RX_BURST];
	unsigned int k;
	uint32_t j;

	for (j = 0; j < st->nb_conns; j++) {
		while ((k = rte_ring_sc_dequeue_burst(st->conns[j].send,
				(void **)pkts, GZ_RX_BURST, NULL)) != 0) {
			gz_stack_out(st, pkts, k);
			st->held -= k;
		}
	}
}

static void
gz_stack_free_leak(struct gz_stack *st)
{
	if (st->leak_len != 0)
		rte_pktmbuf_free_bulk(st->leak, st->leak_len);
	st->held -= st->leak_len;
	st->leak_len = 0;
	st->leak_owed = 0;
}

/* A slow consumer: one mbuf per connection per tick moves recv -> send. */
static void
gz_stack_slow_tick(struct gz_stack *st)
{
	void *obj;
	uint32_t j;

	/* what the previous tick queued is transmitted now, so send rings hold <= 1 at rest */
	gz_stack_drain_send(st);
	for (j = 0; j < st->nb_conns; j++) {
		if (rte_ring_sc_dequeue(st->conns[j].recv, &obj) != 0)
			continue;
		st->deficit++;
		if (rte_ring_sp_enqueue(st->conns[j].send, obj) != 0) {
			gz_stack_out(st, (struct rte_mbuf **)&obj, 1);
			st->held--;
		}
	}
}

static uint32_t
gz_stack_pattern_target(const struct gz_stack *st, enum gz_pattern pat, uint32_t hold)
{
	switch (pat) {
	case GZ_PAT_STEADY:
	case GZ_PAT_LEAK:
		return hold;
	case GZ_PAT_BURST:
		/* hold * 4 is clamped to what a ring can hold */
		return st->burst_high ?
			(uint32_t)RTE_MIN((uint64_t)hold * 4, (uint64_t)st->ring_cap) : 0;
	case GZ_PAT_SLOW:
		return st->ring_cap;
	case GZ_PAT_SPIKE:
		return st->burst_high ? st->ring_cap : 0;
	case GZ_PAT_IDLE:
	default:
		return 0;
	}
}

/* Applies a new pattern: releases whatever the new pattern does not hold. */
static void
gz_stack_switch(struct gz_stack *st, uint64_t mode, uint64_t now)
{
	enum gz_pattern old = st->pattern;
	enum gz_pattern pat = GZ_MODE_PATTERN(mode);
	uint32_t hold = GZ_MODE_HOLD(mode);

	if (old == GZ_PAT_LEAK && pat != GZ_PAT_LEAK)
		gz_stack_free_leak(st);
	if (pat != GZ_PAT_SLOW)
		gz_stack_drain_send(st);
	if (pat == GZ_PAT_BURST && old != GZ_PAT_BURST) {
		st->burst_high = true;
		st->next_flip = now + 2 * g_hz;
	}
	if (pat == GZ_PAT_SPIKE && old != GZ_PAT_SPIKE) {
		st->burst_high = false;
		st->next_flip = now + g_hz / 10;
		__atomic_store_n(&st->max_in_use, 0, __ATOMIC_RELAXED);
	}
	if (pat == GZ_PAT_SLOW && old != GZ_PAT_SLOW)
		st->next_tick = now + g_hz / 10;
	if (pat == GZ_PAT_LEAK && old != GZ_PAT_LEAK) {
		st->next_leak = now + g_hz;
		st->leak_owed = 0;
	}
	st->pattern = pat;
	gz_stack_set_target(st, gz_stack_pattern_target(st, pat, hold));
	st->mode = mode;
}

/* Puts rx'd mbufs into recv rings below target, round robin; returns how many. */
static unsigned int
gz_stack_fill(struct gz_stack *st, struct rte_mbuf **pkts, unsigned int n)
{
	unsigned int used = 0, cnt, k;
	uint32_t visited = 0;

	while (st->deficit != 0 && used < n && visited < st->nb_conns) {
		struct rte_ring *r = st->conns[st->cursor].recv;

		k = 0;
		cnt = rte_ring_count(r);
		if (cnt < st->target) {
			k = RTE_MIN(st->target - cnt, n - used);
			k = rte_ring_sp_enqueue_burst(r, (void * const *)(pkts + used), k, NULL);
			used += k;
			st->held += k;
			st->deficit -= RTE_MIN((uint64_t)k, st->deficit);
			cnt += k;
		}
		/* move on when full, or if the ring took nothing (never loop in place) */
		if (cnt >= st->target || k == 0) {
			st->cursor = (st->cursor + 1) % st->nb_conns;
			visited++;
		}
	}
	/* a full pass without need means the deficit was stale */
	if (visited >= st->nb_conns && used < n)
		st->deficit = 0;
	return used;
}

static unsigned int
gz_stack_leak(struct gz_stack *st, struct rte_mbuf **pkts, unsigned int n)
{
	unsigned int k = (unsigned int)RTE_MIN((uint64_t)n, st->leak_owed);

	k = RTE_MIN(k, st->leak_cap - st->leak_len);
	memcpy(st->leak + st->leak_len, pkts, k * sizeof(*pkts));
	st->leak_len += k;
	st->leak_owed -= k;
	st->held += k;
	return k;
}

static void
gz_stack_poll(struct gz_stack *st)
{
	struct rte_mbuf *pkts[GZ_RX_BURST];
	uint64_t now = rte_get_timer_cycles();
	uint64_t mode = __atomic_load_n(&g_mode, __ATOMIC_ACQUIRE);
	unsigned int n, used;

	if (mode != st->mode) {
		gz_stack_switch(st, mode, now);
		__atomic_store_n(&st->mode_ack, mode, __ATOMIC_RELEASE);
	}
	st->cpu = sched_getcpu();

	switch (st->pattern) {
	case GZ_PAT_IDLE:
		return;
	case GZ_PAT_BURST:
		if (now >= st->next_flip) {
			st->next_flip = now + 2 * g_hz;
			st->burst_high = !st->burst_high;
			gz_stack_set_target(st, gz_stack_pattern_target(st, st->pattern,
					GZ_MODE_HOLD(st->mode)));
		}
		break;
	case GZ_PAT_SPIKE:
		if (now >= st->next_flip) {
			st->burst_high = !st->burst_high;
			st->next_flip = now + (st->burst_high ? g_hz * GZ_SPIKE_MS / 1000 :
					       g_hz - g_hz * GZ_SPIKE_MS / 1000);
			gz_stack_set_target(st, gz_stack_pattern_target(st, st->pattern,
					GZ_MODE_HOLD(st->mode)));
		}
		break;
	case GZ_PAT_SLOW:
		if (now >= st->next_tick) {
			st->next_tick = now + g_hz / 10;
			gz_stack_slow_tick(st);
		}
		break;
	case GZ_PAT_LEAK:
		if (now >= st->next_leak) {
			/* no catch-up after a pause: the rate is per running second */
			st->next_leak = now + g_hz;
			st->leak_owed = RTE_MIN(st->leak_owed + GZ_LEAK_PER_SEC,
						(uint64_t)(st->leak_cap - st->leak_len));
		}
		break;
	default:
		break;
	}

	n = rte_eth_rx_burst(g_port, st->id, pkts, GZ_RX_BURST);
	if (n == 0) {
		st->rx_empty++;
		return;
	}
	used = gz_stack_fill(st, pkts, n);
	if (st->pattern == GZ_PAT_LEAK)
		used += gz_stack_leak(st, pkts + used, n - used);
	/* the rest is the traffic that passes through: send it on */
	gz_stack_out(st, pkts + used, n - used);
	if ((st->pattern == GZ_PAT_SPIKE || st->pattern == GZ_PAT_BURST) && st->burst_high) {
		/* the truth a peak sampler is checked against: in use as the pool counts it */
		n = rte_mempool_in_use_count(st->mbuf_pool);
		if (n > st->max_in_use)
			__atomic_store_n(&st->max_in_use, n, __ATOMIC_RELAXED);
	}
}

static void
gz_stack_release_all(struct gz_stack *st)
{
	gz_stack_free_leak(st);
	gz_stack_drain_send(st);
	gz_stack_set_target(st, 0);
}

static int
gz_stack_alloc(struct gz_stack *st, const struct gz_conf *c)
{
	char name[GZ_NAME_LEN];
	uint64_t pool = gz_mbuf_pool_size(c);
	unsigned int cache = RTE_MIN(GZ_MBUF_CACHE, RTE_MEMPOOL_CACHE_MAX_SIZE);
	ssize_t ring_sz;
	unsigned int i;
	uint32_t j;
	int rc;

	/* DPDK refuses a cache whose flush threshold (1.5 x size) exceeds the pool */
	if ((uint64_t)cache * 3 / 2 > pool)
		cache = (unsigned int)(pool * 2 / 3);

	snprintf(name, sizeof(name), "rxtx_mbuf_%u", st->id);
	st->mbuf_pool = rte_pktmbuf_pool_create(name, (unsigned int)pool, cache,
			GZ_MBUF_PRIV_SIZE, GZ_MBUF_DATA_ROOM, st->socket);
	if (st->mbuf_pool == NULL)
		goto fail_rte;

	snprintf(name, sizeof(name), "rpc_pool_%d", (int)st->tid);
	st->rpc_pool = rte_mempool_create(name, GZ_RPC_COUNT, GZ_RPC_ELT_SIZE, 0, 0,
			NULL, NULL, NULL, NULL, st->socket, 0);
	if (st->rpc_pool == NULL)
		goto fail_rte;

	for (i = 0; i < GZ_NB_LWIP_ZONES; i++) {
		const struct gz_lwip_zone *z = &gz_lwip_zones[i];
		uint64_t len = z->per_conn * c->tcp_conn_count;

		if (z->times_mbufs)
			len *= c->mbuf_count_per_conn;
		len = RTE_MAX(z->base + len, (uint64_t)GZ_LWIP_ZONE_MIN);
		rc = snprintf(name, sizeof(name), "%s_%d", z->name, (int)st->tid);
		if (rc < 0 || rc >= RTE_MEMZONE_NAMESIZE) {
			rte_errno = ENAMETOOLONG;
			goto fail_rte;
		}
		st->zones[i] = rte_memzone_reserve(name, len, st->socket, 0);
		if (st->zones[i] == NULL)
			goto fail_rte;
	}

	/*
	 * gazelle names these rings after the socket's address; stack and
	 * connection numbers keep the names stable for tests. They are
	 * rte_malloc'd and rte_ring_init'ed, so no memzone lists them.
	 */
	st->nb_conns = c->tcp_conn_count;
	st->conns = calloc(st->nb_conns, sizeof(*st->conns));
	if (st->conns == NULL) {
		rte_errno = ENOMEM;
		snprintf(name, sizeof(name), "connection table");
		goto fail_rte;
	}
	ring_sz = rte_ring_get_memsize(c->ring_size);
	if (ring_sz < 0) {
		rte_errno = (int)-ring_sz;
		snprintf(name, sizeof(name), "ring size %" PRIu32, c->ring_size);
		goto fail_rte;
	}
	for (j = 0; j < st->nb_conns; j++) {
		struct rte_ring **rp[2] = { &st->conns[j].recv, &st->conns[j].send };
		static const char * const kind[2] = { "sock_recv", "sock_send" };
		int k;

		for (k = 0; k < 2; k++) {
			rc = snprintf(name, sizeof(name), "%s_%u_%" PRIu32, kind[k], st->id, j);
			if (rc < 0 || (size_t)rc >= RTE_RING_NAMESIZE) {
				rte_errno = ENAMETOOLONG;
				goto fail_rte;
			}
			*rp[k] = rte_malloc_socket(NULL, (size_t)ring_sz, RTE_CACHE_LINE_SIZE,
						   st->socket);
			if (*rp[k] == NULL) {
				rte_errno = ENOMEM;
				goto fail_rte;
			}
			rc = rte_ring_init(*rp[k], name, c->ring_size,
					   RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (rc < 0) {
				rte_free(*rp[k]);
				*rp[k] = NULL;
				rte_errno = -rc;
				goto fail_rte;
			}
		}
	}
	st->ring_cap = rte_ring_get_capacity(st->conns[0].recv);

	/* room for every mbuf of the pool, so leaking can run the pool dry */
	st->leak_cap = (uint32_t)pool;
	st->leak = rte_malloc_socket(NULL, sizeof(*st->leak) * st->leak_cap, 0, st->socket);
	if (st->leak == NULL) {
		rte_errno = ENOMEM;
		snprintf(name, sizeof(name), "leak list");
		goto fail_rte;
	}
	return 0;

fail_rte:
	rc = rte_errno;
	snprintf(st->err, sizeof(st->err), "stack %u: cannot create %s: %s",
		 st->id, name, rte_strerror(rc));
	return -(rc != 0 ? rc : ENOMEM);
}

/* Frees what gz_stack_alloc made; runs on main after the stack returned. */
static void
gz_stack_free(struct gz_stack *st)
{
	unsigned int i;
	uint32_t j;

	rte_free(st->leak);
	st->leak = NULL;
	if (st->conns != NULL) {
		for (j = 0; j < st->nb_conns; j++) {
			rte_free(st->conns[j].recv);
			rte_free(st->conns[j].send);
		}
		free(st->conns);
		st->conns = NULL;
	}
	for (i = 0; i < GZ_NB_LWIP_ZONES; i++) {
		if (st->zones[i] != NULL)
			rte_memzone_free(st->zones[i]);
		st->zones[i] = NULL;
	}
	rte_mempool_free(st->rpc_pool);
	st->rpc_pool = NULL;
	rte_mempool_free(st->mbuf_pool);
	st->mbuf_pool = NULL;
}

static int
gz_stack_main(void *arg)
{
	struct gz_stack *st = arg;
	uint64_t w;
	int rc;

	st->tid = (pid_t)syscall(SYS_gettid);
	snprintf(st->name, sizeof(st->name), "gazellelstack%02u", st->id);
	/*
	 * EAL names its workers (rte-worker-N) once, in rte_eal_init, and never
	 * again on launch, so the name set here stays for the thread's life.
	 */
	rc = pthread_setname_np(pthread_self(), st->name);
	if (rc != 0)
		RTE_LOG(WARNING, USER1, "%s: cannot set thread name: %s\n",
			st->name, strerror(rc));
	st->cpu = sched_getcpu();

	rc = gz_stack_alloc(st, &g_conf);
	if (rc < 0) {
		__atomic_store_n(&st->state, GZ_STACK_FAILED, __ATOMIC_RELEASE);
		return rc;
	}
	__atomic_store_n(&st->state, GZ_STACK_READY, __ATOMIC_RELEASE);

	/* the port is configured with our pool after every stack reported */
	while (!__atomic_load_n(&g_go, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE))
			return 0;
		rte_pause();
	}

	while (!__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE)) {
		w = __atomic_load_n(&g_pause_word, __ATOMIC_ACQUIRE);
		if (w & 1) {
			/* release: main sees every ring and counter write before the ack */
			__atomic_store_n(&st->pause_ack, w, __ATOMIC_RELEASE);
			while (__atomic_load_n(&g_pause_word, __ATOMIC_ACQUIRE) == w &&
			       !__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE))
				rte_pause();
			continue;
		}
		gz_stack_poll(st);
	}

	/* the port is still started here; main stops it after all stacks return */
	gz_stack_release_all(st);
	return 0;
}

/* ---- main lcore ---- */

/* Waits until every stack's field at field_off equals want; 0 or -ETIMEDOUT. */
static int
gz_wait_acks(size_t field_off, uint64_t want, unsigned int timeout_ms)
{
	uint64_t deadline = rte_get_timer_cycles() + g_hz * timeout_ms / 1000;
	unsigned int i;

	for (;;) {
		for (i = 0; i < g_nb_stacks; i++) {
			uint64_t *p = (uint64_t *)((char *)&g_stacks[i] + field_off);

			if (__atomic_load_n(p, __ATOMIC_ACQUIRE) != want)
				break;
		}
		if (i == g_nb_stacks)
			return 0;
		if (rte_get_timer_cycles() > deadline)
			return -ETIMEDOUT;
		gz_sleep_us(50);
	}
}

static int
gz_pause_stacks(void)
{
	uint64_t w;

	g_pause_seq++;
	w = (g_pause_seq << 1) | 1;
	__atomic_store_n(&g_pause_word, w, __ATOMIC_RELEASE);
	return gz_wait_acks(offsetof(struct gz_stack, pause_ack), w, GZ_ACK_TIMEOUT_MS);
}

static void
gz_resume_stacks(void)
{
	__atomic_store_n(&g_pause_word, g_pause_seq << 1, __ATOMIC_RELEASE);
}

static int
gz_set_mode(enum gz_pattern pat, uint32_t hold)
{
	uint64_t mode;

	g_conf.pattern = pat;
	g_conf.hold = hold;
	mode = GZ_MODE(++g_mode_seq, pat, hold);
	__atomic_store_n(&g_mode, mode, __ATOMIC_RELEASE);
	/* paused stacks apply it when resumed */
	if (g_paused)
		return 0;
	return gz_wait_acks(offsetof(struct gz_stack, mode_ack), mode, GZ_ACK_TIMEOUT_MS);
}

static void
gz_json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
gz_reply_error(const char *msg)
{
	fputs("{\"ok\":false,\"error\":", stdout);
	gz_json_str(stdout, msg);
	fputs("}\n", stdout);
	fflush(stdout);
}

struct gz_walk {
	FILE *f;
	bool first;
};

static void
gz_truth_pool(struct rte_mempool *mp, void *arg)
{
	struct gz_walk *w = arg;
	bool first = true;
	unsigned int k;

	fprintf(w->f, "%s{\"name\":", w->first ? "" : ",");
	w->first = false;
	gz_json_str(w->f, mp->name);
	fprintf(w->f, ",\"size\":%u,\"avail\":%u,\"in_use\":%u,\"cache_size\":%u"
		",\"elt_size\":%u,\"header_size\":%u,\"trailer_size\":%u,\"socket\":%d"
		",\"cache_len\":[",
		mp->size, rte_mempool_avail_count(mp), rte_mempool_in_use_count(mp),
		mp->cache_size, mp->elt_size, mp->header_size, mp->trailer_size,
		mp->socket_id);
	/* avail already counts these: cached mbufs are free, not in use */
	if (mp->cache_size != 0 && mp->local_cache != NULL) {
		for (k = 0; k < RTE_MAX_LCORE; k++) {
			if (mp->local_cache[k].len == 0)
				continue;
			fprintf(w->f, "%s{\"lcore\":%u,\"len\":%u}", first ? "" : ",",
				k, mp->local_cache[k].len);
			first = false;
		}
	}
	fputs("]}", w->f);
}

static void
gz_truth_memzone(const struct rte_memzone *mz, void *arg)
{
	struct gz_walk *w = arg;

	fprintf(w->f, "%s{\"name\":", w->first ? "" : ",");
	w->first = false;
	gz_json_str(w->f, mz->name);
	fprintf(w->f, ",\"len\":%zu,\"socket\":%d,\"hugepage_sz\":%" PRIu64 "}",
		mz->len, mz->socket_id, mz->hugepage_sz);
}

static void
gz_truth_ring(FILE *f, bool *first, const struct gz_stack *st, uint32_t conn,
	      const struct rte_ring *r, const char *dir)
{
	fprintf(f, "%s{\"name\":", *first ? "" : ",");
	*first = false;
	gz_json_str(f, r->name);
	fprintf(f, ",\"capacity\":%u,\"count\":%u,\"stack\":%u,\"conn\":%" PRIu32
		",\"dir\":\"%s\"}",
		rte_ring_get_capacity(r), rte_ring_count(r), st->id, conn, dir);
}

/* Prints the ground-truth line; stacks must be paused. */
static void
gz_truth_print(FILE *f)
{
	struct rte_malloc_socket_stats ms;
	struct rte_eth_stats es;
	struct gz_walk w;
	bool first;
	unsigned int i, s;
	uint32_t j;

	fprintf(f, "{\"pid\":%d,\"prefix\":", (int)getpid());
	gz_json_str(f, g_prefix);
	fprintf(f, ",\"pattern\":\"%s\",\"hold\":%" PRIu32 ",\"paused\":%s,\"stacks\":[",
		gz_pattern_names[g_conf.pattern], g_conf.hold, g_paused ? "true" : "false");
	for (i = 0; i < g_nb_stacks; i++) {
		const struct gz_stack *st = &g_stacks[i];
		uint64_t recv = 0, send = 0;

		for (j = 0; j < st->nb_conns; j++) {
			recv += rte_ring_count(st->conns[j].recv);
			send += rte_ring_count(st->conns[j].send);
		}
		/*
		 * held is the stack's own count; recv + send + leak re-derive it
		 * from the rings. The pool's in_use equals held at rest because
		 * net_null keeps no mbufs in descriptors (its rx allocates on
		 * demand, its tx frees at once), so nic_held is always 0 here; a
		 * PMD that pre-fills rx descriptors would add nb_rx_desc to in_use.
		 */
		fprintf(f, "%s{\"id\":%u,\"tid\":%d,\"lcore\":%u,\"cpu\":%d,\"name\":",
			i ? "," : "", st->id, (int)st->tid, st->lcore, st->cpu);
		gz_json_str(f, st->name);
		fprintf(f, ",\"held\":%" PRIu64 ",\"recv\":%" PRIu64 ",\"send\":%" PRIu64
			",\"leak\":%" PRIu32 ",\"nic_held\":0,\"pool\":",
			st->held, recv, send, st->leak_len);
		gz_json_str(f, st->mbuf_pool->name);
		fprintf(f, ",\"rx_empty\":%" PRIu64 ",\"max_in_use\":%" PRIu32 "}", st->rx_empty,
			__atomic_load_n(&st->max_in_use, __ATOMIC_RELAXED));
	}

	fputs("],\"pools\":[", f);
	w.f = f;
	w.first = true;
	rte_mempool_walk(gz_truth_pool, &w);

	fputs("],\"rings\":[", f);
	first = true;
	for (i = 0; i < g_nb_stacks; i++) {
		const struct gz_stack *st = &g_stacks[i];

		for (j = 0; j < st->nb_conns; j++) {
			gz_truth_ring(f, &first, st, j, st->conns[j].recv, "recv");
			gz_truth_ring(f, &first, st, j, st->conns[j].send, "send");
		}
	}

	fputs("],\"heaps\":[", f);
	first = true;
	for (s = 0; s < rte_socket_count(); s++) {
		int sock = rte_socket_id_by_idx(s);

		if (sock < 0 || rte_malloc_get_socket_stats(sock, &ms) < 0 ||
		    ms.heap_totalsz_bytes == 0)
			continue;
		fprintf(f, "%s{\"socket\":%d,\"heap_totalsz_bytes\":%zu"
			",\"heap_allocsz_bytes\":%zu,\"heap_freesz_bytes\":%zu"
			",\"greatest_free_size\":%zu,\"alloc_count\":%u,\"free_count\":%u}",
			first ? "" : ",", sock, ms.heap_totalsz_bytes, ms.heap_allocsz_bytes,
			ms.heap_freesz_bytes, ms.greatest_free_size, ms.alloc_count,
			ms.free_count);
		first = false;
	}

	fputs("],\"memzones\":[", f);
	w.first = true;
	rte_memzone_walk(gz_truth_memzone, &w);

	memset(&es, 0, sizeof(es));
	rte_eth_stats_get(g_port, &es);
	fprintf(f, "],\"port\":%u,\"rx_nombuf\":%" PRIu64 ",\"ipackets\":%" PRIu64
		",\"opackets\":%" PRIu64 "}\n", g_port, es.rx_nombuf, es.ipackets, es.opackets);
	fflush(f);
}

/*
 * Rings made and freed on request ("churn N", "unchurn"), the way a server's connections come and
 * go: half by rte_ring_create/rte_ring_free, half rte_malloc'd + rte_ring_init'ed and rte_free'd.
 * They let tests check that the preload forgets freed rings and reuses their registry slots.
 */
static struct rte_ring **g_churn;
static uint32_t g_churn_n;

static void
gz_unchurn(void)
{
	uint32_t i;

	for (i = 0; i < g_churn_n; i++) {
		if (i % 2 == 0)
			rte_ring_free(g_churn[i]);
		else
			rte_free(g_churn[i]);
	}
	free(g_churn);
	g_churn = NULL;
	g_churn_n = 0;
}

static int
gz_churn(uint32_t n)
{
	char name[RTE_RING_NAMESIZE];
	ssize_t sz = rte_ring_get_memsize(64);
	uint32_t i;

	if (g_churn != NULL || sz < 0)
		return -EBUSY;
	g_churn = calloc(n, sizeof(*g_churn));
	if (g_churn == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "churn_%" PRIu32, i);
		if (i % 2 == 0) {
			g_churn[i] = rte_ring_create(name, 64, SOCKET_ID_ANY, 0);
		} else {
			g_churn[i] = rte_malloc(NULL, (size_t)sz, RTE_CACHE_LINE_SIZE);
			if (g_churn[i] != NULL && rte_ring_init(g_churn[i], name, 64, 0) < 0) {
				rte_free(g_churn[i]);
				g_churn[i] = NULL;
			}
		}
		if (g_churn[i] == NULL)
			break;
	}
	g_churn_n = i;
	return i == n ? 0 : -ENOMEM;
}

/*
 * "calls <n>": a thread of its own makes a known number of socket calls while the stacks run, so a
 * test can check the preload's counts inside a busy DPDK process: one socket, n getsockopt on it,
 * its close, and n close(-1) that fail.
 */
struct gz_calls {
	uint32_t n;
	pid_t tid;
	int failed;
};

static void *
gz_calls_thread(void *arg)
{
	struct gz_calls *c = arg;
	socklen_t len;
	uint32_t i;
	int fd, v;

	c->tid = (pid_t)syscall(SYS_gettid);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		c->failed = 1;
		return NULL;
	}
	for (i = 0; i < c->n; i++) {
		len = sizeof(v);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0)
			c->failed = 1;
	}
	close(fd);
	for (i = 0; i < c->n; i++)
		if (close(-1) == 0)
			c->failed = 1;
	return NULL;
}

static int
gz_calls(uint32_t n)
{
	struct gz_calls c = { .n = n, .tid = 0, .failed = 0 };
	pthread_t t;

	if (pthread_create(&t, NULL, gz_calls_thread, &c) != 0 || pthread_join(t, NULL) != 0 || c.failed)
		return -1;
	fprintf(stdout, "{\"ok\":true,\"tid\":%d,\"calls\":{\"socket\":[1,0],\"getsockopt\":[%" PRIu32
		",0],\"close\":[%" PRIu32 ",%" PRIu32 "]}}\n", (int)c.tid, n, n + 1, n);
	return 0;
}

/* Handles one command line; returns 1 on quit. */
static int
gz_command(char *line)
{
	char *argv[4];
	char msg[128];
	char *save = NULL, *tok;
	enum gz_pattern pat;
	uint32_t hold;
	int argc = 0;

	for (tok = strtok_r(line, " \t\r", &save); tok != NULL && argc < (int)RTE_DIM(argv);
	     tok = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = tok;
	if (argc == 0)
		return 0;
	if (tok != NULL) {
		gz_reply_error("too many arguments");
		return 0;
	}

	if (strcmp(argv[0], "pattern") == 0) {
		if (argc < 2 || argc > 3) {
			gz_reply_error("usage: pattern idle|steady|burst|slow|leak [hold]");
			return 0;
		}
		if (gz_parse_pattern(argv[1], &pat) < 0) {
			snprintf(msg, sizeof(msg), "unknown pattern '%.32s'", argv[1]);
			gz_reply_error(msg);
			return 0;
		}
		hold = g_conf.hold;
		if (argc == 3 && gz_parse_u32(argv[2], 0, g_conf.ring_size - 1, &hold) < 0) {
			snprintf(msg, sizeof(msg), "hold must be an integer from 0 to %" PRIu32,
				 g_conf.ring_size - 1);
			gz_reply_error(msg);
			return 0;
		}
		if (gz_set_mode(pat, hold) < 0) {
			gz_reply_error("stacks did not acknowledge the pattern");
			return 0;
		}
		fputs("{\"ok\":true}\n", stdout);
	} else if (strcmp(argv[0], "pause") == 0 && argc == 1) {
		if (!g_paused && gz_pause_stacks() < 0) {
			gz_resume_stacks();
			gz_reply_error("stacks did not acknowledge the pause");
			return 0;
		}
		g_paused = true;
		fputs("{\"ok\":true,\"paused\":true}\n", stdout);
	} else if (strcmp(argv[0], "resume") == 0 && argc == 1) {
		g_paused = false;
		gz_resume_stacks();
		fputs("{\"ok\":true,\"paused\":false}\n", stdout);
	} else if (strcmp(argv[0], "truth") == 0 && argc == 1) {
		if (!g_paused && gz_pause_stacks() < 0) {
			gz_resume_stacks();
			gz_reply_error("stacks did not acknowledge the pause");
			return 0;
		}
		gz_truth_print(stdout);
		if (!g_paused)
			gz_resume_stacks();
	} else if (strcmp(argv[0], "churn") == 0 && argc == 2) {
		if (gz_parse_u32(argv[1], 1, 100000, &hold) < 0 || gz_churn(hold) < 0) {
			gz_unchurn();
			gz_reply_error("churn: give 1..100000 rings, after unchurn, with memory for them");
			return 0;
		}
		fprintf(stdout, "{\"ok\":true,\"churn\":%" PRIu32 "}\n", g_churn_n);
	} else if (strcmp(argv[0], "calls") == 0 && argc == 2) {
		if (gz_parse_u32(argv[1], 1, 10000000, &hold) < 0 || gz_calls(hold) < 0) {
			gz_reply_error("calls: give 1..10000000 calls; the calls thread could not run");
			return 0;
		}
	} else if (strcmp(argv[0], "unchurn") == 0 && argc == 1) {
		gz_unchurn();
		fputs("{\"ok\":true,\"churn\":0}\n", stdout);
	} else if (strcmp(argv[0], "quit") == 0 && argc == 1) {
		fputs("{\"ok\":true,\"quit\":true}\n", stdout);
		fflush(stdout);
		return 1;
	} else if (strcmp(argv[0], "pause") == 0 || strcmp(argv[0], "resume") == 0 ||
		   strcmp(argv[0], "truth") == 0 || strcmp(argv[0], "quit") == 0) {
		snprintf(msg, sizeof(msg), "'%s' takes no arguments", argv[0]);
		gz_reply_error(msg);
		return 0;
	} else {
		snprintf(msg, sizeof(msg), "unknown command '%.32s'", argv[0]);
		gz_reply_error(msg);
		return 0;
	}
	fflush(stdout);
	return 0;
}

/* Reads stdin lines until quit or a signal; EOF on stdin keeps running. */
static void
gz_control_loop(void)
{
	char buf[GZ_LINE_MAX];
	size_t len = 0;
	bool eof = false, skipping = false;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char *nl;
	ssize_t n;
	int rc;

	while (!g_signal) {
		if (eof) {
			poll(NULL, 0, 100);
			continue;
		}
		rc = poll(&pfd, 1, 100);
		if (rc <= 0)
			continue;
		if (pfd.revents & POLLNVAL) {
			eof = true;
			continue;
		}
		n = read(STDIN_FILENO, buf + len, sizeof(buf) - 1 - len);
		if (n < 0) {
			if (errno != EINTR && errno != EAGAIN)
				eof = true;
			continue;
		}
		if (n == 0) {
			eof = true;
			/* a last command without a newline still counts */
			if (len != 0 && !skipping) {
				buf[len] = '\0';
				if (gz_command(buf))
					return;
			}
			len = 0;
			continue;
		}
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			size_t used = (size_t)(nl - buf) + 1;

			*nl = '\0';
			if (skipping)
				skipping = false;
			else if (gz_command(buf))
				return;
			memmove(buf, buf + used, len - used);
			len -= used;
			buf[len] = '\0';
		}
		if (len == sizeof(buf) - 1) {
			if (!skipping)
				gz_reply_error("line too long");
			skipping = true;
			len = 0;
		}
	}
}

static void
gz_on_signal(int sig)
{
	g_signal = sig;
}

static int
gz_port_setup(void)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t port;
	unsigned int i;
	int rc;

	/* gazelle's port comes from --vdev in dpdk_args; supply one if none was given */
	if (rte_eth_dev_count_avail() == 0) {
		rc = rte_vdev_init(GZ_NULL_VDEV, "");
		if (rc < 0) {
			fprintf(stderr, GZ_PROG ": cannot create %s: %s\n", GZ_NULL_VDEV,
				rte_strerror(-rc));
			return rc;
		}
		g_vdev_created = true;
	}
	RTE_ETH_FOREACH_DEV(port) {
		g_port = port;
		break;
	}
	if (g_port == RTE_MAX_ETHPORTS) {
		fprintf(stderr, GZ_PROG ": no ethdev port available\n");
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(g_port, &info);
	if (rc < 0) {
		fprintf(stderr, GZ_PROG ": port %u: cannot get info: %s\n", g_port,
			rte_strerror(-rc));
		return rc;
	}
	if (info.max_rx_queues < g_nb_stacks || info.max_tx_queues < g_nb_stacks) {
		fprintf(stderr, GZ_PROG ": port %u (%s) has %u rx / %u tx queues, %u stacks need one each\n",
			g_port, info.driver_name, info.max_rx_queues, info.max_tx_queues,
			g_nb_stacks);
		return -EINVAL;
	}

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(g_port, g_nb_stacks, g_nb_stacks, &conf);
	if (rc < 0) {
		fprintf(stderr, GZ_PROG ": port %u: cannot configure: %s\n", g_port,
			rte_strerror(-rc));
		return rc;
	}
	for (i = 0; i < g_nb_stacks; i++) {
		struct gz_stack *st = &g_stacks[i];

		rc = rte_eth_rx_queue_setup(g_port, i, g_conf.nic_rxqueue_size, st->socket,
					    NULL, st->mbuf_pool);
		if (rc < 0) {
			fprintf(stderr, GZ_PROG ": port %u: rx queue %u: %s\n", g_port, i,
				rte_strerror(-rc));
			return rc;
		}
		rc = rte_eth_tx_queue_setup(g_port, i, g_conf.nic_txqueue_size, st->socket,
					    NULL);
		if (rc < 0) {
			fprintf(stderr, GZ_PROG ": port %u: tx queue %u: %s\n", g_port, i,
				rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(g_port);
	if (rc < 0) {
		fprintf(stderr, GZ_PROG ": port %u: cannot start: %s\n", g_port,
			rte_strerror(-rc));
		return rc;
	}
	g_port_started = true;
	return 0;
}

static void
gz_port_close(void)
{
	int rc;

	if (g_port == RTE_MAX_ETHPORTS)
		return;
	if (g_port_started) {
		rc = rte_eth_dev_stop(g_port);
		if (rc < 0)
			RTE_LOG(WARNING, USER1, "port %u: stop: %s\n", g_port, rte_strerror(-rc));
		g_port_started = false;
	}
	rc = rte_eth_dev_close(g_port);
	if (rc < 0)
		RTE_LOG(WARNING, USER1, "port %u: close: %s\n", g_port, rte_strerror(-rc));
	g_port = RTE_MAX_ETHPORTS;
	if (g_vdev_created) {
		rc = rte_vdev_uninit(GZ_NULL_VDEV);
		if (rc < 0)
			RTE_LOG(WARNING, USER1, "%s: uninit: %s\n", GZ_NULL_VDEV,
				rte_strerror(-rc));
		g_vdev_created = false;
	}
}

/*
 * DPDK 22.11's rte_eal_cleanup removes its sockets but leaves config,
 * hugepage_info and fbarray_* in <runtime dir>/<prefix>, ~1.8 MB of tmpfs per
 * run that a discovery scan would also find. As the only (primary) process
 * of the prefix we remove them, and only names EAL makes there.
 */
static void
gz_runtime_dir_remove(const char *path)
{
	static const char * const eal_files[] = {
		"config", "hugepage_info", "fbarray_", "mp_socket", "dpdk_telemetry",
	};
	char file[PATH_MAX];
	struct dirent *de;
	unsigned int i;
	DIR *d;
	int rc;

	if (path[0] == '\0')
		return;
	d = opendir(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		for (i = 0; i < RTE_DIM(eal_files); i++)
			if (strncmp(de->d_name, eal_files[i], strlen(eal_files[i])) == 0)
				break;
		if (i == RTE_DIM(eal_files))
			continue;
		rc = snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		if (rc > 0 && (size_t)rc < sizeof(file))
			unlink(file);
	}
	closedir(d);
	/* anything else in there is not ours to delete: then the dir stays */
	rmdir(path);
}

/* True if name is <prefix>map_<digits>, the name EAL gives a hugepage file. */
static bool
gz_is_huge_file(const char *name)
{
	size_t plen = strlen(g_prefix);
	const char *p;

	if (plen == 0 || strncmp(name, g_prefix, plen) != 0 ||
	    strncmp(name + plen, "map_", 4) != 0)
		return false;
	p = name + plen + 4;
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/*
 * Without --huge-unlink, rte_eal_cleanup leaves the files of pages that
 * still hold allocations (rte_eth_dev_data and other EAL internals), and
 * they keep their hugepages until the next start with the same prefix.
 * Note where ours are while they are still mapped, to remove them after.
 */
static void
gz_huge_dirs_find(void)
{
	char line[PATH_MAX + 256];
	char *path, *base, *nl;
	unsigned int i;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			continue;	/* longer than any path we could remove */
		*nl = '\0';
		path = strchr(line, '/');
		/* --huge-unlink files show as "(deleted)": nothing to remove */
		if (path == NULL || strstr(path, " (deleted)") != NULL)
			continue;
		base = strrchr(path, '/');
		if (!gz_is_huge_file(base + 1))
			continue;
		*base = '\0';
		for (i = 0; i < g_nb_huge_dirs; i++)
			if (strcmp(g_huge_dirs[i], path) == 0)
				break;
		if (i == g_nb_huge_dirs && g_nb_huge_dirs < GZ_MAX_HUGE_DIRS)
			snprintf(g_huge_dirs[g_nb_huge_dirs++], PATH_MAX, "%s", path);
	}
	fclose(f);
}

static void
gz_huge_files_remove(void)
{
	char file[PATH_MAX];
	struct dirent *de;
	unsigned int i;
	DIR *d;
	int rc;

	for (i = 0; i < g_nb_huge_dirs; i++) {
		d = opendir(g_huge_dirs[i]);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (!gz_is_huge_file(de->d_name))
				continue;
			rc = snprintf(file, sizeof(file), "%s/%s", g_huge_dirs[i], de->d_name);
			if (rc > 0 && (size_t)rc < sizeof(file))
				unlink(file);
		}
		closedir(d);
	}
}

/* Launches the stacks and waits for each to report; 0 or -1 (message printed). */
static int
gz_stacks_start(void)
{
	uint64_t deadline;
	unsigned int i, lcore, state;
	int rc;

	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (i == g_nb_stacks)
			break;
		g_stacks[i].id = i;
		g_stacks[i].lcore = lcore;
		g_stacks[i].socket = (int)rte_lcore_to_socket_id(lcore);
		g_stacks[i].pattern = GZ_PAT_IDLE;
		i++;
	}
	for (i = 0; i < g_nb_stacks; i++) {
		rc = rte_eal_remote_launch(gz_stack_main, &g_stacks[i], g_stacks[i].lcore);
		if (rc < 0) {
			fprintf(stderr, GZ_PROG ": cannot launch stack %u on lcore %u: %s\n",
				i, g_stacks[i].lcore, rte_strerror(-rc));
			return -1;
		}
	}

	deadline = rte_get_timer_cycles() + g_hz * (GZ_READY_TIMEOUT_MS / 1000);
	for (i = 0; i < g_nb_stacks; ) {
		state = __atomic_load_n(&g_stacks[i].state, __ATOMIC_ACQUIRE);
		if (state == GZ_STACK_FAILED) {
			fprintf(stderr, GZ_PROG ": %s\n", g_stacks[i].err);
			return -1;
		}
		if (state == GZ_STACK_READY) {
			i++;
			continue;
		}
		if (g_signal)
			return -1;
		if (rte_get_timer_cycles() > deadline) {
			fprintf(stderr, GZ_PROG ": stack %u did not get ready\n", i);
			return -1;
		}
		gz_sleep_us(1000);
	}
	return 0;
}

static int
gz_run(void)
{
	const char *dir, *base;
	unsigned int workers = rte_lcore_count() - 1;
	unsigned int i;
	int rc = 1;

	/* the runtime dir is <runtime base>/dpdk/<file prefix> */
	dir = rte_eal_get_runtime_dir();
	snprintf(g_runtime_dir, sizeof(g_runtime_dir), "%s", dir);
	base = strrchr(dir, '/');
	snprintf(g_prefix, sizeof(g_prefix), "%s", base != NULL ? base + 1 : dir);

	if (workers == 0) {
		fprintf(stderr, GZ_PROG ": no worker lcore for a stack thread; give more lcores,"
			" e.g. -l 0-1 or --lcores 0@0,1@1\n");
		return 2;
	}
	if (g_conf.stacks == 0)
		g_conf.stacks = RTE_MIN(workers, (unsigned int)GZ_MAX_STACKS);
	if (g_conf.stacks > workers) {
		fprintf(stderr, GZ_PROG ": --stacks %" PRIu32 " needs %" PRIu32
			" worker lcores, EAL has %u (e.g. -l 0-%" PRIu32 ")\n",
			g_conf.stacks, g_conf.stacks, workers, g_conf.stacks);
		return 2;
	}
	g_nb_stacks = g_conf.stacks;
	g_hz = rte_get_timer_hz();

	g_mode_seq = 1;
	__atomic_store_n(&g_mode, GZ_MODE(g_mode_seq, g_conf.pattern, g_conf.hold),
			 __ATOMIC_RELEASE);

	if (gz_stacks_start() < 0)
		goto stop;
	if (gz_port_setup() < 0)
		goto stop;
	__atomic_store_n(&g_go, 1, __ATOMIC_RELEASE);
	if (gz_wait_acks(offsetof(struct gz_stack, mode_ack), g_mode, GZ_ACK_TIMEOUT_MS) < 0) {
		fprintf(stderr, GZ_PROG ": stacks did not start\n");
		goto stop;
	}

	printf("{\"ready\":true,\"pid\":%d,\"prefix\":", (int)getpid());
	gz_json_str(stdout, g_prefix);
	printf(",\"stacks\":%u}\n", g_nb_stacks);
	fflush(stdout);

	gz_control_loop();
	rc = 0;
	if (g_signal)
		RTE_LOG(INFO, USER1, "signal %d, shutting down\n", (int)g_signal);

stop:
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	gz_port_close();
	gz_unchurn();
	for (i = 0; i < g_nb_stacks; i++)
		gz_stack_free(&g_stacks[i]);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	char *app_argv[argc + 1];
	int eal_argc, app_argc = 1;
	int saved_stdout, rc, i;
	bool primary;

	/* replies are read line by line by another process */
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (eal_argc = 1; eal_argc < argc; eal_argc++)
		if (strcmp(argv[eal_argc], "--") == 0)
			break;
	app_argv[0] = argv[0];
	for (i = eal_argc + 1; i < argc; i++)
		app_argv[app_argc++] = argv[i];
	app_argv[app_argc] = NULL;

	/* bad options fail before any hugepage is touched */
	rc = gz_parse_args(app_argc, app_argv, &g_conf);
	if (rc != 0)
		return rc > 0 ? 0 : 2;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gz_on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: poll() must return so the loop sees the flag */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* stdout carries only JSON replies: EAL logs and its usage text go to stderr */
	rte_openlog_stream(stderr);
	fflush(stdout);
	saved_stdout = dup(STDOUT_FILENO);
	if (saved_stdout >= 0)
		dup2(STDERR_FILENO, STDOUT_FILENO);
	argv[eal_argc] = NULL;
	rc = rte_eal_init(eal_argc, argv);
	fflush(stdout);
	if (saved_stdout >= 0) {
		dup2(saved_stdout, STDOUT_FILENO);
		close(saved_stdout);
	}
	if (rc < 0) {
		rc = rte_errno;
		fprintf(stderr, GZ_PROG ": cannot initialise EAL: %s\n", rte_strerror(rc));
		return rc == EINVAL ? 2 : 1;
	}

	rc = gz_run();
	primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	if (primary)
		gz_huge_dirs_find();
	if (rte_eal_cleanup() < 0) {
		fprintf(stderr, GZ_PROG ": EAL cleanup failed: %s\n", rte_strerror(rte_errno));
	} else if (primary) {
		/* we were the prefix's only process: nothing may reuse these */
		gz_huge_files_remove();
		gz_runtime_dir_remove(g_runtime_dir);
	}
	return rc;
}
