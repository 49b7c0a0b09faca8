# The dm-space-guard kernel module on a real kernel: loading, tables,
# status, messages, events, malformed tables, and the failure it prevents
# (a host filesystem filling up under a loop device) with and without it.
# shellcheck shell=bash

GUARD_MODULE=$DMTOOL_TOP/kmod/dm-space-guard.ko
MIB=$((1024 * 1024))
# The default allocation-tracking granule: 128 sectors.
GRANULE_BYTES=65536

# Loads the module built in kmod/ unless one is loaded already, and makes
# libdevmapper create the /dev/mapper nodes itself, as no udev runs here.
load_guard_module() {
	export DM_DISABLE_UDEV=1
	modprobe -q dm_thin_pool 2>/dev/null || true
	grep -q '^dm_space_guard ' /proc/modules && return 0
	[ -f "$GUARD_MODULE" ] || skip "kmod/dm-space-guard.ko is not built; run 'make module'"
	insmod "$GUARD_MODULE"
}

# make_guard_host_fs SIZE: make_host_fs, with an exit trap that also
# detaches the loop devices over files inside the host filesystem.
# common.sh's teardown unmounts that filesystem before it detaches loop
# devices, so such a loop device would keep it busy and outlive the test.
make_guard_host_fs() {
	make_host_fs "$1"
	trap 'guard_test_exit $?' EXIT
}

guard_test_exit() {
	local status=$1

	trap - EXIT
	if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
		print_diagnostics
	fi
	detach_host_loops
	teardown_everything
	exit "$status"
}

detach_host_loops() {
	local pid loop

	if [ -f "$TEST_DIR/.pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null || true
		done <"$TEST_DIR/.pids"
		sleep 0.2
	fi
	remove_test_devices
	losetup -a -n -O NAME,BACK-FILE | awk -v d="$HOST_DIR/" 'index($2, d) == 1 { print $1 }' |
		while read -r loop; do
			losetup -d "$loop" 2>/dev/null || true
		done
}

# make_backing HOST_SIZE IMAGE_SIZE: a fresh host filesystem with a sparse
# image file on it and a loop device over the image: HOST_DIR, BACKING, LOOP.
make_backing() {
	make_guard_host_fs "$1"
	BACKING=$HOST_DIR/image
	truncate -s "$2" "$BACKING"
	LOOP=$(losetup -f --show "$BACKING")
}

# guard_table LENGTH DEVICE_OFFSET RESERVE LOW_WATER [FEATURE...]: a table
# line for a guard over LOOP whose file offset matches DEVICE_OFFSET.
guard_table() {
	local length=$1 offset=$2 reserve=$3 low_water=$4
	shift 4
	local table="0 $length space-guard $LOOP $offset $BACKING $((offset * 512)) $reserve $low_water"

	[ $# -eq 0 ] || table+=" $# $*"
	echo "$table"
}

# create_device NAME TABLE: creates and resumes NAME and checks its node.
create_device() {
	dmsetup create "$1" --table "$2"
	[ -b "/dev/mapper/$1" ] || fail "dmsetup created no node /dev/mapper/$1"
}

# guard_status NAME FIELD: one field of a guard's status line, by name.
guard_status() {
	local fields

	read -r -a fields <<<"$(dmsetup status "$1")"
	[ "${fields[2]}" = space-guard ] || fail "$1 is not a space-guard device: ${fields[*]}"
	case "$2" in
	state) echo "${fields[3]}" ;;
	free) echo "${fields[4]}" ;;
	reserve) echo "${fields[5]}" ;;
	low_water) echo "${fields[6]}" ;;
	allocated) echo "${fields[7]}" ;;
	failed) echo "${fields[8]}" ;;
	*) fail "guard_status: unknown field '$2'" ;;
	esac
}

event_number() {
	dmsetup info -c --noheadings -o events "$1" | tr -d ' '
}

# wait_for_event NAME NUMBER: waits until the event counter of NAME passes
# NUMBER. The limit only keeps a missing event from hanging the suite.
wait_for_event() {
	timeout 120 dmsetup wait "$1" "$2" >/dev/null ||
		fail "no event on $1 after event number $2 within 120 s"
}

# wait_for_state NAME STATE: waits through up to four events for a state,
# for a change that may take more than one statfs sample to show.
wait_for_state() {
	local name=$1 expected=$2 event

	for _ in 1 2 3 4; do
		event=$(event_number "$name")
		[ "$(guard_status "$name" state)" != "$expected" ] || return 0
		wait_for_event "$name" "$event"
	done
	assert_eq "$(guard_status "$name" state)" "$expected" "state of $name after four events"
}

# Bytes of the host filesystem free for unprivileged users: what the guard
# reads from statfs.
host_free() {
	echo $(($(stat -f -c '%a * %S' "$HOST_DIR")))
}

# fill_host_to BYTES: another process takes the host filesystem's free
# space down to about BYTES, behind the guarded stack's back.
fill_host_to() {
	local target=$1 free filler

	free=$(host_free)
	[ "$free" -gt "$target" ] || fail "the host filesystem has $free bytes free, expected more than $target"
	filler=$(mktemp "$HOST_DIR/filler.XXXXXX")
	fallocate -l $((free - target)) "$filler"
}

# assert_within VALUE EXPECTED TOLERANCE WHAT
assert_within() {
	local difference=$(($1 - $2))

	[ "${difference#-}" -le "$3" ] || fail "$4: got $1, expected $2 within $3"
}

allocated_in_file() {
	"$HELPERS/guard-allocated" "$@"
}

assert_no_kernel_warnings() {
	local found

	found=$(kernel_log_since_start | grep -E 'BUG|WARNING|Oops|Call Trace|hung' || true)
	[ -z "$found" ] || fail "the kernel log shows a warning: $found"
}

assert_no_loop_write_errors() {
	local found

	found=$(kernel_log_since_start | grep -E 'loop[0-9]*: Write error' | head -3 || true)
	[ -z "$found" ] || fail "the loop driver met write errors: $found"
}

# checksum DEVICE OFFSET_MIB COUNT_MIB: SHA-256 of a range read with O_DIRECT.
checksum() {
	dd if="$1" bs=1M skip="$2" count="$3" iflag=direct status=none | sha256sum | cut -d' ' -f1
}

# write_random FILE DEVICE OFFSET_MIB: writes FILE to DEVICE with O_DIRECT
# and fsync, and fails when the write fails.
write_random() {
	dd if="$1" of="$2" bs=1M seek="$3" oflag=direct conv=fsync,notrunc status=none ||
		fail "writing $1 to $2 at $3 MiB failed"
}

random_file() {
	dd if=/dev/urandom of="$1" bs=1M count="$2" status=none
}

# The mode field of a thin-pool status line: rw, ro, out_of_data_space or Fail.
pool_mode() {
	dmsetup status "$1" | awk '{ print $8 }'
}

test_module_lists_target() {
	load_guard_module
	dmsetup targets | grep -Eq '^space-guard +v1\.0\.0$' ||
		fail "dmsetup targets does not list space-guard v1.0.0: $(dmsetup targets | tr '\n' ' ')"
	modinfo "$GUARD_MODULE" | grep -Eq '^alias: +dm-space-guard$' ||
		fail "the module has no alias dm-space-guard, so table loads cannot load it"
}

test_unload_rejected_while_in_use() {
	load_guard_module
	make_backing 64M 256M
	create_device "${TEST_PREFIX}guard" "$(guard_table 524288 0 0 0)"

	expect_failure 1 'in use' rmmod dm_space_guard
	dmsetup remove "${TEST_PREFIX}guard"
	rmmod dm_space_guard || fail "rmmod failed after the last table was removed"
	if grep -q '^dm_space_guard ' /proc/modules; then
		fail "the module is still loaded after rmmod"
	fi

	insmod "$GUARD_MODULE"
}

test_table_round_trip() {
	local name=${TEST_PREFIX}guard table expected devno

	load_guard_module
	make_backing 64M 256M
	devno=$(lsblk -dn -o MAJ:MIN "$LOOP" | tr -d ' ')

	create_device "$name" "$(guard_table 262144 1024 1000000 2000000 granule_sectors:256 refresh_ms:250)"
	table=$(dmsetup table "$name")
	expected="0 262144 space-guard $devno 1024 $BACKING 524288 1000000 2000000 2 refresh_ms:250 granule_sectors:256"
	assert_eq "$table" "$expected" "table with features, printed in canonical order"

	dmsetup reload "$name" --table "$table"
	dmsetup resume "$name"
	assert_eq "$(dmsetup table "$name")" "$expected" "table after reloading the printed table"

	dmsetup reload "$name" --table "$(guard_table 262144 0 0 0) 0"
	dmsetup resume "$name"
	assert_eq "$(dmsetup table "$name")" "0 262144 space-guard $devno 0 $BACKING 0 0 0" \
		"table with an empty feature group"

	dmsetup message "$name" 0 low_water 7000000
	dmsetup message "$name" 0 reserve 5000000
	table=$(dmsetup table "$name")
	assert_eq "$table" "0 262144 space-guard $devno 0 $BACKING 0 5000000 7000000" \
		"table after the reserve and low water messages"
	dmsetup reload "$name" --table "$table"
	dmsetup resume "$name"
	assert_eq "$(dmsetup table "$name")" "$table" "table after reloading the changed thresholds"
}

# libdevmapper doubles every backslash, so only the raw ioctl helper can pass
# a space escaped as dm_split_args() allows.
test_table_path_with_space() {
	local path spaced_loop params table devno

	load_guard_module
	make_guard_host_fs 64M
	path="$HOST_DIR/with space.img"
	truncate -s 128M "$path"
	spaced_loop=$(losetup -f --show "$path")
	devno=$(lsblk -dn -o MAJ:MIN "$spaced_loop" | tr -d ' ')
	params="$spaced_loop 0 $HOST_DIR/with\\ space.img 0 0 0"

	"$HELPERS/guard-table" "${TEST_PREFIX}spaced" 0 262144 space-guard "$params" ||
		fail "the raw ioctl helper could not load an escaped path"
	table=$(dmsetup table "${TEST_PREFIX}spaced")
	assert_eq "$table" "0 262144 space-guard $devno 0 $HOST_DIR/with\\ space.img 0 0 0" \
		"table with an escaped space"

	"$HELPERS/guard-table" "${TEST_PREFIX}reloaded" 0 262144 space-guard "${table#0 262144 space-guard }" ||
		fail "the printed table with an escaped space did not load again"
	assert_eq "$(dmsetup table "${TEST_PREFIX}reloaded")" "$table" "table loaded from the printed one"

	expect_failure 1 'Invalid argument' dmsetup create "${TEST_PREFIX}dmsetup" --table "0 262144 space-guard $params"
	output_matches 'space-guard: Backing file path contains a backslash' kernel_log_since_start ||
		fail "a path that libdevmapper escaped was not rejected for its backslash"
}

test_status_matches_file_and_statfs() {
	local name=${TEST_PREFIX}guard offset

	load_guard_module
	make_backing 256M 1G
	dd if=/dev/urandom of="$BACKING" bs=64K count=5 seek=100 conv=notrunc status=none
	dd if=/dev/urandom of="$BACKING" bs=4K count=3 seek=7001 conv=notrunc status=none
	create_device "$name" "$(guard_table 2097152 0 0 0)"

	assert_eq "$(guard_status "$name" allocated)" "$(allocated_in_file "$BACKING" 0 $((1024 * MIB)))" \
		"allocated bytes of data written before the table was loaded"
	dmsetup message "$name" 0 refresh
	assert_within "$(guard_status "$name" free)" "$(host_free)" "$GRANULE_BYTES" "free bytes after a refresh"

	for offset in 3 17 18 250 251 600 1000; do
		dd if=/dev/urandom of="/dev/mapper/$name" bs=4K count=$((offset % 7 + 1)) seek=$((offset * 256 + offset)) \
			oflag=direct status=none
	done
	dd if=/dev/urandom of="/dev/mapper/$name" bs=1M count=8 seek=300 oflag=direct status=none
	assert_within "$(guard_status "$name" allocated)" "$(allocated_in_file "$BACKING" 0 $((1024 * MIB)))" \
		"$GRANULE_BYTES" "allocated bytes after scattered writes"
	dmsetup message "$name" 0 refresh
	assert_within "$(guard_status "$name" free)" "$(host_free)" "$GRANULE_BYTES" "free bytes after scattered writes"

	blkdiscard -o $((302 * MIB)) -l $((4 * MIB)) "/dev/mapper/$name"
	assert_within "$(guard_status "$name" allocated)" "$(allocated_in_file "$BACKING" 0 $((1024 * MIB)))" \
		"$GRANULE_BYTES" "allocated bytes after a discard punched a hole"
	assert_le "$(guard_status "$name" allocated)" $((9 * MIB)) "allocated bytes after the discard"
	dmsetup message "$name" 0 refresh
	assert_within "$(guard_status "$name" free)" "$(host_free)" "$GRANULE_BYTES" "free bytes after a discard"
}

test_write_fails_with_enospc() {
	local name=${TEST_PREFIX}guard max_bio
	local reserve=$((32 * MIB))

	load_guard_module
	make_backing 256M 1G
	create_device "$name" "$(guard_table 2097152 0 "$reserve" $((64 * MIB)) refresh_ms:100)"
	random_file "$TEST_DIR/a" 16
	write_random "$TEST_DIR/a" "/dev/mapper/$name" 0

	fill_host_to $((48 * MIB))
	expect_failure 1 'No space left on device' \
		dd if=/dev/zero of="/dev/mapper/$name" bs=1M seek=256 count=200 oflag=direct
	assert_eq "$(guard_status "$name" state)" exhausted "state after the failed write"
	assert_ge "$(guard_status "$name" failed)" 1 "failed writes"
	expect_failure 1 'No space left on device' \
		dd if=/dev/zero of="/dev/mapper/$name" bs=4K seek=$((900 * 256)) count=1 oflag=direct

	# The write that crosses the reserve may pass it by its own size, and
	# the host filesystem needs a little metadata for the blocks written.
	max_bio=$(($(cat "/sys/block/$(dmsetup info -c --noheadings -o blkdevname "$name")/queue/max_sectors_kb") * 1024))
	assert_ge "$(host_free)" $((reserve - max_bio - MIB)) "host free bytes at exhaustion"
	assert_no_loop_write_errors

	assert_eq "$(checksum "/dev/mapper/$name" 0 16)" "$(sha256sum <"$TEST_DIR/a" | cut -d' ' -f1)" \
		"checksum of the data written before exhaustion"
	random_file "$TEST_DIR/b" 16
	dd if="$TEST_DIR/b" of="/dev/mapper/$name" bs=1M oflag=direct status=none ||
		fail "overwriting allocated data failed at exhaustion"
	assert_eq "$(checksum "/dev/mapper/$name" 0 16)" "$(sha256sum <"$TEST_DIR/b" | cut -d' ' -f1)" \
		"checksum of the data overwritten at exhaustion"

	rm -f "$HOST_DIR"/filler.*
	wait_for_state "$name" ok
	dd if=/dev/zero of="/dev/mapper/$name" bs=1M seek=512 count=8 oflag=direct status=none ||
		fail "a write that needs new space failed after space was freed"
	assert_no_kernel_warnings
}

test_crypt_write_fails_with_enospc() {
	local guard=${TEST_PREFIX}guard crypt=${TEST_PREFIX}crypt key

	load_guard_module
	make_backing 256M 512M
	create_device "$guard" "$(guard_table 1048576 0 $((32 * MIB)) $((64 * MIB)) refresh_ms:100)"
	key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	create_device "$crypt" "0 1048576 crypt aes-xts-plain64 $key 0 /dev/mapper/$guard 0"
	random_file "$TEST_DIR/a" 16
	write_random "$TEST_DIR/a" "/dev/mapper/$crypt" 8

	fill_host_to $((40 * MIB))
	expect_failure 1 'No space left on device' \
		dd if=/dev/zero of="/dev/mapper/$crypt" bs=1M seek=128 count=100 oflag=direct
	assert_eq "$(guard_status "$guard" state)" exhausted "guard state under dm-crypt"
	assert_no_loop_write_errors

	assert_eq "$(checksum "/dev/mapper/$crypt" 8 16)" "$(sha256sum <"$TEST_DIR/a" | cut -d' ' -f1)" \
		"checksum through dm-crypt after exhaustion"
	dd if="$TEST_DIR/a" of="/dev/mapper/$crypt" bs=1M seek=8 oflag=direct status=none ||
		fail "overwriting through dm-crypt failed at exhaustion"
	assert_no_kernel_warnings
}

# setup_thin_stack DATA_TARGET: sparse metadata and data areas of one image
# on a 256 MiB host filesystem, a thin pool with error_if_no_space and a
# thin volume. DATA_TARGET is "guard" or "linear".
setup_thin_stack() {
	local meta_sectors=32768 data_sectors=$((2097152 - 32768)) data_table

	make_backing 256M 1G
	create_device "${TEST_PREFIX}meta" "0 $meta_sectors linear $LOOP 0"
	dd if=/dev/zero of="/dev/mapper/${TEST_PREFIX}meta" bs=4K count=1 oflag=direct status=none
	if [ "$1" = guard ]; then
		data_table=$(guard_table "$data_sectors" "$meta_sectors" $((32 * MIB)) $((64 * MIB)) refresh_ms:200)
	else
		data_table="0 $data_sectors linear $LOOP $meta_sectors"
	fi
	create_device "${TEST_PREFIX}data" "$data_table"
	create_device "${TEST_PREFIX}pool" "0 $data_sectors thin-pool /dev/mapper/${TEST_PREFIX}meta /dev/mapper/${TEST_PREFIX}data 128 0 1 error_if_no_space"
	dmsetup message "${TEST_PREFIX}pool" 0 "create_thin 1"
	create_device "${TEST_PREFIX}thin" "0 $data_sectors thin /dev/mapper/${TEST_PREFIX}pool 1"
	THIN=/dev/mapper/${TEST_PREFIX}thin
}

test_thin_pool_survives_exhaustion() {
	local pool=${TEST_PREFIX}pool status

	load_guard_module
	setup_thin_stack guard
	random_file "$TEST_DIR/a" 16
	write_random "$TEST_DIR/a" "$THIN" 0

	fill_host_to $((48 * MIB))
	expect_failure 1 'Input/output error' dd if=/dev/urandom of="$THIN" bs=1M seek=100 count=200 oflag=direct
	assert_ge "$(guard_status "${TEST_PREFIX}data" failed)" 1 "writes the guard failed under the pool"
	dmsetup message "$pool" 0 "create_thin 2" || fail "the pool rejected a metadata change after exhaustion"
	dmsetup suspend "$pool"
	dmsetup resume "$pool"

	status=$(dmsetup status "$pool")
	echo "pool status: $status"
	assert_eq "$(pool_mode "$pool")" rw "pool mode after exhaustion"
	if echo "$status" | grep -qE 'needs_check|Fail'; then
		fail "the pool needs a check after exhaustion: $status"
	fi
	assert_no_loop_write_errors

	assert_eq "$(checksum "$THIN" 0 16)" "$(sha256sum <"$TEST_DIR/a" | cut -d' ' -f1)" \
		"checksum of fsync'ed data on the thin volume"
	dd if="$TEST_DIR/a" of="$THIN" bs=1M oflag=direct status=none || fail "overwriting provisioned blocks failed"

	dmsetup remove "${TEST_PREFIX}thin"
	dmsetup remove "$pool"
	thin_check "/dev/mapper/${TEST_PREFIX}meta" || fail "thin_check found damaged pool metadata"
	assert_no_kernel_warnings
}

# The same stack with linear in place of the guard shows the failure the
# guard prevents: the loop driver meets ENOSPC and the pool's metadata
# commit fails, which leaves the pool read-only or failed and flagged
# needs_check.
test_thin_pool_fails_without_guard() {
	local pool=${TEST_PREFIX}pool status

	load_guard_module
	setup_thin_stack linear
	random_file "$TEST_DIR/a" 16
	write_random "$TEST_DIR/a" "$THIN" 0

	fill_host_to $((48 * MIB))
	expect_failure 1 'Input/output error' dd if=/dev/urandom of="$THIN" bs=1M seek=100 count=200 oflag=direct
	dmsetup message "$pool" 0 "create_thin 2" || true
	dmsetup suspend "$pool" || true
	dmsetup resume "$pool" || true

	output_matches 'loop[0-9]*: Write error' kernel_log_since_start || fail "the loop driver met no write error without the guard"
	status=$(dmsetup status "$pool")
	echo "pool status: $status"
	if [ "$(pool_mode "$pool")" = rw ] && ! echo "$status" | grep -q needs_check; then
		fail "the pool stayed healthy without the guard: $status"
	fi
}

test_events_at_low_water_and_exhaustion() {
	local name=${TEST_PREFIX}guard event

	load_guard_module
	make_backing 256M 512M
	create_device "$name" "$(guard_table 1048576 0 $((32 * MIB)) $((96 * MIB)) refresh_ms:100)"
	assert_eq "$(guard_status "$name" state)" ok "state with a nearly empty host filesystem"

	event=$(event_number "$name")
	fill_host_to $((64 * MIB))
	wait_for_event "$name" "$event"
	assert_eq "$(guard_status "$name" state)" low "state below the low water mark"
	assert_within "$(guard_status "$name" free)" "$(host_free)" "$GRANULE_BYTES" "free bytes reported with the event"

	event=$(event_number "$name")
	fill_host_to $((16 * MIB))
	wait_for_event "$name" "$event"
	assert_eq "$(guard_status "$name" state)" exhausted "state below the reserve"
	assert_within "$(guard_status "$name" free)" "$(host_free)" "$GRANULE_BYTES" "free bytes reported at exhaustion"

	event=$(event_number "$name")
	rm -f "$HOST_DIR"/filler.*
	wait_for_event "$name" "$event"
	wait_for_state "$name" ok

	# Writes through the guard raise the events too.
	event=$(event_number "$name")
	fill_host_to $((80 * MIB))
	wait_for_event "$name" "$event"
	assert_eq "$(guard_status "$name" state)" low "state before the guard's own writes"
	event=$(event_number "$name")
	expect_failure 1 'No space left on device' dd if=/dev/zero of="/dev/mapper/$name" bs=1M count=100 oflag=direct
	wait_for_event "$name" "$event"
	assert_eq "$(guard_status "$name" state)" exhausted "state after the guard's own writes"
}

test_messages_change_thresholds() {
	local name=${TEST_PREFIX}guard free event message

	load_guard_module
	make_backing 128M 256M
	create_device "$name" "$(guard_table 524288 0 $((8 * MIB)) $((16 * MIB)))"

	dmsetup message "$name" 0 low_water 30000000
	dmsetup message "$name" 0 reserve 20000000
	assert_eq "$(guard_status "$name" reserve)" 20000000 "reserve after the message"
	assert_eq "$(guard_status "$name" low_water)" 30000000 "low water mark after the message"

	for message in "reserve 30000001" "low_water 19999999" "reserve abc" "reserve -5" \
		"reserve 99999999999999999999" "reserve 9223372036854775808" "low_water" "reserve" \
		"refresh now" "bogus" "reserve 1 2"; do
		# shellcheck disable=SC2086
		expect_failure 1 'Invalid argument' dmsetup message -- "$name" 0 $message
	done
	assert_eq "$(guard_status "$name" reserve)" 20000000 "reserve after rejected messages"
	assert_eq "$(guard_status "$name" low_water)" 30000000 "low water mark after rejected messages"

	dmsetup message "$name" 0 refresh
	free=$(guard_status "$name" free)
	event=$(event_number "$name")
	dmsetup message "$name" 0 low_water $((free * 2))
	dmsetup message "$name" 0 reserve $((free * 2))
	wait_for_event "$name" "$event"
	assert_eq "$(guard_status "$name" state)" exhausted "state after raising the reserve above the free space"
	expect_failure 1 'No space left on device' dd if=/dev/zero of="/dev/mapper/$name" bs=64K count=1 oflag=direct

	event=$(event_number "$name")
	dmsetup message "$name" 0 reserve 0
	dmsetup message "$name" 0 low_water 0
	wait_for_event "$name" "$event"
	assert_eq "$(guard_status "$name" state)" ok "state after lowering both thresholds"
	dd if=/dev/zero of="/dev/mapper/$name" bs=64K count=1 oflag=direct status=none ||
		fail "a write that needs new space failed after the reserve was lowered"
}

# Prints malformed parameter strings for a target of 262144 sectors, one a
# line. Each breaks one rule of a valid table, or is garbage.
malformed_tables() {
	local valid_file=$1 dir=$2 loop=$3 big_loop=$4 big_file=$5 shrunk_loop=$6
	local device file_args value feature i

	RANDOM=20261204
	file_args="$valid_file 0 0 0"
	# Argument counts.
	echo ""
	echo "$loop"
	echo "$loop 0"
	echo "$loop 0 $valid_file"
	echo "$loop 0 $valid_file 0"
	echo "$loop 0 $valid_file 0 0"
	# Devices.
	for device in /dev/nonexistent garbage 4095:1048575 1000000:0 "$valid_file" "$dir" /dev/null -1 "" ; do
		[ -n "$device" ] && echo "$device 0 $file_args"
	done
	# Device offsets.
	for value in -1 abc 1e5 +5 0x10 " 5" 18446744073709551615 18446744073709551616 \
		99999999999999999999999 262145 "$((1 << 40))" 1.5 5abc ""; do
		[ -n "$value" ] && echo "$loop $value $file_args"
	done
	# Backing files.
	for value in relative/file "$dir" "$dir/missing" /dev/null "$loop" "$dir/fifo" "$dir/to-dir" \
		"$dir/dangling" "$dir/small" /proc/self/fd/0 "/$(printf 'x%.0s' {1..4200})" \
		"$valid_file/child" /; do
		echo "$loop 0 $value 0 0 0"
	done
	# File offsets.
	for value in -1 abc 9223372036854775808 9223372036854775807 18446744073709551616 \
		"$((1024 * MIB))" 512x +0 " "; do
		[ -n "${value// /}" ] && echo "$loop 0 $valid_file $value 0 0"
	done
	# Thresholds.
	for value in "-1 0" "abc 0" "0 abc" "9223372036854775808 9223372036854775808" \
		"18446744073709551616 0" "100 99" "1 0" "0 -1" "0x10 0x20" "1e9 2e9"; do
		echo "$loop 0 $valid_file 0 $value"
	done
	# Features.
	for feature in "1" "3 a b c" "1 bogus" "1 refresh_ms:" "1 refresh_ms:abc" "1 refresh_ms:0" \
		"1 refresh_ms:9" "1 refresh_ms:3600001" "1 refresh_ms:-5" "1 refresh_ms:18446744073709551616" \
		"2 refresh_ms:100 refresh_ms:200" "2 granule_sectors:128 granule_sectors:128" \
		"1 granule_sectors:0" "1 granule_sectors:3" "1 granule_sectors:4194304" "1 granule_sectors:-128" \
		"1 REFRESH_MS:100" "1 refresh_ms=100" "-1" "abc" "2 refresh_ms:100" "0 extra" \
		"1 refresh_ms:100 extra" "4294967296" "1 granule_sectors:" "1 granule_sectors:1.5" \
		"2 granule_sectors:8 bogus" "1 refresh_ms:100:200" "1 :" "99"; do
		echo "$loop 0 $file_args $feature"
	done
	# A file shrunk under its loop device, so the range passes its end.
	echo "$shrunk_loop 0 $dir/shrunk 0 0 0"
	# Too many granules for the bitmap: 2 TiB at one sector per granule.
	echo "BIG $big_loop 0 $big_file 0 0 0 1 granule_sectors:1"
	# One valid argument replaced by a random invalid one.
	for i in $(seq 1 60); do
		case $((RANDOM % 6)) in
		0) echo "$((RANDOM))x $((RANDOM)) $file_args" ;;
		1) echo "$loop 1$((RANDOM))$((RANDOM))$((RANDOM))$((RANDOM)) $file_args" ;;
		2) echo "$loop 0 $dir/missing-$RANDOM 0 0 0" ;;
		3) echo "$loop 0 $valid_file -$RANDOM 0 0" ;;
		4) echo "$loop 0 $valid_file 0 $((RANDOM + 1)) $((RANDOM % 1))" ;;
		5) echo "$loop 0 $file_args $((RANDOM % 3 + 1)) refresh_ms:$((RANDOM % 10))" ;;
		esac
	done
	# Garbage bytes, without NUL and newline, which cannot pass through.
	for i in $(seq 1 50); do
		echo "RAW $(head -c $((RANDOM % 200 + 1)) /dev/urandom | tr -d '\000\n')"
	done
	for i in $(seq 1 20); do
		echo "RAW $loop 0 $valid_file 0 0 0 1 $(head -c $((RANDOM % 40 + 1)) /dev/urandom | tr -d '\000\n')"
	done
}

test_malformed_tables_rejected() {
	local name=${TEST_PREFIX}fuzz dir big_file big_loop shrunk_loop params count=0 status

	load_guard_module
	make_backing 64M 128M
	dir=$HOST_DIR
	mkfifo "$dir/fifo"
	ln -s "$dir" "$dir/to-dir"
	ln -s "$dir/nowhere" "$dir/dangling"
	truncate -s 1M "$dir/small"
	big_file=$dir/big
	truncate -s 2T "$big_file"
	big_loop=$(losetup -f --show "$big_file")
	truncate -s 128M "$dir/shrunk"
	shrunk_loop=$(losetup -f --show "$dir/shrunk")
	truncate -s 64M "$dir/shrunk"
	create_device "$name" "0 262144 space-guard $LOOP 0 $BACKING 0 0 0"
	dmsetup remove "$name"

	while IFS= read -r params; do
		count=$((count + 1))
		status=0
		case "$params" in
		"BIG "*)
			timeout 60 dmsetup create "$name" --table "0 $((1 << 32)) space-guard ${params#BIG }" \
				>/dev/null 2>&1 || status=$?
			;;
		"RAW "*)
			timeout 60 "$HELPERS/guard-table" "$name" 0 262144 space-guard "${params#RAW }" \
				>/dev/null 2>&1 || status=$?
			;;
		*)
			timeout 60 dmsetup create "$name" --table "0 262144 space-guard $params" \
				>/dev/null 2>&1 || status=$?
			;;
		esac
		[ "$status" -ne 124 ] || fail "loading table $count timed out: $params"
		[ "$status" -ne 0 ] || fail "malformed table $count was accepted: $params"
		if dmsetup info "$name" >/dev/null 2>&1; then
			fail "malformed table $count left device $name behind: $params"
		fi
	done < <(malformed_tables "$BACKING" "$dir" "$LOOP" "$big_loop" "$big_file" "$shrunk_loop")

	echo "$count malformed tables rejected"
	assert_ge "$count" 200 "malformed tables tried"
	assert_no_kernel_warnings

	# A valid table still loads afterwards, and no table uses the module.
	create_device "$name" "0 131072 space-guard $LOOP 0 $BACKING 0 0 0"
	dmsetup remove "$name"
	assert_eq "$(awk '$1 == "dm_space_guard" { print $3 }' /proc/modules)" 0 "module use count"
}

# Random writes with verification, discards, status reads, messages and
# suspends at the same time, then writes at exhaustion: nothing may warn,
# and the verified data must survive.
test_stress_no_warnings() {
	local name=${TEST_PREFIX}guard device stress_pid status
	local verify_job=(--name=verify --filename="/dev/mapper/${TEST_PREFIX}guard" --offset=0 --size=192M
		--rw=randwrite --bsrange=4k-64k --direct=1 --ioengine=libaio --iodepth=16 --verify=crc32c
		--verify_fatal=1)

	load_guard_module
	make_backing 1G 1G
	device=/dev/mapper/$name
	create_device "$name" "$(guard_table 2097152 0 $((64 * MIB)) $((128 * MIB)) refresh_ms:50)"
	dd if=/dev/urandom of="$device" bs=1M seek=256 count=64 oflag=direct status=none

	(
		while :; do
			blkdiscard -o $((256 * MIB + (RANDOM % 60) * MIB)) -l $((RANDOM % 4 * MIB + 65536)) "$device"
			dmsetup status "$name" >/dev/null
			dmsetup message "$name" 0 refresh
			dd if=/dev/urandom of="$device" bs=64K seek=$((4096 + RANDOM % 1024)) count=4 oflag=direct status=none
			sleep 0.1
		done
	) &
	stress_pid=$!
	track_pid "$stress_pid"
	(
		for _ in 1 2 3; do
			sleep 2
			dmsetup suspend "$name" && dmsetup resume "$name"
		done
	) &
	track_pid $!

	fio "${verify_job[@]}" --output="$TEST_DIR/fio-verify.log" ||
		fail "fio verify failed: $(tail -20 "$TEST_DIR/fio-verify.log")"
	kill "$stress_pid"
	wait "$stress_pid" 2>/dev/null || true

	fill_host_to $((96 * MIB))
	(
		while :; do
			dmsetup message "$name" 0 reserve $((48 * MIB)) && dmsetup message "$name" 0 reserve $((64 * MIB))
			dmsetup status "$name" >/dev/null
		done
	) &
	stress_pid=$!
	track_pid "$stress_pid"
	status=0
	fio --name=exhaust --filename="$device" --offset=512M --size=512M --rw=randwrite --bsrange=4k-256k \
		--direct=1 --ioengine=libaio --iodepth=32 --numjobs=2 --continue_on_error=all --runtime=20 \
		--time_based --output="$TEST_DIR/fio-exhaust.log" || status=$?
	kill "$stress_pid"
	wait "$stress_pid" 2>/dev/null || true
	echo "fio at exhaustion exited with $status"

	assert_ge "$(guard_status "$name" failed)" 1 "writes failed at exhaustion"
	assert_no_loop_write_errors
	fio "${verify_job[@]}" --verify_only --output="$TEST_DIR/fio-reverify.log" ||
		fail "data written before exhaustion no longer verifies: $(tail -20 "$TEST_DIR/fio-reverify.log")"
	assert_no_kernel_warnings
}

# The thin stack over the guard under fio with verification, while thin
# discards pass down to the guard and its status is read: the data must
# verify and nothing may warn.
test_stress_thin_stack_verifies() {
	local stress_pid

	load_guard_module
	setup_thin_stack guard
	dd if=/dev/urandom of="$THIN" bs=1M seek=200 count=32 oflag=direct status=none
	(
		while :; do
			blkdiscard -o $((200 * MIB + (RANDOM % 28) * MIB)) -l $((4 * MIB)) "$THIN" || true
			dmsetup status "${TEST_PREFIX}data" >/dev/null || true
			dmsetup status "${TEST_PREFIX}pool" >/dev/null || true
			sleep 0.2
		done
	) &
	stress_pid=$!
	track_pid "$stress_pid"

	fio --name=verify --filename="$THIN" --offset=0 --size=96M --rw=randwrite --bsrange=4k-128k \
		--direct=1 --ioengine=libaio --iodepth=16 --verify=crc32c --verify_fatal=1 \
		--output="$TEST_DIR/fio.log" || fail "fio verify on the thin volume failed: $(tail -20 "$TEST_DIR/fio.log")"
	kill "$stress_pid"
	wait "$stress_pid" 2>/dev/null || true

	assert_eq "$(pool_mode "${TEST_PREFIX}pool")" rw "pool mode after the stress run"
	assert_eq "$(guard_status "${TEST_PREFIX}data" failed)" 0 "writes failed with space to spare"
	assert_no_loop_write_errors
	assert_no_kernel_warnings
}
