// SPDX-License-Identifier: LGPL-2.1-or-later
/* Area sizes of a volume: metadata sizing, rounding and bounds. */
#include "layout.h"

#include <stdio.h>

uint64_t layout_metadata_size(uint64_t data_max, uint32_t chunk_size)
{
	uint64_t blocks = (data_max + chunk_size - 1) / chunk_size;
	uint64_t bytes = blocks * 48;

	if (bytes < THIN_METADATA_MIN)
		bytes = THIN_METADATA_MIN;
	return round_up_u64(bytes, AREA_ALIGN);
}

uint64_t layout_size_alignment(const struct volume_header *h)
{
	uint64_t alignment = h->loop_block_size;

	if (dmt_layout_has_crypt(h->layout) && h->crypt.sector_size > alignment)
		alignment = h->crypt.sector_size;
	if (dmt_layout_has_thin(h->layout) && h->chunk_size > alignment)
		alignment = h->chunk_size;
	return alignment;
}

static bool compute_crypt(struct volume_header *h, uint64_t max_size,
			  char *why, size_t why_size)
{
	uint64_t alignment = layout_size_alignment(h);

	h->luks_size = LUKS_SIZE_DEFAULT;
	h->data_offset = h->luks_size;
	h->data_size = h->virtual_size;
	h->data_max = max_size ? round_up_u64(max_size, alignment) :
				 h->virtual_size;
	if (h->data_max < h->data_size) {
		snprintf(why, why_size,
			 "maximum size %llu is smaller than the volume size %llu",
			 (unsigned long long)h->data_max,
			 (unsigned long long)h->data_size);
		return false;
	}
	return true;
}

static bool compute_thin(struct volume_header *h, uint64_t initial_size,
			 uint64_t max_size, char *why, size_t why_size)
{
	uint64_t chunk = h->chunk_size;
	uint64_t thin_size = h->virtual_size;

	if (dmt_layout_has_crypt(h->layout))
		h->luks_size = LUKS_SIZE_DEFAULT;
	/* In thin-crypt the LUKS2 area is part of the thin volume. */
	if (h->layout == DMT_LAYOUT_THIN_CRYPT)
		thin_size += h->luks_size;

	h->data_max = round_up_u64(max_size ? max_size : thin_size, chunk);
	if (initial_size == 0)
		initial_size = h->data_max < INITIAL_SIZE_DEFAULT ?
				       h->data_max : INITIAL_SIZE_DEFAULT;
	h->data_size = round_up_u64(initial_size, chunk);
	if (h->data_size > h->data_max) {
		snprintf(why, why_size,
			 "initial data size %llu exceeds the maximum %llu",
			 (unsigned long long)h->data_size,
			 (unsigned long long)h->data_max);
		return false;
	}

	h->metadata_offset = 0;
	h->metadata_size = layout_metadata_size(h->data_max, h->chunk_size);
	if (h->metadata_size > THIN_METADATA_MAX) {
		snprintf(why, why_size,
			 "a maximum data size of %llu bytes in %u-byte chunks needs %llu bytes of thin metadata, over dm-thin's limit of %llu; use a larger chunk size",
			 (unsigned long long)h->data_max, h->chunk_size,
			 (unsigned long long)h->metadata_size,
			 (unsigned long long)THIN_METADATA_MAX);
		return false;
	}
	h->data_offset = h->metadata_size;
	return true;
}

bool layout_compute(struct volume_header *h, uint64_t virtual_size,
		    uint64_t initial_size, uint64_t max_size, char *why,
		    size_t why_size)
{
	uint64_t alignment = layout_size_alignment(h);

	if (virtual_size == 0) {
		snprintf(why, why_size, "volume size 0 is invalid");
		return false;
	}
	if (virtual_size > HEADER_MAX_VIRTUAL_SIZE ||
	    max_size > HEADER_MAX_VIRTUAL_SIZE) {
		snprintf(why, why_size,
			 "size %llu is beyond the 1 EiB this format addresses",
			 (unsigned long long)(virtual_size > max_size ?
						      virtual_size : max_size));
		return false;
	}

	h->payload_offset = HEADER_PAYLOAD_OFFSET;
	h->virtual_size = round_up_u64(virtual_size, alignment);
	h->luks_size = 0;
	h->metadata_offset = 0;
	h->metadata_size = 0;

	if (dmt_layout_has_thin(h->layout))
		return compute_thin(h, initial_size, max_size, why, why_size);
	return compute_crypt(h, max_size, why, why_size);
}
