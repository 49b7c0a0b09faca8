/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DMTOOL_CRC32C_H
#define DMTOOL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC-32C over data; start with crc = 0. */
uint32_t crc32c(uint32_t crc, const void *data, size_t size);

#endif
