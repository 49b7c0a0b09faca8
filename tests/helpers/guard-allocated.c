// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Prints how many bytes of a byte range of a file hold data, found with
 * SEEK_DATA and SEEK_HOLE: the number that dm-space-guard reports as the
 * allocated bytes of its range.
 * Usage: guard-allocated FILE OFFSET LENGTH
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_offset(const char *text, off_t *value)
{
	char *end;
	unsigned long long number;

	errno = 0;
	number = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' ||
	    number > INT64_MAX)
		return -1;

	*value = (off_t)number;
	return 0;
}

static off_t min_offset(off_t a, off_t b)
{
	return a < b ? a : b;
}

int main(int argc, char **argv)
{
	off_t start, length, end, pos, data, hole;
	uint64_t total = 0;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: guard-allocated FILE OFFSET LENGTH\n");
		return 2;
	}

	if (parse_offset(argv[2], &start) || parse_offset(argv[3], &length) ||
	    length > INT64_MAX - start) {
		fprintf(stderr, "guard-allocated: invalid offset '%s' or length '%s': give bytes\n",
			argv[2], argv[3]);
		return 2;
	}

	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "guard-allocated: cannot open '%s': %s\n",
			argv[1], strerror(errno));
		return 1;
	}

	end = start + length;
	for (pos = start; pos < end; pos = hole) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0) {
			fprintf(stderr, "guard-allocated: SEEK_DATA at %jd failed: %s\n",
				(intmax_t)pos, strerror(errno));
			return 1;
		}
		if (data >= end)
			break;

		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			fprintf(stderr, "guard-allocated: SEEK_HOLE at %jd failed: %s\n",
				(intmax_t)data, strerror(errno));
			return 1;
		}
		total += (uint64_t)(min_offset(hole, end) - data);

		/* A hole punched between the two calls must not stall the walk. */
		if (hole <= data)
			hole = data + 1;
	}

	close(fd);
	printf("%" PRIu64 "\n", total);
	return 0;
}
