/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions shared by the files of the space-guard target: the target
 * itself (dm-space-guard-target.c), its free space estimate
 * (dm-space-guard-estimate.c) and its tracking of the backing file's
 * allocated ranges (dm-space-guard-allocation.c).
 */

#ifndef DM_SPACE_GUARD_H
#define DM_SPACE_GUARD_H

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

/* States derived from the free space estimate. */
enum guard_state {
	GUARD_OK,		/* at or above the low water mark */
	GUARD_LOW,		/* below the low water mark */
	GUARD_EXHAUSTED,	/* below the reserve: new-space writes fail */
};

/* Context of one space-guard target. */
struct guard_c {
	struct dm_target *ti;
	struct dm_dev *dev;
	sector_t start;

	char *path;
	struct file *file;	/* opened read-only for statfs and SEEK_HOLE */
	loff_t file_start;	/* byte offset of the target's first sector */

	unsigned int refresh_ms;
	unsigned int granule_shift;	/* log2 of the granule in sectors */
	bool refresh_ms_given;
	bool granule_given;

	/*
	 * Free space accounting, in bytes. free_estimate is the last statfs
	 * sample minus the bytes of writes admitted since then that may need
	 * new space. guard_refresh() explains sample_base. The mutex
	 * serialises samples and threshold changes, while writes charge
	 * free_estimate without it.
	 */
	struct mutex lock;
	atomic64_t reserve;
	atomic64_t low_water;
	atomic64_t free_estimate;
	atomic64_t completed_charges;
	s64 sample_base;
	enum guard_state state;	/* the state last reported by an event */
	atomic64_t failed_writes;

	/*
	 * One bit per granule, set while the granule is known to be fully
	 * allocated in the backing file. Each discard or write-zeroes bumps
	 * generation when it starts and when it ends, so that a check that
	 * overlapped one does not cache a range that is being punched.
	 */
	unsigned long *allocated;
	unsigned long nr_granules;
	spinlock_t bitmap_lock;	/* writers of the bitmap; map reads without */
	unsigned int generation;
	unsigned int discards_in_flight;

	struct workqueue_struct *wq;
	spinlock_t deferred_lock;	/* protects deferred_bios */
	struct bio_list deferred_bios;
	struct work_struct deferred_work;
	struct work_struct event_work;
	struct delayed_work refresh_work;
};

/* Per-bio data, filled in by guard_map() and read in guard_end_io(). */
struct guard_io {
	sector_t sector;		/* first sector, target-relative */
	unsigned int sectors;
	unsigned int charged;		/* bytes charged to free_estimate */
	unsigned int generation;	/* bitmap generation at map time */
	bool clears_allocation;		/* a discard or write-zeroes */
};

static inline const char *guard_name(struct guard_c *gc)
{
	return dm_table_device_name(gc->ti->table);
}

static inline loff_t guard_file_pos(struct guard_c *gc, sector_t sector)
{
	return gc->file_start + ((loff_t)sector << SECTOR_SHIFT);
}

static inline loff_t guard_file_end(struct guard_c *gc)
{
	return guard_file_pos(gc, gc->ti->len);
}

/* dm-space-guard-estimate.c */
const char *guard_state_name(enum guard_state state);
enum guard_state guard_state_for(struct guard_c *gc, s64 free);
int guard_init_accounting(struct guard_c *gc);
int guard_refresh(struct guard_c *gc);
bool guard_charge(struct guard_c *gc, struct guard_io *io, unsigned int bytes);
void guard_complete_charge(struct guard_c *gc, struct guard_io *io);
void guard_event_work(struct work_struct *work);
void guard_refresh_work(struct work_struct *work);

/* dm-space-guard-allocation.c */
int guard_init_bitmap(struct guard_c *gc);
s64 guard_scan(struct guard_c *gc, bool cache);
bool guard_range_cached(struct guard_c *gc, struct guard_io *io);
bool guard_check_allocation(struct guard_c *gc, struct guard_io *io);
void guard_cache_range(struct guard_c *gc, loff_t data, loff_t hole,
		       unsigned int generation);
void guard_start_clearing(struct guard_c *gc, struct guard_io *io);
void guard_end_clearing(struct guard_c *gc);

#endif
