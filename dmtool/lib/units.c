// SPDX-License-Identifier: LGPL-2.1-or-later
/* Size parsing and formatting with binary and decimal units. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct unit {
	const char *suffix;
	uint64_t factor;
};

/* Single letters are binary, as in dmsetup, losetup and truncate. */
static const struct unit units[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1ull << 10 }, { "kib", 1ull << 10 }, { "kb", 1000ull },
	{ "m", 1ull << 20 }, { "mib", 1ull << 20 }, { "mb", 1000000ull },
	{ "g", 1ull << 30 }, { "gib", 1ull << 30 }, { "gb", 1000000000ull },
	{ "t", 1ull << 40 }, { "tib", 1ull << 40 },
	{ "tb", 1000000000000ull },
	{ "p", 1ull << 50 }, { "pib", 1ull << 50 },
	{ "pb", 1000000000000000ull },
};

static const struct unit *find_unit(const char *suffix)
{
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcasecmp(units[i].suffix, suffix) == 0)
			return &units[i];
	}
	return NULL;
}

/* Parses "<digits>[.<digits>]" and stores the integer part and up to nine
 * fraction digits as a fraction of 10^9. Returns the rest of text. */
static const char *parse_decimal(const char *text, uint64_t *whole,
				 uint64_t *nanos)
{
	uint64_t scale = 100000000;
	const char *p = text;

	*whole = 0;
	*nanos = 0;
	if (!isdigit((unsigned char)*p))
		return NULL;

	for (; isdigit((unsigned char)*p); p++) {
		if (__builtin_mul_overflow(*whole, 10, whole) ||
		    __builtin_add_overflow(*whole, (uint64_t)(*p - '0'), whole))
			return NULL;
	}
	if (*p != '.')
		return p;

	p++;
	if (!isdigit((unsigned char)*p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++) {
		*nanos += (uint64_t)(*p - '0') * scale;
		scale /= 10;
	}
	return p;
}

int dmt_parse_size(const char *text, uint64_t *bytes)
{
	const struct unit *unit;
	uint64_t whole, nanos, result, fraction;
	const char *rest;

	if (!text)
		return DMT_ERR_USAGE;

	rest = parse_decimal(text, &whole, &nanos);
	if (!rest)
		return DMT_ERR_USAGE;
	unit = find_unit(rest);
	if (!unit)
		return DMT_ERR_USAGE;
	if (__builtin_mul_overflow(whole, unit->factor, &result))
		return DMT_ERR_USAGE;

	/* unit->factor * nanos can overflow for P units; split the factor. */
	fraction = unit->factor / 1000000000ull * nanos +
		   unit->factor % 1000000000ull * nanos / 1000000000ull;
	if (nanos && unit->factor == 1)
		return DMT_ERR_USAGE;	/* fractions of a byte */
	if (!add_u64(result, fraction, &result))
		return DMT_ERR_USAGE;

	*bytes = result;
	return DMT_OK;
}

int dmt_parse_size_or_percent(const char *text, uint64_t *bytes,
			      uint32_t *percent)
{
	size_t length;
	char digits[16];
	char *end;
	unsigned long value;

	if (!text)
		return DMT_ERR_USAGE;

	length = strlen(text);
	if (length == 0 || text[length - 1] != '%') {
		*percent = 0;
		return dmt_parse_size(text, bytes);
	}

	if (length - 1 == 0 || length - 1 >= sizeof(digits))
		return DMT_ERR_USAGE;
	memcpy(digits, text, length - 1);
	digits[length - 1] = '\0';
	if (!isdigit((unsigned char)digits[0]))
		return DMT_ERR_USAGE;

	errno = 0;
	value = strtoul(digits, &end, 10);
	if (errno || *end || value == 0 || value > 100)
		return DMT_ERR_USAGE;

	*bytes = 0;
	*percent = (uint32_t)value;
	return DMT_OK;
}

char *dmt_format_size(uint64_t bytes, char *buffer, size_t size)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	double value = (double)bytes;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(buffer, size, "%llu B", (unsigned long long)bytes);
		return buffer;
	}

	value /= 1024;
	while (value >= 1024 && i + 1 < ARRAY_SIZE(names)) {
		value /= 1024;
		i++;
	}
	snprintf(buffer, size, "%.2f %s", value, names[i]);
	return buffer;
}
