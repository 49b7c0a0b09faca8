// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmt_grow: grow a volume's data area online, one layer at a time, each
 * checked before the next:
 *
 *   1. extend the backing file (sparse);
 *   2. set the loop device's capacity and check it;
 *   3. record the new size in the header;
 *   4. reload the crypt layer under the pool (crypt-thin), the data area
 *      and the pool with the larger length, and resume each;
 *   5. in grow-fs mode, the thin volume, the crypt mapping on top and the
 *      filesystem follow.
 *
 * The header is written before the pool resumes, not after: a resumed pool
 * records the larger size in its metadata and refuses to open on a smaller
 * data device, so a power cut after step 4 would otherwise leave a volume
 * that cannot be opened. A cut before step 3 leaves a longer file, which
 * opens with the old size; a cut after it opens with the new size.
 */
#include "filesystem.h"
#include "image.h"
#include "layout.h"
#include "policy.h"
#include "resize.h"
#include "status_parse.h"
#include "volume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct grow {
	struct dmt_context *ctx;
	struct volume_devices volume;
	struct loop_state loop;
	struct image image;
	struct volume_header header;	/* as it will be after growing */
	uint64_t old_size;
	struct pool_status pool;
};

static const char *layer_name(const struct grow *g, enum stack_role role)
{
	const struct volume_device *device = volume_device(&g->volume, role);

	return device ? device->info.name : NULL;
}

/* Stops a growth after the named step when DMTOOL_FAULT names it, so the
 * tests can check that every point a crash could hit leaves a volume that
 * opens. */
static int fault_point(struct grow *g, const char *step, struct dmt_error *err)
{
	const char *fault = getenv("DMTOOL_FAULT");

	if (!fault || strcmp(fault, step) != 0)
		return DMT_OK;
	return dmt_fail(g->ctx, err, DMT_ERR_FAILED, EINTR,
			"%s: growth stopped after step '%s' (DMTOOL_FAULT)",
			g->volume.name, step);
}

static int read_pool(struct grow *g, struct dmt_error *err)
{
	const char *pool = layer_name(g, ROLE_POOL);
	struct dmt_target_line *lines;
	size_t count;
	int r;

	if (!pool)
		return dmt_fail(g->ctx, err, DMT_ERR_FAILED, ENODEV,
				"%s: the volume has no pool device", g->volume.name);
	r = mapper_query(g->ctx, pool, MAPPER_STATUS, &lines, &count, err);
	if (r)
		return r;
	if (count != 1 || !parse_pool_status(lines[0].params, &g->pool))
		r = dmt_fail(g->ctx, err, DMT_ERR_STATE, EINVAL,
			     "%s: cannot read the pool status '%s'", pool,
			     count ? lines[0].params : "");
	mapper_lines_free(lines, count);
	if (!r && g->pool.mode == DMT_POOL_FAIL)
		r = dmt_fail(g->ctx, err, DMT_ERR_STATE, EIO,
			     "%s: the pool has failed; close the volume and run 'dmtool check'",
			     pool);
	return r;
}

/* Target size: --to, or the current size plus --by, rounded up to the
 * volume's alignment and checked against the maximum and the host. */
static int target_size(struct grow *g, const struct dmt_grow_params *params,
		       uint64_t *target, struct dmt_error *err)
{
	const struct volume_header *h = &g->image.header;
	uint64_t alignment = layout_size_alignment(h);
	uint64_t size = params->to;

	if (!size && !add_u64(h->data_size, params->by, &size))
		return dmt_fail(g->ctx, err, DMT_ERR_USAGE, EOVERFLOW,
				"growing by %llu bytes overflows",
				(unsigned long long)params->by);
	size = round_up_u64(size, alignment);
	if (size > h->data_max)
		return dmt_fail(g->ctx, err, DMT_ERR_USAGE, EINVAL,
				"%s: %llu bytes is beyond the maximum data size %llu set at creation, which the metadata is sized for",
				g->volume.name, (unsigned long long)size,
				(unsigned long long)h->data_max);
	if (size < h->data_size)
		return dmt_fail(g->ctx, err, DMT_ERR_USAGE, EINVAL,
				"%s: %llu bytes is smaller than the current data size %llu; volumes do not shrink",
				g->volume.name, (unsigned long long)size,
				(unsigned long long)h->data_size);
	*target = size;
	return DMT_OK;
}

/* Checks the target against what the host can back, less the reserve.
 * With up_to_host, a larger target is lowered to that limit when the data
 * area still grows. The monitor needs this because writes since its
 * decision may have used some of the host's free space. */
static int check_host_capacity(struct grow *g, bool up_to_host,
			       uint64_t *target, struct dmt_error *err)
{
	const struct volume_header *h = &g->image.header;
	struct host_space host;
	struct pool_space space;
	uint64_t capped = *target;

	if (g->image.is_block_device || image_host_space(&g->image, &host) != 0)
		return DMT_OK;

	space.total = h->data_size;
	space.used = dmt_layout_has_thin(h->layout) ?
			     g->pool.data_used * h->chunk_size :
			     host.allocated;
	space.max = h->data_max;
	space.chunk = (uint32_t)layout_size_alignment(h);
	space.host_free = host.free;
	space.reserve = volume_reserve_bytes(&h->growth, host.total);
	if (policy_cap_request(&space, &capped))
		return DMT_OK;
	capped = round_down_u64(capped, space.chunk);
	if (up_to_host && capped > h->data_size) {
		log_info(g->ctx, "%s: the requested %llu bytes exceed what the host can back; growing to %llu",
			 g->volume.name, (unsigned long long)*target,
			 (unsigned long long)capped);
		*target = capped;
		return DMT_OK;
	}
	return dmt_fail(g->ctx, err, DMT_ERR_NOSPACE, ENOSPC,
			"%s: the host filesystem of %s cannot back %llu bytes: %llu used, %llu free, reserve %llu; at most %llu",
			g->volume.name, g->image.path,
			(unsigned long long)*target,
			(unsigned long long)space.used,
			(unsigned long long)space.host_free,
			(unsigned long long)space.reserve,
			(unsigned long long)capped);
}

/* The crypt layouts' guard covers the whole payload under dm-crypt. */
static int grow_guard_layer(struct grow *g, struct dmt_error *err)
{
	const struct volume_header *h = &g->header;

	if (!layer_name(g, ROLE_GUARD))
		return DMT_OK;
	return resize_layer(g->ctx, layer_name(g, ROLE_GUARD), "guard",
			    (stack_crypt_length(h) + h->luks_size) >> SECTOR_SHIFT,
			    NULL, err);
}

static int grow_thin_areas(struct grow *g, struct dmt_error *err)
{
	const struct volume_header *h = &g->header;
	uint64_t blocks = h->data_size / h->chunk_size;
	char *pool_params;
	struct dmt_target_line *lines;
	size_t count;
	int r;

	r = grow_guard_layer(g, err);
	if (r)
		return r;
	if (h->layout == DMT_LAYOUT_CRYPT_THIN) {
		r = resize_layer(g->ctx, layer_name(g, ROLE_CRYPT), "crypt",
				 (h->data_offset + h->data_size) >> SECTOR_SHIFT,
				 NULL, err);
		if (r)
			return r;
	}
	r = resize_layer(g->ctx, layer_name(g, ROLE_TDATA), "data area",
			 h->data_size >> SECTOR_SHIFT, NULL, err);
	if (!r)
		r = fault_point(g, "grow-after-data-area", err);
	if (r)
		return r;

	r = mapper_query(g->ctx, layer_name(g, ROLE_POOL), MAPPER_TABLE, &lines,
			 &count, err);
	if (r)
		return r;
	pool_params = count == 1 ?
			      resize_pool_params(lines[0].params,
						 stack_low_water_blocks(h)) :
			      NULL;
	mapper_lines_free(lines, count);
	if (!pool_params)
		return dmt_fail(g->ctx, err, DMT_ERR_FAILED, EINVAL,
				"%s: cannot read the pool table",
				layer_name(g, ROLE_POOL));
	r = resize_layer(g->ctx, layer_name(g, ROLE_POOL), "pool",
			 h->data_size >> SECTOR_SHIFT, pool_params, err);
	free(pool_params);
	if (r)
		return r;

	r = read_pool(g, err);
	if (!r && g->pool.data_total != blocks)
		r = dmt_fail(g->ctx, err, DMT_ERR_FAILED, EIO,
			     "pool layer %s: it reports %llu data blocks after resuming, expected %llu; stopping",
			     layer_name(g, ROLE_POOL),
			     (unsigned long long)g->pool.data_total,
			     (unsigned long long)blocks);
	return r;
}

/* Grows the layers above the pool (grow-fs mode) or the crypt mapping
 * (crypt layout) to the sizes the new header gives. */
static int grow_top_layers(struct grow *g, struct dmt_error *err)
{
	const struct volume_header *h = &g->header;
	int r;

	if (h->layout == DMT_LAYOUT_CRYPT) {
		r = grow_guard_layer(g, err);
		if (r)
			return r;
		return resize_layer(g->ctx, layer_name(g, ROLE_CRYPT), "crypt",
				    stack_crypt_length(h) >> SECTOR_SHIFT, NULL,
				    err);
	}
	if (!(h->flags & HEADER_FLAG_GROW_FS))
		return DMT_OK;

	r = resize_layer(g->ctx, layer_name(g, ROLE_THIN), "thin",
			 stack_thin_length(h) >> SECTOR_SHIFT, NULL, err);
	if (r || h->layout != DMT_LAYOUT_THIN_CRYPT)
		return r;
	return resize_layer(g->ctx, layer_name(g, ROLE_CRYPT), "crypt",
			    stack_crypt_length(h) >> SECTOR_SHIFT, NULL, err);
}

static int grow_filesystem(struct grow *g, struct dmt_grow_result *result,
			   struct dmt_error *err)
{
	const struct volume_device *top = NULL;
	struct mount_info mount;
	char device[256];

	if (!(g->header.flags & HEADER_FLAG_GROW_FS))
		return DMT_OK;
	for (size_t i = 0; i < g->volume.count; i++) {
		if (g->volume.devices[i].top)
			top = &g->volume.devices[i];
	}
	if (!top || filesystem_find_mount(top->info.major, top->info.minor,
					  &mount) != 0 || !mount.mounted) {
		log_info(g->ctx, "%s: not mounted; the filesystem grows the next time it is mounted during a growth",
			 g->volume.name);
		return DMT_OK;
	}

	mapper_device_path(top->info.name, device, sizeof(device));
	snprintf(result->filesystem, sizeof(result->filesystem), "%s",
		 mount.fstype);
	if (filesystem_grow(g->ctx, device, &mount, err))
		return err ? (int)err->code : DMT_ERR_FAILED;
	result->filesystem_grown = true;
	return DMT_OK;
}

static int grow_layers(struct grow *g, struct dmt_grow_result *result,
		       struct dmt_error *err)
{
	const struct volume_header *h = &g->header;
	uint64_t end = header_image_end(h);
	int r;

	r = resize_backing(g->ctx, &g->image, end, err);
	if (!r)
		r = fault_point(g, "grow-after-file", err);
	if (!r)
		r = resize_loop(g->ctx, g->loop.number, end - h->payload_offset,
				err);
	if (!r)
		r = fault_point(g, "grow-after-loop", err);
	if (!r)
		r = image_write_header(g->ctx, &g->image, h, err);
	if (!r)
		r = fault_point(g, "grow-after-header", err);
	if (!r && dmt_layout_has_thin(h->layout))
		r = grow_thin_areas(g, err);
	if (!r)
		r = grow_top_layers(g, err);
	if (!r)
		r = grow_filesystem(g, result, err);
	return r;
}

static int open_volume(struct grow *g, const char *name, struct dmt_error *err)
{
	int r = volume_find(g->ctx, name, &g->volume, err);

	if (!r)
		r = volume_find_loop(g->ctx, &g->volume, &g->loop, err);
	if (r)
		return r;
	r = image_open(g->ctx, g->loop.backing_file, 0, &g->image, err);
	if (r)
		return r;
	r = image_read_header(g->ctx, &g->image, err);
	if (!r && dmt_layout_has_thin(g->image.header.layout))
		r = read_pool(g, err);
	if (r)
		image_close(&g->image);
	return r;
}

int volume_grow(struct dmt_context *ctx, const char *name,
		const struct dmt_grow_params *params,
		struct dmt_grow_result *result, struct dmt_error *err)
{
	struct grow g = { .ctx = ctx };
	uint64_t target = 0;
	int r;

	memset(result, 0, sizeof(*result));
	r = open_volume(&g, name, err);
	if (r)
		return r;

	g.old_size = g.image.header.data_size;
	r = target_size(&g, params, &target, err);
	if (!r && target > g.old_size)
		r = check_host_capacity(&g, params->up_to_host, &target, err);
	if (r)
		goto close_image;

	/* An equal size still runs the steps: it completes a growth that an
	 * earlier run recorded in the header but did not finish. */
	g.header = g.image.header;
	g.header.data_size = target;
	if (g.header.layout == DMT_LAYOUT_CRYPT)
		g.header.virtual_size = target;
	log_info(ctx, "%s: growing the data area from %llu to %llu bytes", name,
		 (unsigned long long)g.old_size, (unsigned long long)target);
	r = grow_layers(&g, result, err);
	result->old_size = g.old_size;
	result->new_size = r ? g.old_size : target;

close_image:
	image_close(&g.image);
	return r;
}

int dmt_grow(struct dmt_context *ctx, const char *name,
	     const struct dmt_grow_params *params,
	     struct dmt_grow_result *result, struct dmt_error *err)
{
	dmt_error_clear(err);
	if ((params->by == 0) == (params->to == 0))
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL,
				"give exactly one of --by and --to");
	return volume_grow(ctx, name, params, result, err);
}
