// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmt_remove: close a volume and delete its image. */
#include "image.h"
#include "mapper.h"
#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Overwrites the LUKS2 area at the start of the payload, so the keyslots
 * are gone even where the host filesystem keeps freed blocks around. */
static int wipe_luks_area(struct dmt_context *ctx, struct image *image,
			  struct dmt_error *err)
{
	const struct volume_header *h = &image->header;
	char zeros[64 * 1024];
	uint64_t done;

	memset(zeros, 0, sizeof(zeros));
	for (done = 0; done < h->luks_size; done += sizeof(zeros)) {
		off_t offset = (off_t)(h->payload_offset + done);

		if (pwrite(image->fd, zeros, sizeof(zeros), offset) !=
		    (ssize_t)sizeof(zeros))
			return dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
					"%s: wiping the LUKS2 area failed: %s",
					image->path, strerror(errno));
	}
	return DMT_OK;
}

int dmt_remove(struct dmt_context *ctx, const char *image_path, unsigned flags,
	       struct dmt_error *err)
{
	struct image image;
	char uuid[DMT_UUID_STRING_LEN + 1];
	int r;

	(void)flags;
	dmt_error_clear(err);
	r = image_open(ctx, image_path, 0, &image, err);
	if (r)
		return r;
	r = image_read_header(ctx, &image, err);
	if (r)
		goto close_image;

	header_uuid_string(image.header.uuid, uuid);
	r = stack_teardown(ctx, uuid, err);
	if (r)
		goto close_image;

	/* NOTE: in thin-crypt the LUKS2 header sits inside the pool's data
	 * area; deleting the image frees it without overwriting it. */
	if (image.header.layout == DMT_LAYOUT_CRYPT ||
	    image.header.layout == DMT_LAYOUT_CRYPT_THIN) {
		r = wipe_luks_area(ctx, &image, err);
		if (r)
			goto close_image;
	}
	r = image_wipe_header(ctx, &image, err);
	if (r)
		goto close_image;

	if (!image.is_block_device && unlink(image_path) != 0)
		r = dmt_fail(ctx, err, DMT_ERR_IMAGE, errno,
			     "%s: deleting the image failed: %s", image_path,
			     strerror(errno));

close_image:
	image_close(&image);
	return r;
}
