/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loop devices through the kernel's loop ioctls. */
#ifndef DMTOOL_LOOP_H
#define DMTOOL_LOOP_H

#include "internal.h"

#include <sys/types.h>

struct loop_device {
	int fd;			/* open until a table holds the device */
	int number;		/* N of /dev/loopN */
	char path[32];
	dev_t rdev;
};

struct loop_settings {
	uint64_t offset;	/* bytes of the backing the device skips */
	uint64_t size_limit;	/* bytes the device shows; 0: to the end */
	uint32_t block_size;	/* logical block size */
	bool direct_io;
	bool read_only;
};

/* Attaches backing_fd (path is recorded for display) to a free loop
 * device with autoclear set: the device detaches itself when its last
 * user closes it, so a failed setup leaves no loop device behind. */
int loop_attach(struct dmt_context *ctx, int backing_fd, const char *path,
		const struct loop_settings *settings, struct loop_device *loop,
		struct dmt_error *err);

/* Closes the descriptor that loop_attach left open. */
void loop_release(struct loop_device *loop);

/* Re-reads the backing size into the loop device and returns the size
 * it now has, in bytes. */
int loop_set_capacity(struct dmt_context *ctx, const char *path,
		      uint64_t *size, struct dmt_error *err);

struct loop_state {
	int number;
	dev_t rdev;
	char backing_file[4096];
	uint64_t offset;
	uint32_t block_size;
	bool direct_io;
	bool autoclear;
};

/* Lists the loop devices whose backing file is (dev, ino). Returns the
 * number found, up to max, or a negative errno. */
int loop_find_by_backing(dev_t dev, ino_t ino, struct loop_state *found,
			 int max);

/* Reads a bound loop device's settings from sysfs and its ioctl. */
int loop_read_state(dev_t rdev, struct loop_state *state);

#endif
