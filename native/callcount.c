/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * callcount: a DPDK process that makes a known number of each POSIX call libgzmem counts, in one
 * thread of its own, so the counts gzmem reads can be checked exactly.
 *
 *   callcount [EAL args] -- [rounds]
 *
 * After EAL init it prints {"ready":true,...}. Each "run" line on stdin makes every call `rounds`
 * times (3 by default) over loopback TCP, some failing on purpose (a closed fd), in a new thread,
 * then prints what it did: {"tid":N,"calls":{"read":[calls,errors],...},"errno_kept":true,...}.
 * When an interposer that counts too (gzfake) sits in LD_PRELOAD, its counts for the thread are
 * printed as "behind". "echo <n>" runs a TCP echo over loopback instead: a client thread writes n
 * messages and reads each back, a server thread reads and writes each back; it prints both
 * threads' tids and calls. "signals" checks that a signal still interrupts a blocking read with
 * EINTR (handler without SA_RESTART) and that SA_RESTART still restarts it, through the counting
 * wrapper. "quit" ends it.
 */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
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

#include <rte_eal.h>
#include <rte_errno.h>

#include "calls-list.h"

#define CC_NAMES(X) GZMEM_CALLS(X)

#define CC_ENUM(n) CC_##n,
enum cc_call { CC_NAMES(CC_ENUM) CC_NB };
#define CC_STR(n) #n,
static const char * const cc_names[CC_NB] = { CC_NAMES(CC_STR) };

struct cc_run {
	unsigned int rounds;
	pid_t tid;
	uint64_t calls[CC_NB];
	uint64_t errors[CC_NB];
	bool errno_kept;
	char err[160];
};

/* Records one call: its result says whether it failed. */
#define CC(run, name, expr) do { \
		long r_ = (long)(expr); \
		(run)->calls[CC_##name]++; \
		if (r_ == -1) \
			(run)->errors[CC_##name]++; \
	} while (0)

/* A call that must fail with EBADF, errno intact after the counting wrapper. */
#define CC_BAD(run, name, expr) do { \
		long r_; \
		errno = 0; \
		r_ = (long)(expr); \
		(run)->calls[CC_##name]++; \
		(run)->errors[CC_##name]++; \
		if (r_ != -1 || errno != EBADF) \
			(run)->errno_kept = false; \
	} while (0)

static int
cc_fail(struct cc_run *run, const char *what)
{
	snprintf(run->err, sizeof(run->err), "%s: %s", what, strerror(errno));
	return -1;
}

static int
cc_round(struct cc_run *run)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	char buf[64] = "0123456789";
	struct iovec iov = { .iov_base = buf, .iov_len = 4 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct epoll_event ev = { .events = EPOLLIN };
	struct pollfd pfd;
	struct timespec zero = { 0, 0 };
	struct timeval tv = { 0, 0 };
	fd_set rd;
	int l, c, a, c2, a2, ep, ep1, file, one = 1, flags, n;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	CC(run, socket, l = socket(AF_INET, SOCK_STREAM, 0));
	if (l < 0)
		return cc_fail(run, "socket");
	CC(run, setsockopt, setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CC(run, bind, bind(l, (struct sockaddr *)&addr, sizeof(addr)));
	CC(run, listen, listen(l, 4));
	CC(run, getsockname, getsockname(l, (struct sockaddr *)&addr, &len));
	CC(run, socket, c = socket(AF_INET, SOCK_STREAM, 0));
	CC(run, connect, connect(c, (struct sockaddr *)&addr, sizeof(addr)));
	CC(run, accept, a = accept(l, NULL, NULL));
	CC(run, socket, c2 = socket(AF_INET, SOCK_STREAM, 0));
	CC(run, connect, connect(c2, (struct sockaddr *)&addr, sizeof(addr)));
	CC(run, accept4, a2 = accept4(l, NULL, NULL, SOCK_CLOEXEC));
	if (c < 0 || a < 0 || c2 < 0 || a2 < 0)
		return cc_fail(run, "loopback connection");

	/* each write is read back whole before the next, so every read returns what one write sent */
	CC(run, write, write(c, buf, 4));
	CC(run, read, read(a, buf, 4));
	CC(run, writev, writev(c, &iov, 1));
	CC(run, readv, readv(a, &iov, 1));
	CC(run, send, send(c, buf, 4, 0));
	CC(run, recv, recv(a, buf, 4, 0));
	CC(run, sendto, sendto(c, buf, 4, 0, NULL, 0));
	CC(run, recvfrom, recvfrom(a, buf, 4, 0, NULL, NULL));
	CC(run, sendmsg, sendmsg(c, &msg, 0));
	CC(run, recvmsg, recvmsg(a, &msg, 0));

	CC(run, getsockopt, getsockopt(c, SOL_SOCKET, SO_TYPE, &one, &len));
	len = sizeof(addr);
	CC(run, getpeername, getpeername(c, (struct sockaddr *)&addr, &len));
	CC(run, fcntl, flags = fcntl(c, F_GETFL));
	CC(run, fcntl, fcntl(c, F_SETFL, flags | O_NONBLOCK));
	CC(run, ioctl, ioctl(a, FIONREAD, &n));

	pfd.fd = a;
	pfd.events = POLLIN;
	CC(run, poll, poll(&pfd, 1, 0));
	CC(run, ppoll, ppoll(&pfd, 1, &zero, NULL));
	FD_ZERO(&rd);
	FD_SET(a, &rd);
	CC(run, select, select(a + 1, &rd, NULL, NULL, &tv));
	CC(run, epoll_create, ep = epoll_create(1));
	CC(run, epoll_create1, ep1 = epoll_create1(EPOLL_CLOEXEC));
	ev.data.fd = a;
	CC(run, epoll_ctl, epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev));
	CC(run, epoll_wait, epoll_wait(ep, &ev, 1, 0));
	CC(run, epoll_pwait, epoll_pwait(ep, &ev, 1, 0, NULL));

	/* open is not counted; sendfile from a regular file */
	file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (file < 0)
		return cc_fail(run, "open /proc/self/exe");
	CC(run, sendfile, sendfile(c2, file, NULL, 8));
	CC(run, shutdown, shutdown(c2, SHUT_WR));

	/* failures, errno intact */
	CC_BAD(run, read, read(-1, buf, 1));
	CC_BAD(run, write, write(-1, buf, 1));
	CC_BAD(run, close, close(-1));
	CC_BAD(run, recv, recv(-1, buf, 1, 0));
	CC_BAD(run, fcntl, fcntl(-1, F_GETFL));

	CC(run, close, close(file));
	CC(run, close, close(ep1));
	CC(run, close, close(ep));
	CC(run, close, close(a2));
	CC(run, close, close(c2));
	CC(run, close, close(a));
	CC(run, close, close(c));
	CC(run, close, close(l));
	return 0;
}

static void *
cc_thread(void *arg)
{
	struct cc_run *run = arg;
	unsigned int i;

	run->tid = (pid_t)syscall(SYS_gettid);
	run->errno_kept = true;
	for (i = 0; i < run->rounds; i++)
		if (cc_round(run) < 0)
			break;
	return NULL;
}

/* ---- TCP echo over loopback: two threads, known calls each ---- */

#define CC_ECHO_LEN 64

struct cc_echo {
	unsigned int n;
	int listener;
	struct sockaddr_in addr;
	struct cc_run server;
	struct cc_run client;
};

/* Reads exactly len bytes; every read call counted. */
static int
cc_read_all(struct cc_run *run, int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		CC(run, read, r = read(fd, buf + got, len - got));
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void *
cc_echo_server(void *arg)
{
	struct cc_echo *e = arg;
	struct cc_run *run = &e->server;
	char buf[CC_ECHO_LEN];
	unsigned int i;
	int a;

	run->tid = (pid_t)syscall(SYS_gettid);
	run->errno_kept = true;
	CC(run, accept, a = accept(e->listener, NULL, NULL));
	if (a < 0) {
		cc_fail(run, "accept");
		return NULL;
	}
	for (i = 0; i < e->n; i++) {
		if (cc_read_all(run, a, buf, sizeof(buf)) < 0) {
			cc_fail(run, "server read");
			break;
		}
		CC(run, write, write(a, buf, sizeof(buf)));
	}
	CC(run, close, close(a));
	return NULL;
}

static void *
cc_echo_client(void *arg)
{
	struct cc_echo *e = arg;
	struct cc_run *run = &e->client;
	char buf[CC_ECHO_LEN];
	unsigned int i;
	int c;

	run->tid = (pid_t)syscall(SYS_gettid);
	run->errno_kept = true;
	memset(buf, 'x', sizeof(buf));
	CC(run, socket, c = socket(AF_INET, SOCK_STREAM, 0));
	CC(run, connect, connect(c, (struct sockaddr *)&e->addr, sizeof(e->addr)));
	for (i = 0; i < e->n; i++) {
		CC(run, write, write(c, buf, sizeof(buf)));
		if (cc_read_all(run, c, buf, sizeof(buf)) < 0) {
			cc_fail(run, "client read");
			break;
		}
	}
	CC(run, close, close(c));
	return NULL;
}

/* ---- signals: EINTR and SA_RESTART through the wrapper ---- */

static void
cc_on_signal(int sig __attribute__((unused)))
{
}

struct cc_blocked {
	int fd;
	pid_t tid;
	ssize_t r;
	int err;
};

static void *
cc_blocked_read(void *arg)
{
	struct cc_blocked *b = arg;
	char c;

	b->tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	b->r = read(b->fd, &c, 1);
	b->err = errno;
	return NULL;
}

/* One blocking read interrupted by SIGUSR1 after 100 ms; with restart, data follows the signal. */
static int
cc_signal_case(bool restart, struct cc_blocked *b)
{
	struct sigaction sa;
	pthread_t t;
	int p[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cc_on_signal;
	sa.sa_flags = restart ? SA_RESTART : 0;
	if (sigaction(SIGUSR1, &sa, NULL) < 0 || pipe(p) < 0)
		return -1;
	b->fd = p[0];
	if (pthread_create(&t, NULL, cc_blocked_read, b) != 0)
		return -1;
	usleep(100 * 1000);
	pthread_kill(t, SIGUSR1);
	usleep(100 * 1000);
	if (restart && write(p[1], "x", 1) != 1)
		return -1;
	pthread_join(t, NULL);
	close(p[0]);
	close(p[1]);
	return 0;
}

static void
cc_signals(void)
{
	struct cc_blocked plain = { 0 }, restarted = { 0 };

	if (cc_signal_case(false, &plain) < 0 || cc_signal_case(true, &restarted) < 0) {
		printf("{\"error\":\"signals: %s\"}\n", strerror(errno));
	} else {
		printf("{\"eintr\":{\"tid\":%d,\"r\":%zd,\"errno\":%d},\"restart\":{\"tid\":%d,\"r\":%zd,\"errno\":%d},\"EINTR\":%d}\n",
		       (int)plain.tid, plain.r, plain.err, (int)restarted.tid, restarted.r, restarted.err, EINTR);
	}
	fflush(stdout);
}

/* The counts of an interposer behind libgzmem (native/gzfake.c), for one thread, if it is loaded. */
typedef int (*cc_behind_t)(pid_t tid, const char *call, uint64_t *calls);

static void
cc_report_one(const struct cc_run *run, const char *end)
{
	cc_behind_t behind = (cc_behind_t)dlsym(RTLD_DEFAULT, "gzfake_thread_calls");
	unsigned int i;
	uint64_t n;

	printf("{\"tid\":%d,\"errno_kept\":%s,\"error\":\"%s\",\"calls\":{", (int)run->tid,
	       run->errno_kept ? "true" : "false", run->err);
	for (i = 0; i < CC_NB; i++)
		printf("%s\"%s\":[%lu,%lu]", i ? "," : "", cc_names[i], (unsigned long)run->calls[i],
		       (unsigned long)run->errors[i]);
	printf("}");
	if (behind != NULL) {
		printf(",\"behind\":{");
		for (i = 0; i < CC_NB; i++) {
			n = 0;
			behind(run->tid, cc_names[i], &n);
			printf("%s\"%s\":%lu", i ? "," : "", cc_names[i], (unsigned long)n);
		}
		printf("}");
	}
	printf("}%s", end);
}

static void
cc_report(const struct cc_run *run)
{
	cc_report_one(run, "\n");
	fflush(stdout);
}

static int
cc_echo(unsigned int n)
{
	struct cc_echo *e = calloc(1, sizeof(*e));
	socklen_t len = sizeof(e->addr);
	pthread_t ts, tc;
	int one = 1;

	if (e == NULL)
		return -1;
	e->n = n;
	e->addr.sin_family = AF_INET;
	e->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* the listener is made by the main thread: not part of either echo thread's counts */
	e->listener = socket(AF_INET, SOCK_STREAM, 0);
	if (e->listener < 0 || setsockopt(e->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(e->listener, (struct sockaddr *)&e->addr, sizeof(e->addr)) < 0 || listen(e->listener, 1) < 0 ||
	    getsockname(e->listener, (struct sockaddr *)&e->addr, &len) < 0) {
		free(e);
		return -1;
	}
	if (pthread_create(&ts, NULL, cc_echo_server, e) != 0 || pthread_create(&tc, NULL, cc_echo_client, e) != 0) {
		free(e);
		return -1;
	}
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
	close(e->listener);
	printf("{\"echo\":[");
	cc_report_one(&e->server, ",");
	cc_report_one(&e->client, "]}\n");
	fflush(stdout);
	free(e);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cc_run run;
	char line[64];
	pthread_t t;
	int n;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "callcount: EAL init failed: %s\n", strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	memset(&run, 0, sizeof(run));
	run.rounds = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 10) : 3;
	printf("{\"ready\":true,\"pid\":%d}\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (strncmp(line, "quit", 4) == 0)
			break;
		if (strncmp(line, "signals", 7) == 0) {
			cc_signals();
			continue;
		}
		if (strncmp(line, "echo ", 5) == 0) {
			if (cc_echo((unsigned int)strtoul(line + 5, NULL, 10)) < 0) {
				fprintf(stderr, "callcount: cannot run the echo\n");
				break;
			}
			continue;
		}
		if (strncmp(line, "run", 3) != 0)
			continue;
		memset(run.calls, 0, sizeof(run.calls));
		memset(run.errors, 0, sizeof(run.errors));
		run.err[0] = '\0';
		if (pthread_create(&t, NULL, cc_thread, &run) != 0 || pthread_join(t, NULL) != 0) {
			fprintf(stderr, "callcount: cannot run a thread\n");
			break;
		}
		cc_report(&run);
	}
	rte_eal_cleanup();
	return 0;
}
