// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmt_create: lay out a new volume on a file or block device, format its
 * pool metadata, thin device and LUKS2 header, and write the dmtool header
 * last, so that an interrupted creation never leaves an image that claims
 * to be complete.
 */
#include "image.h"
#include "layout.h"
#include "params.h"
#include "stack.h"
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* The thin-crypt LUKS2 header lives in the pool: the pool must start with
 * room for it and a first filesystem. */
#define MIN_INITIAL_DATA (32ull * MIB)

static int fill_header(struct dmt_context *ctx,
		       const struct dmt_create_params *p,
		       struct volume_header *h, struct dmt_error *err)
{
	char why[256];

	memset(h, 0, sizeof(*h));
	h->format_version = HEADER_FORMAT_VERSION;
	h->layout = p->layout;
	h->loop_block_size = p->loop_block_size;
	h->created = (uint64_t)time(NULL);
	h->growth = p->growth;
	if (p->loop_direct_io)
		h->flags |= HEADER_FLAG_LOOP_DIRECT_IO;
	if (p->zero_new_blocks)
		h->flags |= HEADER_FLAG_ZERO_NEW_BLOCKS;
	if (p->guard)
		h->flags |= HEADER_FLAG_GUARD;
	if (p->growth.grow_fs)
		h->flags |= HEADER_FLAG_GROW_FS;
	if (dmt_layout_has_thin(p->layout))
		h->chunk_size = p->chunk_size;
	if (dmt_layout_has_crypt(p->layout))
		h->crypt = p->crypt;

	if (getrandom(h->uuid, sizeof(h->uuid), 0) != sizeof(h->uuid))
		return dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
				"cannot read random bytes for the volume UUID");
	h->uuid[6] = (uint8_t)((h->uuid[6] & 0x0f) | 0x40);	/* version 4 */
	h->uuid[8] = (uint8_t)((h->uuid[8] & 0x3f) | 0x80);	/* RFC 4122 */

	if (!layout_compute(h, p->virtual_size,
			    p->initial_size ? p->initial_size : 0, p->max_size,
			    why, sizeof(why)))
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL, "%s", why);

	if (dmt_layout_has_thin(h->layout) && h->data_size < MIN_INITIAL_DATA &&
	    h->data_max >= MIN_INITIAL_DATA)
		h->data_size = round_up_u64(MIN_INITIAL_DATA, h->chunk_size);

	if (!header_validate(h, why, sizeof(why)))
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL,
				"the requested layout is invalid: %s", why);
	return DMT_OK;
}

/* Never overwrites what is already there unless forced: an existing file
 * must be empty, a block device must carry no known signature. */
static int check_target_empty(struct dmt_context *ctx, struct image *image,
			      bool force, struct dmt_error *err)
{
	char what[160];
	struct dmt_error ignored;

	if (image->created || force)
		return DMT_OK;

	if (image_read_header(ctx, image, &ignored) == DMT_OK) {
		char uuid[DMT_UUID_STRING_LEN + 1];

		header_uuid_string(image->header.uuid, uuid);
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, EEXIST,
				"%s: already a dmtool image (volume %s); delete it with 'dmtool remove' or pass --force",
				image->path, uuid);
	}
	if (image_find_signature(image, what, sizeof(what)))
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, EEXIST,
				"%s: holds %s; refusing to overwrite it without --force",
				image->path, what);
	if (!image->is_block_device && image->size > 0)
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, EEXIST,
				"%s: the file is not empty (%llu bytes); refusing to overwrite it without --force",
				image->path, (unsigned long long)image->size);
	return DMT_OK;
}

static int prepare_backing(struct dmt_context *ctx, struct image *image,
			   const struct volume_header *h, struct dmt_error *err)
{
	uint64_t end = header_image_end(h);
	int r;

	if (image->is_block_device) {
		if (image->size < end)
			return dmt_fail(ctx, err, DMT_ERR_NOSPACE, ENOSPC,
					"%s: the device is too small: %llu bytes, the layout needs %llu",
					image->path,
					(unsigned long long)image->size,
					(unsigned long long)end);
		return DMT_OK;
	}

	if (ftruncate(image->fd, (off_t)end) != 0)
		return dmt_fail(ctx, err,
				errno == EFBIG ? DMT_ERR_NOSPACE : DMT_ERR_IMAGE,
				errno, "%s: setting the image size to %llu failed: %s",
				image->path, (unsigned long long)end,
				strerror(errno));

	/* Metadata writes must never need new space from the host, so the
	 * whole metadata area is allocated now; the data area stays sparse. */
	if (!dmt_layout_has_thin(h->layout))
		return DMT_OK;
	r = fallocate(image->fd, 0,
		      (off_t)(header_pool_base(h) + h->metadata_offset),
		      (off_t)h->metadata_size);
	if (r != 0)
		return dmt_fail(ctx, err,
				errno == ENOSPC ? DMT_ERR_NOSPACE : DMT_ERR_IMAGE,
				errno,
				"%s: allocating the %llu-byte metadata area failed: %s",
				image->path, (unsigned long long)h->metadata_size,
				strerror(errno));
	return image_refresh_size(ctx, image, err);
}

/* The pool's whole data area may need new host space: it must fit above
 * the reserve, so the pool runs out of space before the host does. */
static int check_host_capacity(struct dmt_context *ctx, struct image *image,
			       const struct volume_header *h,
			       struct dmt_error *err)
{
	struct host_space host;
	uint64_t reserve, spare;

	if (image->is_block_device || !dmt_layout_has_thin(h->layout) ||
	    image_host_space(image, &host) != 0)
		return DMT_OK;

	reserve = volume_reserve_bytes(&h->growth, host.total);
	spare = host.free > reserve ? host.free - reserve : 0;
	if (h->data_size <= spare)
		return DMT_OK;
	return dmt_fail(ctx, err, DMT_ERR_NOSPACE, ENOSPC,
			"%s: the host filesystem has %llu bytes free and a reserve of %llu, so it can back %llu bytes of data, less than the initial data area of %llu; use a smaller --initial or --reserve, or free space",
			image->path, (unsigned long long)host.free,
			(unsigned long long)reserve, (unsigned long long)spare,
			(unsigned long long)h->data_size);
}

/* Undoes what prepare_backing and the stack wrote to an image that existed
 * before: an empty file is emptied again; a device keeps the (unusable)
 * remains, as it carried no signature before. */
static void restore_backing(struct image *image)
{
	if (image->created || image->is_block_device)
		return;
	if (ftruncate(image->fd, 0) != 0)
		return;
}

int dmt_create(struct dmt_context *ctx, const char *image_path,
	       const struct dmt_create_params *params,
	       const struct dmt_secret *passphrase, const char *open_name,
	       struct dmt_error *err)
{
	struct stack_build_options options = {
		.passphrase = passphrase,
		.pbkdf = &params->pbkdf,
		.create = true,
		.guard = params->guard,
	};
	struct volume_header h;
	struct stack_plan plan;
	struct image image;
	char name[DMT_NAME_MAX + 1];
	char why[160];
	int r;

	dmt_error_clear(err);
	r = params_validate(ctx, params, err);
	if (r)
		return r;
	if (open_name && !stack_name_valid(open_name, why, sizeof(why)))
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL, "%s", why);
	if (dmt_layout_has_crypt(params->layout) && !passphrase)
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL,
				"layout %s encrypts: a passphrase is required",
				dmt_layout_name(params->layout));
	r = fill_header(ctx, params, &h, err);
	if (r)
		return r;

	r = image_open(ctx, image_path, IMAGE_CREATE, &image, err);
	if (r)
		return r;
	r = check_target_empty(ctx, &image, params->force, err);
	if (!r)
		r = image_check_unused(ctx, &image, err);
	if (r)
		goto close_image;

	r = prepare_backing(ctx, &image, &h, err);
	if (!r)
		r = check_host_capacity(ctx, &image, &h, err);
	if (r)
		goto restore_image;

	/* Without a name to open under, the stack exists only while the
	 * metadata and LUKS2 header are formatted. */
	if (open_name)
		snprintf(name, sizeof(name), "%s", open_name);
	else
		snprintf(name, sizeof(name), "dmtool-create-%02x%02x%02x%02x",
			 h.uuid[0], h.uuid[1], h.uuid[2], h.uuid[3]);
	stack_plan_init(&plan, &h, name, params->guard);
	r = stack_build(ctx, &plan, &image, &options, err);
	if (r)
		goto restore_image;

	r = image_write_first_header(ctx, &image, &h, err);
	if (r || !open_name) {
		struct dmt_error teardown_err;
		char uuid[DMT_UUID_STRING_LEN + 1];

		header_uuid_string(h.uuid, uuid);
		if (stack_teardown(ctx, uuid, &teardown_err) && !r)
			r = dmt_fail(ctx, err, teardown_err.code,
				     teardown_err.sys_errno, "%s",
				     teardown_err.message);
	}
	if (r)
		goto restore_image;

	image_close(&image);
	return DMT_OK;

restore_image:
	restore_backing(&image);
	if (image.created)
		unlink(image_path);
close_image:
	image_close(&image);
	return r;
}
