/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mark a running monitor leaves for each volume it watches: a pid file
 * under <run dir>/watch/ that it holds locked while it runs, so a crashed
 * monitor never looks armed.
 */
#ifndef DMTOOL_MARKER_H
#define DMTOOL_MARKER_H

#include "internal.h"

/* DMTOOL_RUN_DIR, or /run/dmtool. */
const char *marker_run_dir(void);

/* Claims name for this process; DMT_ERR_BUSY when another monitor holds
 * it. *fd stays open (and locked) until marker_release. */
int marker_acquire(struct dmt_context *ctx, const char *name, int *fd,
		   struct dmt_error *err);
void marker_release(const char *name, int fd);

/* Returns true and the monitor's pid when a live monitor holds name. */
bool marker_armed(const char *name, int *pid);

#endif
