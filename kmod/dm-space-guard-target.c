// SPDX-License-Identifier: GPL-2.0
/*
 * space-guard: a linear mapping onto a loop device that fails writes
 * needing new space in the loop device's sparse backing file with
 * BLK_STS_NOSPC once the filesystem holding that file is down to a
 * reserve. The loop driver then never meets ENOSPC underneath the stack,
 * where a failed write would be lost or would fail a thin pool.
 *
 * docs/kmod.md in the dmtool tree describes the table, the status, the
 * messages and the exact guarantee.
 */

#include "dm-space-guard.h"

#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/file.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#define DM_MSG_PREFIX "space-guard"

#define GUARD_DEFAULT_REFRESH_MS	1000
#define GUARD_MIN_REFRESH_MS		10
#define GUARD_MAX_REFRESH_MS		3600000
#define GUARD_DEFAULT_GRANULE_SECTORS	128
#define GUARD_MAX_GRANULE_SECTORS	(1U << 21)

/*
 * Argument parsing.
 */

/* Accepts decimal digits only: no sign, no spaces, no suffix. */
static int guard_parse_u64(const char *arg, u64 *value)
{
	if (!arg || !*arg || strspn(arg, "0123456789") != strlen(arg))
		return -EINVAL;

	return kstrtoull(arg, 10, value);
}

static int guard_parse_bytes(const char *arg, s64 *value)
{
	u64 bytes;

	if (guard_parse_u64(arg, &bytes) || bytes > S64_MAX)
		return -EINVAL;

	*value = bytes;
	return 0;
}

/*
 * The path must load back from the table that status prints. dmsetup
 * reads one target per line, so control characters are rejected, and
 * status escapes whitespace with a backslash. libdevmapper doubles every
 * backslash it sends, so a path with one could not load back through it
 * and is rejected too.
 */
static int guard_parse_path(struct guard_c *gc, const char *arg)
{
	struct dm_target *ti = gc->ti;
	const unsigned char *c;

	if (arg[0] != '/') {
		ti->error = "Backing file path must be absolute";
		return -EINVAL;
	}

	if (strnlen(arg, PATH_MAX) >= PATH_MAX) {
		ti->error = "Backing file path is too long";
		return -EINVAL;
	}

	for (c = (const unsigned char *)arg; *c; c++) {
		if (*c < 0x20 || *c == 0x7f) {
			ti->error = "Backing file path contains a control character";
			return -EINVAL;
		}

		if (*c == '\\') {
			ti->error = "Backing file path contains a backslash";
			return -EINVAL;
		}
	}

	gc->path = kstrdup(arg, GFP_KERNEL);
	if (!gc->path) {
		ti->error = "Cannot allocate backing file path";
		return -ENOMEM;
	}

	return 0;
}

/* Parses <device offset> <backing file path> <file offset>. */
static int guard_parse_location(struct guard_c *gc, struct dm_arg_set *as)
{
	struct dm_target *ti = gc->ti;
	u64 value;
	int r;

	if (guard_parse_u64(dm_shift_arg(as), &value)) {
		ti->error = "Invalid device offset";
		return -EINVAL;
	}

	if (value > U64_MAX - ti->len) {
		ti->error = "Device offset plus target length overflows";
		return -EINVAL;
	}
	gc->start = value;

	r = guard_parse_path(gc, dm_shift_arg(as));
	if (r)
		return r;

	if (guard_parse_u64(dm_shift_arg(as), &value) || value > LLONG_MAX) {
		ti->error = "Invalid file offset";
		return -EINVAL;
	}

	if (ti->len > (LLONG_MAX - value) >> SECTOR_SHIFT) {
		ti->error = "File offset plus target length overflows";
		return -EINVAL;
	}
	gc->file_start = value;

	return 0;
}

/* Parses <reserve bytes> <low water bytes>. */
static int guard_parse_thresholds(struct guard_c *gc, struct dm_arg_set *as)
{
	struct dm_target *ti = gc->ti;
	s64 reserve, low_water;

	if (guard_parse_bytes(dm_shift_arg(as), &reserve)) {
		ti->error = "Invalid reserve";
		return -EINVAL;
	}

	if (guard_parse_bytes(dm_shift_arg(as), &low_water)) {
		ti->error = "Invalid low water mark";
		return -EINVAL;
	}

	if (low_water < reserve) {
		ti->error = "Low water mark is below the reserve";
		return -EINVAL;
	}

	atomic64_set(&gc->reserve, reserve);
	atomic64_set(&gc->low_water, low_water);
	return 0;
}

static int guard_parse_refresh_ms(struct guard_c *gc, const char *arg)
{
	struct dm_target *ti = gc->ti;
	u64 value;

	if (gc->refresh_ms_given) {
		ti->error = "Duplicate feature refresh_ms";
		return -EINVAL;
	}

	if (guard_parse_u64(arg, &value) || value < GUARD_MIN_REFRESH_MS ||
	    value > GUARD_MAX_REFRESH_MS) {
		ti->error = "Invalid refresh_ms: expected 10 to 3600000 milliseconds";
		return -EINVAL;
	}

	gc->refresh_ms = value;
	gc->refresh_ms_given = true;
	return 0;
}

static int guard_parse_granule(struct guard_c *gc, const char *arg)
{
	struct dm_target *ti = gc->ti;
	u64 value;

	if (gc->granule_given) {
		ti->error = "Duplicate feature granule_sectors";
		return -EINVAL;
	}

	if (guard_parse_u64(arg, &value) || !value ||
	    value > GUARD_MAX_GRANULE_SECTORS || !is_power_of_2(value)) {
		ti->error = "Invalid granule_sectors: expected a power of two from 1 to 2097152";
		return -EINVAL;
	}

	gc->granule_shift = ilog2(value);
	gc->granule_given = true;
	return 0;
}

static int guard_parse_feature(struct guard_c *gc, const char *arg)
{
	size_t prefix;

	prefix = str_has_prefix(arg, "refresh_ms:");
	if (prefix)
		return guard_parse_refresh_ms(gc, arg + prefix);

	prefix = str_has_prefix(arg, "granule_sectors:");
	if (prefix)
		return guard_parse_granule(gc, arg + prefix);

	gc->ti->error = "Unrecognised space-guard feature requested";
	return -EINVAL;
}

static int guard_parse_features(struct guard_c *gc, struct dm_arg_set *as)
{
	static const struct dm_arg _args[] = {
		{0, 2, "Invalid number of feature arguments"},
	};
	unsigned int argc;
	u64 count;
	int r;

	if (!as->argc)
		return 0;

	/*
	 * dm_read_arg_group() reads 4294967296 as 0, so the digits are
	 * checked first.
	 */
	if (guard_parse_u64(as->argv[0], &count) || count > UINT_MAX) {
		gc->ti->error = _args[0].error;
		return -EINVAL;
	}

	r = dm_read_arg_group(_args, as, &argc, &gc->ti->error);
	if (r)
		return r;

	for (; argc; argc--) {
		r = guard_parse_feature(gc, dm_shift_arg(as));
		if (r)
			return r;
	}

	if (as->argc) {
		gc->ti->error = "Too many arguments after the feature arguments";
		return -EINVAL;
	}

	return 0;
}

/*
 * Deferred bios: writes that may need new space while the estimate is
 * below the reserve. They are decided at once, never held for space.
 */

static void guard_defer_bio(struct guard_c *gc, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&gc->deferred_lock, flags);
	bio_list_add(&gc->deferred_bios, bio);
	spin_unlock_irqrestore(&gc->deferred_lock, flags);

	queue_work(gc->wq, &gc->deferred_work);
}

static void guard_decide_deferred(struct guard_c *gc, struct bio *bio)
{
	struct guard_io *io = dm_per_bio_data(bio, sizeof(*io));

	if ((bio_op(bio) == REQ_OP_WRITE && guard_check_allocation(gc, io)) ||
	    guard_charge(gc, io, bio->bi_iter.bi_size)) {
		dm_submit_bio_remap(bio, NULL);
		return;
	}

	atomic64_inc(&gc->failed_writes);
	bio->bi_status = BLK_STS_NOSPC;
	bio_endio(bio);
}

static void guard_process_deferred(struct work_struct *work)
{
	struct guard_c *gc = container_of(work, struct guard_c, deferred_work);
	unsigned int noio_flags;
	struct bio_list bios;
	unsigned long flags;
	struct bio *bio;

	spin_lock_irqsave(&gc->deferred_lock, flags);
	bios = gc->deferred_bios;
	bio_list_init(&gc->deferred_bios);
	spin_unlock_irqrestore(&gc->deferred_lock, flags);

	/* Reclaim must not write back through this device while it waits. */
	noio_flags = memalloc_noio_save();
	while ((bio = bio_list_pop(&bios)))
		guard_decide_deferred(gc, bio);
	memalloc_noio_restore(noio_flags);
}

/*
 * Construction and destruction.
 */

static struct guard_c *guard_alloc_context(struct dm_target *ti)
{
	struct guard_c *gc = kzalloc(sizeof(*gc), GFP_KERNEL);

	if (!gc)
		return NULL;

	gc->ti = ti;
	gc->refresh_ms = GUARD_DEFAULT_REFRESH_MS;
	gc->granule_shift = ilog2(GUARD_DEFAULT_GRANULE_SECTORS);
	mutex_init(&gc->lock);
	spin_lock_init(&gc->bitmap_lock);
	spin_lock_init(&gc->deferred_lock);
	bio_list_init(&gc->deferred_bios);
	INIT_WORK(&gc->deferred_work, guard_process_deferred);
	INIT_WORK(&gc->event_work, guard_event_work);
	INIT_DELAYED_WORK(&gc->refresh_work, guard_refresh_work);

	return gc;
}

static int guard_get_device(struct guard_c *gc, const char *path)
{
	struct dm_target *ti = gc->ti;
	int r;

	r = dm_get_device(ti, path, dm_table_get_mode(ti->table), &gc->dev);
	if (r) {
		ti->error = "Device lookup failed";
		return r;
	}

	if (gc->start + ti->len > bdev_nr_sectors(gc->dev->bdev)) {
		ti->error = "Device offset plus target length exceeds the device size";
		return -EINVAL;
	}

	return 0;
}

/*
 * Opens the backing file read-only, for statfs and SEEK_HOLE only. The
 * type is checked before the open, so that a FIFO cannot block it.
 */
static int guard_open_file(struct guard_c *gc)
{
	struct dm_target *ti = gc->ti;
	struct path path;
	int r;

	r = kern_path(gc->path, LOOKUP_FOLLOW, &path);
	if (r) {
		ti->error = "Backing file lookup failed";
		return r;
	}

	if (!d_is_reg(path.dentry)) {
		path_put(&path);
		ti->error = "Backing file is not a regular file";
		return -EINVAL;
	}

	gc->file = dentry_open(&path, O_RDONLY | O_LARGEFILE, current_cred());
	path_put(&path);
	if (IS_ERR(gc->file)) {
		r = PTR_ERR(gc->file);
		gc->file = NULL;
		ti->error = "Cannot open backing file";
		return r;
	}

	if (i_size_read(file_inode(gc->file)) < guard_file_end(gc)) {
		ti->error = "Backing file is smaller than file offset plus target length";
		return -EINVAL;
	}

	return 0;
}

static void guard_dtr(struct dm_target *ti)
{
	struct guard_c *gc = ti->private;

	cancel_delayed_work_sync(&gc->refresh_work);
	cancel_work_sync(&gc->event_work);
	if (gc->wq)
		destroy_workqueue(gc->wq);

	kvfree(gc->allocated);
	if (gc->file)
		fput(gc->file);
	if (gc->dev)
		dm_put_device(ti, gc->dev);
	kfree(gc->path);
	mutex_destroy(&gc->lock);
	kfree(gc);
}

/*
 * Construct a space-guard mapping:
 * <dev_path> <dev_offset> <file_path> <file_offset> <reserve> <low_water>
 * [<#feature args> [refresh_ms:<ms>] [granule_sectors:<sectors>]]
 *
 * Offsets of the device are in sectors, of the file and thresholds in bytes.
 */
static int guard_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	const char *dev_path;
	struct guard_c *gc;
	int r;

	if (argc < 6) {
		ti->error = "Invalid argument count";
		return -EINVAL;
	}

	gc = guard_alloc_context(ti);
	if (!gc) {
		ti->error = "Cannot allocate context";
		return -ENOMEM;
	}
	ti->private = gc;
	dev_path = dm_shift_arg(&as);

	r = guard_parse_location(gc, &as);
	if (r)
		goto bad;

	r = guard_parse_thresholds(gc, &as);
	if (r)
		goto bad;

	r = guard_parse_features(gc, &as);
	if (r)
		goto bad;

	r = guard_get_device(gc, dev_path);
	if (r)
		goto bad;

	r = guard_open_file(gc);
	if (r)
		goto bad;

	r = guard_init_accounting(gc);
	if (r)
		goto bad;

	r = guard_init_bitmap(gc);
	if (r)
		goto bad;

	gc->wq = alloc_workqueue("dm-space-guard", WQ_MEM_RECLAIM, 0);
	if (!gc->wq) {
		ti->error = "Cannot allocate workqueue";
		r = -ENOMEM;
		goto bad;
	}

	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->per_io_data_size = sizeof(struct guard_io);
	ti->accounts_remapped_io = true;
	return 0;

bad:
	guard_dtr(ti);
	return r;
}

/*
 * I/O.
 */

/*
 * Reads, flushes, discards and writes to granules known to be allocated
 * pass at once. Other writes, and write-zeroes, pass if the estimate can
 * take their charge. The rest go to the worker, which checks whether
 * they really need new space.
 */
static int guard_map(struct dm_target *ti, struct bio *bio)
{
	struct guard_io *io = dm_per_bio_data(bio, sizeof(*io));
	struct guard_c *gc = ti->private;
	enum req_op op = bio_op(bio);

	io->sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	io->sectors = bio_sectors(bio);
	io->charged = 0;
	io->generation = READ_ONCE(gc->generation);
	io->clears_allocation = false;

	bio_set_dev(bio, gc->dev->bdev);
	if (!io->sectors)
		return DM_MAPIO_REMAPPED;
	bio->bi_iter.bi_sector = gc->start + io->sector;

	if (op == REQ_OP_DISCARD || op == REQ_OP_WRITE_ZEROES)
		guard_start_clearing(gc, io);

	if (op != REQ_OP_WRITE && op != REQ_OP_WRITE_ZEROES)
		return DM_MAPIO_REMAPPED;

	if (op == REQ_OP_WRITE && guard_range_cached(gc, io))
		return DM_MAPIO_REMAPPED;

	if (guard_charge(gc, io, bio->bi_iter.bi_size))
		return DM_MAPIO_REMAPPED;

	guard_defer_bio(gc, bio);
	return DM_MAPIO_SUBMITTED;
}

static int guard_end_io(struct dm_target *ti, struct bio *bio,
			blk_status_t *error)
{
	struct guard_io *io = dm_per_bio_data(bio, sizeof(*io));
	struct guard_c *gc = ti->private;

	if (io->clears_allocation)
		guard_end_clearing(gc);

	if (!io->charged)
		return DM_ENDIO_DONE;

	guard_complete_charge(gc, io);
	if (!*error && bio_op(bio) == REQ_OP_WRITE)
		guard_cache_range(gc, guard_file_pos(gc, io->sector),
				  guard_file_pos(gc, io->sector + io->sectors),
				  io->generation);

	return DM_ENDIO_DONE;
}

/*
 * Status and messages.
 */

/*
 * Escapes the characters that dm_split_args() splits on. Paths contain no
 * backslash (guard_parse_path()), so no other character needs escaping.
 */
static void guard_emit_path(const char *path, char *result,
			    unsigned int maxlen, unsigned int *size)
{
	unsigned int sz = *size;
	const char *c;

	for (c = path; *c; c++) {
		if (isspace(*c))
			DMEMIT("\\");
		DMEMIT("%c", *c);
	}

	*size = sz;
}

static void guard_emit_info(struct guard_c *gc, char *result,
			    unsigned int maxlen, unsigned int *size)
{
	s64 free = atomic64_read(&gc->free_estimate);
	unsigned int sz = *size;
	unsigned int noio_flags;
	s64 allocated;

	noio_flags = memalloc_noio_save();
	allocated = guard_scan(gc, false);
	memalloc_noio_restore(noio_flags);

	DMEMIT("%s %lld %lld %lld ", guard_state_name(guard_state_for(gc, free)),
	       max(free, 0LL), atomic64_read(&gc->reserve),
	       atomic64_read(&gc->low_water));
	if (allocated < 0)
		DMEMIT("- ");
	else
		DMEMIT("%lld ", allocated);
	DMEMIT("%lld", atomic64_read(&gc->failed_writes));

	*size = sz;
}

static void guard_emit_table(struct guard_c *gc, char *result,
			     unsigned int maxlen, unsigned int *size)
{
	unsigned int features = gc->refresh_ms_given + gc->granule_given;
	unsigned int sz = *size;

	DMEMIT("%s %llu ", gc->dev->name, (unsigned long long)gc->start);
	guard_emit_path(gc->path, result, maxlen, &sz);

	mutex_lock(&gc->lock);
	DMEMIT(" %lld %lld %lld", gc->file_start, atomic64_read(&gc->reserve),
	       atomic64_read(&gc->low_water));
	mutex_unlock(&gc->lock);

	if (features)
		DMEMIT(" %u", features);
	if (gc->refresh_ms_given)
		DMEMIT(" refresh_ms:%u", gc->refresh_ms);
	if (gc->granule_given)
		DMEMIT(" granule_sectors:%u", 1U << gc->granule_shift);

	*size = sz;
}

static void guard_status(struct dm_target *ti, status_type_t type,
			 unsigned int status_flags, char *result,
			 unsigned int maxlen)
{
	struct guard_c *gc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		guard_emit_info(gc, result, maxlen, &sz);
		break;

	case STATUSTYPE_TABLE:
		guard_emit_table(gc, result, maxlen, &sz);
		break;

	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",device_name=%s,start=%llu,file_offset=%lld,reserve=%lld,low_water=%lld;",
		       gc->dev->name, (unsigned long long)gc->start,
		       gc->file_start, atomic64_read(&gc->reserve),
		       atomic64_read(&gc->low_water));
		break;
	}
}

static int guard_set_reserve(struct guard_c *gc, const char *arg)
{
	s64 reserve, low_water;
	int r = 0;

	if (guard_parse_bytes(arg, &reserve)) {
		DMERR("%s: invalid reserve '%s': expected a number of bytes",
		      guard_name(gc), arg);
		return -EINVAL;
	}

	mutex_lock(&gc->lock);
	low_water = atomic64_read(&gc->low_water);
	if (reserve > low_water)
		r = -EINVAL;
	else
		atomic64_set(&gc->reserve, reserve);
	mutex_unlock(&gc->lock);

	if (r)
		DMERR("%s: reserve %lld is above the low water mark %lld: raise low_water first",
		      guard_name(gc), reserve, low_water);

	queue_work(gc->wq, &gc->event_work);
	return r;
}

static int guard_set_low_water(struct guard_c *gc, const char *arg)
{
	s64 reserve, low_water;
	int r = 0;

	if (guard_parse_bytes(arg, &low_water)) {
		DMERR("%s: invalid low water mark '%s': expected a number of bytes",
		      guard_name(gc), arg);
		return -EINVAL;
	}

	mutex_lock(&gc->lock);
	reserve = atomic64_read(&gc->reserve);
	if (low_water < reserve)
		r = -EINVAL;
	else
		atomic64_set(&gc->low_water, low_water);
	mutex_unlock(&gc->lock);

	if (r)
		DMERR("%s: low water mark %lld is below the reserve %lld: lower the reserve first",
		      guard_name(gc), low_water, reserve);

	queue_work(gc->wq, &gc->event_work);
	return r;
}

/*
 * Messages:
 *   refresh			sample statfs now
 *   reserve <bytes>		set the reserve
 *   low_water <bytes>		set the low water mark
 */
static int guard_message(struct dm_target *ti, unsigned int argc,
			 char **argv, char *result, unsigned int maxlen)
{
	struct guard_c *gc = ti->private;

	if (argc == 1 && !strcasecmp(argv[0], "refresh"))
		return guard_refresh(gc);

	if (argc == 2 && !strcasecmp(argv[0], "reserve"))
		return guard_set_reserve(gc, argv[1]);

	if (argc == 2 && !strcasecmp(argv[0], "low_water"))
		return guard_set_low_water(gc, argv[1]);

	DMERR("%s: invalid message: expected 'refresh', 'reserve <bytes>' or 'low_water <bytes>'",
	      guard_name(gc));
	return -EINVAL;
}

/*
 * Suspend, resume and device callbacks.
 */

static void guard_postsuspend(struct dm_target *ti)
{
	struct guard_c *gc = ti->private;

	cancel_delayed_work_sync(&gc->refresh_work);
	flush_work(&gc->event_work);
}

/* Samples at once, as the filesystem may have changed during the suspend. */
static void guard_resume(struct dm_target *ti)
{
	struct guard_c *gc = ti->private;

	mod_delayed_work(gc->wq, &gc->refresh_work, 0);
}

static int guard_prepare_ioctl(struct dm_target *ti,
			       struct block_device **bdev)
{
	struct guard_c *gc = ti->private;

	*bdev = gc->dev->bdev;

	/* Only pass ioctls through if the device sizes match exactly. */
	if (gc->start || ti->len != bdev_nr_sectors(*bdev))
		return 1;
	return 0;
}

static int guard_iterate_devices(struct dm_target *ti,
				 iterate_devices_callout_fn fn, void *data)
{
	struct guard_c *gc = ti->private;

	return fn(ti, gc->dev, gc->start, ti->len, data);
}

static struct target_type guard_target = {
	.name = "space-guard",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = guard_ctr,
	.dtr = guard_dtr,
	.map = guard_map,
	.end_io = guard_end_io,
	.postsuspend = guard_postsuspend,
	.resume = guard_resume,
	.status = guard_status,
	.message = guard_message,
	.prepare_ioctl = guard_prepare_ioctl,
	.iterate_devices = guard_iterate_devices,
};

static int __init dm_space_guard_init(void)
{
	int r = dm_register_target(&guard_target);

	if (r < 0)
		DMERR("register failed %d", r);

	return r;
}

static void __exit dm_space_guard_exit(void)
{
	dm_unregister_target(&guard_target);
}

module_init(dm_space_guard_init);
module_exit(dm_space_guard_exit);

MODULE_DESCRIPTION(DM_NAME " target that fails writes needing new space in a loop device's backing file when its filesystem runs low");
MODULE_AUTHOR("dmtool developers");
MODULE_LICENSE("GPL");
MODULE_ALIAS("dm-space-guard");
