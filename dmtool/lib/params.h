/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMTOOL_PARAMS_H
#define DMTOOL_PARAMS_H

#include "internal.h"

/* Checks every creation parameter; fails with DMT_ERR_USAGE naming the
 * first invalid value. */
int params_validate(struct dmt_context *ctx, const struct dmt_create_params *p,
		    struct dmt_error *err);

#endif
