/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel features a stack needs: device-mapper, loop and dm targets. */
#ifndef DMTOOL_KERNEL_H
#define DMTOOL_KERNEL_H

#include "internal.h"

/* Makes sure the target type is registered, loading its module (for
 * example dm-thin-pool for "thin-pool") through libkmod when it is not.
 * Fails with DMT_ERR_KERNEL naming the target and module otherwise. */
int kernel_require_target(struct dmt_context *ctx, const char *target,
			  const char *module, struct dmt_error *err);

/* Loads a module by name, or from a path when module contains a '/'. */
int kernel_load_module(struct dmt_context *ctx, const char *module,
		       struct dmt_error *err);

#endif
