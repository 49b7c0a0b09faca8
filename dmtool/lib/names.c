// SPDX-License-Identifier: LGPL-2.1-or-later
/* Layout and pool-mode names. */
#include "internal.h"

#include <string.h>

static const char *const layout_names[] = {
	[DMT_LAYOUT_THIN_CRYPT] = "thin-crypt",
	[DMT_LAYOUT_CRYPT_THIN] = "crypt-thin",
	[DMT_LAYOUT_CRYPT] = "crypt",
	[DMT_LAYOUT_THIN] = "thin",
};

const char *dmt_layout_name(enum dmt_layout layout)
{
	if ((unsigned int)layout >= ARRAY_SIZE(layout_names) ||
	    !layout_names[layout])
		return "unknown";
	return layout_names[layout];
}

int dmt_layout_parse(const char *name, enum dmt_layout *layout)
{
	for (size_t i = 0; i < ARRAY_SIZE(layout_names); i++) {
		if (layout_names[i] && strcmp(layout_names[i], name) == 0) {
			*layout = (enum dmt_layout)i;
			return DMT_OK;
		}
	}
	return DMT_ERR_USAGE;
}

bool dmt_layout_has_crypt(enum dmt_layout layout)
{
	return layout != DMT_LAYOUT_THIN;
}

bool dmt_layout_has_thin(enum dmt_layout layout)
{
	return layout != DMT_LAYOUT_CRYPT;
}

const char *dmt_pool_mode_name(enum dmt_pool_mode mode)
{
	switch (mode) {
	case DMT_POOL_NONE:
		return "none";
	case DMT_POOL_RW:
		return "rw";
	case DMT_POOL_OUT_OF_DATA_SPACE:
		return "out_of_data_space";
	case DMT_POOL_READ_ONLY:
		return "read_only";
	case DMT_POOL_FAIL:
		return "fail";
	}
	return "unknown";
}
