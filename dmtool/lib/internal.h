/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Declarations shared by the library's modules; not installed. */
#ifndef DMTOOL_INTERNAL_H
#define DMTOOL_INTERNAL_H

#include "dmtool.h"

#include <stdarg.h>

#define SECTOR_SHIFT 9
#define SECTOR_SIZE 512u
#define KIB (1024ull)
#define MIB (1024ull * 1024)
#define GIB (1024ull * 1024 * 1024)
#define TIB (1024ull * 1024 * 1024 * 1024)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct dmt_context {
	dmt_log_fn log_fn;
	enum dmt_log_level log_level;
	void *log_data;
	bool udev_running;
};

void dmt_log(struct dmt_context *ctx, enum dmt_log_level level,
	     const char *format, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(ctx, ...) dmt_log(ctx, DMT_LOG_DEBUG, __VA_ARGS__)
#define log_info(ctx, ...) dmt_log(ctx, DMT_LOG_INFO, __VA_ARGS__)
#define log_warning(ctx, ...) dmt_log(ctx, DMT_LOG_WARNING, __VA_ARGS__)

/* Records code, sys_errno and the formatted message in err (which may be
 * NULL), logs the message, and returns code. */
int dmt_fail(struct dmt_context *ctx, struct dmt_error *err,
	     enum dmt_errc code, int sys_errno, const char *format, ...)
	__attribute__((format(printf, 5, 6)));

/* Appends ": <text>" to an error message already set. */
void dmt_error_append(struct dmt_error *err, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

void dmt_error_clear(struct dmt_error *err);

/* Returns true when a + b fits in uint64_t and stores the sum. */
static inline bool add_u64(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

static inline uint64_t round_up_u64(uint64_t value, uint64_t align)
{
	return (value + align - 1) / align * align;
}

static inline uint64_t round_down_u64(uint64_t value, uint64_t align)
{
	return value / align * align;
}

static inline bool is_power_of_2(uint64_t value)
{
	return value && !(value & (value - 1));
}

#endif
