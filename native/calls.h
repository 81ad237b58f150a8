/* SPDX-License-Identifier: BSD-3-Clause */
/* libgzmem's POSIX call counters (calls.c), as the rest of the preload sees them. */

#ifndef GZMEM_CALLS_H
#define GZMEM_CALLS_H

struct rte_tel_data;

/* Reads GZMEM_CALLS and resolves the next definition of every counted call. */
void gzm_calls_init(void);

/* The /gzmem/calls and /gzmem/latency telemetry commands. */
int gzm_cmd_calls(const char *cmd, const char *params, struct rte_tel_data *d);
int gzm_cmd_latency(const char *cmd, const char *params, struct rte_tel_data *d);

/* The first rows of /gzmem/calls, added to /gzmem/sample's dict. */
int gzm_calls_sample(struct rte_tel_data *d);

#endif
