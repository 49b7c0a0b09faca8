/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsers of the status and table lines the kernel's targets print. */
#ifndef DMTOOL_STATUS_PARSE_H
#define DMTOOL_STATUS_PARSE_H

#include "internal.h"

struct pool_status {
	uint64_t transaction_id;
	uint64_t metadata_used, metadata_total;	/* 4 KiB blocks */
	uint64_t data_used, data_total;		/* data blocks */
	enum dmt_pool_mode mode;
	bool discard_passdown;
	bool error_if_no_space;
	bool needs_check;
	uint64_t metadata_low_water;		/* 4 KiB blocks */
};

/* Parses a thin-pool status line (or "Fail"); returns false when the line
 * has an unknown shape. */
bool parse_pool_status(const char *line, struct pool_status *status);

struct guard_status {
	char state[16];
	uint64_t free, reserve, low_water;
	int64_t allocated;	/* -1 when the target printed '-' */
	uint64_t failed_writes;
};

/* Parses a space-guard status line. */
bool parse_guard_status(const char *line, struct guard_status *status);

struct crypt_table_fields {
	char cipher[48];
	size_t key_hex_length;
	uint64_t iv_offset;
	char device[32];
	uint64_t offset;	/* sectors */
	uint32_t flags;		/* DMT_CRYPT_* */
	uint32_t sector_size;
	bool iv_large_sectors;
};

/* Parses a crypt table line; never keeps the key. */
bool parse_crypt_table(const char *line, struct crypt_table_fields *fields);

#endif
