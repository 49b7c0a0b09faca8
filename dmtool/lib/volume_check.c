// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmt_check: verify the header and run thin_check on the pool metadata,
 * read-only, on a closed volume. */
#include "image.h"
#include "layout.h"
#include "loop.h"
#include "mapper.h"
#include "stack.h"

#include "process.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Runs thin_check on device and keeps its output. */
static int run_thin_check(struct dmt_context *ctx, const char *device,
			  struct dmt_check_result *result,
			  struct dmt_error *err)
{
	char *const argv[] = { "thin_check", (char *)device, NULL };
	int r;

	r = process_capture(ctx, argv, result->thin_check_output,
			  sizeof(result->thin_check_output), NULL,
			  &result->thin_check_status, err);
	if (r) {
		dmt_error_append(err, "install thin-provisioning-tools");
		return r;
	}
	result->thin_check_run = true;
	return DMT_OK;
}

/* Thin metadata stored in plain text is checked through a read-only loop
 * device over just the metadata area. */
static int check_plain_metadata(struct dmt_context *ctx, struct image *image,
				struct dmt_check_result *result,
				struct dmt_error *err)
{
	const struct volume_header *h = &image->header;
	struct loop_settings settings = {
		.offset = header_pool_base(h) + h->metadata_offset,
		.size_limit = h->metadata_size,
		.block_size = 4096,
		.read_only = true,
	};
	struct loop_device loop;
	int backing_fd, r;

	backing_fd = image_reopen(ctx, image, true, err);
	if (backing_fd < 0)
		return image_reopen_error(err);
	r = loop_attach(ctx, backing_fd, image->path, &settings, &loop, err);
	close(backing_fd);
	if (r)
		return r;
	r = run_thin_check(ctx, loop.path, result, err);
	loop_release(&loop);
	return r;
}

/* Encrypted metadata (crypt-thin) is checked through a read-only stack up
 * to the metadata area, under a temporary name. */
static int check_encrypted_metadata(struct dmt_context *ctx,
				    struct image *image,
				    const struct dmt_secret *passphrase,
				    struct dmt_check_result *result,
				    struct dmt_error *err)
{
	struct stack_build_options options = {
		.passphrase = passphrase,
		.read_only = true,
		.stop_after_tmeta = true,
	};
	struct stack_plan plan;
	struct stack_layer *tmeta;
	struct dmt_error teardown_err;
	char name[64], device[PATH_MAX];
	int r;

	if (!passphrase)
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL,
				"%s: the pool metadata is encrypted: a passphrase is required",
				image->path);

	snprintf(name, sizeof(name), "dmtool-check-%02x%02x%02x%02x",
		 image->header.uuid[0], image->header.uuid[1],
		 image->header.uuid[2], image->header.uuid[3]);
	stack_plan_init(&plan, &image->header, name, false);
	r = stack_build(ctx, &plan, image, &options, err);
	if (r)
		return r;

	tmeta = stack_plan_find(&plan, ROLE_TMETA);
	mapper_device_path(tmeta->name, device, sizeof(device));
	r = run_thin_check(ctx, device, result, err);
	if (stack_teardown(ctx, plan.volume_uuid, &teardown_err) && !r)
		r = dmt_fail(ctx, err, teardown_err.code, teardown_err.sys_errno,
			     "%s", teardown_err.message);
	return r;
}

int dmt_check(struct dmt_context *ctx, const char *image_path,
	      const struct dmt_secret *passphrase,
	      struct dmt_check_result *result, struct dmt_error *err)
{
	struct image image;
	int r;

	dmt_error_clear(err);
	memset(result, 0, sizeof(*result));
	r = image_open(ctx, image_path, IMAGE_READ_ONLY, &image, err);
	if (r)
		return r;
	r = image_read_header(ctx, &image, err);
	if (r)
		goto close_image;
	result->header_ok = true;

	r = image_check_unused(ctx, &image, err);
	if (r) {
		dmt_error_append(err, "thin_check needs the volume closed");
		goto close_image;
	}

	if (image.header.layout == DMT_LAYOUT_CRYPT_THIN)
		r = check_encrypted_metadata(ctx, &image, passphrase, result,
					     err);
	else if (dmt_layout_has_thin(image.header.layout))
		r = check_plain_metadata(ctx, &image, result, err);

close_image:
	image_close(&image);
	return r;
}
