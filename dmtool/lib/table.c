// SPDX-License-Identifier: LGPL-2.1-or-later
/* Builders of device-mapper table lines: pure string formatting. */
#include "table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_line(struct dmt_target_line *line, const char *type,
		    uint64_t length, char *params)
{
	if (!params)
		return -ENOMEM;

	memset(line, 0, sizeof(*line));
	snprintf(line->type, sizeof(line->type), "%s", type);
	line->start = 0;
	line->length = length;
	line->params = params;
	return 0;
}

static char *format_params(const char *format, ...)
	__attribute__((format(printf, 1, 2)));

static char *format_params(const char *format, ...)
{
	char *params;
	va_list args;
	int length;

	va_start(args, format);
	length = vasprintf(&params, format, args);
	va_end(args);
	return length < 0 ? NULL : params;
}

int table_linear(struct dmt_target_line *line, uint64_t length,
		 const char *device, uint64_t offset)
{
	return set_line(line, "linear", length,
			format_params("%s %llu", device,
				      (unsigned long long)offset));
}

int table_thin_pool(struct dmt_target_line *line, uint64_t length,
		    const struct pool_table *pool)
{
	/* Feature order as dm-thin's emit_flags() prints them. Every pool
	 * errors I/O when it runs out of space instead of queueing it. */
	const char *zeroing = pool->zero_new_blocks ? "" : "skip_block_zeroing ";
	unsigned int count = 1 + !pool->zero_new_blocks;

	return set_line(line, "thin-pool", length,
			format_params("%s %s %u %llu %u %serror_if_no_space",
				      pool->metadata_device, pool->data_device,
				      pool->chunk_sectors,
				      (unsigned long long)pool->low_water_blocks,
				      count, zeroing));
}

int table_thin(struct dmt_target_line *line, uint64_t length,
	       const char *pool_device, uint32_t device_id)
{
	return set_line(line, "thin", length,
			format_params("%s %u", pool_device, device_id));
}

/* Optional arguments in the order dm-crypt's crypt_status() prints them. */
static int format_crypt_options(char *buffer, size_t size,
				const struct crypt_table *crypt)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} flags[] = {
		{ DMT_CRYPT_ALLOW_DISCARDS, "allow_discards" },
		{ DMT_CRYPT_SAME_CPU, "same_cpu_crypt" },
		{ DMT_CRYPT_SUBMIT_FROM_CPUS, "submit_from_crypt_cpus" },
		{ DMT_CRYPT_NO_READ_WORKQUEUE, "no_read_workqueue" },
		{ DMT_CRYPT_NO_WRITE_WORKQUEUE, "no_write_workqueue" },
	};
	char options[256] = "";
	unsigned int count = 0;
	size_t used = 0;

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		if (!(crypt->flags & flags[i].flag))
			continue;
		used += (size_t)snprintf(options + used, sizeof(options) - used,
					 " %s", flags[i].name);
		count++;
	}
	/* IVs count 512-byte sectors whatever the encryption sector size
	 * (no iv_large_sectors), as cryptsetup 2.6 sets up LUKS2, so the
	 * volume also opens with cryptsetup. */
	if (crypt->sector_size > SECTOR_SIZE) {
		used += (size_t)snprintf(options + used, sizeof(options) - used,
					 " sector_size:%u", crypt->sector_size);
		count++;
	}

	if (count == 0)
		return snprintf(buffer, size, "%s", "");
	return snprintf(buffer, size, " %u%s", count, options);
}

size_t table_crypt_size(const struct crypt_table *crypt)
{
	return strlen(crypt->cipher) + 2 * crypt->key_size +
	       strlen(crypt->device) + 384;
}

int table_crypt(struct dmt_target_line *line, uint64_t length,
		const struct crypt_table *crypt, char *buffer, size_t size)
{
	size_t used;
	int written;

	if (size < table_crypt_size(crypt))
		return -EINVAL;

	used = (size_t)snprintf(buffer, size, "%s ", crypt->cipher);
	for (size_t i = 0; i < crypt->key_size; i++) {
		if (crypt->key)
			snprintf(buffer + used, size - used, "%02x",
				 crypt->key[i]);
		else
			memcpy(buffer + used, "00", 3);
		used += 2;
	}

	written = snprintf(buffer + used, size - used, " 0 %s %llu",
			   crypt->device,
			   (unsigned long long)crypt->offset);
	if (written < 0 || (size_t)written >= size - used)
		return -EINVAL;
	used += (size_t)written;
	written = format_crypt_options(buffer + used, size - used, crypt);
	if (written < 0 || (size_t)written >= size - used)
		return -EINVAL;

	memset(line, 0, sizeof(*line));
	snprintf(line->type, sizeof(line->type), "crypt");
	line->length = length;
	line->params = buffer;
	return 0;
}

int table_space_guard(struct dmt_target_line *line, uint64_t length,
		      const struct guard_table *guard)
{
	return set_line(line, "space-guard", length,
			format_params("%s %llu %s %llu %llu %llu", guard->device,
				      (unsigned long long)guard->offset,
				      guard->backing_file,
				      (unsigned long long)guard->file_offset,
				      (unsigned long long)guard->reserve,
				      (unsigned long long)guard->low_water));
}

void table_lines_free(struct dmt_target_line *lines, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!lines[i].params)
			continue;
		explicit_bzero(lines[i].params, strlen(lines[i].params));
		free(lines[i].params);
		lines[i].params = NULL;
	}
}

void table_device_number(char *buffer, size_t size, uint32_t major,
			 uint32_t minor)
{
	snprintf(buffer, size, "%u:%u", major, minor);
}
