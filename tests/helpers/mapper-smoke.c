// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Exercises the libdevmapper layer on a real kernel: attach a loop device
 * to a file, load a linear table onto it, read the table and status back,
 * check the /dev/mapper node, and remove everything again.
 * Usage: mapper-smoke BACKING_FILE NAME
 */
#include "loop.h"
#include "mapper.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int failures;

#define CHECK(condition, ...)                                 \
	do {                                                  \
		if (!(condition)) {                           \
			fprintf(stderr, "FAILED: " __VA_ARGS__); \
			fputc('\n', stderr);                  \
			failures++;                           \
		}                                             \
	} while (0)

static void print_log(enum dmt_log_level level, const char *message,
		      void *data)
{
	(void)level;
	(void)data;
	fprintf(stderr, "debug: %s\n", message);
}

static void check_table(struct dmt_context *ctx, const char *name,
			const struct loop_device *loop)
{
	struct dmt_target_line *lines;
	struct dmt_error err;
	char expected[64];
	size_t count;

	if (mapper_query(ctx, name, MAPPER_TABLE, &lines, &count, &err)) {
		CHECK(0, "reading the table: %s", err.message);
		return;
	}
	snprintf(expected, sizeof(expected), "%u:%u 8", major(loop->rdev),
		 minor(loop->rdev));
	printf("table: %" PRIu64 " %" PRIu64 " %s %s\n", lines[0].start,
	       lines[0].length, lines[0].type, lines[0].params);
	CHECK(count == 1, "table has %zu targets, expected 1", count);
	CHECK(strcmp(lines[0].type, "linear") == 0, "target type is %s",
	      lines[0].type);
	CHECK(lines[0].length == 2040, "table length %" PRIu64 ", expected 2040",
	      lines[0].length);
	CHECK(strcmp(lines[0].params, expected) == 0,
	      "table params '%s', expected '%s'", lines[0].params, expected);
	mapper_lines_free(lines, count);

	if (mapper_query(ctx, name, MAPPER_STATUS, &lines, &count, &err)) {
		CHECK(0, "reading the status: %s", err.message);
		return;
	}
	printf("status: %s\n", count ? lines[0].type : "(none)");
	CHECK(count == 1 && strcmp(lines[0].type, "linear") == 0,
	      "status has %zu targets", count);
	mapper_lines_free(lines, count);
}

int main(int argc, char **argv)
{
	struct loop_settings settings = { .block_size = 512 };
	struct dmt_target_line line = { .start = 0, .length = 2040,
					.type = "linear" };
	struct dmt_context *ctx = dmt_context_new();
	struct mapper_info info;
	struct loop_device loop;
	struct dmt_error err;
	char node[256], params[64], uuid[160];
	struct stat st;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s BACKING_FILE NAME\n", argv[0]);
		return 2;
	}
	if (getenv("DMTOOL_DEBUG"))
		dmt_context_set_log(ctx, print_log, DMT_LOG_DEBUG, NULL);
	printf("udev running: %s\n", ctx->udev_running ? "yes" : "no");

	fd = open(argv[1], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 1024 * 1024) != 0) {
		perror(argv[1]);
		return 1;
	}
	if (loop_attach(ctx, fd, argv[1], &settings, &loop, &err)) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	close(fd);

	snprintf(params, sizeof(params), "%u:%u 8", major(loop.rdev),
		 minor(loop.rdev));
	snprintf(uuid, sizeof(uuid), "DMTOOL-SMOKE-%s", argv[2]);
	line.params = params;
	if (mapper_create(ctx, argv[2], uuid, &line, 1, 0, &err)) {
		fprintf(stderr, "%s\n", err.message);
		loop_release(&loop);
		return 1;
	}
	loop_release(&loop);

	mapper_device_path(argv[2], node, sizeof(node));
	CHECK(stat(node, &st) == 0 && S_ISBLK(st.st_mode),
	      "%s is missing or not a block device after create", node);
	CHECK(mapper_info(ctx, argv[2], &info, &err) == 0 && info.exists,
	      "info after create");
	CHECK(strcmp(info.uuid, uuid) == 0, "uuid '%s', expected '%s'",
	      info.uuid, uuid);
	CHECK(major(st.st_rdev) == info.major && minor(st.st_rdev) == info.minor,
	      "node %u:%u does not match the device %u:%u",
	      major(st.st_rdev), minor(st.st_rdev), info.major, info.minor);
	check_table(ctx, argv[2], &loop);

	if (mapper_remove(ctx, argv[2], &err)) {
		CHECK(0, "remove: %s", err.message);
	} else {
		CHECK(access(node, F_OK) != 0 && errno == ENOENT,
		      "%s still exists after remove", node);
		CHECK(mapper_info(ctx, argv[2], &info, &err) == 0 &&
			      !info.exists,
		      "device still exists after remove");
	}

	dmt_context_free(ctx);
	printf("%s\n", failures ? "mapper smoke test FAILED" :
				  "mapper smoke test passed");
	return failures ? 1 : 0;
}
