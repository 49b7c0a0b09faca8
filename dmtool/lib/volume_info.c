// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmt_image_info: the header of an image, open or not. */
#include "image.h"

#include <string.h>

int dmt_image_info(struct dmt_context *ctx, const char *image_path,
		   struct dmt_image_info *info, struct dmt_error *err)
{
	const struct volume_header *h;
	struct image image;
	int r;

	dmt_error_clear(err);
	memset(info, 0, sizeof(*info));
	r = image_open(ctx, image_path, IMAGE_READ_ONLY | IMAGE_NO_LOCK, &image,
		       err);
	if (r)
		return r;
	r = image_read_header(ctx, &image, err);
	if (r)
		goto close_image;

	h = &image.header;
	header_uuid_string(h->uuid, info->uuid);
	info->layout = h->layout;
	info->format_version = h->format_version;
	info->sequence = h->sequence;
	info->virtual_size = h->virtual_size;
	info->payload_offset = h->payload_offset;
	info->metadata_offset = h->metadata_offset;
	info->metadata_size = h->metadata_size;
	info->data_offset = h->data_offset;
	info->data_size = h->data_size;
	info->data_max = h->data_max;
	info->chunk_size = h->chunk_size;
	info->loop_block_size = h->loop_block_size;
	info->loop_direct_io = h->flags & HEADER_FLAG_LOOP_DIRECT_IO;
	info->zero_new_blocks = h->flags & HEADER_FLAG_ZERO_NEW_BLOCKS;
	info->guard = h->flags & HEADER_FLAG_GUARD;
	info->crypt = h->crypt;
	info->growth = h->growth;

close_image:
	image_close(&image);
	return r;
}
