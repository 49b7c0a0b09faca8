// SPDX-License-Identifier: LGPL-2.1-or-later
#include "marker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *dmt_run_dir(void)
{
	return marker_run_dir();
}

const char *marker_run_dir(void)
{
	const char *dir = getenv("DMTOOL_RUN_DIR");

	return dir && dir[0] ? dir : "/run/dmtool";
}

static void marker_path(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/watch/%s.pid", marker_run_dir(), name);
}

int marker_acquire(struct dmt_context *ctx, const char *name, int *fd,
		   struct dmt_error *err)
{
	char path[512], pid[32];
	int length;

	snprintf(path, sizeof(path), "%s", marker_run_dir());
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/watch", marker_run_dir());
	(void)mkdir(path, 0755);
	marker_path(name, path, sizeof(path));

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
				"%s: cannot create the monitor's pid file: %s",
				path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int holder = 0;

		close(*fd);
		*fd = -1;
		marker_armed(name, &holder);
		return dmt_fail(ctx, err, DMT_ERR_BUSY, EBUSY,
				"%s: a monitor (pid %d) already watches this volume",
				name, holder);
	}

	length = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)length, 0) != length)
		log_warning(ctx, "%s: writing the pid file failed: %s", path,
			    strerror(errno));
	return DMT_OK;
}

void marker_release(const char *name, int fd)
{
	char path[512];

	if (fd < 0)
		return;
	marker_path(name, path, sizeof(path));
	unlink(path);
	close(fd);
}

bool marker_armed(const char *name, int *pid)
{
	char path[512], text[32] = "";
	bool armed = false;
	ssize_t length;
	int fd;

	*pid = 0;
	marker_path(name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;

	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
		armed = true;
		length = pread(fd, text, sizeof(text) - 1, 0);
		if (length > 0) {
			text[length] = '\0';
			*pid = atoi(text);
		}
	}
	close(fd);
	return armed;
}
