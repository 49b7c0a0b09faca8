/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The image: the backing file or block device, its lock, its header slots
 * and the filesystem that holds it.
 */
#ifndef DMTOOL_IMAGE_H
#define DMTOOL_IMAGE_H

#include "header.h"

#include <limits.h>
#include <sys/stat.h>

struct image {
	int fd;
	char path[PATH_MAX];	/* as given, for messages */
	struct stat st;
	bool is_block_device;
	bool created;		/* this operation created the file */
	uint64_t size;		/* file size or device size, bytes */
	struct volume_header header;
};

#define IMAGE_CREATE (1u << 0)	/* create the file when missing */
#define IMAGE_READ_ONLY (1u << 1)
#define IMAGE_NO_LOCK (1u << 2)	/* read-only lookups while others work */

/* Opens path and takes an exclusive lock on it for the life of the
 * operation. A second dmtool operation on the same image gets
 * DMT_ERR_BUSY instead of waiting. */
int image_open(struct dmt_context *ctx, const char *path, unsigned int flags,
	       struct image *image, struct dmt_error *err);
void image_close(struct image *image);

/* Opens the image again for a loop device and returns the descriptor, or
 * -1 with err set. The loop device keeps the file description it is given,
 * and with it any flock on it: a description of its own lets the image
 * lock end with the operation. */
int image_reopen(struct dmt_context *ctx, const struct image *image,
		 bool read_only, struct dmt_error *err);

/* The error code image_reopen left in err. */
static inline int image_reopen_error(const struct dmt_error *err)
{
	return err && err->code ? (int)err->code : DMT_ERR_IMAGE;
}

/* Reads both header slots and keeps the newest valid one in image->header.
 * Fails with DMT_ERR_IMAGE naming what is wrong: no header (and what the
 * image holds instead), a corrupt or truncated one, or a newer format. */
int image_read_header(struct dmt_context *ctx, struct image *image,
		      struct dmt_error *err);

/* Writes header as the next generation into the slot the current
 * generation does not use, and syncs it. */
int image_write_header(struct dmt_context *ctx, struct image *image,
		       const struct volume_header *header,
		       struct dmt_error *err);

/* Writes header into both slots (generations 0 and 1): the first header
 * of a new image. */
int image_write_first_header(struct dmt_context *ctx, struct image *image,
			     struct volume_header *header,
			     struct dmt_error *err);

/* Overwrites both header slots with zeros. */
int image_wipe_header(struct dmt_context *ctx, struct image *image,
		      struct dmt_error *err);

/* Fails with DMT_ERR_BUSY when a loop device uses the file or something
 * holds the block device open exclusively (a mount, a dm table). */
int image_check_unused(struct dmt_context *ctx, struct image *image,
		       struct dmt_error *err);

/* Describes a known signature (filesystem, LUKS, partition table) in the
 * first bytes of the image; returns false when none is found. */
bool image_find_signature(struct image *image, char *what, size_t size);

/* Refreshes image->size (and st) from the file or device. */
int image_refresh_size(struct dmt_context *ctx, struct image *image,
		       struct dmt_error *err);

struct host_space {
	uint64_t free;		/* bytes an unprivileged write can still use */
	uint64_t total;
	uint64_t allocated;	/* bytes the image occupies */
	uint64_t apparent;
};

int image_host_space(struct image *image, struct host_space *space);

/* Same, for an image path that is not open. */
int host_space_of_path(const char *path, struct host_space *space);

#endif
