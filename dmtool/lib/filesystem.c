// SPDX-License-Identifier: LGPL-2.1-or-later
#include "filesystem.h"
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Undoes the octal escapes mountinfo uses for spaces and such. */
static void unescape(char *text)
{
	char *out = text;

	for (char *in = text; *in; in++) {
		unsigned int value;

		if (in[0] == '\\' && sscanf(in + 1, "%3o", &value) == 1) {
			*out++ = (char)value;
			in += 3;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

int filesystem_find_mount(uint32_t major, uint32_t minor,
			  struct mount_info *mount)
{
	FILE *mountinfo = fopen("/proc/self/mountinfo", "re");
	char line[8192];

	memset(mount, 0, sizeof(*mount));
	if (!mountinfo)
		return -errno;

	while (fgets(line, sizeof(line), mountinfo)) {
		unsigned int line_major, line_minor;
		char mountpoint[PATH_MAX], fstype[32];
		const char *separator;

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &line_major,
			   &line_minor, mountpoint) != 3 ||
		    line_major != major || line_minor != minor)
			continue;
		separator = strstr(line, " - ");
		if (!separator || sscanf(separator + 3, "%31s", fstype) != 1)
			continue;

		unescape(mountpoint);
		mount->mounted = true;
		snprintf(mount->mountpoint, sizeof(mount->mountpoint), "%s",
			 mountpoint);
		snprintf(mount->fstype, sizeof(mount->fstype), "%s", fstype);
		break;
	}
	fclose(mountinfo);
	return 0;
}

int filesystem_grow(struct dmt_context *ctx, const char *device,
		    const struct mount_info *mount, struct dmt_error *err)
{
	char output[2048];
	char *resize2fs[] = { "resize2fs", (char *)device, NULL };
	char *xfs_growfs[] = { "xfs_growfs", (char *)mount->mountpoint, NULL };
	char **argv;
	int status, r;

	if (strncmp(mount->fstype, "ext", 3) == 0)
		argv = resize2fs;
	else if (strcmp(mount->fstype, "xfs") == 0)
		argv = xfs_growfs;
	else
		return dmt_fail(ctx, err, DMT_ERR_STATE, EOPNOTSUPP,
				"%s: cannot grow a %s filesystem online; only ext4 and xfs are supported",
				mount->mountpoint, mount->fstype);

	log_info(ctx, "%s: growing the %s filesystem at %s", device,
		 mount->fstype, mount->mountpoint);
	r = process_capture(ctx, argv, output, sizeof(output), NULL, &status, err);
	if (r)
		return r;
	if (status != 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, EIO,
				"%s: %s exited with status %d: %s", device,
				argv[0], status, output);
	return DMT_OK;
}

int filesystem_trim(struct dmt_context *ctx, const char *mountpoint,
		    uint64_t *trimmed, struct dmt_error *err)
{
	struct fstrim_range range = { .start = 0, .len = UINT64_MAX,
				      .minlen = 0 };
	int fd = open(mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = DMT_OK;

	if (fd < 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
				"%s: cannot open the mountpoint: %s", mountpoint,
				strerror(errno));

	/* Blocks freed in a transaction not yet committed are not free for
	 * FITRIM: sync first, so just-deleted files are trimmed too. */
	if (syncfs(fd) != 0)
		log_warning(ctx, "%s: syncfs failed: %s", mountpoint,
			    strerror(errno));

	log_info(ctx, "%s: trimming free space", mountpoint);
	if (ioctl(fd, FITRIM, &range) != 0)
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
			     "%s: FITRIM failed: %s", mountpoint,
			     strerror(errno));
	else
		*trimmed = range.len;
	close(fd);
	return r;
}
