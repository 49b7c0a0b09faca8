/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The filesystem on top of a volume: where it is mounted, growing it and
 * trimming it. */
#ifndef DMTOOL_FILESYSTEM_H
#define DMTOOL_FILESYSTEM_H

#include "internal.h"

#include <limits.h>

struct mount_info {
	bool mounted;
	char mountpoint[PATH_MAX];
	char fstype[32];
};

/* Finds the first mount of the block device major:minor. */
int filesystem_find_mount(uint32_t major, uint32_t minor,
			  struct mount_info *mount);

/* Grows the filesystem on device (mounted at mount) to the device's size:
 * resize2fs for ext2/3/4, xfs_growfs for xfs. */
int filesystem_grow(struct dmt_context *ctx, const char *device,
		    const struct mount_info *mount, struct dmt_error *err);

/* Discards the free space of the filesystem mounted at mountpoint
 * (FITRIM, as fstrim does); *trimmed receives the bytes the filesystem
 * reports. */
int filesystem_trim(struct dmt_context *ctx, const char *mountpoint,
		    uint64_t *trimmed, struct dmt_error *err);

#endif
