/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Table lines of each target dmtool loads, built as data. Parameters are
 * written in the order and form the kernel prints them back, so a table
 * built here compares equal to 'dmsetup table' output.
 */
#ifndef DMTOOL_TABLE_H
#define DMTOOL_TABLE_H

#include "internal.h"

/* Each builder fills line (type, start 0, length) and returns 0, or -ENOMEM
 * or -EINVAL. params is malloc'ed, except for table_crypt, which writes
 * into the caller's buffer so a key can stay in locked memory. */
int table_linear(struct dmt_target_line *line, uint64_t length,
		 const char *device, uint64_t offset);

struct pool_table {
	const char *metadata_device;
	const char *data_device;
	uint32_t chunk_sectors;
	uint64_t low_water_blocks;
	bool zero_new_blocks;
};

int table_thin_pool(struct dmt_target_line *line, uint64_t length,
		    const struct pool_table *pool);

int table_thin(struct dmt_target_line *line, uint64_t length,
	       const char *pool_device, uint32_t device_id);

struct crypt_table {
	const char *cipher;		/* "aes-xts-plain64" */
	const unsigned char *key;	/* NULL: print the key as zeros */
	size_t key_size;		/* bytes */
	const char *device;
	uint64_t offset;		/* sectors */
	uint32_t sector_size;
	uint32_t flags;			/* DMT_CRYPT_* */
};

/* Needs a buffer of table_crypt_size() bytes. */
size_t table_crypt_size(const struct crypt_table *crypt);
int table_crypt(struct dmt_target_line *line, uint64_t length,
		const struct crypt_table *crypt, char *buffer, size_t size);

struct guard_table {
	const char *device;
	uint64_t offset;	/* sectors into device */
	const char *backing_file;	/* absolute path, no whitespace */
	uint64_t file_offset;	/* bytes: where the target's sector 0 lies */
	uint64_t reserve;	/* bytes */
	uint64_t low_water;	/* bytes, at least the reserve */
};

/* The space-guard target of kmod/ (docs/kmod.md). */
int table_space_guard(struct dmt_target_line *line, uint64_t length,
		      const struct guard_table *guard);

/* Frees (after wiping) the params of lines built with malloc'ed params. */
void table_lines_free(struct dmt_target_line *lines, size_t count);

/* Formats a device reference as the kernel prints it: "major:minor". */
void table_device_number(char *buffer, size_t size, uint32_t major,
			 uint32_t minor);

#endif
