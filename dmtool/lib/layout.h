/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sizes and alignment of the areas of a volume: pure arithmetic. */
#ifndef DMTOOL_LAYOUT_H
#define DMTOOL_LAYOUT_H

#include "header.h"

#define THIN_CHUNK_MIN (64u * 1024u)
#define THIN_CHUNK_MAX (1024u * 1024u * 1024u)
#define THIN_CHUNK_DEFAULT (64u * 1024u)
/* dm-thin's limit: 255 * 2^14 blocks of 4 KiB (THIN_METADATA_MAX_SECTORS). */
#define THIN_METADATA_MAX (255ull * 16384 * 4096)
#define THIN_METADATA_MIN (2ull * MIB)
#define LUKS_SIZE_DEFAULT (16ull * MIB)
#define AREA_ALIGN MIB
#define INITIAL_SIZE_DEFAULT (64ull * MIB)

/* Metadata bytes for a pool whose data area may grow to data_max: 48 bytes
 * per data block (the kernel's thin-provisioning guide), at least 2 MiB,
 * rounded up to 1 MiB. This exceeds what thin_metadata_size 0.9 reports
 * for one thin device, which the unit tests check against its values. */
uint64_t layout_metadata_size(uint64_t data_max, uint32_t chunk_size);

/* Fills the size fields of h from the request and h's layout, chunk size
 * and crypt sector size. Returns false with why set when the request
 * cannot be laid out. */
bool layout_compute(struct volume_header *h, uint64_t virtual_size,
		    uint64_t initial_size, uint64_t max_size, char *why,
		    size_t why_size);

/* Alignment every data size of h must keep: the thin chunk, the crypt
 * sector and the loop block, whichever apply. */
uint64_t layout_size_alignment(const struct volume_header *h);

#endif
