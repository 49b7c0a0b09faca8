// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation tracking of the space-guard target: a bitmap of the granules
 * known to be fully allocated in the backing file. A walk of the file with
 * SEEK_DATA and SEEK_HOLE fills it, and so do completed writes. Discards
 * and write-zeroes, which punch holes, clear it.
 */

#include "dm-space-guard.h"

#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/stat.h>

#define DM_MSG_PREFIX "space-guard"

/* Keeps the allocation bitmap at 256 MiB or less, below kvmalloc's limit. */
#define GUARD_MAX_GRANULES		(1UL << 31)

/*
 * Marks as allocated the granules that lie entirely inside the data range
 * [@data, @hole) of the backing file, unless a discard or write-zeroes
 * started or ended since @generation was read.
 */
void guard_cache_range(struct guard_c *gc, loff_t data, loff_t hole,
		       unsigned int generation)
{
	unsigned int shift = gc->granule_shift + SECTOR_SHIFT;
	u64 range_bytes = (u64)gc->ti->len << SECTOR_SHIFT;
	unsigned long first, end, flags;
	u64 begin_offset, end_offset;

	data = max(data, gc->file_start);
	if (hole <= data)
		return;

	begin_offset = data - gc->file_start;
	end_offset = min_t(u64, hole - gc->file_start, range_bytes);
	first = (begin_offset + (1ULL << shift) - 1) >> shift;
	if (end_offset == range_bytes)
		end = gc->nr_granules;
	else
		end = end_offset >> shift;
	if (first >= end)
		return;

	spin_lock_irqsave(&gc->bitmap_lock, flags);
	if (gc->generation == generation && !gc->discards_in_flight)
		bitmap_set(gc->allocated, first, end - first);
	spin_unlock_irqrestore(&gc->bitmap_lock, flags);
}

static unsigned long guard_granule(struct guard_c *gc, sector_t sector)
{
	return sector >> gc->granule_shift;
}

bool guard_range_cached(struct guard_c *gc, struct guard_io *io)
{
	unsigned long first = guard_granule(gc, io->sector);
	unsigned long last = guard_granule(gc, io->sector + io->sectors - 1);

	return find_next_zero_bit(gc->allocated, last + 1, first) > last;
}

/*
 * The loop driver punches holes for discards and for write-zeroes, even
 * where they cover a granule only in part, so every granule they touch
 * loses its bit.
 */
void guard_start_clearing(struct guard_c *gc, struct guard_io *io)
{
	unsigned long first = guard_granule(gc, io->sector);
	unsigned long last = guard_granule(gc, io->sector + io->sectors - 1);
	unsigned long flags;

	spin_lock_irqsave(&gc->bitmap_lock, flags);
	gc->discards_in_flight++;
	WRITE_ONCE(gc->generation, gc->generation + 1);
	bitmap_clear(gc->allocated, first, last - first + 1);
	spin_unlock_irqrestore(&gc->bitmap_lock, flags);

	io->clears_allocation = true;
}

void guard_end_clearing(struct guard_c *gc)
{
	unsigned long flags;

	spin_lock_irqsave(&gc->bitmap_lock, flags);
	gc->discards_in_flight--;
	WRITE_ONCE(gc->generation, gc->generation + 1);
	spin_unlock_irqrestore(&gc->bitmap_lock, flags);
}

/*
 * Walks the data extents of the target's file range with SEEK_DATA and
 * SEEK_HOLE. Returns the bytes of the range that hold data, or a negative
 * errno. With @cache set it also marks the granules found fully allocated.
 * The cost grows with the number of extents in the range.
 */
s64 guard_scan(struct guard_c *gc, bool cache)
{
	/* The acquire keeps the lookups from starting before this read. */
	unsigned int generation = smp_load_acquire(&gc->generation);
	loff_t end = guard_file_end(gc);
	loff_t pos = gc->file_start;
	loff_t data, hole;
	s64 total = 0;

	while (pos < end) {
		data = vfs_llseek(gc->file, pos, SEEK_DATA);
		if (data == -ENXIO || data >= end)
			break;
		if (data < 0)
			return data;

		hole = vfs_llseek(gc->file, data, SEEK_HOLE);
		if (hole < 0)
			return hole;

		hole = min(hole, end);
		total += max(hole - data, 0LL);
		if (cache)
			guard_cache_range(gc, data, hole, generation);

		/*
		 * A hole punched between the two lookups must not stall
		 * the walk.
		 */
		pos = max(hole, data + 1);
		cond_resched();
	}

	return total;
}

/* An error counts as a hole at @pos, so the write counts as needing space. */
static loff_t guard_next_hole(struct guard_c *gc, loff_t pos)
{
	loff_t hole = vfs_llseek(gc->file, pos, SEEK_HOLE);

	return hole < 0 ? pos : hole;
}

/*
 * Checks with SEEK_HOLE whether the file range under @io is fully
 * allocated, and caches the granules found allocated. The first look
 * starts at the start of the bio's first granule, so that a write into
 * the middle of an allocated granule still caches it.
 */
bool guard_check_allocation(struct guard_c *gc, struct guard_io *io)
{
	/* The acquire keeps the lookups from starting before this read. */
	unsigned int generation = smp_load_acquire(&gc->generation);
	sector_t granule_mask = ((sector_t)1 << gc->granule_shift) - 1;
	loff_t from = guard_file_pos(gc, io->sector & ~granule_mask);
	loff_t pos = guard_file_pos(gc, io->sector);
	loff_t end = guard_file_pos(gc, io->sector + io->sectors);
	loff_t hole;

	hole = guard_next_hole(gc, from);
	if (hole <= pos) {
		from = pos;
		hole = guard_next_hole(gc, pos);
	}

	guard_cache_range(gc, from, hole, generation);
	return hole >= end;
}

/*
 * A filesystem without SEEK_HOLE support reports the whole file as data,
 * so the guard would pass every write as an overwrite. Finding more data
 * in the range than blocks allocated to the whole file gives that away.
 */
static void guard_check_hole_reporting(struct guard_c *gc, s64 data_bytes)
{
	struct kstat stat;

	if (vfs_getattr(&gc->file->f_path, &stat, STATX_BLOCKS,
			AT_STATX_SYNC_AS_STAT))
		return;

	if (data_bytes > (s64)(stat.blocks << SECTOR_SHIFT))
		DMWARN("%s: %s reports %lld bytes of data in the range but has only %llu bytes allocated, so its filesystem does not report holes and writes into them are not checked",
		       guard_name(gc), gc->path, data_bytes,
		       (unsigned long long)stat.blocks << SECTOR_SHIFT);
}

/* Allocates the bitmap and fills it from a walk of the backing file. */
int guard_init_bitmap(struct guard_c *gc)
{
	struct dm_target *ti = gc->ti;
	u64 granule = 1ULL << gc->granule_shift;
	u64 granules;
	s64 r;

	granules = (ti->len + granule - 1) >> gc->granule_shift;
	if (granules > GUARD_MAX_GRANULES) {
		ti->error = "Too many granules: use a larger granule_sectors";
		return -EINVAL;
	}
	gc->nr_granules = granules;

	gc->allocated = kvcalloc(BITS_TO_LONGS(granules), sizeof(unsigned long),
				 GFP_KERNEL | __GFP_NOWARN);
	if (!gc->allocated) {
		ti->error = "Cannot allocate allocation bitmap";
		return -ENOMEM;
	}

	r = guard_scan(gc, true);
	if (r < 0) {
		ti->error = "Cannot find the allocated ranges of the backing file";
		return r;
	}

	guard_check_hole_reporting(gc, r);
	return 0;
}
