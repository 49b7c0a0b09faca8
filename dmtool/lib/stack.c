// SPDX-License-Identifier: LGPL-2.1-or-later
/* Creating a volume's stack layer by layer, and tearing it down. */
#include "stack.h"
#include "kernel.h"
#include "mapper.h"
#include "table.h"
#include "policy.h"
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The pool formats its metadata when the first block is all zeros. */
#define METADATA_SUPERBLOCK_SIZE 4096

int stack_plan_guard(struct dmt_context *ctx, struct stack_plan *plan,
		     const char *image_path, bool is_block_device,
		     struct dmt_error *err)
{
	char *absolute;
	struct statvfs vfs;
	uint64_t total;

	if (is_block_device)
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL,
				"%s: the space guard watches the filesystem holding an image file; a block device has none",
				image_path);
	absolute = realpath(image_path, NULL);
	if (!absolute || statvfs(absolute, &vfs) != 0) {
		free(absolute);
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
				"%s: cannot resolve the image path: %s",
				image_path, strerror(errno));
	}
	if (strpbrk(absolute, " \t\n\\") || strlen(absolute) >= PATH_MAX) {
		free(absolute);
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL,
				"%s: the space guard cannot watch a path with whitespace or a backslash; move or link the image",
				image_path);
	}
	snprintf(plan->backing_file, sizeof(plan->backing_file), "%s",
		 absolute);
	free(absolute);

	total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	plan->guard_reserve = volume_reserve_bytes(&plan->header->growth, total);
	plan->guard_low_water = plan->guard_reserve + LOW_WATER_MIN;
	return DMT_OK;
}

/* The space-guard module is loaded by name when installed, else from
 * DMTOOL_GUARD_MODULE (a path to dm-space-guard.ko, as the tests do). */
static int require_guard(struct dmt_context *ctx, struct dmt_error *err)
{
	const char *path = getenv("DMTOOL_GUARD_MODULE");
	struct dmt_error ignored;

	if (kernel_require_target(ctx, "space-guard", "dm-space-guard",
				  &ignored) == DMT_OK)
		return DMT_OK;
	if (path && path[0] &&
	    kernel_require_target(ctx, "space-guard", path, &ignored) == DMT_OK)
		return DMT_OK;
	return dmt_fail(ctx, err, DMT_ERR_KERNEL, ENOENT,
			"the space-guard target is not available: build and install its module ('make module && make install'), or set DMTOOL_GUARD_MODULE to the path of dm-space-guard.ko");
}

static int require_targets(struct dmt_context *ctx,
			   const struct stack_plan *plan, struct dmt_error *err)
{
	int r = mapper_check_kernel(ctx, err);

	if (r)
		return r;
	if (dmt_layout_has_thin(plan->header->layout)) {
		r = kernel_require_target(ctx, "thin-pool", "dm-thin-pool", err);
		if (r)
			return r;
	}
	if (!r && dmt_layout_has_crypt(plan->header->layout))
		r = kernel_require_target(ctx, "crypt", "dm-crypt", err);
	if (!r && plan->guard)
		r = require_guard(ctx, err);
	return r;
}

/* Rejects a plan whose names, or whose volume, are already active. */
static int check_names_free(struct dmt_context *ctx,
			    const struct stack_plan *plan,
			    struct dmt_error *err)
{
	struct mapper_info *active;
	char prefix[80];
	size_t count;
	int r;

	for (size_t i = 0; i < plan->count; i++) {
		struct mapper_info info;

		r = mapper_info(ctx, plan->layers[i].name, &info, err);
		if (r)
			return r;
		if (info.exists)
			return dmt_fail(ctx, err, DMT_ERR_BUSY, EEXIST,
					"name '%s' is already in use by device-mapper device %s",
					plan->volume_name, info.name);
	}

	stack_uuid_prefix(plan->volume_uuid, prefix, sizeof(prefix));
	r = mapper_list(ctx, prefix, &active, &count, err);
	if (r)
		return r;
	if (count > 0) {
		r = dmt_fail(ctx, err, DMT_ERR_BUSY, EEXIST,
			     "this image's volume %s is already open: device %s carries its UUID",
			     plan->volume_uuid, active[0].name);
	}
	free(active);
	return r;
}

static void layer_path(const struct stack_plan *plan, enum stack_role role,
		       char *path, size_t size)
{
	for (size_t i = 0; i < plan->count; i++) {
		if (plan->layers[i].role == role) {
			mapper_device_path(plan->layers[i].name, path, size);
			return;
		}
	}
	path[0] = '\0';
}

/* The device that holds the LUKS2 header. */
static void luks_device(const struct stack_plan *plan, const char *loop_path,
			char *path, size_t size)
{
	if (plan->header->layout == DMT_LAYOUT_THIN_CRYPT)
		layer_path(plan, ROLE_THIN, path, size);
	else if (plan->guard)
		layer_path(plan, ROLE_GUARD, path, size);
	else
		snprintf(path, size, "%s", loop_path);
}

static int check_luks_matches(struct dmt_context *ctx,
			      const struct volume_header *h,
			      const struct luks_volume *key,
			      const char *device, struct dmt_error *err)
{
	if (strcmp(key->cipher, h->crypt.cipher) != 0 ||
	    key->sector_size != h->crypt.sector_size ||
	    key->data_offset != h->luks_size ||
	    key->key->size * 8 != h->crypt.key_bits)
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, EINVAL,
				"%s: the LUKS2 header (%s, %zu-bit key, %u-byte sectors, data at %llu) does not match the dmtool header (%s, %u-bit key, %u-byte sectors, data at %llu)",
				device, key->cipher, key->key->size * 8,
				key->sector_size,
				(unsigned long long)key->data_offset,
				h->crypt.cipher, h->crypt.key_bits,
				h->crypt.sector_size,
				(unsigned long long)h->luks_size);
	return DMT_OK;
}

static int prepare_crypt(struct dmt_context *ctx, struct stack_plan *plan,
			 const char *loop_path,
			 const struct stack_build_options *options,
			 struct luks_volume *key, struct dmt_error *err)
{
	const struct volume_header *h = plan->header;
	char device[PATH_MAX];
	int r;

	luks_device(plan, loop_path, device, sizeof(device));
	if (options->create) {
		log_info(ctx, "%s: writing the LUKS2 header", device);
		return luks_format(ctx, device, &h->crypt, options->pbkdf,
				   options->passphrase, h->luks_size, key, err);
	}

	r = luks_unlock(ctx, device, options->passphrase, key, err);
	if (r)
		return r;
	r = check_luks_matches(ctx, h, key, device, err);
	if (r)
		luks_volume_clear(key);
	return r;
}

static int zero_metadata_superblock(struct dmt_context *ctx,
				    const struct stack_plan *plan,
				    struct dmt_error *err)
{
	char zeros[METADATA_SUPERBLOCK_SIZE];
	char path[PATH_MAX];
	int fd;
	int r = DMT_OK;

	layer_path(plan, ROLE_TMETA, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
				"%s: cannot open the metadata area: %s", path,
				strerror(errno));

	memset(zeros, 0, sizeof(zeros));
	if (pwrite(fd, zeros, sizeof(zeros), 0) != (ssize_t)sizeof(zeros) ||
	    fsync(fd) != 0)
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
			     "%s: clearing the metadata superblock failed: %s",
			     path, strerror(errno));
	close(fd);
	return r;
}

static int create_layer(struct dmt_context *ctx, struct stack_plan *plan,
			size_t index, const struct luks_volume *key,
			struct dmt_secret *crypt_buffer, bool read_only,
			struct dmt_error *err)
{
	struct stack_layer *layer = &plan->layers[index];
	struct dmt_target_line line;
	struct mapper_info info;
	unsigned int flags = layer->role == ROLE_CRYPT ? MAPPER_SECRET : 0;
	int r;

	if (read_only)
		flags |= MAPPER_READ_ONLY;
	r = stack_plan_line(plan, index, key, crypt_buffer->data,
			    crypt_buffer->capacity, &line);
	if (r < 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, -r,
				"%s: cannot build the %s table: %s",
				layer->name, stack_role_name(layer->role),
				strerror(-r));

	log_info(ctx, "%s: creating the %s layer (%s)", layer->name,
		 stack_role_name(layer->role), line.type);
	r = mapper_create(ctx, layer->name, layer->uuid, &line, 1, flags, err);
	if (layer->role == ROLE_CRYPT)
		explicit_bzero(crypt_buffer->data, crypt_buffer->capacity);
	else
		table_lines_free(&line, 1);
	if (r)
		return r;

	r = mapper_info(ctx, layer->name, &info, err);
	if (r)
		return r;
	layer->exists = true;
	layer->major = info.major;
	layer->minor = info.minor;
	return DMT_OK;
}

static int build_layer(struct dmt_context *ctx, struct stack_plan *plan,
		       size_t index, const char *loop_path,
		       const struct stack_build_options *options,
		       struct luks_volume *key, struct dmt_secret *crypt_buffer,
		       struct dmt_error *err)
{
	enum stack_role role = plan->layers[index].role;
	int r;

	if (role == ROLE_CRYPT) {
		r = prepare_crypt(ctx, plan, loop_path, options, key, err);
		if (r)
			return r;
	}
	if (role == ROLE_POOL && options->create) {
		r = zero_metadata_superblock(ctx, plan, err);
		if (r)
			return r;
	}

	r = create_layer(ctx, plan, index, key, crypt_buffer,
			 options->read_only, err);
	if (r)
		return r;

	if (role == ROLE_POOL && options->create) {
		log_info(ctx, "%s: creating thin device 0",
			 plan->layers[index].name);
		r = mapper_message(ctx, plan->layers[index].name, 0,
				   "create_thin 0", NULL, err);
	}
	return r;
}

static void remove_created(struct dmt_context *ctx, struct stack_plan *plan)
{
	for (size_t i = plan->count; i-- > 0;) {
		struct stack_layer *layer = &plan->layers[i];

		if (!layer->exists)
			continue;
		log_debug(ctx, "%s: removing after a failed setup", layer->name);
		if (mapper_remove(ctx, layer->name, NULL) == DMT_OK)
			layer->exists = false;
	}
}

static int attach_loop(struct dmt_context *ctx, struct stack_plan *plan,
		       struct image *image,
		       const struct stack_build_options *options,
		       struct loop_device *loop, struct dmt_error *err)
{
	const struct volume_header *h = plan->header;
	struct loop_settings settings = {
		.offset = h->payload_offset,
		.block_size = h->loop_block_size,
		.direct_io = h->flags & HEADER_FLAG_LOOP_DIRECT_IO,
		.read_only = options->read_only,
	};
	int backing_fd;
	int r;

	backing_fd = image_reopen(ctx, image, options->read_only, err);
	if (backing_fd < 0)
		return image_reopen_error(err);

	r = loop_attach(ctx, backing_fd, image->path, &settings, loop, err);
	close(backing_fd);
	if (r)
		return r;
	table_device_number(plan->loop_ref, sizeof(plan->loop_ref),
			    major(loop->rdev), minor(loop->rdev));
	return DMT_OK;
}

int stack_build(struct dmt_context *ctx, struct stack_plan *plan,
		struct image *image, const struct stack_build_options *options,
		struct dmt_error *err)
{
	struct luks_volume key;
	struct loop_device loop;
	struct dmt_secret *crypt_buffer;
	int r;

	memset(&key, 0, sizeof(key));
	if (plan->guard) {
		r = stack_plan_guard(ctx, plan, image->path,
				     image->is_block_device, err);
		if (r)
			return r;
	}
	r = require_targets(ctx, plan, err);
	if (r)
		return r;
	r = check_names_free(ctx, plan, err);
	if (r)
		return r;

	crypt_buffer = dmt_secret_new(STACK_CRYPT_LINE_MAX);
	if (!crypt_buffer)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"cannot allocate locked memory for the crypt table");

	r = attach_loop(ctx, plan, image, options, &loop, err);
	if (r)
		goto free_buffer;

	for (size_t i = 0; i < plan->count && !r; i++) {
		r = build_layer(ctx, plan, i, loop.path, options, &key,
				crypt_buffer, err);
		if (options->stop_after_tmeta &&
		    plan->layers[i].role == ROLE_TMETA)
			break;
	}
	if (r)
		remove_created(ctx, plan);

	/* The dm tables now hold the loop device; with autoclear set it
	 * detaches when they go, or right here if none was created. */
	loop_release(&loop);
	luks_volume_clear(&key);
free_buffer:
	dmt_secret_free(crypt_buffer);
	return r;
}

static int remove_pass(struct dmt_context *ctx, struct mapper_info *devices,
		       size_t count, bool *removed, size_t *left,
		       struct dmt_error *err)
{
	bool progress = false;
	int r = DMT_OK;

	*left = 0;
	for (size_t i = 0; i < count; i++) {
		struct mapper_info info;

		if (removed[i])
			continue;
		r = mapper_info(ctx, devices[i].name, &info, err);
		if (r)
			return r;
		if (!info.exists) {
			removed[i] = true;
			continue;
		}
		if (info.open_count > 0) {
			(*left)++;
			continue;
		}
		r = mapper_remove(ctx, devices[i].name, err);
		if (r)
			return r;
		removed[i] = true;
		progress = true;
	}
	if (*left > 0 && !progress)
		return dmt_fail(ctx, err, DMT_ERR_BUSY, EBUSY,
				"%zu devices of the volume are still held open by something outside it",
				*left);
	return DMT_OK;
}

static int check_top_unused(struct dmt_context *ctx,
			    const struct mapper_info *devices, size_t count,
			    struct dmt_error *err)
{
	/* The top device is the one no other device of the stack holds: if
	 * every device is open, something outside holds the top one. */
	for (size_t i = 0; i < count; i++) {
		if (devices[i].open_count == 0)
			return DMT_OK;
	}
	return dmt_fail(ctx, err, DMT_ERR_BUSY, EBUSY,
			"the volume is in use: unmount it or close what holds /dev/mapper/%s first",
			count ? devices[0].name : "?");
}

int stack_teardown(struct dmt_context *ctx, const char *volume_uuid,
		   struct dmt_error *err)
{
	struct mapper_info *devices;
	bool *removed;
	char prefix[80];
	size_t count, left = 0;
	int r;

	stack_uuid_prefix(volume_uuid, prefix, sizeof(prefix));
	r = mapper_list(ctx, prefix, &devices, &count, err);
	if (r)
		return r;

	r = check_top_unused(ctx, devices, count, err);
	if (r)
		goto free_devices;

	removed = calloc(count ? count : 1, sizeof(*removed));
	if (!removed) {
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
			     "out of memory");
		goto free_devices;
	}
	do {
		r = remove_pass(ctx, devices, count, removed, &left, err);
	} while (!r && left > 0);
	free(removed);

free_devices:
	free(devices);
	return r;
}
