/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running the filesystem and metadata tools dmtool relies on. */
#ifndef DMTOOL_PROCESS_H
#define DMTOOL_PROCESS_H

#include "internal.h"

#include <signal.h>

/* Finds name in PATH (or takes it as it is when it contains a '/') and
 * stores the executable's path. Returns whether there is one. */
bool process_find(const char *name, char *path, size_t size);

/* Runs argv (found in PATH) with standard output and error captured into
 * output (the last bytes when it overflows). Stores the exit status, or
 * 128 + signal. Fails only when the program cannot be started. The
 * program is killed when the calling thread dies. When cancel is not NULL
 * and a signal interrupts the wait after *cancel is set, the program gets
 * SIGINT. */
int process_capture(struct dmt_context *ctx, char *const argv[], char *output,
		    size_t output_size, const volatile sig_atomic_t *cancel,
		    int *status, struct dmt_error *err);

#endif
