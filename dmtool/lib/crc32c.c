// SPDX-License-Identifier: LGPL-2.1-or-later
/* CRC-32C (Castagnoli), as used by ext4, btrfs and iSCSI. */
#include "crc32c.h"

#include <stdbool.h>

static uint32_t table[256];
static bool table_ready;

static void build_table(void)
{
	/* 0x82f63b78 is the reflected Castagnoli polynomial 0x1edc6f41. */
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t crc = i;

		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
		table[i] = crc;
	}
	table_ready = true;
}

uint32_t crc32c(uint32_t crc, const void *data, size_t size)
{
	const unsigned char *p = data;

	if (!table_ready)
		build_table();

	crc = ~crc;
	while (size--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
