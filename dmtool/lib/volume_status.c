// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmt_status and dmt_list: what an open volume looks like right now. */
#include "image.h"
#include "marker.h"
#include "status_parse.h"
#include "volume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t volume_reserve_bytes(const struct dmt_growth_policy *growth,
			      uint64_t host_total)
{
	if (growth->reserve_bytes)
		return growth->reserve_bytes;
	return host_total / 100 * growth->reserve_percent;
}

static void fill_devices(const struct volume_devices *volume,
			 struct dmt_volume_status *status)
{
	for (size_t i = 0; i < volume->count; i++) {
		const struct volume_device *device = &volume->devices[i];
		struct dmt_device_info *info = &status->devices[i];

		snprintf(info->role, sizeof(info->role), "%s",
			 stack_role_name(device->role));
		snprintf(info->name, sizeof(info->name), "%s", device->info.name);
		snprintf(info->uuid, sizeof(info->uuid), "%s", device->info.uuid);
		info->major = device->info.major;
		info->minor = device->info.minor;
		info->open_count = device->info.open_count;
	}
	status->device_count = volume->count;
}

static int read_pool(struct dmt_context *ctx, const struct volume_device *pool,
		     struct dmt_volume_status *status, struct dmt_error *err)
{
	struct dmt_target_line *lines;
	struct pool_status parsed;
	size_t count;
	int r;

	r = mapper_query(ctx, pool->info.name, MAPPER_STATUS, &lines, &count,
			 err);
	if (r)
		return r;
	if (count != 1 || !parse_pool_status(lines[0].params, &parsed)) {
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, EINVAL,
			     "%s: unexpected thin-pool status '%s'",
			     pool->info.name, count ? lines[0].params : "");
		mapper_lines_free(lines, count);
		return r;
	}
	mapper_lines_free(lines, count);

	status->pool_mode = parsed.mode;
	status->needs_check = parsed.needs_check;
	status->discard_passdown = parsed.discard_passdown;
	status->error_if_no_space = parsed.error_if_no_space;
	status->metadata_used = parsed.metadata_used * 4096;
	status->metadata_total = parsed.metadata_total * 4096;
	status->data_used = parsed.data_used * status->chunk_size;
	status->data_total = parsed.data_total * status->chunk_size;
	return DMT_OK;
}

static void read_crypt(struct dmt_context *ctx,
		       const struct volume_device *crypt,
		       struct dmt_volume_status *status)
{
	struct dmt_target_line *lines;
	struct crypt_table_fields fields;
	size_t count;

	if (mapper_query(ctx, crypt->info.name, MAPPER_TABLE, &lines, &count,
			 NULL) != DMT_OK)
		return;
	if (count == 1 && parse_crypt_table(lines[0].params, &fields)) {
		status->has_crypt = true;
		snprintf(status->crypt.cipher, sizeof(status->crypt.cipher),
			 "%s", fields.cipher);
		status->crypt.key_bits = (uint32_t)fields.key_hex_length * 4;
		status->crypt.sector_size = fields.sector_size;
		status->crypt.flags = fields.flags;
	}
	mapper_lines_free(lines, count);
}

static void read_guard(struct dmt_context *ctx,
		       const struct volume_devices *volume,
		       struct dmt_volume_status *status)
{
	const struct volume_device *guard = volume_device(volume, ROLE_GUARD);
	struct dmt_target_line *lines;
	struct guard_status parsed;
	size_t count;

	if (!guard)
		guard = volume_device(volume, ROLE_TDATA);
	if (!guard || mapper_query(ctx, guard->info.name, MAPPER_STATUS, &lines,
				   &count, NULL) != DMT_OK)
		return;
	if (count == 1 && strcmp(lines[0].type, "space-guard") == 0 &&
	    parse_guard_status(lines[0].params, &parsed)) {
		status->has_guard = true;
		snprintf(status->guard_state, sizeof(status->guard_state), "%s",
			 parsed.state);
		status->guard_free = parsed.free;
		status->guard_reserve = parsed.reserve;
		status->guard_low_water = parsed.low_water;
		status->guard_allocated = parsed.allocated;
		status->guard_failed_writes = parsed.failed_writes;
	}
	mapper_lines_free(lines, count);
}

static void fill_from_header(const struct volume_header *h,
			     struct dmt_volume_status *status)
{
	header_uuid_string(h->uuid, status->uuid);
	status->layout = h->layout;
	status->virtual_size = h->virtual_size;
	status->chunk_size = h->chunk_size;
	status->data_max = h->data_max;
	status->growth = h->growth;
	if (dmt_layout_has_thin(h->layout))
		status->low_water_mark = stack_low_water_blocks(h) *
					 h->chunk_size;
}

static void fill_capacity(struct dmt_volume_status *status)
{
	uint64_t spare = status->host_free > status->reserve ?
				 status->host_free - status->reserve : 0;
	uint64_t used = dmt_layout_has_thin(status->layout) ?
				status->data_used : status->image_allocated;

	if (status->image_is_block_device) {
		status->capacity = status->data_max;
		status->overcommitted = false;
		return;
	}
	status->capacity = used + spare;
	if (status->capacity > status->data_max)
		status->capacity = status->data_max;
	status->overcommitted = status->virtual_size > status->capacity;
}

static int read_image(struct dmt_context *ctx, const char *path,
		      struct dmt_volume_status *status, struct dmt_error *err)
{
	struct host_space space;
	struct image image;
	int r;

	r = image_open(ctx, path, IMAGE_READ_ONLY | IMAGE_NO_LOCK, &image,
		       err);
	if (r)
		return r;
	r = image_read_header(ctx, &image, err);
	if (r)
		goto close_image;

	fill_from_header(&image.header, status);
	status->image_is_block_device = image.is_block_device;
	if (image_host_space(&image, &space) == 0) {
		status->image_apparent = image.is_block_device ? image.size :
								 space.apparent;
		status->image_allocated = image.is_block_device ?
						  image.size : space.allocated;
		status->host_free = space.free;
		status->host_total = space.total;
	}
	status->reserve = volume_reserve_bytes(&image.header.growth,
					       status->host_total);

close_image:
	image_close(&image);
	return r;
}

int dmt_status(struct dmt_context *ctx, const char *name,
	       struct dmt_volume_status *status, struct dmt_error *err)
{
	struct volume_devices volume;
	const struct volume_device *pool, *crypt;
	struct loop_state loop;
	int r;

	dmt_error_clear(err);
	memset(status, 0, sizeof(*status));
	r = volume_find(ctx, name, &volume, err);
	if (r)
		return r;
	snprintf(status->name, sizeof(status->name), "%s", name);
	if (!volume_is_complete(&volume))
		return dmt_fail(ctx, err, DMT_ERR_NOT_FOUND, ENODEV,
				"volume '%s' is partly closed: only %zu of its devices remain; 'dmtool close %s' removes them",
				name, volume.count, name);
	fill_devices(&volume, status);

	r = volume_find_loop(ctx, &volume, &loop, err);
	if (r)
		return r;
	snprintf(status->loop_device, sizeof(status->loop_device),
		 "/dev/loop%d", loop.number);
	snprintf(status->image, sizeof(status->image), "%s",
		 loop.backing_file);
	status->loop_block_size = loop.block_size;
	status->loop_direct_io = loop.direct_io;

	r = read_image(ctx, loop.backing_file, status, err);
	if (r)
		return r;

	pool = volume_device(&volume, ROLE_POOL);
	if (pool) {
		r = read_pool(ctx, pool, status, err);
		if (r)
			return r;
	}
	crypt = volume_device(&volume, ROLE_CRYPT);
	if (crypt)
		read_crypt(ctx, crypt, status);
	read_guard(ctx, &volume, status);

	if (!dmt_layout_has_thin(status->layout))
		status->data_total = status->virtual_size;
	fill_capacity(status);
	status->monitor_armed = marker_armed(name, &status->monitor_pid);
	return DMT_OK;
}

/* The top device of a volume is the one whose name the others extend with
 * "-<role>". */
static bool is_top_device(const struct mapper_info *device,
			  const struct mapper_info *all, size_t count)
{
	size_t length = strlen(device->name);

	for (size_t i = 0; i < count; i++) {
		if (&all[i] == device ||
		    strncmp(all[i].uuid, device->uuid,
			    strlen(DMT_UUID_PREFIX) + DMT_UUID_STRING_LEN) != 0)
			continue;
		if (strncmp(all[i].name, device->name, length) != 0 ||
		    all[i].name[length] != '-')
			return false;
	}
	return true;
}

int dmt_list(struct dmt_context *ctx, char ***names, struct dmt_error *err)
{
	struct mapper_info *devices;
	size_t count, used = 0;
	char **result;
	int r;

	*names = NULL;
	r = mapper_list(ctx, DMT_UUID_PREFIX, &devices, &count, err);
	if (r)
		return r;

	result = calloc(count + 1, sizeof(*result));
	if (!result) {
		free(devices);
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < count; i++) {
		if (is_top_device(&devices[i], devices, count))
			result[used++] = strdup(devices[i].name);
	}
	free(devices);
	*names = result;
	return DMT_OK;
}

void dmt_free_names(char **names)
{
	if (!names)
		return;
	for (char **name = names; *name; name++)
		free(*name);
	free(names);
}
