/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device-mapper through libdevmapper: the only module that calls it.
 * Works with and without udev; without udev, the library creates and
 * removes the /dev/mapper nodes itself and never waits for udev.
 */
#ifndef DMTOOL_MAPPER_H
#define DMTOOL_MAPPER_H

#include "internal.h"

#include <sys/types.h>

#define MAPPER_SECRET (1u << 0)		/* table carries a key: wipe buffers */
#define MAPPER_READ_ONLY (1u << 1)
#define MAPPER_NOFLUSH (1u << 2)	/* suspend without flushing queued I/O */
#define MAPPER_DEFERRED (1u << 3)	/* remove once the last user closes */

struct mapper_info {
	bool exists;
	bool suspended;
	bool read_only;
	bool live_table;
	bool inactive_table;
	uint32_t open_count;
	uint32_t event_nr;
	uint32_t major, minor;
	uint32_t target_count;
	char name[128];
	char uuid[129];
};

enum mapper_query {
	MAPPER_TABLE,	/* the loaded table, as 'dmsetup table' */
	MAPPER_STATUS,	/* the targets' status, as 'dmsetup status' */
};

int mapper_create(struct dmt_context *ctx, const char *name, const char *uuid,
		  const struct dmt_target_line *targets, size_t count,
		  unsigned int flags, struct dmt_error *err);
/* Loads an inactive table; it takes effect on the next resume. */
int mapper_load(struct dmt_context *ctx, const char *name,
		const struct dmt_target_line *targets, size_t count,
		unsigned int flags, struct dmt_error *err);
int mapper_suspend(struct dmt_context *ctx, const char *name,
		   unsigned int flags, struct dmt_error *err);
int mapper_resume(struct dmt_context *ctx, const char *name,
		  struct dmt_error *err);
/* Drops an inactive table loaded by mapper_load. */
int mapper_clear(struct dmt_context *ctx, const char *name,
		 struct dmt_error *err);
/* Removes the device, retrying while something briefly holds it open. */
int mapper_remove(struct dmt_context *ctx, const char *name,
		  struct dmt_error *err);
/* Schedules removal for when the last user closes the device. */
int mapper_remove_deferred(struct dmt_context *ctx, const char *name,
			   struct dmt_error *err);

/* Fills info; info->exists is false (and 0 returned) when there is no such
 * device. */
int mapper_info(struct dmt_context *ctx, const char *name,
		struct mapper_info *info, struct dmt_error *err);
int mapper_query(struct dmt_context *ctx, const char *name,
		 enum mapper_query query, struct dmt_target_line **lines,
		 size_t *count, struct dmt_error *err);
void mapper_lines_free(struct dmt_target_line *lines, size_t count);

/* Sends a target message; *response (may be NULL) receives a malloc'ed
 * copy of the target's reply. */
int mapper_message(struct dmt_context *ctx, const char *name,
		   uint64_t sector, const char *message, char **response,
		   struct dmt_error *err);

/* Lists devices whose UUID starts with uuid_prefix ("" for all). */
int mapper_list(struct dmt_context *ctx, const char *uuid_prefix,
		struct mapper_info **infos, size_t *count,
		struct dmt_error *err);

/* Devices a mapped device's table uses. */
int mapper_deps(struct dmt_context *ctx, const char *name, dev_t *deps,
		size_t max, size_t *count, struct dmt_error *err);

/* Returns DMT_OK and the version of a registered target type, or
 * DMT_ERR_KERNEL when the kernel has no such target loaded. */
int mapper_target_version(struct dmt_context *ctx, const char *type,
			  uint32_t version[3], struct dmt_error *err);

/* Returns DMT_ERR_KERNEL when device-mapper is not available at all. */
int mapper_check_kernel(struct dmt_context *ctx, struct dmt_error *err);

/* Blocks until the device's event counter passes event_nr, or a signal
 * interrupts the wait. */
int mapper_wait_event(struct dmt_context *ctx, const char *name,
		      uint32_t event_nr, struct dmt_error *err);

/* A descriptor that polls readable when any device-mapper device raises
 * an event (a table event such as a pool's low water mark, or a table
 * change). Arm it before checking state, then poll; re-arm after each
 * wake-up. Returns -1 with err set on failure. */
int mapper_event_open(struct dmt_context *ctx, struct dmt_error *err);
int mapper_event_arm(struct dmt_context *ctx, int fd, struct dmt_error *err);

/* Path of the device node: /dev/mapper/NAME. */
void mapper_device_path(const char *name, char *path, size_t size);

#endif
