/*
 * Prints, as one JSON line, the struct offsets that gzmem's attach reader uses to read
 * rings, mempools and per-lcore caches from /proc/<pid>/mem, as this DPDK's headers lay them
 * out. scripts/gen-attach-layouts.sh turns its output into src/collect/attach-layouts.ts, and
 * the tests compile it again against each DPDK of the matrix and compare.
 * It only uses the headers (no DPDK library is linked), so a cross build runs under qemu-user.
 */
#include <stddef.h>
#include <stdio.h>

#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_version.h>

#define FIELD(type, member) offsetof(type, member)
#define NAMESIZE(type, member) sizeof(((type *)0)->member)

int
main(void)
{
	printf("{\"version\":\"%d.%02d\",\"release\":\"%d.%02d.%d\",\"arch\":\"%s\",\"cacheLine\":%d,",
	       RTE_VER_YEAR, RTE_VER_MONTH, RTE_VER_YEAR, RTE_VER_MONTH, RTE_VER_MINOR,
#if defined(__x86_64__)
	       "x86_64",
#elif defined(__aarch64__)
	       "aarch64",
#else
	       "unknown",
#endif
	       RTE_CACHE_LINE_SIZE);
	printf("\"ring\":{\"name\":%zu,\"nameSize\":%zu,\"size\":%zu,\"mask\":%zu,\"capacity\":%zu,"
	       "\"prodHead\":%zu,\"prodTail\":%zu,\"consHead\":%zu,\"consTail\":%zu,\"bytes\":%zu},",
	       FIELD(struct rte_ring, name), NAMESIZE(struct rte_ring, name),
	       FIELD(struct rte_ring, size), FIELD(struct rte_ring, mask),
	       FIELD(struct rte_ring, capacity),
	       FIELD(struct rte_ring, prod.head), FIELD(struct rte_ring, prod.tail),
	       FIELD(struct rte_ring, cons.head), FIELD(struct rte_ring, cons.tail),
	       sizeof(struct rte_ring));
	printf("\"mempool\":{\"name\":%zu,\"nameSize\":%zu,\"poolData\":%zu,\"size\":%zu,"
	       "\"cacheSize\":%zu,\"eltSize\":%zu,\"privateDataSize\":%zu,\"localCache\":%zu,\"bytes\":%zu},",
	       FIELD(struct rte_mempool, name), NAMESIZE(struct rte_mempool, name),
	       FIELD(struct rte_mempool, pool_data), FIELD(struct rte_mempool, size),
	       FIELD(struct rte_mempool, cache_size), FIELD(struct rte_mempool, elt_size),
	       FIELD(struct rte_mempool, private_data_size), FIELD(struct rte_mempool, local_cache),
	       sizeof(struct rte_mempool));
	printf("\"cache\":{\"size\":%zu,\"flushthresh\":%zu,\"len\":%zu,\"bytes\":%zu}}\n",
	       FIELD(struct rte_mempool_cache, size), FIELD(struct rte_mempool_cache, flushthresh),
	       FIELD(struct rte_mempool_cache, len), sizeof(struct rte_mempool_cache));
	return 0;
}
