/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * callbench: N calls of one counted POSIX call in a loop, for measuring what libgzmem adds per
 * call (bench/calls.ts runs it under perf stat with and without the preload).
 *   callbench <getsockopt|close|read> <N>
 * getsockopt on a socket and read of 0 bytes succeed; close(-1) fails (EBADF): both paths count.
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long n, i;
	int fd, v = 0, fds[2];
	socklen_t len = sizeof(v);
	char c;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: callbench <getsockopt|close|read> <count>\n");
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		perror("callbench: socket");
		return 1;
	}
	if (strcmp(argv[1], "getsockopt") == 0) {
		for (i = 0; i < n; i++)
			(void)getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len);
	} else if (strcmp(argv[1], "close") == 0) {
		for (i = 0; i < n; i++)
			(void)close(-1);
	} else if (strcmp(argv[1], "read") == 0) {
		for (i = 0; i < n; i++)
			(void)read(fds[0], &c, 0);
	} else {
		fprintf(stderr, "callbench: unknown call %s\n", argv[1]);
		return 2;
	}
	return 0;
}
