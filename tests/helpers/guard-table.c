// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Creates a device-mapper device with a one-target table through the raw
 * ioctls, passing the parameter string to the kernel byte for byte.
 * libdevmapper doubles every backslash it sends, so only this route can
 * deliver a backslash escape (a path with a space) or arbitrary bytes to
 * a target's constructor. On success the device is resumed; when the
 * kernel rejects the table, the device is removed again.
 * Usage: guard-table NAME START LENGTH TYPE PARAMS
 * Exit status: 0 loaded, 1 table rejected, 2 usage error, 3 other failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BUFFER_SIZE 16384

static union {
	struct dm_ioctl header;
	char bytes[BUFFER_SIZE];
} buffer;

static void init_header(const char *name, unsigned int flags)
{
	memset(&buffer, 0, sizeof(buffer));
	buffer.header.version[0] = DM_VERSION_MAJOR;
	buffer.header.data_size = sizeof(buffer);
	buffer.header.data_start = sizeof(struct dm_ioctl);
	buffer.header.flags = flags;
	snprintf(buffer.header.name, sizeof(buffer.header.name), "%s", name);
}

static int run_ioctl(int control, unsigned long request, const char *what,
		     const char *name)
{
	if (ioctl(control, request, &buffer) == 0)
		return 0;

	fprintf(stderr, "guard-table: %s of %s failed: %s\n", what, name,
		strerror(errno));
	return -1;
}

static int load_table(int control, const char *name, unsigned long long start,
		      unsigned long long length, const char *type,
		      const char *params)
{
	struct dm_target_spec *spec;
	size_t params_size = strlen(params) + 1;

	if (sizeof(struct dm_ioctl) + sizeof(*spec) + params_size > BUFFER_SIZE) {
		fprintf(stderr, "guard-table: parameters of %zu bytes are too long\n",
			params_size);
		return -1;
	}

	init_header(name, 0);
	buffer.header.target_count = 1;
	spec = (struct dm_target_spec *)(buffer.bytes + sizeof(struct dm_ioctl));
	spec->sector_start = start;
	spec->length = length;
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", type);
	memcpy((char *)(spec + 1), params, params_size);

	return run_ioctl(control, DM_TABLE_LOAD, "loading the table", name);
}

static int parse_number(const char *text, unsigned long long *value)
{
	char *end;

	errno = 0;
	*value = strtoull(text, &end, 10);
	return errno || end == text || *end || text[0] == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long long start, length;
	const char *name;
	int control, status;

	if (argc != 6 || parse_number(argv[2], &start) ||
	    parse_number(argv[3], &length)) {
		fprintf(stderr, "usage: guard-table NAME START LENGTH TYPE PARAMS\n");
		return 2;
	}
	name = argv[1];

	control = open("/dev/mapper/control", O_RDWR);
	if (control < 0) {
		fprintf(stderr, "guard-table: cannot open /dev/mapper/control: %s\n",
			strerror(errno));
		return 3;
	}

	init_header(name, 0);
	if (run_ioctl(control, DM_DEV_CREATE, "creating the device", name))
		return 3;

	if (load_table(control, name, start, length, argv[4], argv[5])) {
		init_header(name, 0);
		run_ioctl(control, DM_DEV_REMOVE, "removing the device", name);
		return 1;
	}

	init_header(name, 0);
	status = run_ioctl(control, DM_DEV_SUSPEND, "resuming the device", name);
	close(control);
	return status ? 3 : 0;
}
