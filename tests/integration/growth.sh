# Growth on demand, failing loudly at exhaustion, and giving space back.

# Opens a thin-crypt volume with the monitor on an image in HOST_DIR.
# Extra arguments go to dmtool create.
open_watched_volume() {
	NAME=$(volume_name)
	IMAGE=$HOST_DIR/volume.img
	make_key_file
	"$DMTOOL" create "$IMAGE" --key-file "$KEY_FILE" "${FAST_KDF[@]}" \
		--open "$NAME" --watch "$@"
	WATCH_LOG=$(dmt_run_dir)/watch/$NAME.log
	track_pid "$(status_field "$NAME" .monitor_pid)"
	mkfs.ext4 -q "/dev/mapper/$NAME"
	mkdir -p "$TEST_DIR/mnt"
	mount "/dev/mapper/$NAME" "$TEST_DIR/mnt"
}

dmt_run_dir() {
	echo "${DMTOOL_RUN_DIR:-/run/dmtool}"
}

# Bytes an unprivileged write can still use on the host filesystem.
host_free_bytes() {
	local blocks size
	read -r blocks size < <(stat -f -c '%a %S' "$HOST_DIR")
	echo $((blocks * size))
}

# Writes MIB mebibytes of random data to FILE with fio (fast, seeded) and
# an fsync at the end; prints the file's checksum.
write_random() {
	local file=$1 mib=$2

	fio --name=write --filename="$file" --size="${mib}M" --rw=write --bs=1M \
		--ioengine=psync --end_fsync=1 --refill_buffers --randrepeat=0 \
		--output=/dev/null
	md5sum <"$file" | cut -d' ' -f1
}

test_watch_grows_pool_for_2gib_file() {
	local sum data_used allocated
	make_host_fs 3400M
	open_watched_volume --size 8G --initial 64M
	[ "$(status_field "$NAME" .monitor_armed)" = true ] || fail "status does not show the monitor armed"

	sum=$(write_random "$TEST_DIR/mnt/big" 2048)
	cat "$WATCH_LOG"
	assert_ge "$(grep -c 'grew the data area' "$WATCH_LOG")" 3 "growth steps"
	assert_ge "$(status_field "$NAME" .pool.data_total)" $((2 << 30)) "data area after the write"
	grep -q 'growth .* failed' "$WATCH_LOG" && fail "a growth failed"
	assert_eq "$(status_field "$NAME" .pool.mode)" rw "pool mode after the write"

	# The image's allocation follows the data: the provisioned blocks,
	# plus the preallocated metadata, within a few MiB.
	data_used=$(status_field "$NAME" .pool.data_used)
	allocated=$(allocated_bytes "$IMAGE")
	assert_ge "$allocated" "$data_used" "allocated bytes against provisioned data"
	assert_le "$allocated" $((data_used + $(status_field "$NAME" .pool.metadata_total) + (8 << 20))) \
		"allocated bytes against provisioned data and metadata"

	umount "$TEST_DIR/mnt"
	"$DMTOOL" close "$NAME"
	"$DMTOOL" open "$IMAGE" "$NAME" --key-file "$KEY_FILE"
	mount "/dev/mapper/$NAME" "$TEST_DIR/mnt"
	assert_eq "$(md5sum <"$TEST_DIR/mnt/big" | cut -d' ' -f1)" "$sum" "checksum after close and reopen"
}

# The classic recipe loses data silently; dmtool's default layering on the
# same host makes the write fail and keeps what was fsync'ed before.
test_classic_failure_side_by_side() {
	local loop written read status=0 first
	make_host_fs 320M
	make_key_file

	# Without dmtool: sparse file, loop, LUKS2, ext4.
	truncate -s 2G "$HOST_DIR/classic.img"
	loop=$(losetup -f --show "$HOST_DIR/classic.img")
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--key-file "$KEY_FILE" "$loop"
	cryptsetup open --key-file "$KEY_FILE" "$loop" "${TEST_PREFIX}classic"
	mkfs.ext4 -q -E nodiscard "/dev/mapper/${TEST_PREFIX}classic"
	mkdir -p "$TEST_DIR/mnt"
	mount "/dev/mapper/${TEST_PREFIX}classic" "$TEST_DIR/mnt"
	written=$(head -c 400M /dev/urandom | tee "$TEST_DIR/mnt/data" | md5sum | cut -d' ' -f1)
	sync || fail "sync failed on the classic stack, which this test expects to succeed"
	echo "classic: the write and sync returned 0"
	umount "$TEST_DIR/mnt"
	if mount -o ro "/dev/mapper/${TEST_PREFIX}classic" "$TEST_DIR/mnt"; then
		read=$(md5sum <"$TEST_DIR/mnt/data" | cut -d' ' -f1 || true)
		umount "$TEST_DIR/mnt"
	fi
	[ "${read:-}" != "$written" ] || fail "the classic stack kept the data; the host was expected to run out"
	echo "classic: the data is gone after remount (checksum ${read:-unreadable}, written $written)"
	kernel_log_since_start | grep -E 'I/O error|Write error|lost async page write' | tail -n 3
	output_matches 'I/O error|Write error|lost async page write' kernel_log_since_start || fail "no write errors in the kernel log"
	cryptsetup close "${TEST_PREFIX}classic"
	losetup -d "$loop"
	rm "$HOST_DIR/classic.img"

	# With dmtool: the error reaches the application.
	open_watched_volume --size 2G
	first=$(write_random "$TEST_DIR/mnt/first" 100)
	dd if=/dev/urandom of="$TEST_DIR/mnt/second" bs=1M count=400 conv=fsync status=none || status=$?
	echo "dmtool: dd exited with $status"
	[ "$status" -ne 0 ] || fail "the write beyond the host's capacity reported success"
	assert_eq "$(status_field "$NAME" .pool.mode)" out_of_data_space "pool mode at exhaustion"
	grep -q 'not growing: the host has' "$WATCH_LOG" || fail "the monitor did not log its refusal"

	umount "$TEST_DIR/mnt" || umount -l "$TEST_DIR/mnt"
	e2fsck -fy "/dev/mapper/$NAME" || true
	mount "/dev/mapper/$NAME" "$TEST_DIR/mnt"
	assert_eq "$(md5sum <"$TEST_DIR/mnt/first" | cut -d' ' -f1)" "$first" "fsync'ed file after remount and fsck"
}

test_trim_returns_space() {
	local before after free_before free_after deleted=$((1024 << 20))
	make_host_fs 3G
	open_watched_volume --size 4G
	write_random "$TEST_DIR/mnt/keep" 100 >/dev/null
	for i in 1 2 3 4; do
		write_random "$TEST_DIR/mnt/delete$i" 256 >/dev/null
	done
	sync
	before=$(allocated_bytes "$IMAGE")
	free_before=$(host_free_bytes)
	rm "$TEST_DIR/mnt"/delete*
	"$DMTOOL" reclaim "$NAME" | tee "$TEST_DIR/reclaim"
	grep -q 'the image shrank by' "$TEST_DIR/reclaim" || fail "reclaim printed no report"
	after=$(allocated_bytes "$IMAGE")
	free_after=$(host_free_bytes)
	echo "allocated $before -> $after, host free $free_before -> $free_after"
	assert_ge $((before - after)) $((deleted * 9 / 10)) "bytes the image shrank"
	assert_ge $((free_after - free_before)) $((deleted * 9 / 10)) "bytes the host gained"
}

test_reclaim_names_blocking_layer() {
	make_host_fs 1G
	open_watched_volume --size 1G --no-discards
	expect_failure 9 "reclaim unavailable: the crypt layer $NAME \\(dm [0-9:]+\\) does not pass discards" \
		"$DMTOOL" reclaim "$NAME"
}

# fio writes with verification while the pool grows under it.
# Grows the data area by 256 MiB, up to 1536 MiB, whenever less than
# 512 MiB of it is free. It stops when $TEST_DIR/fio.done exists. Growing
# by fill level keeps it ahead of fio on a fast or a slow machine.
grow_ahead_of_writes() {
	local total used
	while [ ! -e "$TEST_DIR/fio.done" ]; do
		total=$(status_field "$NAME" .pool.data_total)
		used=$(status_field "$NAME" .pool.data_used)
		if [ "$total" -lt $((1536 << 20)) ] && [ $((total - used)) -lt $((512 << 20)) ]; then
			"$DMTOOL" grow "$NAME" --by 256M || return
		fi
		sleep 0.2
	done
}

test_grow_under_fio_verify() {
	local status=0
	make_host_fs 3G
	NAME=$(volume_name)
	IMAGE=$HOST_DIR/volume.img
	make_key_file
	"$DMTOOL" create "$IMAGE" --size 2G --initial 768M --key-file "$KEY_FILE" "${FAST_KDF[@]}" \
		--open "$NAME"
	grow_ahead_of_writes >"$TEST_DIR/grow.log" 2>&1 &
	local grower=$!
	fio --name=verify --filename="/dev/mapper/$NAME" --size=1400M --rw=randwrite --bs=64k \
		--ioengine=libaio --iodepth=8 --direct=1 --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --randrepeat=1 --output="$TEST_DIR/fio.log" || status=$?
	touch "$TEST_DIR/fio.done"
	wait "$grower" || fail "a grow failed: $(cat "$TEST_DIR/grow.log")"
	cat "$TEST_DIR/grow.log"
	grep -E 'err=|verify' "$TEST_DIR/fio.log" | sed -n 1,5p
	assert_eq "$status" 0 "fio exit status"
	grep -q 'err= 0' "$TEST_DIR/fio.log" || fail "fio reported I/O errors"
	assert_ge "$(grep -c 'data area' "$TEST_DIR/grow.log")" 3 "growth steps while fio wrote"
	assert_eq "$(status_field "$NAME" .pool.data_total)" $((1536 << 20)) "data area after the growths"
}

test_reserve_holds() {
	local status=0 reserve free
	make_host_fs 640M
	open_watched_volume --size 4G --reserve 200M
	dd if=/dev/urandom of="$TEST_DIR/mnt/fill" bs=1M count=1000 conv=fsync status=none || status=$?
	[ "$status" -ne 0 ] || fail "filling past the reserve reported success"
	reserve=$(status_field "$NAME" .host.reserve)
	free=$(host_free_bytes)
	echo "host free $free, reserve $reserve"
	assert_eq "$reserve" $((200 << 20)) "reserve"
	# The pool may only use what is above the reserve; ext4's own
	# bookkeeping for the image's extents takes a little of it.
	assert_ge "$free" $((reserve - (16 << 20))) "host free space at exhaustion"
	grep -q 'not growing: the host has' "$WATCH_LOG" || fail "the monitor did not log reaching the reserve"
}

test_grow_fs_gives_enospc_at_write() {
	local status i refused=0
	make_host_fs 700M
	open_watched_volume --size 4G --grow-fs --reserve 100M

	# dd can fill the filesystem faster than one growth step takes, so a
	# write may get ENOSPC while the host still has space. Like an
	# application, wait for the monitor and write again, until it
	# reports that the host is out of space.
	for i in $(seq 1 40); do
		status=0
		dd if=/dev/urandom of="$TEST_DIR/mnt/fill$i" bs=1M count=64 conv=fsync status=none \
			2>"$TEST_DIR/dd.err" || status=$?
		[ "$status" -ne 0 ] || continue
		cat "$TEST_DIR/dd.err"
		grep -q 'No space left on device' "$TEST_DIR/dd.err" || fail "write() failed, but not with ENOSPC"
		if grep -q 'not growing: the host has' "$WATCH_LOG"; then
			refused=1
			break
		fi
		sleep 5
	done
	cat "$WATCH_LOG"
	[ "$refused" -eq 1 ] || fail "the writes never reached the host's limit"
	assert_eq "$(status_field "$NAME" .pool.mode)" rw "pool mode: the filesystem, not the pool, ran out"
	grep -q 'grew the data area .* and the ext4' "$WATCH_LOG" || fail "the filesystem never grew with the pool"

	rm "$TEST_DIR/mnt"/fill*
	sync
	write_random "$TEST_DIR/mnt/after" 64 >/dev/null || fail "the filesystem is not writable after deleting files"
}

test_watch_survives_close_and_stops_cleanly() {
	local pid
	make_host_fs 2G
	open_watched_volume --size 2G
	pid=$(status_field "$NAME" .monitor_pid)
	umount "$TEST_DIR/mnt"
	"$DMTOOL" close "$NAME"
	"$DMTOOL" open "$IMAGE" "$NAME" --key-file "$KEY_FILE" 2>/dev/null
	kill -0 "$pid" || fail "the monitor died when the volume closed"
	sleep 12
	grep -q "$NAME: not open; waiting" "$WATCH_LOG" || fail "the monitor did not notice the close"
	[ "$(grep -c "$NAME: open (" "$WATCH_LOG")" -ge 2 ] || fail "the monitor did not notice the reopen"
	kill -TERM "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "the monitor ignored SIGTERM"
	grep -q 'monitor stopping' "$WATCH_LOG" || fail "the monitor did not log its stop"
	assert_eq "$(status_field "$NAME" .monitor_armed)" false "monitor armed after it stopped"
}

# Events alone drive growth: with a one-hour timer, the pool still grows
# while data arrives.
test_watch_reacts_to_events() {
	make_host_fs 2G
	NAME=$(volume_name)
	IMAGE=$HOST_DIR/volume.img
	"$DMTOOL" create "$IMAGE" --size 2G --layout thin --open "$NAME"
	"$DMTOOL" watch "$NAME" --interval 3600 2>"$TEST_DIR/watch.log" &
	track_pid $!
	sleep 2
	dd if=/dev/zero of="/dev/mapper/$NAME" bs=1M count=400 oflag=direct status=none
	sleep 3
	cat "$TEST_DIR/watch.log"
	grep -q 'grew the data area' "$TEST_DIR/watch.log" || fail "no growth without the timer"
}

test_close_refuses_full_pool_in_use() {
	make_host_fs 400M
	open_watched_volume --size 2G --reserve 100M
	dd if=/dev/urandom of="$TEST_DIR/mnt/fill" bs=1M count=600 conv=fsync status=none || true
	assert_eq "$(status_field "$NAME" .pool.mode)" out_of_data_space "pool mode"
	expect_failure 9 "the pool is out_of_data_space while the volume is in use, mounted at $TEST_DIR/mnt" \
		"$DMTOOL" close "$NAME"
	"$DMTOOL" close --force "$NAME"
	umount -l "$TEST_DIR/mnt"
	for _ in $(seq 50); do [ -e "/dev/mapper/$NAME" ] || break; sleep 0.1; done
	[ ! -e "/dev/mapper/$NAME" ] || fail "forced close left the volume after the last user let go"
}

# A growth stopped after any step leaves a volume that opens with its data,
# and running grow again completes it.
test_grow_interrupted_at_each_step() {
	local sum step
	make_host_fs 2G
	NAME=$(volume_name)
	IMAGE=$HOST_DIR/volume.img
	"$DMTOOL" create "$IMAGE" --size 2G --layout thin --open "$NAME"
	head -c 32M /dev/urandom >"$TEST_DIR/data"
	dd if="$TEST_DIR/data" of="/dev/mapper/$NAME" bs=1M oflag=direct status=none
	sum=$(md5sum <"$TEST_DIR/data")
	local size=64
	for step in grow-after-file grow-after-loop grow-after-header grow-after-data-area; do
		size=$((size + 64))
		expect_failure 1 "stopped after step '$step'" env DMTOOL_FAULT=$step "$DMTOOL" grow "$NAME" --to "${size}M"
		"$DMTOOL" close "$NAME"
		"$DMTOOL" open "$IMAGE" "$NAME"
		assert_eq "$(head -c 32M "/dev/mapper/$NAME" | md5sum)" "$sum" "data after stopping at $step"
		"$DMTOOL" grow "$NAME" --to "${size}M"
		assert_eq "$(status_field "$NAME" .pool.data_total)" $((size << 20)) "data area after completing $step"
	done
	"$DMTOOL" close "$NAME"
	output_matches 'metadata: ok' "$DMTOOL" check "$IMAGE" || fail "thin_check failed after the interrupted growths"
}
