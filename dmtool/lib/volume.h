/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An open volume's live devices, found by the UUIDs dmtool gave them. */
#ifndef DMTOOL_VOLUME_H
#define DMTOOL_VOLUME_H

#include "loop.h"
#include "mapper.h"
#include "stack.h"

struct volume_device {
	enum stack_role role;
	bool top;
	struct mapper_info info;
};

struct volume_devices {
	char name[DMT_NAME_MAX + 1];
	char uuid[DMT_UUID_STRING_LEN + 1];
	size_t count;
	struct volume_device devices[DMT_MAX_DEVICES];
};

/* Finds the open volume name and every device that carries its UUID.
 * Fails with DMT_ERR_NOT_FOUND when there is no such dmtool volume. */
int volume_find(struct dmt_context *ctx, const char *name,
		struct volume_devices *volume, struct dmt_error *err);

/* True when a space-guard target watches the volume's image: its own
 * layer in the crypt layouts, the data area in the thin layouts. */
bool volume_has_guard(struct dmt_context *ctx,
		      const struct volume_devices *volume);

/* True when the top device and, for thin layouts, the pool and the thin
 * volume are all present. */
bool volume_is_complete(const struct volume_devices *volume);

const struct volume_device *volume_device(const struct volume_devices *volume,
					  enum stack_role role);

/* Finds the loop device under the volume and its backing file. */
int volume_find_loop(struct dmt_context *ctx,
		     const struct volume_devices *volume,
		     struct loop_state *loop, struct dmt_error *err);

/* The reserve in bytes: the policy's size, or its percentage of the host
 * filesystem. */
uint64_t volume_reserve_bytes(const struct dmt_growth_policy *growth,
			      uint64_t host_total);

/* Fails with DMT_ERR_STATE naming the first layer (or the loop device)
 * that does not pass discards. */
int volume_check_discards(struct dmt_context *ctx,
			  const struct volume_devices *volume,
			  const struct loop_state *loop, struct dmt_error *err);

/* Grows the open volume name; dmt_grow and the monitor share it. */
int volume_grow(struct dmt_context *ctx, const char *name,
		const struct dmt_grow_params *params,
		struct dmt_grow_result *result, struct dmt_error *err);

#endif
