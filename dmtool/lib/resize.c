// SPDX-License-Identifier: LGPL-2.1-or-later
/* Resizing the layers of a live stack, each step checked. */
#include "resize.h"
#include "mapper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "loop.h"

int device_size(const char *path, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, BLKGETSIZE64, size) != 0)
		r = -errno;
	close(fd);
	return r;
}

int resize_backing(struct dmt_context *ctx, struct image *image,
		   uint64_t end, struct dmt_error *err)
{
	int r = image_refresh_size(ctx, image, err);

	if (r)
		return r;
	if (image->size >= end)
		return DMT_OK;
	if (image->is_block_device)
		return dmt_fail(ctx, err, DMT_ERR_NOSPACE, ENOSPC,
				"%s: the device has %llu bytes, the grown volume needs %llu",
				image->path, (unsigned long long)image->size,
				(unsigned long long)end);

	log_debug(ctx, "%s: extending the image to %llu bytes", image->path,
		  (unsigned long long)end);
	if (ftruncate(image->fd, (off_t)end) != 0)
		return dmt_fail(ctx, err,
				errno == EFBIG ? DMT_ERR_NOSPACE : DMT_ERR_IMAGE,
				errno, "%s: extending the image to %llu bytes failed: %s",
				image->path, (unsigned long long)end,
				strerror(errno));
	log_debug(ctx, "%s: syncing the extended image", image->path);
	if (fdatasync(image->fd) != 0)
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
				"%s: syncing the extended image failed: %s",
				image->path, strerror(errno));
	return image_refresh_size(ctx, image, err);
}

int resize_loop(struct dmt_context *ctx, int loop_number, uint64_t expected,
		struct dmt_error *err)
{
	char path[32];
	uint64_t size = 0;
	int r;

	snprintf(path, sizeof(path), "/dev/loop%d", loop_number);
	log_debug(ctx, "%s: setting the new capacity", path);
	r = loop_set_capacity(ctx, path, &size, err);
	if (r)
		return r;
	if (size != expected)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, EIO,
				"loop layer %s: its size is %llu bytes after the capacity update, expected %llu; stopping",
				path, (unsigned long long)size,
				(unsigned long long)expected);
	return DMT_OK;
}

static int check_layer_size(struct dmt_context *ctx, const char *name,
			    const char *role, uint64_t length,
			    struct dmt_error *err)
{
	char path[256];
	uint64_t size = 0;

	mapper_device_path(name, path, sizeof(path));
	if (device_size(path, &size) != 0 || size != length << SECTOR_SHIFT)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, EIO,
				"%s layer %s: its size is %llu bytes after the reload, expected %llu; stopping",
				role, name, (unsigned long long)size,
				(unsigned long long)(length << SECTOR_SHIFT));
	return DMT_OK;
}

int resize_layer(struct dmt_context *ctx, const char *name, const char *role,
		 uint64_t length, const char *params, struct dmt_error *err)
{
	struct dmt_target_line *lines;
	struct dmt_target_line line;
	size_t count;
	unsigned int flags;
	int r;

	r = mapper_query(ctx, name, MAPPER_TABLE, &lines, &count, err);
	if (r)
		return r;
	if (count != 1) {
		mapper_lines_free(lines, count);
		return dmt_fail(ctx, err, DMT_ERR_FAILED, EINVAL,
				"%s layer %s: expected one target, found %zu",
				role, name, count);
	}

	line = lines[0];
	line.length = length;
	if (params)
		line.params = (char *)params;
	/* A crypt table read back carries the key: keep it out of buffers
	 * that are not wiped. */
	flags = strcmp(line.type, "crypt") == 0 ? MAPPER_SECRET : 0;

	log_info(ctx, "%s layer %s: reloading with %llu sectors", role, name,
		 (unsigned long long)length);
	r = mapper_load(ctx, name, &line, 1, flags, err);
	mapper_lines_free(lines, count);
	if (r)
		return r;

	r = mapper_suspend(ctx, name, 0, err);
	if (r) {
		(void)mapper_clear(ctx, name, NULL);
		return r;
	}
	r = mapper_resume(ctx, name, err);
	if (r)
		return r;
	log_debug(ctx, "%s layer %s: resumed", role, name);
	return check_layer_size(ctx, name, role, length, err);
}

char *resize_pool_params(const char *params, uint64_t low_water_blocks)
{
	char metadata[64], data[64];
	unsigned long chunk;
	unsigned long long old_low_water;
	int consumed = 0;
	char *result;

	if (sscanf(params, "%63s %63s %lu %llu%n", metadata, data, &chunk,
		   &old_low_water, &consumed) != 4)
		return NULL;
	if (asprintf(&result, "%s %s %lu %llu%s", metadata, data, chunk,
		     (unsigned long long)low_water_blocks,
		     params + consumed) < 0)
		return NULL;
	return result;
}
