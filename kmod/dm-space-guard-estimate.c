// SPDX-License-Identifier: GPL-2.0
/*
 * The free space estimate of the space-guard target: statfs samples of
 * the backing file's filesystem, the charges of writes that may need new
 * space, and the device-mapper events when the state derived from the
 * estimate changes.
 */

#include "dm-space-guard.h"

#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/statfs.h>

#define DM_MSG_PREFIX "space-guard"

const char *guard_state_name(enum guard_state state)
{
	switch (state) {
	case GUARD_LOW:
		return "low";
	case GUARD_EXHAUSTED:
		return "exhausted";
	default:
		return "ok";
	}
}

enum guard_state guard_state_for(struct guard_c *gc, s64 free)
{
	if (free < atomic64_read(&gc->reserve))
		return GUARD_EXHAUSTED;
	if (free < atomic64_read(&gc->low_water))
		return GUARD_LOW;
	return GUARD_OK;
}

/*
 * Reads the free space of the backing file's filesystem. f_bavail leaves
 * out the blocks reserved for root, which the loop driver may still use,
 * so the count errs low.
 */
static int guard_statfs(struct guard_c *gc, s64 *free)
{
	struct kstatfs st;
	u64 bytes;
	int r;

	r = vfs_statfs(&gc->file->f_path, &st);
	if (r)
		return r;

	if (check_mul_overflow((u64)st.f_bavail, (u64)st.f_frsize, &bytes) ||
	    bytes > S64_MAX)
		bytes = S64_MAX;

	*free = bytes;
	return 0;
}

/*
 * Samples statfs and rebases free_estimate on it. A charged write is in
 * a sample once it has ended, so the estimate becomes the sample minus
 * the charges that had not ended when completed_charges was read.
 * sample_base is the sample plus that count, which turns the rebase into
 * one atomic add that charges made meanwhile do not disturb. Reading the
 * count before statfs errs low, because a write ending in between counts
 * twice until the next sample.
 */
int guard_refresh(struct guard_c *gc)
{
	unsigned int noio_flags;
	s64 completed, free;
	int r;

	mutex_lock(&gc->lock);
	completed = atomic64_read_acquire(&gc->completed_charges);

	noio_flags = memalloc_noio_save();
	r = guard_statfs(gc, &free);
	memalloc_noio_restore(noio_flags);

	if (!r) {
		atomic64_add(free + completed - gc->sample_base,
			     &gc->free_estimate);
		gc->sample_base = free + completed;
	}
	mutex_unlock(&gc->lock);

	if (r)
		DMERR_LIMIT("%s: statfs on the backing file's filesystem failed: %d",
			    guard_name(gc), r);

	queue_work(gc->wq, &gc->event_work);
	return r;
}

/*
 * Charges @bytes to free_estimate for a write that may need new space,
 * and admits the write only if the estimate is not below the reserve.
 * Test and subtraction are one atomic step, so concurrent writes cannot
 * overdraw. Only the write that crosses the reserve passes it, by at
 * most its own size, and every write after it fails.
 *
 * This is the guarantee, and its limit. The estimate counts every
 * admitted write in full from the moment it is admitted, so this
 * target's own writes never take the filesystem's free space more than
 * one write (at most max_sectors_kb of the device) below the reserve.
 * Space that other processes take is invisible until the next sample,
 * up to refresh_ms (plus work item latency) later, and writes admitted
 * meanwhile may use it up. The loop driver then still meets ENOSPC if
 * others take more than the reserve, less that one write and the
 * filesystem's metadata for the new blocks, within one interval.
 */
bool guard_charge(struct guard_c *gc, struct guard_io *io, unsigned int bytes)
{
	s64 reserve = atomic64_read(&gc->reserve);
	s64 free = atomic64_read(&gc->free_estimate);

	do {
		if (free < reserve)
			return false;
	} while (!atomic64_try_cmpxchg(&gc->free_estimate, &free,
				       free - bytes));

	io->charged = bytes;
	if (guard_state_for(gc, free - bytes) != READ_ONCE(gc->state))
		queue_work(gc->wq, &gc->event_work);

	return true;
}

void guard_complete_charge(struct guard_c *gc, struct guard_io *io)
{
	/*
	 * Orders the write's effect on the filesystem before the count,
	 * pairing with the acquire in guard_refresh().
	 */
	smp_mb__before_atomic();
	atomic64_add(io->charged, &gc->completed_charges);
}

static void guard_log_state(struct guard_c *gc, enum guard_state state,
			    s64 free)
{
	switch (state) {
	case GUARD_EXHAUSTED:
		DMWARN("%s: free space %lld bytes is below the reserve of %lld bytes, so writes that need new space fail",
		       guard_name(gc), free, atomic64_read(&gc->reserve));
		break;
	case GUARD_LOW:
		DMWARN("%s: free space %lld bytes is below the low water mark of %lld bytes",
		       guard_name(gc), free, atomic64_read(&gc->low_water));
		break;
	case GUARD_OK:
		DMINFO("%s: free space %lld bytes is at or above the low water mark of %lld bytes",
		       guard_name(gc), free, atomic64_read(&gc->low_water));
		break;
	}
}

/*
 * Raises a device-mapper event when the state derived from free_estimate
 * differs from the last one reported. dm_table_event() takes a mutex, so
 * this runs as a work item, and changes that happen before it runs merge
 * into one event.
 */
void guard_event_work(struct work_struct *work)
{
	struct guard_c *gc = container_of(work, struct guard_c, event_work);
	s64 free = atomic64_read(&gc->free_estimate);
	enum guard_state state = guard_state_for(gc, free);

	if (state == gc->state)
		return;

	guard_log_state(gc, state, free);
	WRITE_ONCE(gc->state, state);
	dm_table_event(gc->ti->table);
}

void guard_refresh_work(struct work_struct *work)
{
	struct guard_c *gc = container_of(to_delayed_work(work),
					  struct guard_c, refresh_work);

	guard_refresh(gc);
	queue_delayed_work(gc->wq, &gc->refresh_work,
			   msecs_to_jiffies(gc->refresh_ms));
}

int guard_init_accounting(struct guard_c *gc)
{
	s64 free;
	int r;

	r = guard_statfs(gc, &free);
	if (r) {
		gc->ti->error = "Cannot read the free space of the backing file's filesystem";
		return r;
	}

	gc->sample_base = free;
	atomic64_set(&gc->free_estimate, free);
	gc->state = guard_state_for(gc, free);
	return 0;
}
