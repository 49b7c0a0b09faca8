// SPDX-License-Identifier: LGPL-2.1-or-later
/* Status and table line parsers: pure string handling, unit tested. */
#include "status_parse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum dmt_pool_mode parse_mode(const char *word, bool *ok)
{
	*ok = true;
	if (strcmp(word, "rw") == 0)
		return DMT_POOL_RW;
	if (strcmp(word, "ro") == 0)
		return DMT_POOL_READ_ONLY;
	if (strcmp(word, "out_of_data_space") == 0)
		return DMT_POOL_OUT_OF_DATA_SPACE;
	*ok = false;
	return DMT_POOL_NONE;
}

bool parse_pool_status(const char *line, struct pool_status *status)
{
	char held[32], mode[32], discard[32], no_space[32], check[32];
	unsigned long long values[5], low_water = 0;
	bool mode_ok;
	int fields;

	memset(status, 0, sizeof(*status));
	if (strncmp(line, "Fail", 4) == 0) {
		status->mode = DMT_POOL_FAIL;
		return true;
	}

	fields = sscanf(line,
			"%llu %llu/%llu %llu/%llu %31s %31s %31s %31s %31s %llu",
			&values[0], &values[1], &values[2], &values[3],
			&values[4], held, mode, discard, no_space, check,
			&low_water);
	if (fields < 10)
		return false;

	status->transaction_id = values[0];
	status->metadata_used = values[1];
	status->metadata_total = values[2];
	status->data_used = values[3];
	status->data_total = values[4];
	status->mode = parse_mode(mode, &mode_ok);
	status->discard_passdown = strcmp(discard, "discard_passdown") == 0;
	status->error_if_no_space = strcmp(no_space, "error_if_no_space") == 0;
	status->needs_check = strcmp(check, "needs_check") == 0;
	status->metadata_low_water = low_water;
	return mode_ok && status->metadata_used <= status->metadata_total &&
	       status->data_used <= status->data_total;
}

static void parse_crypt_option(const char *word,
			       struct crypt_table_fields *fields)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} flags[] = {
		{ "allow_discards", DMT_CRYPT_ALLOW_DISCARDS },
		{ "same_cpu_crypt", DMT_CRYPT_SAME_CPU },
		{ "submit_from_crypt_cpus", DMT_CRYPT_SUBMIT_FROM_CPUS },
		{ "no_read_workqueue", DMT_CRYPT_NO_READ_WORKQUEUE },
		{ "no_write_workqueue", DMT_CRYPT_NO_WRITE_WORKQUEUE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		if (strcmp(word, flags[i].name) == 0) {
			fields->flags |= flags[i].flag;
			return;
		}
	}
	if (strncmp(word, "sector_size:", 12) == 0)
		fields->sector_size = (uint32_t)strtoul(word + 12, NULL, 10);
	else if (strcmp(word, "iv_large_sectors") == 0)
		fields->iv_large_sectors = true;
}

bool parse_crypt_table(const char *line, struct crypt_table_fields *fields)
{
	char word[128];
	const char *p = line;
	unsigned long long iv_offset, offset;
	unsigned int option_count = 0;
	int consumed;

	memset(fields, 0, sizeof(*fields));
	fields->sector_size = SECTOR_SIZE;

	if (sscanf(p, "%47s%n", fields->cipher, &consumed) != 1)
		return false;
	p += consumed;
	while (*p == ' ')
		p++;
	fields->key_hex_length = strcspn(p, " ");
	p += fields->key_hex_length;

	if (sscanf(p, "%llu %31s %llu%n", &iv_offset, fields->device, &offset,
		   &consumed) != 3)
		return false;
	fields->iv_offset = iv_offset;
	fields->offset = offset;
	p += consumed;

	if (sscanf(p, "%u%n", &option_count, &consumed) == 1)
		p += consumed;
	for (unsigned int i = 0; i < option_count; i++) {
		if (sscanf(p, "%127s%n", word, &consumed) != 1)
			return false;
		p += consumed;
		parse_crypt_option(word, fields);
	}
	return true;
}

bool parse_guard_status(const char *line, struct guard_status *status)
{
	unsigned long long free, reserve, low_water, failed;
	char allocated[32];

	memset(status, 0, sizeof(*status));
	if (sscanf(line, "%15s %llu %llu %llu %31s %llu", status->state, &free,
		   &reserve, &low_water, allocated, &failed) != 6)
		return false;
	if (strcmp(status->state, "ok") != 0 &&
	    strcmp(status->state, "low") != 0 &&
	    strcmp(status->state, "exhausted") != 0)
		return false;

	status->free = free;
	status->reserve = reserve;
	status->low_water = low_water;
	status->allocated = strcmp(allocated, "-") == 0 ?
				    -1 : (int64_t)strtoll(allocated, NULL, 10);
	status->failed_writes = failed;
	return true;
}
