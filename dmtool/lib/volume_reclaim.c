// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmt_reclaim: give the space of deleted files back to the host. A discard
 * travels filesystem -> dm-crypt (allow_discards) -> thin -> pool (discard
 * passdown) -> loop device -> a hole punched in the backing file. Every
 * layer is checked first, so a layer that drops discards is named instead
 * of nothing happening.
 */
#include "filesystem.h"
#include "image.h"
#include "volume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static uint64_t read_discard_max(uint32_t major, uint32_t minor)
{
	char path[128], text[32] = "";
	FILE *file;

	snprintf(path, sizeof(path),
		 "/sys/dev/block/%u:%u/queue/discard_max_bytes", major, minor);
	file = fopen(path, "re");
	if (!file)
		return 0;
	if (!fgets(text, sizeof(text), file))
		text[0] = '\0';
	fclose(file);
	return strtoull(text, NULL, 10);
}

static const char *discard_hint(enum stack_role role)
{
	switch (role) {
	case ROLE_CRYPT:
		return "dm-crypt drops discards unless allow_discards is set: open the volume with --discards";
	case ROLE_POOL:
	case ROLE_THIN:
		return "the pool does not pass discards down";
	default:
		return "the layer below does not support discards";
	}
}

int volume_check_discards(struct dmt_context *ctx,
			  const struct volume_devices *volume,
			  const struct loop_state *loop, struct dmt_error *err)
{
	for (size_t i = 0; i < volume->count; i++) {
		const struct volume_device *device = &volume->devices[i];

		if (read_discard_max(device->info.major, device->info.minor) == 0)
			return dmt_fail(ctx, err, DMT_ERR_STATE, EOPNOTSUPP,
					"reclaim unavailable: the %s layer %s (dm %u:%u) does not pass discards; %s",
					stack_role_name(device->role),
					device->info.name, device->info.major,
					device->info.minor,
					discard_hint(device->role));
	}
	if (read_discard_max(major(loop->rdev), minor(loop->rdev)) == 0)
		return dmt_fail(ctx, err, DMT_ERR_STATE, EOPNOTSUPP,
				"reclaim unavailable: the loop layer /dev/loop%d does not support discards; the filesystem holding %s cannot punch holes",
				loop->number, loop->backing_file);
	return DMT_OK;
}

static const struct volume_device *top_device(const struct volume_devices *v)
{
	for (size_t i = 0; i < v->count; i++) {
		if (v->devices[i].top)
			return &v->devices[i];
	}
	return NULL;
}

int dmt_reclaim(struct dmt_context *ctx, const char *name,
		struct dmt_reclaim_result *result, struct dmt_error *err)
{
	const struct volume_device *top;
	struct volume_devices volume;
	struct host_space before, after;
	struct mount_info mount;
	struct loop_state loop;
	int r;

	dmt_error_clear(err);
	memset(result, 0, sizeof(*result));
	r = volume_find(ctx, name, &volume, err);
	if (!r)
		r = volume_find_loop(ctx, &volume, &loop, err);
	if (!r)
		r = volume_check_discards(ctx, &volume, &loop, err);
	if (r)
		return r;

	top = top_device(&volume);
	if (!top || filesystem_find_mount(top->info.major, top->info.minor,
					  &mount) != 0 || !mount.mounted)
		return dmt_fail(ctx, err, DMT_ERR_STATE, ENOENT,
				"%s is not mounted: mount it and run 'dmtool reclaim %s' again, or mount it with -o discard",
				name, name);
	snprintf(result->mountpoint, sizeof(result->mountpoint), "%s",
		 mount.mountpoint);

	if (host_space_of_path(loop.backing_file, &before) != 0)
		memset(&before, 0, sizeof(before));
	r = filesystem_trim(ctx, mount.mountpoint, &result->trimmed, err);
	if (r)
		return r;
	if (host_space_of_path(loop.backing_file, &after) != 0)
		memset(&after, 0, sizeof(after));

	result->allocated_before = before.allocated;
	result->allocated_after = after.allocated;
	result->host_free_before = before.free;
	result->host_free_after = after.free;
	return DMT_OK;
}
