/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options shared by create and open: keys, key derivation, dm-crypt. */
#ifndef DMTOOL_CLI_OPTIONS_H
#define DMTOOL_CLI_OPTIONS_H

#include "cli.h"

#include <getopt.h>

enum shared_option {
	OPT_KEY_FILE = 1000,
	OPT_PBKDF,
	OPT_PBKDF_MEMORY,
	OPT_PBKDF_ITERATIONS,
	OPT_ITER_TIME,
	OPT_CIPHER,
	OPT_KEY_SIZE,
	OPT_SECTOR_SIZE,
	OPT_DISCARDS,
	OPT_NO_DISCARDS,
	OPT_NO_READ_WORKQUEUE,
	OPT_NO_WRITE_WORKQUEUE,
	OPT_SAME_CPU_CRYPT,
	OPT_SUBMIT_FROM_CRYPT_CPUS,
	OPT_GUARD,
	OPT_FIRST_COMMAND_OPTION,
};

#define SHARED_KEY_OPTIONS                                                    \
	{ "key-file", required_argument, NULL, OPT_KEY_FILE }

#define SHARED_CRYPT_FLAG_OPTIONS                                             \
	{ "discards", no_argument, NULL, OPT_DISCARDS },                      \
	{ "no-discards", no_argument, NULL, OPT_NO_DISCARDS },                \
	{ "no-read-workqueue", no_argument, NULL, OPT_NO_READ_WORKQUEUE },    \
	{ "no-write-workqueue", no_argument, NULL, OPT_NO_WRITE_WORKQUEUE },  \
	{ "same-cpu-crypt", no_argument, NULL, OPT_SAME_CPU_CRYPT },          \
	{ "submit-from-crypt-cpus", no_argument, NULL,                        \
	  OPT_SUBMIT_FROM_CRYPT_CPUS }

/* Applies a dm-crypt flag option to *flags and *set (which flags the user
 * chose); returns false for other options. */
bool apply_crypt_flag_option(int option, uint32_t *flags, uint32_t *set);

#endif
