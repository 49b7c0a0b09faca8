// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every libdevmapper call of the library lives here. libdevmapper's own
 * messages go to the context's debug log, and the last error it printed is
 * kept so that failures can quote the kernel's reason.
 */
#include "mapper.h"

#include <errno.h>
#include <fcntl.h>
#include <libdevmapper.h>
#include <linux/dm-ioctl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* libdevmapper's log callback has no user pointer, so the context in use
 * and the last error are kept per thread. */
static __thread struct dmt_context *log_context;
static __thread char last_error[512];

__attribute__((format(printf, 5, 6)))
static void route_log(int level, const char *file, int line, int dm_errno,
		      const char *format, ...)
{
	char message[512];
	va_list args;

	(void)file;
	(void)line;
	(void)dm_errno;

	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);

	if ((level & 7) <= 3)	/* _LOG_ERR and above */
		snprintf(last_error, sizeof(last_error), "%s", message);
	dmt_log(log_context, DMT_LOG_DEBUG, "libdevmapper: %s", message);
}

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

static void setup_library(void)
{
	dm_log_with_errno_init(route_log);
}

/* Prepares libdevmapper for one call from ctx. */
static void begin(struct dmt_context *ctx)
{
	pthread_once(&setup_once, setup_library);
	log_context = ctx;
	last_error[0] = '\0';

	/* Without udev nobody would complete a cookie: turn synchronisation
	 * off so that libdevmapper manages the nodes itself. */
	if (!ctx->udev_running)
		dm_udev_set_sync_support(0);
}

/* Runs a task, with udev cookie handling for calls that create, rename or
 * remove nodes. Returns the errno of a failed ioctl, or 0. */
static int run_task(struct dmt_context *ctx, struct dm_task *task,
		    bool changes_nodes)
{
	uint32_t cookie = 0;
	int ok;
	int sys_errno = 0;

	if (changes_nodes && ctx->udev_running) {
		if (!dm_task_set_cookie(task, &cookie, 0))
			return EIO;
	}

	ok = dm_task_run(task);
	if (!ok) {
		sys_errno = dm_task_get_errno(task);
		if (sys_errno == 0)
			sys_errno = EIO;
	}

	if (changes_nodes) {
		if (ctx->udev_running)
			(void)dm_udev_wait(cookie);
		else
			dm_task_update_nodes();
	}
	return sys_errno;
}

static const char *kernel_reason(int sys_errno)
{
	if (last_error[0])
		return last_error;
	return strerror(sys_errno);
}

static int add_targets(struct dm_task *task,
		       const struct dmt_target_line *targets, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!dm_task_add_target(task, targets[i].start,
					targets[i].length, targets[i].type,
					targets[i].params))
			return ENOMEM;
	}
	return 0;
}

static struct dm_task *new_task(int type, const char *name)
{
	struct dm_task *task = dm_task_create(type);

	if (!task)
		return NULL;
	if (name && !dm_task_set_name(task, name)) {
		dm_task_destroy(task);
		return NULL;
	}
	return task;
}

static int errc_for_errno(int sys_errno)
{
	switch (sys_errno) {
	case EBUSY:
	case EEXIST:
		return DMT_ERR_BUSY;
	case ENXIO:
	case ENODEV:
		return DMT_ERR_NOT_FOUND;
	case ENOSPC:
		return DMT_ERR_NOSPACE;
	default:
		return DMT_ERR_FAILED;
	}
}

int mapper_create(struct dmt_context *ctx, const char *name, const char *uuid,
		  const struct dmt_target_line *targets, size_t count,
		  unsigned int flags, struct dmt_error *err)
{
	struct dm_task *task;
	int sys_errno;

	begin(ctx);
	task = new_task(DM_DEVICE_CREATE, name);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"%s: cannot prepare the device-mapper create call",
				name);

	sys_errno = add_targets(task, targets, count);
	if (!sys_errno && uuid && !dm_task_set_uuid(task, uuid))
		sys_errno = EINVAL;
	if (!sys_errno && (flags & MAPPER_SECRET) && !dm_task_secure_data(task))
		sys_errno = ENOMEM;
	if (!sys_errno && (flags & MAPPER_READ_ONLY) && !dm_task_set_ro(task))
		sys_errno = ENOMEM;
	if (sys_errno) {
		dm_task_destroy(task);
		return dmt_fail(ctx, err, DMT_ERR_FAILED, sys_errno,
				"%s: cannot prepare the table: %s", name,
				strerror(sys_errno));
	}

	log_debug(ctx, "creating device %s (%zu targets, first %s)", name,
		  count, count ? targets[0].type : "none");
	sys_errno = run_task(ctx, task, true);
	dm_task_destroy(task);
	if (sys_errno)
		return dmt_fail(ctx, err, errc_for_errno(sys_errno), sys_errno,
				"%s: creating the device-mapper device failed: %s",
				name, kernel_reason(sys_errno));
	return DMT_OK;
}

int mapper_load(struct dmt_context *ctx, const char *name,
		const struct dmt_target_line *targets, size_t count,
		unsigned int flags, struct dmt_error *err)
{
	struct dm_task *task;
	int sys_errno;

	begin(ctx);
	task = new_task(DM_DEVICE_RELOAD, name);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"%s: cannot prepare the table reload", name);

	sys_errno = add_targets(task, targets, count);
	if (!sys_errno && (flags & MAPPER_SECRET) && !dm_task_secure_data(task))
		sys_errno = ENOMEM;
	if (!sys_errno && (flags & MAPPER_READ_ONLY) && !dm_task_set_ro(task))
		sys_errno = ENOMEM;
	if (!sys_errno) {
		log_debug(ctx, "loading a new table into %s", name);
		sys_errno = run_task(ctx, task, false);
	}
	dm_task_destroy(task);
	if (sys_errno)
		return dmt_fail(ctx, err, errc_for_errno(sys_errno), sys_errno,
				"%s: loading the new table failed: %s", name,
				kernel_reason(sys_errno));
	return DMT_OK;
}

/* Runs a task that takes only a device name. */
static int simple_task(struct dmt_context *ctx, int type, const char *name,
		       unsigned int flags, const char *what,
		       struct dmt_error *err)
{
	struct dm_task *task;
	int sys_errno = 0;

	begin(ctx);
	task = new_task(type, name);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"%s: cannot prepare the %s call", name, what);

	if ((flags & MAPPER_NOFLUSH) && !dm_task_no_flush(task))
		sys_errno = ENOMEM;
	if (!sys_errno && type == DM_DEVICE_REMOVE &&
	    !dm_task_retry_remove(task))
		sys_errno = ENOMEM;
	if (!sys_errno && (flags & MAPPER_DEFERRED) &&
	    !dm_task_deferred_remove(task))
		sys_errno = ENOMEM;
	if (!sys_errno) {
		log_debug(ctx, "%s %s", what, name);
		sys_errno = run_task(ctx, task,
				     type == DM_DEVICE_REMOVE ||
				     type == DM_DEVICE_RESUME);
	}
	dm_task_destroy(task);
	if (sys_errno)
		return dmt_fail(ctx, err, errc_for_errno(sys_errno), sys_errno,
				"%s: %s failed: %s", name, what,
				kernel_reason(sys_errno));
	return DMT_OK;
}

int mapper_suspend(struct dmt_context *ctx, const char *name,
		   unsigned int flags, struct dmt_error *err)
{
	return simple_task(ctx, DM_DEVICE_SUSPEND, name, flags, "suspend", err);
}

int mapper_resume(struct dmt_context *ctx, const char *name,
		  struct dmt_error *err)
{
	return simple_task(ctx, DM_DEVICE_RESUME, name, 0, "resume", err);
}

int mapper_clear(struct dmt_context *ctx, const char *name,
		 struct dmt_error *err)
{
	return simple_task(ctx, DM_DEVICE_CLEAR, name, 0,
			   "clearing the inactive table", err);
}

int mapper_remove(struct dmt_context *ctx, const char *name,
		  struct dmt_error *err)
{
	return simple_task(ctx, DM_DEVICE_REMOVE, name, 0, "remove", err);
}

int mapper_remove_deferred(struct dmt_context *ctx, const char *name,
			   struct dmt_error *err)
{
	return simple_task(ctx, DM_DEVICE_REMOVE, name, MAPPER_DEFERRED,
			   "deferred remove", err);
}

static void copy_info(struct dm_task *task, const struct dm_info *dm,
		      struct mapper_info *info)
{
	const char *uuid = dm_task_get_uuid(task);
	const char *name = dm_task_get_name(task);

	memset(info, 0, sizeof(*info));
	info->exists = dm->exists;
	if (!dm->exists)
		return;

	info->suspended = dm->suspended;
	info->read_only = dm->read_only;
	info->live_table = dm->live_table;
	info->inactive_table = dm->inactive_table;
	info->open_count = dm->open_count > 0 ? (uint32_t)dm->open_count : 0;
	info->event_nr = dm->event_nr;
	info->major = dm->major;
	info->minor = dm->minor;
	info->target_count = dm->target_count > 0 ?
				     (uint32_t)dm->target_count : 0;
	snprintf(info->name, sizeof(info->name), "%s", name ? name : "");
	snprintf(info->uuid, sizeof(info->uuid), "%s", uuid ? uuid : "");
}

int mapper_info(struct dmt_context *ctx, const char *name,
		struct mapper_info *info, struct dmt_error *err)
{
	struct dm_task *task;
	struct dm_info dm;
	int sys_errno;

	begin(ctx);
	memset(info, 0, sizeof(*info));
	task = new_task(DM_DEVICE_INFO, name);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"%s: cannot prepare the info call", name);

	sys_errno = run_task(ctx, task, false);
	if (!sys_errno && !dm_task_get_info(task, &dm))
		sys_errno = EIO;
	if (!sys_errno)
		copy_info(task, &dm, info);
	dm_task_destroy(task);
	if (sys_errno)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, sys_errno,
				"%s: reading device information failed: %s",
				name, kernel_reason(sys_errno));
	return DMT_OK;
}

void mapper_lines_free(struct dmt_target_line *lines, size_t count)
{
	if (!lines)
		return;

	for (size_t i = 0; i < count; i++) {
		if (lines[i].params) {
			explicit_bzero(lines[i].params, strlen(lines[i].params));
			free(lines[i].params);
		}
	}
	free(lines);
}

static int collect_lines(struct dm_task *task, struct dmt_target_line **lines,
			 size_t *count)
{
	struct dmt_target_line *result = NULL;
	size_t used = 0;
	void *next = NULL;

	do {
		uint64_t start, length;
		char *type = NULL, *params = NULL;
		struct dmt_target_line *grown;

		next = dm_get_next_target(task, next, &start, &length, &type,
					  &params);
		if (!type)
			break;

		grown = realloc(result, (used + 1) * sizeof(*result));
		if (!grown)
			goto free_result;
		result = grown;
		memset(&result[used], 0, sizeof(result[used]));
		result[used].start = start;
		result[used].length = length;
		snprintf(result[used].type, sizeof(result[used].type), "%s",
			 type);
		result[used].params = strdup(params ? params : "");
		if (!result[used].params)
			goto free_result;
		used++;
	} while (next);

	*lines = result;
	*count = used;
	return 0;

free_result:
	mapper_lines_free(result, used);
	return ENOMEM;
}

int mapper_query(struct dmt_context *ctx, const char *name,
		 enum mapper_query query, struct dmt_target_line **lines,
		 size_t *count, struct dmt_error *err)
{
	int type = query == MAPPER_TABLE ? DM_DEVICE_TABLE : DM_DEVICE_STATUS;
	const char *what = query == MAPPER_TABLE ? "table" : "status";
	struct dm_task *task;
	int sys_errno;

	begin(ctx);
	*lines = NULL;
	*count = 0;
	task = new_task(type, name);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"%s: cannot prepare the %s call", name, what);

	/* A table read back may carry a key: wipe libdevmapper's buffers. */
	if (query == MAPPER_TABLE)
		(void)dm_task_secure_data(task);
	sys_errno = run_task(ctx, task, false);
	if (!sys_errno)
		sys_errno = collect_lines(task, lines, count);
	dm_task_destroy(task);
	if (sys_errno)
		return dmt_fail(ctx, err, errc_for_errno(sys_errno), sys_errno,
				"%s: reading the %s failed: %s", name, what,
				kernel_reason(sys_errno));
	return DMT_OK;
}

int mapper_message(struct dmt_context *ctx, const char *name,
		   uint64_t sector, const char *message, char **response,
		   struct dmt_error *err)
{
	struct dm_task *task;
	int sys_errno = 0;

	begin(ctx);
	if (response)
		*response = NULL;
	task = new_task(DM_DEVICE_TARGET_MSG, name);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"%s: cannot prepare the message call", name);

	if (!dm_task_set_sector(task, sector) ||
	    !dm_task_set_message(task, message))
		sys_errno = ENOMEM;
	if (!sys_errno) {
		log_debug(ctx, "sending message '%s' to %s", message, name);
		sys_errno = run_task(ctx, task, false);
	}
	if (!sys_errno && response) {
		const char *reply = dm_task_get_message_response(task);

		*response = strdup(reply ? reply : "");
		if (!*response)
			sys_errno = ENOMEM;
	}
	dm_task_destroy(task);
	if (sys_errno)
		return dmt_fail(ctx, err, errc_for_errno(sys_errno), sys_errno,
				"%s: message '%s' failed: %s", name, message,
				kernel_reason(sys_errno));
	return DMT_OK;
}

int mapper_list(struct dmt_context *ctx, const char *uuid_prefix,
		struct mapper_info **infos, size_t *count,
		struct dmt_error *err)
{
	struct mapper_info *result = NULL;
	struct dm_names *names;
	struct dm_task *task;
	size_t used = 0;
	size_t prefix_length = strlen(uuid_prefix);
	unsigned int next = 0;
	int sys_errno;

	begin(ctx);
	*infos = NULL;
	*count = 0;
	task = new_task(DM_DEVICE_LIST, NULL);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"cannot prepare the device list call");

	sys_errno = run_task(ctx, task, false);
	names = sys_errno ? NULL : dm_task_get_names(task);
	if (!sys_errno && !names)
		sys_errno = EIO;

	while (!sys_errno && names->dev) {
		struct mapper_info info;
		struct mapper_info *grown;

		names = (struct dm_names *)((char *)names + next);
		next = names->next;
		if (mapper_info(ctx, names->name, &info, NULL) == DMT_OK &&
		    info.exists &&
		    strncmp(info.uuid, uuid_prefix, prefix_length) == 0) {
			grown = realloc(result, (used + 1) * sizeof(*result));
			if (!grown) {
				sys_errno = ENOMEM;
				break;
			}
			result = grown;
			result[used++] = info;
		}
		if (!next)
			break;
	}
	dm_task_destroy(task);
	if (sys_errno) {
		free(result);
		return dmt_fail(ctx, err, DMT_ERR_FAILED, sys_errno,
				"listing device-mapper devices failed: %s",
				kernel_reason(sys_errno));
	}

	*infos = result;
	*count = used;
	return DMT_OK;
}

int mapper_deps(struct dmt_context *ctx, const char *name, dev_t *deps,
		size_t max, size_t *count, struct dmt_error *err)
{
	struct dm_task *task;
	struct dm_deps *list;
	int sys_errno;

	begin(ctx);
	*count = 0;
	task = new_task(DM_DEVICE_DEPS, name);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"%s: cannot prepare the deps call", name);

	sys_errno = run_task(ctx, task, false);
	list = sys_errno ? NULL : dm_task_get_deps(task);
	if (!sys_errno && !list)
		sys_errno = EIO;
	for (uint32_t i = 0; !sys_errno && i < list->count && i < max; i++)
		deps[(*count)++] = (dev_t)list->device[i];
	dm_task_destroy(task);
	if (sys_errno)
		return dmt_fail(ctx, err, errc_for_errno(sys_errno), sys_errno,
				"%s: reading the device's dependencies failed: %s",
				name, kernel_reason(sys_errno));
	return DMT_OK;
}

int mapper_target_version(struct dmt_context *ctx, const char *type,
			  uint32_t version[3], struct dmt_error *err)
{
	struct dm_task *task;
	struct dm_versions *target, *last;
	int sys_errno;
	int found = 0;

	begin(ctx);
	task = new_task(DM_DEVICE_LIST_VERSIONS, NULL);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"cannot prepare the target list call");

	sys_errno = run_task(ctx, task, false);
	target = sys_errno ? NULL : dm_task_get_versions(task);
	while (target) {
		last = target;
		if (strcmp(target->name, type) == 0) {
			memcpy(version, target->version, 3 * sizeof(uint32_t));
			found = 1;
			break;
		}
		target = (struct dm_versions *)((char *)target + target->next);
		if (target == last)
			break;
	}
	dm_task_destroy(task);
	if (sys_errno)
		return dmt_fail(ctx, err, DMT_ERR_KERNEL, sys_errno,
				"listing device-mapper targets failed: %s",
				kernel_reason(sys_errno));
	if (!found)
		return dmt_fail(ctx, err, DMT_ERR_KERNEL, ENOENT,
				"the kernel has no '%s' device-mapper target loaded",
				type);
	return DMT_OK;
}

int mapper_check_kernel(struct dmt_context *ctx, struct dmt_error *err)
{
	char version[64];

	begin(ctx);
	if (!dm_driver_version(version, sizeof(version)) ||
	    access("/dev/mapper/control", R_OK | W_OK) != 0)
		return dmt_fail(ctx, err, DMT_ERR_KERNEL, ENODEV,
				"device-mapper is not available: /dev/mapper/control is missing or not writable; load the dm_mod module and run as root");
	return DMT_OK;
}

int mapper_wait_event(struct dmt_context *ctx, const char *name,
		      uint32_t event_nr, struct dmt_error *err)
{
	struct dm_task *task;
	int sys_errno;

	begin(ctx);
	task = new_task(DM_DEVICE_WAITEVENT, name);
	if (!task)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"%s: cannot prepare the event wait", name);

	sys_errno = dm_task_set_event_nr(task, event_nr) ?
			    run_task(ctx, task, false) : ENOMEM;
	dm_task_destroy(task);
	if (sys_errno)
		return dmt_fail(ctx, err, errc_for_errno(sys_errno), sys_errno,
				"%s: waiting for an event failed: %s", name,
				kernel_reason(sys_errno));
	return DMT_OK;
}

void mapper_device_path(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", dm_dir(), name);
}

/*
 * libdevmapper keeps its control descriptor to itself, so the monitor
 * polls a descriptor of its own: DM_DEV_ARM_POLL (device-mapper 4.37,
 * kernel 4.13) records the global event count, and poll() reports the
 * descriptor readable once the count moves on.
 */
int mapper_event_open(struct dmt_context *ctx, struct dmt_error *err)
{
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		dmt_fail(ctx, err, DMT_ERR_KERNEL, errno,
			 "cannot open /dev/mapper/control for events: %s",
			 strerror(errno));
		return -1;
	}
	return fd;
}

int mapper_event_arm(struct dmt_context *ctx, int fd, struct dmt_error *err)
{
	struct dm_ioctl request;

	memset(&request, 0, sizeof(request));
	request.version[0] = DM_VERSION_MAJOR;
	request.version[1] = 37;
	request.version[2] = 0;
	request.data_size = sizeof(request);
	if (ioctl(fd, DM_DEV_ARM_POLL, &request) != 0)
		return dmt_fail(ctx, err, DMT_ERR_KERNEL, errno,
				"arming device-mapper event polling failed: %s; the kernel needs device-mapper 4.37 or later",
				strerror(errno));
	return DMT_OK;
}
