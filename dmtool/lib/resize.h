/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growing one layer of a live stack and checking that it took. */
#ifndef DMTOOL_RESIZE_H
#define DMTOOL_RESIZE_H

#include "image.h"

/* Extends a file image to end bytes (sparse). A block device must already
 * be that large. */
int resize_backing(struct dmt_context *ctx, struct image *image,
		   uint64_t end, struct dmt_error *err);

/* Makes the loop device pick up its backing file's new size and checks
 * that it now has expected bytes. */
int resize_loop(struct dmt_context *ctx, int loop_number, uint64_t expected,
		struct dmt_error *err);

/* Reloads the single-target device name with length sectors, keeping its
 * parameters (or taking params when not NULL), then suspends and resumes it
 * and checks the new size. role names the layer in errors. */
int resize_layer(struct dmt_context *ctx, const char *name, const char *role,
		 uint64_t length, const char *params, struct dmt_error *err);

/* Returns the pool's parameters with a new low water mark. */
char *resize_pool_params(const char *params, uint64_t low_water_blocks);

/* Size in bytes of a block device node. */
int device_size(const char *path, uint64_t *size);

#endif
