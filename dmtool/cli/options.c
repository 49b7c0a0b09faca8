// SPDX-License-Identifier: GPL-2.0-or-later
#include "options.h"

bool apply_crypt_flag_option(int option, uint32_t *flags, uint32_t *set)
{
	uint32_t flag;
	bool on = true;

	switch (option) {
	case OPT_DISCARDS:
		flag = DMT_CRYPT_ALLOW_DISCARDS;
		break;
	case OPT_NO_DISCARDS:
		flag = DMT_CRYPT_ALLOW_DISCARDS;
		on = false;
		break;
	case OPT_NO_READ_WORKQUEUE:
		flag = DMT_CRYPT_NO_READ_WORKQUEUE;
		break;
	case OPT_NO_WRITE_WORKQUEUE:
		flag = DMT_CRYPT_NO_WRITE_WORKQUEUE;
		break;
	case OPT_SAME_CPU_CRYPT:
		flag = DMT_CRYPT_SAME_CPU;
		break;
	case OPT_SUBMIT_FROM_CRYPT_CPUS:
		flag = DMT_CRYPT_SUBMIT_FROM_CPUS;
		break;
	default:
		return false;
	}

	if (on)
		*flags |= flag;
	else
		*flags &= ~flag;
	*set |= flag;
	return true;
}
