// SPDX-License-Identifier: LGPL-2.1-or-later
/* Loop device setup, capacity changes and lookup by backing file. */
#include "loop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Another process can take the free device between LOOP_CTL_GET_FREE and
 * LOOP_CONFIGURE; the attach then retries with the next free one. */
#define ATTACH_ATTEMPTS 16

static int configure(int loop_fd, int backing_fd, const char *path,
		     const struct loop_settings *settings)
{
	struct loop_config config;

	memset(&config, 0, sizeof(config));
	config.fd = (uint32_t)backing_fd;
	config.block_size = settings->block_size;
	config.info.lo_offset = settings->offset;
	config.info.lo_sizelimit = settings->size_limit;
	config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	if (settings->direct_io)
		config.info.lo_flags |= LO_FLAGS_DIRECT_IO;
	if (settings->read_only)
		config.info.lo_flags |= LO_FLAGS_READ_ONLY;
	snprintf((char *)config.info.lo_file_name,
		 sizeof(config.info.lo_file_name), "%s", path);

	return ioctl(loop_fd, LOOP_CONFIGURE, &config) == 0 ? 0 : errno;
}

int loop_attach(struct dmt_context *ctx, int backing_fd, const char *path,
		const struct loop_settings *settings, struct loop_device *loop,
		struct dmt_error *err)
{
	int control_fd;
	int sys_errno = EBUSY;
	struct stat st;

	memset(loop, 0, sizeof(*loop));
	loop->fd = -1;
	control_fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (control_fd < 0)
		return dmt_fail(ctx, err, DMT_ERR_KERNEL, errno,
				"cannot open /dev/loop-control: %s; load the loop module",
				strerror(errno));

	for (int attempt = 0; attempt < ATTACH_ATTEMPTS; attempt++) {
		int number = ioctl(control_fd, LOOP_CTL_GET_FREE);
		int flags = settings->read_only ? O_RDONLY : O_RDWR;

		if (number < 0) {
			sys_errno = errno;
			break;
		}

		snprintf(loop->path, sizeof(loop->path), "/dev/loop%d", number);
		loop->fd = open(loop->path, flags | O_CLOEXEC);
		if (loop->fd < 0) {
			sys_errno = errno;
			break;
		}

		sys_errno = configure(loop->fd, backing_fd, path, settings);
		if (sys_errno == 0) {
			loop->number = number;
			break;
		}
		close(loop->fd);
		loop->fd = -1;
		if (sys_errno != EBUSY)
			break;
	}
	close(control_fd);

	if (sys_errno)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, sys_errno,
				"%s: attaching a loop device failed: %s", path,
				strerror(sys_errno));

	if (fstat(loop->fd, &st) == 0)
		loop->rdev = st.st_rdev;
	log_debug(ctx, "attached %s to %s at offset %llu, %u-byte blocks%s",
		  path, loop->path, (unsigned long long)settings->offset,
		  settings->block_size,
		  settings->direct_io ? ", direct I/O requested" : "");
	return DMT_OK;
}

void loop_release(struct loop_device *loop)
{
	if (loop->fd >= 0)
		close(loop->fd);
	loop->fd = -1;
}

int loop_set_capacity(struct dmt_context *ctx, const char *path,
		      uint64_t *size, struct dmt_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int sys_errno = 0;

	if (fd < 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
				"%s: cannot open the loop device: %s", path,
				strerror(errno));

	if (ioctl(fd, LOOP_SET_CAPACITY, 0) != 0 ||
	    ioctl(fd, BLKGETSIZE64, size) != 0)
		sys_errno = errno;
	close(fd);
	if (sys_errno)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, sys_errno,
				"%s: updating the loop device's capacity failed: %s",
				path, strerror(sys_errno));
	return DMT_OK;
}

static int read_sysfs(const char *path, char *buffer, size_t size)
{
	ssize_t length;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;

	length = read(fd, buffer, size - 1);
	close(fd);
	if (length < 0)
		return -errno;

	buffer[length] = '\0';
	while (length > 0 && buffer[length - 1] == '\n')
		buffer[--length] = '\0';
	return 0;
}

static uint64_t read_sysfs_u64(const char *path)
{
	char buffer[32];

	if (read_sysfs(path, buffer, sizeof(buffer)) != 0)
		return 0;
	return strtoull(buffer, NULL, 10);
}

/* The sysfs link of a block device ends in its kernel name: loopN. */
static int read_loop_number(const char *sysfs_path, int *number)
{
	char target[256];
	ssize_t length = readlink(sysfs_path, target, sizeof(target) - 1);
	const char *name;

	if (length < 0)
		return -errno;

	target[length] = '\0';
	name = strrchr(target, '/');
	if (!name || sscanf(name, "/loop%d", number) != 1)
		return -EINVAL;
	return 0;
}

int loop_read_state(dev_t rdev, struct loop_state *state)
{
	char path[128];
	char base[64];

	memset(state, 0, sizeof(*state));
	state->rdev = rdev;
	snprintf(base, sizeof(base), "/sys/dev/block/%u:%u", major(rdev),
		 minor(rdev));

	snprintf(path, sizeof(path), "%s/loop/backing_file", base);
	if (read_sysfs(path, state->backing_file,
		       sizeof(state->backing_file)) != 0)
		return -ENXIO;

	snprintf(path, sizeof(path), "%s/loop/offset", base);
	state->offset = read_sysfs_u64(path);
	snprintf(path, sizeof(path), "%s/loop/dio", base);
	state->direct_io = read_sysfs_u64(path) != 0;
	snprintf(path, sizeof(path), "%s/loop/autoclear", base);
	state->autoclear = read_sysfs_u64(path) != 0;
	snprintf(path, sizeof(path), "%s/queue/logical_block_size", base);
	state->block_size = (uint32_t)read_sysfs_u64(path);

	return read_loop_number(base, &state->number);
}

static bool backing_matches(dev_t rdev, dev_t dev, ino_t ino)
{
	struct loop_info64 info;
	char path[64];
	bool match = false;
	int fd;

	snprintf(path, sizeof(path), "/dev/block/%u:%u", major(rdev),
		 minor(rdev));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/dev/loop%u", minor(rdev));
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return false;

	if (ioctl(fd, LOOP_GET_STATUS64, &info) == 0)
		match = info.lo_device == dev && info.lo_inode == ino;
	close(fd);
	return match;
}

int loop_find_by_backing(dev_t dev, ino_t ino, struct loop_state *found,
			 int max)
{
	DIR *dir = opendir("/sys/block");
	struct dirent *entry;
	int count = 0;

	if (!dir)
		return -errno;

	while ((entry = readdir(dir)) != NULL && count < max) {
		char path[300];
		char number[32];
		unsigned int major_number, minor_number;

		if (strncmp(entry->d_name, "loop", 4) != 0)
			continue;

		snprintf(path, sizeof(path), "/sys/block/%s/loop", entry->d_name);
		if (access(path, F_OK) != 0)
			continue;	/* not bound */

		snprintf(path, sizeof(path), "/sys/block/%s/dev", entry->d_name);
		if (read_sysfs(path, number, sizeof(number)) != 0 ||
		    sscanf(number, "%u:%u", &major_number, &minor_number) != 2)
			continue;

		if (!backing_matches(makedev(major_number, minor_number), dev,
				     ino))
			continue;
		if (loop_read_state(makedev(major_number, minor_number),
				    &found[count]) == 0)
			count++;
	}
	closedir(dir);
	return count;
}
