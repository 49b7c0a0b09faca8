// SPDX-License-Identifier: LGPL-2.1-or-later
/* Image file or block device: opening, locking, header slots, space. */
#include "image.h"

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "loop.h"

static int open_existing_or_create(const char *path, unsigned int flags,
				   bool *created)
{
	int access_mode = (flags & IMAGE_READ_ONLY) ? O_RDONLY : O_RDWR;
	int fd;

	*created = false;
	fd = open(path, access_mode | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT || !(flags & IMAGE_CREATE))
		return fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		*created = true;
	return fd;
}

int image_refresh_size(struct dmt_context *ctx, struct image *image,
		       struct dmt_error *err)
{
	if (fstat(image->fd, &image->st) != 0)
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
				"%s: cannot stat the image: %s", image->path,
				strerror(errno));

	if (!image->is_block_device) {
		image->size = (uint64_t)image->st.st_size;
		return DMT_OK;
	}
	if (ioctl(image->fd, BLKGETSIZE64, &image->size) != 0)
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
				"%s: cannot read the device size: %s",
				image->path, strerror(errno));
	return DMT_OK;
}

int image_open(struct dmt_context *ctx, const char *path, unsigned int flags,
	       struct image *image, struct dmt_error *err)
{
	int r;

	memset(image, 0, sizeof(*image));
	image->fd = -1;
	if (strlen(path) >= sizeof(image->path))
		return dmt_fail(ctx, err, DMT_ERR_USAGE, ENAMETOOLONG,
				"image path is longer than %zu bytes",
				sizeof(image->path) - 1);
	snprintf(image->path, sizeof(image->path), "%s", path);

	image->fd = open_existing_or_create(path, flags, &image->created);
	if (image->fd < 0)
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
				"%s: cannot open the image: %s", path,
				strerror(errno));

	if (fstat(image->fd, &image->st) != 0) {
		r = dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
			     "%s: cannot stat the image: %s", path,
			     strerror(errno));
		goto close_image;
	}
	image->is_block_device = S_ISBLK(image->st.st_mode);
	if (!image->is_block_device && !S_ISREG(image->st.st_mode)) {
		r = dmt_fail(ctx, err, DMT_ERR_IMAGE, EINVAL,
			     "%s: not a regular file or block device", path);
		goto close_image;
	}

	if (!(flags & IMAGE_NO_LOCK) && flock(image->fd, LOCK_EX | LOCK_NB) != 0) {
		r = dmt_fail(ctx, err, DMT_ERR_BUSY, errno,
			     "%s: another dmtool operation holds the image lock; wait for it to finish",
			     path);
		goto close_image;
	}

	r = image_refresh_size(ctx, image, err);
	if (r)
		goto close_image;
	return DMT_OK;

close_image:
	close(image->fd);
	image->fd = -1;
	return r;
}

int image_reopen(struct dmt_context *ctx, const struct image *image,
		 bool read_only, struct dmt_error *err)
{
	int fd = open(image->path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
			 "%s: cannot reopen the image: %s", image->path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_dev != image->st.st_dev ||
	    st.st_ino != image->st.st_ino) {
		close(fd);
		dmt_fail(ctx, err, DMT_ERR_IMAGE, ESTALE,
			 "%s: the image was replaced while in use", image->path);
		return -1;
	}
	return fd;
}

void image_close(struct image *image)
{
	if (image->fd >= 0)
		close(image->fd);
	image->fd = -1;
}

bool image_find_signature(struct image *image, char *what, size_t size)
{
	blkid_probe probe = blkid_new_probe();
	const char *type = NULL, *usage = NULL;
	bool found = false;

	if (!probe)
		return false;
	if (blkid_probe_set_device(probe, image->fd, 0, 0) != 0)
		goto free_probe;

	blkid_probe_enable_superblocks(probe, 1);
	blkid_probe_set_superblocks_flags(probe, BLKID_SUBLKS_TYPE |
					  BLKID_SUBLKS_USAGE);
	blkid_probe_enable_partitions(probe, 1);
	if (blkid_do_safeprobe(probe) == 0) {
		if (blkid_probe_lookup_value(probe, "TYPE", &type, NULL) == 0) {
			blkid_probe_lookup_value(probe, "USAGE", &usage, NULL);
			snprintf(what, size, "a %s signature '%s'",
				 usage ? usage : "known", type);
			found = true;
		} else if (blkid_probe_lookup_value(probe, "PTTYPE", &type,
						    NULL) == 0) {
			snprintf(what, size, "a partition table '%s'", type);
			found = true;
		}
	}

free_probe:
	blkid_free_probe(probe);
	return found;
}

/* The header is trusted only after this: an image cut short (copied
 * partially, or a device smaller than the one formatted) is rejected before
 * any table maps past its end. */
static int image_check_size(struct dmt_context *ctx, struct image *image,
			    struct dmt_error *err)
{
	uint64_t end = header_image_end(&image->header);

	if (image->size < end)
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, EINVAL,
				"%s: image is truncated: %llu bytes, but its header describes %llu",
				image->path, (unsigned long long)image->size,
				(unsigned long long)end);
	return DMT_OK;
}

static int describe_missing_header(struct dmt_context *ctx,
				   struct image *image, struct dmt_error *err)
{
	char what[128];

	if (image->size < HEADER_SLOT_SIZE * HEADER_SLOT_COUNT)
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, EINVAL,
				"%s: not a dmtool image: only %llu bytes long",
				image->path,
				(unsigned long long)image->size);
	if (image_find_signature(image, what, sizeof(what)))
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, EINVAL,
				"%s: not a dmtool image: it holds %s",
				image->path, what);
	return dmt_fail(ctx, err, DMT_ERR_IMAGE, EINVAL,
			"%s: not a dmtool image: no dmtool header found",
			image->path);
}

int image_read_header(struct dmt_context *ctx, struct image *image,
		      struct dmt_error *err)
{
	unsigned char block[HEADER_SLOT_SIZE];
	struct volume_header slot;
	enum header_decode_result worst = HEADER_NO_MAGIC;
	char why[256] = "", slot_why[256];
	bool found = false;

	for (unsigned int i = 0; i < HEADER_SLOT_COUNT; i++) {
		ssize_t got = pread(image->fd, block, sizeof(block),
				    (off_t)i * HEADER_SLOT_SIZE);
		enum header_decode_result result;

		if (got < 0)
			return dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
					"%s: cannot read header slot %u: %s",
					image->path, i, strerror(errno));

		result = header_decode(block, (size_t)got, &slot, slot_why,
				       sizeof(slot_why));
		if (result == HEADER_DECODED) {
			if (!found || slot.sequence > image->header.sequence)
				image->header = slot;
			found = true;
			continue;
		}
		log_debug(ctx, "%s: header slot %u: %s", image->path, i,
			  slot_why);
		if (result > worst || (result != HEADER_NO_MAGIC && !why[0])) {
			worst = result;
			snprintf(why, sizeof(why), "%s", slot_why);
		}
	}

	if (found)
		return image_check_size(ctx, image, err);
	if (worst == HEADER_NO_MAGIC)
		return describe_missing_header(ctx, image, err);
	return dmt_fail(ctx, err, DMT_ERR_IMAGE, EINVAL,
			"%s: the dmtool header is unusable: %s", image->path,
			why);
}

static int write_slot(struct dmt_context *ctx, struct image *image,
		      const struct volume_header *header, unsigned int slot,
		      struct dmt_error *err)
{
	unsigned char block[HEADER_SLOT_SIZE];
	ssize_t written;

	header_encode(header, block);
	written = pwrite(image->fd, block, sizeof(block),
			 (off_t)slot * HEADER_SLOT_SIZE);
	if (written != (ssize_t)sizeof(block))
		return dmt_fail(ctx, err,
				errno == ENOSPC ? DMT_ERR_NOSPACE : DMT_ERR_IMAGE,
				written < 0 ? errno : EIO,
				"%s: writing header slot %u failed: %s",
				image->path, slot,
				written < 0 ? strerror(errno) : "short write");
	return DMT_OK;
}

static int sync_image(struct dmt_context *ctx, struct image *image,
		      struct dmt_error *err)
{
	if (fdatasync(image->fd) != 0)
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
				"%s: syncing the header failed: %s",
				image->path, strerror(errno));
	return DMT_OK;
}

int image_write_header(struct dmt_context *ctx, struct image *image,
		       const struct volume_header *header,
		       struct dmt_error *err)
{
	struct volume_header next = *header;
	char why[256];
	int r;

	next.sequence = image->header.sequence + 1;
	if (!header_validate(&next, why, sizeof(why)))
		return dmt_fail(ctx, err, DMT_ERR_FAILED, EINVAL,
				"%s: refusing to write an invalid header: %s",
				image->path, why);

	r = write_slot(ctx, image, &next,
		       (unsigned int)(next.sequence % HEADER_SLOT_COUNT), err);
	if (r)
		return r;
	log_debug(ctx, "%s: syncing header generation %llu", image->path,
		  (unsigned long long)next.sequence);
	r = sync_image(ctx, image, err);
	if (r)
		return r;

	image->header = next;
	log_debug(ctx, "%s: wrote header generation %llu", image->path,
		  (unsigned long long)next.sequence);
	return DMT_OK;
}

int image_write_first_header(struct dmt_context *ctx, struct image *image,
			     struct volume_header *header,
			     struct dmt_error *err)
{
	char why[256];
	int r;

	if (!header_validate(header, why, sizeof(why)))
		return dmt_fail(ctx, err, DMT_ERR_FAILED, EINVAL,
				"%s: refusing to write an invalid header: %s",
				image->path, why);

	for (unsigned int slot = 0; slot < HEADER_SLOT_COUNT; slot++) {
		header->sequence = slot;
		r = write_slot(ctx, image, header, slot, err);
		if (r)
			return r;
	}
	r = sync_image(ctx, image, err);
	if (r)
		return r;

	image->header = *header;
	return DMT_OK;
}

int image_wipe_header(struct dmt_context *ctx, struct image *image,
		      struct dmt_error *err)
{
	unsigned char zeros[HEADER_SLOT_SIZE * HEADER_SLOT_COUNT];

	memset(zeros, 0, sizeof(zeros));
	if (pwrite(image->fd, zeros, sizeof(zeros), 0) != (ssize_t)sizeof(zeros))
		return dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
				"%s: wiping the header failed: %s", image->path,
				strerror(errno));
	return sync_image(ctx, image, err);
}

static int check_device_unused(struct dmt_context *ctx, struct image *image,
			       struct dmt_error *err)
{
	/* An exclusive open fails with EBUSY while the kernel holds the
	 * device: mounted, in a dm table, or claimed by another user. */
	int fd = open(image->path, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd < 0 && errno == EBUSY)
		return dmt_fail(ctx, err, DMT_ERR_BUSY, EBUSY,
				"%s: the device is in use (mounted, held by a device-mapper table or opened exclusively)",
				image->path);
	if (fd >= 0)
		close(fd);
	return DMT_OK;
}

int image_check_unused(struct dmt_context *ctx, struct image *image,
		       struct dmt_error *err)
{
	struct loop_state loops[4];
	int count;

	if (image->is_block_device) {
		int r = check_device_unused(ctx, image, err);

		if (r)
			return r;
	}

	count = loop_find_by_backing(image->st.st_dev, image->st.st_ino, loops,
				     (int)ARRAY_SIZE(loops));
	if (count > 0)
		return dmt_fail(ctx, err, DMT_ERR_BUSY, EBUSY,
				"%s: the image is in use: /dev/loop%d is attached to it%s; close the volume first",
				image->path, loops[0].number,
				count > 1 ? " (and more loop devices)" : "");
	return DMT_OK;
}

static void fill_space(const struct stat *st, const struct statvfs *vfs,
		       struct host_space *space)
{
	space->free = (uint64_t)vfs->f_bavail * vfs->f_frsize;
	space->total = (uint64_t)vfs->f_blocks * vfs->f_frsize;
	space->apparent = (uint64_t)st->st_size;
	space->allocated = (uint64_t)st->st_blocks * 512;
}

int image_host_space(struct image *image, struct host_space *space)
{
	struct statvfs vfs;
	struct stat st;

	memset(space, 0, sizeof(*space));
	if (fstat(image->fd, &st) != 0 || fstatvfs(image->fd, &vfs) != 0)
		return -errno;
	if (image->is_block_device)
		return 0;
	fill_space(&st, &vfs, space);
	return 0;
}

int host_space_of_path(const char *path, struct host_space *space)
{
	struct statvfs vfs;
	struct stat st;

	memset(space, 0, sizeof(*space));
	if (stat(path, &st) != 0 || statvfs(path, &vfs) != 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return 0;
	fill_space(&st, &vfs, space);
	return 0;
}
