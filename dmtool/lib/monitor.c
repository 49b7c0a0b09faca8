// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmt_watch: the pool monitor. It sleeps on device-mapper events (a pool
 * crossing its low water mark, a table change) and checks every watched
 * volume after each one, growing pools by their policy within what the host
 * can back above the reserve.
 *
 * The kernel raises a pool's low water event once per crossing, and not
 * for a pool resumed below its mark, so the monitor never relies on the
 * event alone: it checks at start-up, after every event, after each growth
 * (which resumes the pool), and on a slow timer that also notices host
 * space used by others and volumes opened or closed.
 */
#include "filesystem.h"
#include "marker.h"
#include "mapper.h"
#include "policy.h"
#include "volume.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* Checks of one volume in a row: growth resumes the pool, which can leave
 * it below its mark again when a writer is fast. */
#define MAX_GROWTHS_PER_CHECK 8
#define RECHECK_SECONDS_DEFAULT 10
/* A condition that persists is logged again at this interval. */
#define REPEAT_WARNING_SECONDS 60

struct watched {
	const char *name;
	int marker_fd;
	bool open;
	bool checked;
	enum dmt_pool_mode mode;
	bool needs_check;
	enum growth_verdict verdict;
	time_t last_warning;
	char guard_state[16];
};

struct monitor {
	struct dmt_context *ctx;
	const struct dmt_watch_params *params;
	struct watched *volumes;
	size_t count;
	int event_fd;
};

static void merge_policy(const struct dmt_watch_params *params,
			 struct dmt_growth_policy *policy)
{
	const struct dmt_growth_policy *o = &params->policy;

	if (o->step_bytes || o->step_percent) {
		policy->step_bytes = o->step_bytes;
		policy->step_percent = o->step_percent;
	}
	if (o->reserve_bytes || o->reserve_percent) {
		policy->reserve_bytes = o->reserve_bytes;
		policy->reserve_percent = o->reserve_percent;
	}
	if (o->low_water_percent)
		policy->low_water_percent = o->low_water_percent;
}

static const char *mode_action(enum dmt_pool_mode mode)
{
	switch (mode) {
	case DMT_POOL_OUT_OF_DATA_SPACE:
		return "writes fail with ENOSPC until the pool grows or files are deleted and trimmed ('dmtool reclaim')";
	case DMT_POOL_READ_ONLY:
		return "metadata is read-only: unmount, close the volume and run 'dmtool check' on its image";
	case DMT_POOL_FAIL:
		return "the pool failed: unmount, close the volume, run 'dmtool check' and thin_repair on its metadata";
	default:
		return "";
	}
}

static void report_mode(struct monitor *m, struct watched *w,
			const struct dmt_volume_status *s)
{
	if (w->checked && s->pool_mode == w->mode &&
	    s->needs_check == w->needs_check)
		return;

	if (s->pool_mode == DMT_POOL_RW && !s->needs_check) {
		if (w->checked)
			log_info(m->ctx, "%s: pool back in rw mode", w->name);
	} else if (s->needs_check) {
		log_warning(m->ctx, "%s: pool mode %s with needs_check set: unmount, close the volume and run 'dmtool check' on its image",
			    w->name, dmt_pool_mode_name(s->pool_mode));
	} else {
		log_warning(m->ctx, "%s: pool mode %s: %s", w->name,
			    dmt_pool_mode_name(s->pool_mode),
			    mode_action(s->pool_mode));
	}
	w->mode = s->pool_mode;
	w->needs_check = s->needs_check;
}

/* The guard raises events when the host's free space crosses its low
 * water mark and the reserve; each change of its state is logged. */
static void report_guard(struct monitor *m, struct watched *w,
			 const struct dmt_volume_status *s)
{
	if (!s->has_guard || strcmp(s->guard_state, w->guard_state) == 0)
		return;

	if (strcmp(s->guard_state, "ok") == 0)
		log_info(m->ctx, "%s: guard ok: %llu bytes free on the host, low water mark %llu",
			 w->name, (unsigned long long)s->guard_free,
			 (unsigned long long)s->guard_low_water);
	else
		log_warning(m->ctx, "%s: guard %s: %llu bytes free on the host, reserve %llu; %s",
			    w->name, s->guard_state,
			    (unsigned long long)s->guard_free,
			    (unsigned long long)s->guard_reserve,
			    strcmp(s->guard_state, "exhausted") == 0 ?
				    "writes needing new host space fail with ENOSPC; free space on the host" :
				    "free space on the host before it reaches the reserve");
	snprintf(w->guard_state, sizeof(w->guard_state), "%s", s->guard_state);
}

/* The crypt layout has no pool: in grow-fs mode its filesystem's free
 * space plays the part of the pool's free data space. */
static bool crypt_layout_space(const struct dmt_volume_status *s,
			       struct pool_space *space)
{
	const struct dmt_device_info *top = NULL;
	struct mount_info mount;
	struct statvfs vfs;

	for (size_t i = 0; i < s->device_count; i++) {
		if (strcmp(s->devices[i].name, s->name) == 0)
			top = &s->devices[i];
	}
	if (!s->growth.grow_fs || !top ||
	    filesystem_find_mount(top->major, top->minor, &mount) != 0 ||
	    !mount.mounted || statvfs(mount.mountpoint, &vfs) != 0)
		return false;

	space->total = s->data_total;
	space->used = s->data_total - (uint64_t)vfs.f_bavail * vfs.f_frsize;
	return true;
}

static bool pool_space_of(const struct monitor *m,
			  const struct dmt_volume_status *s,
			  struct pool_space *space)
{
	memset(space, 0, sizeof(*space));
	if (dmt_layout_has_thin(s->layout)) {
		space->total = s->data_total;
		space->used = s->data_used;
		space->chunk = s->chunk_size;
	} else {
		if (!crypt_layout_space(s, space))
			return false;
		space->chunk = 4096;
	}
	space->max = s->data_max;
	if (m->params->max_bytes && m->params->max_bytes < space->max)
		space->max = round_down_u64(m->params->max_bytes, space->chunk);
	space->host_free = s->image_is_block_device ? UINT64_MAX / 4 :
						      s->host_free;
	space->reserve = s->image_is_block_device ? 0 : s->reserve;
	return true;
}

static void report_refusal(struct monitor *m, struct watched *w,
			   const struct growth_decision *d,
			   const struct pool_space *space)
{
	time_t now = time(NULL);

	if (d->verdict == GROWTH_NOT_NEEDED) {
		w->verdict = d->verdict;
		return;
	}
	if (d->verdict == w->verdict &&
	    now - w->last_warning < REPEAT_WARNING_SECONDS)
		return;

	w->verdict = d->verdict;
	w->last_warning = now;
	if (d->verdict == GROWTH_AT_MAXIMUM)
		log_warning(m->ctx, "%s: not growing: the data area is at its maximum %llu bytes, %llu used; delete files and run 'dmtool reclaim'",
			    w->name, (unsigned long long)space->max,
			    (unsigned long long)space->used);
	else
		log_warning(m->ctx, "%s: not growing: the host has %llu bytes free against a reserve of %llu (data area %llu, %llu used); free space on the host or delete files in the volume",
			    w->name, (unsigned long long)space->host_free,
			    (unsigned long long)space->reserve,
			    (unsigned long long)space->total,
			    (unsigned long long)space->used);
}

static int grow_once(struct monitor *m, struct watched *w,
		     const struct growth_decision *d,
		     const struct pool_space *space)
{
	struct dmt_grow_params params = { .to = d->new_total,
					  .up_to_host = true };
	struct dmt_grow_result result;
	struct dmt_error err;

	log_info(m->ctx, "%s: free data space %llu is below the low water mark %llu: growing from %llu to %llu bytes (host free %llu, reserve %llu)",
		 w->name, (unsigned long long)(space->total - space->used),
		 (unsigned long long)d->low_water,
		 (unsigned long long)space->total,
		 (unsigned long long)d->new_total,
		 (unsigned long long)space->host_free,
		 (unsigned long long)space->reserve);
	if (volume_grow(m->ctx, w->name, &params, &result, &err)) {
		/* Writes since the decision used the rest of the host's
		 * space above the reserve, so this is not a failure. */
		if (err.code == DMT_ERR_NOSPACE) {
			log_warning(m->ctx, "%s: not growing: %s", w->name,
				    err.message);
			return -1;
		}
		log_warning(m->ctx, "%s: growth to %llu bytes failed: %s%s",
			    w->name, (unsigned long long)d->new_total,
			    err.message,
			    err.code == DMT_ERR_BUSY ? " (retrying at the next check)" : "");
		return -1;
	}
	log_info(m->ctx, "%s: grew the data area from %llu to %llu bytes%s%s",
		 w->name, (unsigned long long)result.old_size,
		 (unsigned long long)result.new_size,
		 result.filesystem_grown ? " and the " : "",
		 result.filesystem_grown ? result.filesystem : "");
	return 0;
}

static void check_volume(struct monitor *m, struct watched *w)
{
	for (int round = 0; round < MAX_GROWTHS_PER_CHECK; round++) {
		struct dmt_volume_status status;
		struct growth_decision decision;
		struct pool_space space;
		struct dmt_error err;

		if (dmt_status(m->ctx, w->name, &status, &err) != DMT_OK) {
			if (err.code == DMT_ERR_NOT_FOUND) {
				if (w->open || !w->checked)
					log_info(m->ctx, "%s: not open; waiting for it to be opened",
						 w->name);
				w->open = false;
				w->checked = true;
			} else {
				log_warning(m->ctx, "%s: reading the status failed: %s",
					    w->name, err.message);
			}
			return;
		}
		if (!w->open)
			log_info(m->ctx, "%s: open (%s layout, image %s); watching",
				 w->name, dmt_layout_name(status.layout),
				 status.image);
		w->open = true;

		if (dmt_layout_has_thin(status.layout))
			report_mode(m, w, &status);
		report_guard(m, w, &status);
		w->checked = true;
		if (!pool_space_of(m, &status, &space))
			return;
		merge_policy(m->params, &status.growth);
		policy_decide(&status.growth, &space, &decision);
		if (decision.verdict != GROWTH_GROW) {
			report_refusal(m, w, &decision, &space);
			return;
		}
		if (grow_once(m, w, &decision, &space) != 0)
			return;
	}
}

static void check_all(struct monitor *m)
{
	for (size_t i = 0; i < m->count; i++)
		check_volume(m, &m->volumes[i]);
}

static int claim_volumes(struct monitor *m, struct dmt_error *err)
{
	char why[160];

	for (size_t i = 0; i < m->count; i++) {
		struct watched *w = &m->volumes[i];
		int r;

		w->name = m->params->names[i];
		w->marker_fd = -1;
		if (!stack_name_valid(w->name, why, sizeof(why)))
			return dmt_fail(m->ctx, err, DMT_ERR_USAGE, EINVAL,
					"%s", why);
		r = marker_acquire(m->ctx, w->name, &w->marker_fd, err);
		if (r)
			return r;
	}
	return DMT_OK;
}

static void release_volumes(struct monitor *m)
{
	for (size_t i = 0; i < m->count; i++)
		marker_release(m->volumes[i].name, m->volumes[i].marker_fd);
}

static int wait_loop(struct monitor *m, struct dmt_error *err)
{
	unsigned int seconds = m->params->recheck_seconds ?
				       m->params->recheck_seconds :
				       RECHECK_SECONDS_DEFAULT;
	struct pollfd fds[2] = {
		{ .fd = m->event_fd, .events = POLLIN },
		{ .fd = m->params->stop_fd, .events = POLLIN },
	};
	nfds_t count = m->params->stop_fd >= 0 ? 2 : 1;

	for (;;) {
		int ready = poll(fds, count, (int)seconds * 1000);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return dmt_fail(m->ctx, err, DMT_ERR_FAILED, errno,
					"waiting for device-mapper events failed: %s",
					strerror(errno));
		if (count == 2 && fds[1].revents)
			return DMT_OK;

		/* Re-arm before checking, so an event raised during the
		 * check wakes the next poll. */
		if (fds[0].revents) {
			log_debug(m->ctx, "device-mapper event");
			if (mapper_event_arm(m->ctx, m->event_fd, err))
				return err ? (int)err->code : DMT_ERR_FAILED;
		}
		check_all(m);
	}
}

int dmt_watch(struct dmt_context *ctx, const struct dmt_watch_params *params,
	      struct dmt_error *err)
{
	struct monitor m = { .ctx = ctx, .params = params, .count = params->count };
	int r;

	dmt_error_clear(err);
	if (params->count == 0)
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL,
				"no volume to watch");
	m.volumes = calloc(params->count, sizeof(*m.volumes));
	if (!m.volumes)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM, "out of memory");

	r = claim_volumes(&m, err);
	if (r)
		goto release;
	m.event_fd = mapper_event_open(ctx, err);
	if (m.event_fd < 0) {
		r = err ? (int)err->code : DMT_ERR_KERNEL;
		goto release;
	}
	r = mapper_event_arm(ctx, m.event_fd, err);
	if (r)
		goto close_events;

	log_info(ctx, "monitor started for %zu volume%s", m.count,
		 m.count == 1 ? "" : "s");
	check_all(&m);
	if (params->armed)
		params->armed(params->user_data);
	r = wait_loop(&m, err);
	log_info(ctx, "monitor stopping%s", r ? " after an error" : "");

close_events:
	close(m.event_fd);
release:
	release_volumes(&m);
	free(m.volumes);
	return r;
}
