// SPDX-License-Identifier: LGPL-2.1-or-later
/* Library context, logging and error reporting. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dmt_context *dmt_context_new(void)
{
	struct dmt_context *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;

	/* udevd creates this socket while it runs; libudev checks the same. */
	ctx->udev_running = access("/run/udev/control", F_OK) == 0;
	return ctx;
}

void dmt_context_free(struct dmt_context *ctx)
{
	free(ctx);
}

void dmt_context_set_log(struct dmt_context *ctx, dmt_log_fn log_fn,
			 enum dmt_log_level max_level, void *user_data)
{
	ctx->log_fn = log_fn;
	ctx->log_level = max_level;
	ctx->log_data = user_data;
}

static void log_message(struct dmt_context *ctx, enum dmt_log_level level,
			const char *format, va_list args)
{
	char message[1024];

	if (!ctx || !ctx->log_fn || level > ctx->log_level)
		return;

	vsnprintf(message, sizeof(message), format, args);
	ctx->log_fn(level, message, ctx->log_data);
}

void dmt_log(struct dmt_context *ctx, enum dmt_log_level level,
	     const char *format, ...)
{
	va_list args;

	va_start(args, format);
	log_message(ctx, level, format, args);
	va_end(args);
}

int dmt_fail(struct dmt_context *ctx, struct dmt_error *err,
	     enum dmt_errc code, int sys_errno, const char *format, ...)
{
	va_list args;

	if (err) {
		err->code = code;
		err->sys_errno = sys_errno;
		va_start(args, format);
		vsnprintf(err->message, sizeof(err->message), format, args);
		va_end(args);
	}

	va_start(args, format);
	log_message(ctx, DMT_LOG_DEBUG, format, args);
	va_end(args);
	return code;
}

void dmt_error_append(struct dmt_error *err, const char *format, ...)
{
	size_t used;
	va_list args;

	if (!err)
		return;

	used = strlen(err->message);
	if (used + 3 >= sizeof(err->message))
		return;

	memcpy(err->message + used, ": ", 2);
	used += 2;
	va_start(args, format);
	vsnprintf(err->message + used, sizeof(err->message) - used, format,
		  args);
	va_end(args);
}

void dmt_error_clear(struct dmt_error *err)
{
	if (!err)
		return;

	err->code = DMT_OK;
	err->sys_errno = 0;
	err->message[0] = '\0';
}

const char *dmt_errc_name(enum dmt_errc code)
{
	static const char *const names[] = {
		[DMT_OK] = "ok",
		[DMT_ERR_FAILED] = "failed",
		[DMT_ERR_USAGE] = "usage",
		[DMT_ERR_IMAGE] = "image",
		[DMT_ERR_KEY] = "key",
		[DMT_ERR_BUSY] = "busy",
		[DMT_ERR_NOSPACE] = "no-space",
		[DMT_ERR_KERNEL] = "kernel",
		[DMT_ERR_NOT_FOUND] = "not-found",
		[DMT_ERR_STATE] = "state",
	};

	if ((unsigned int)code >= ARRAY_SIZE(names) || !names[code])
		return "unknown";
	return names[code];
}
