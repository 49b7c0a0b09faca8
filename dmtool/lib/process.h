/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running the filesystem and metadata tools dmtool relies on. */
#ifndef DMTOOL_PROCESS_H
#define DMTOOL_PROCESS_H

#include "internal.h"

/* Runs argv (found in PATH) with standard output and error captured into
 * output (the last bytes when it overflows). Stores the exit status, or
 * 128 + signal. Fails only when the program cannot be started. The
 * program is killed when the calling thread dies. */
int process_capture(struct dmt_context *ctx, char *const argv[], char *output,
		  size_t output_size, int *status, struct dmt_error *err);

#endif
