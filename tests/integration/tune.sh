# dmtool tune on real volumes: it measures beside the volume without
# touching its data, removes every scratch device again (also after an
# interruption), records the chosen flags in the header, and the next
# open uses them. Which flags win depends on the machine and its noise,
# so the tests that need a header change set DMTOOL_TUNE_CHOICE; the
# measurement, the header write and the reopen stay real. Measurements of
# 0.3 s keep the tests short, because no test depends on their values.
# shellcheck shell=bash

MIB=$((1024 * 1024))

# create_volume LAYOUT [OPTIONS...]: a 1 GiB volume with a 512 MiB pool,
# opened as $(volume_name); sets IMAGE and NAME.
create_volume() {
	local layout=$1
	shift
	IMAGE=$TEST_DIR/volume.img
	NAME=$(volume_name)
	make_key_file
	"$DMTOOL" create "$IMAGE" --size 1G --initial 512M --layout "$layout" \
		--key-file "$KEY_FILE" "${FAST_KDF[@]}" --open "$NAME" "$@"
}

# The crypt line that opening the image would load now: the header's flags.
header_crypt_line() {
	"$DMTOOL" table "$IMAGE" "${TEST_PREFIX}probe" | grep ' crypt '
}

# The crypt line of the open volume: the flags in effect.
live_crypt_line() {
	"$DMTOOL" table "$NAME" | grep ' crypt '
}

generation() {
	"$DMTOOL" info --json "$IMAGE" | jq -r .generation
}

assert_no_tune_devices() {
	local left

	left=$(dmsetup ls 2>/dev/null | awk -v p="$NAME-tune-" 'index($1, p) == 1 { print $1 }' | tr '\n' ' ')
	[ -z "$left" ] || fail "scratch devices left behind: $left"
	left=$(losetup -a | grep -c 'dmtool-tune' || true)
	assert_eq "$left" 0 "loop devices over scratch files"
	left=$(find "$TEST_DIR" -maxdepth 1 -name '.dmtool-tune-*' | wc -l)
	assert_eq "$left" 0 "scratch files left in $TEST_DIR"
}

# Thin device 1 of the pool must be gone: creating it again succeeds.
assert_scratch_thin_deleted() {
	dmsetup message "$NAME-pool" 0 "create_thin 1" || fail "thin device 1 is still in $NAME-pool"
	dmsetup message "$NAME-pool" 0 "delete 1"
}

# check_tune_json FILE OLD CHOSEN: tune's JSON output names OLD as the
# header's flags and CHOSEN as the chosen ones (jq arrays), and every
# variant has a positive throughput in every profile.
check_tune_json() {
	local file=$1

	cat "$file"
	assert_eq "$(jq -c .old_flags "$file")" "$2" "flags before tuning"
	assert_eq "$(jq -c .chosen_flags "$file")" "$3" "chosen flags"
	assert_eq "$(jq '.variants | length' "$file")" 4 "variants measured"
	assert_eq "$(jq '[.variants[].throughput | to_entries[] | select(.value > 0)] | length' "$file")" 24 \
		"measurements above zero (4 variants, 6 profiles)"
	assert_eq "$(jq '[.variants[] | select(.current)] | length' "$file")" 1 "variants marked current"
}

test_thin_crypt_keeps_data_records_flags() {
	local before

	create_volume thin-crypt
	mkfs.ext4 -q "/dev/mapper/$NAME"
	mkdir -p "$TEST_DIR/mnt"
	mount "/dev/mapper/$NAME" "$TEST_DIR/mnt"
	fill_files "$TEST_DIR/mnt"
	sync
	checksum_tree "$TEST_DIR/mnt" >"$TEST_DIR/before.md5"
	before=$(generation)

	# Mounted and in use: tune never needs the volume to itself.
	DMTOOL_TUNE_CHOICE=no_read_workqueue "$DMTOOL" tune "$NAME" --json --rounds 1 --runtime 0.3 >"$TEST_DIR/tune.json"
	check_tune_json "$TEST_DIR/tune.json" '["allow_discards"]' '["allow_discards","no_read_workqueue"]'
	assert_eq "$(jq -r .header_written "$TEST_DIR/tune.json")" true "header written"
	jq -r .scratch "$TEST_DIR/tune.json" | grep -q "thin device 1 in pool $NAME-pool" ||
		fail "tune did not measure on thin device 1 of the volume's pool"

	checksum_tree "$TEST_DIR/mnt" | cmp - "$TEST_DIR/before.md5" || fail "file checksums differ after tune"
	assert_no_tune_devices
	assert_scratch_thin_deleted
	assert_eq "$(generation)" $((before + 1)) "header generation"
	header_crypt_line | grep -q 'allow_discards no_read_workqueue' ||
		fail "the header does not hold no_read_workqueue: $(header_crypt_line)"
	live_crypt_line | grep -q no_read_workqueue &&
		fail "the open volume changed its flags before a reopen: $(live_crypt_line)"

	umount "$TEST_DIR/mnt"
	"$DMTOOL" close "$NAME"
	"$DMTOOL" open "$IMAGE" "$NAME" --key-file "$KEY_FILE"
	live_crypt_line | grep -q 'allow_discards no_read_workqueue' ||
		fail "the reopened volume does not use no_read_workqueue: $(live_crypt_line)"
	assert_eq "$("$DMTOOL" status --json "$NAME" | jq -c .crypt.flags)" \
		'["allow_discards","no_read_workqueue"]' "status crypt flags after reopen"
	dmsetup table "$NAME" | grep -q 'no_read_workqueue' || fail "the kernel's table lacks no_read_workqueue"
	mount "/dev/mapper/$NAME" "$TEST_DIR/mnt"
	checksum_tree "$TEST_DIR/mnt" | cmp - "$TEST_DIR/before.md5" || fail "file checksums differ after reopen"
	assert_ge "$(wc -l <"$TEST_DIR/before.md5")" 100 "files verified"
	umount "$TEST_DIR/mnt"
	"$DMTOOL" close "$NAME"
	assert_no_leftovers "$IMAGE"
}

# crypt and crypt-thin measure on a loop device over a temporary file
# next to the image; the volume's own devices are never written.
check_scratch_file_layout() {
	local layout=$1 choice=$2 chosen=$3 engine=$4 sum

	create_volume "$layout"
	head -c $((32 * MIB)) /dev/urandom >"$TEST_DIR/data"
	dd if="$TEST_DIR/data" of="/dev/mapper/$NAME" bs=1M oflag=direct status=none
	sum=$(md5sum <"$TEST_DIR/data")

	DMTOOL_TUNE_CHOICE=$choice "$DMTOOL" tune "$NAME" --json --rounds 1 --runtime 0.3 --engine "$engine" >"$TEST_DIR/tune.json"
	check_tune_json "$TEST_DIR/tune.json" '["allow_discards"]' "$chosen"
	assert_eq "$(jq -r .engine "$TEST_DIR/tune.json")" "$engine" "engine"
	[ "$engine" = aio ] || jq -r .engine_version "$TEST_DIR/tune.json" | grep -q '^fio-' ||
		fail "no fio version in tune's JSON"
	jq -r .scratch "$TEST_DIR/tune.json" | grep -q "over a temporary file in $TEST_DIR" ||
		fail "tune did not measure on a scratch file next to the image"
	assert_eq "$(head -c $((32 * MIB)) "/dev/mapper/$NAME" | md5sum)" "$sum" "data checksum after tune"
	assert_no_tune_devices

	"$DMTOOL" close "$NAME"
	"$DMTOOL" open "$IMAGE" "$NAME" --key-file "$KEY_FILE"
	live_crypt_line | grep -q "$(jq -r '.chosen_flags | join(" ")' "$TEST_DIR/tune.json")" ||
		fail "the reopened volume does not use the chosen flags: $(live_crypt_line)"
	assert_eq "$(head -c $((32 * MIB)) "/dev/mapper/$NAME" | md5sum)" "$sum" "data checksum after reopen"
	"$DMTOOL" close "$NAME"
	assert_no_leftovers "$IMAGE"
}

test_crypt_layout_uses_scratch_file() {
	check_scratch_file_layout crypt same_cpu_crypt '["allow_discards","same_cpu_crypt"]' aio
}

test_crypt_thin_uses_scratch_file() {
	check_scratch_file_layout crypt-thin no_read_workqueue,no_write_workqueue \
		'["allow_discards","no_read_workqueue","no_write_workqueue"]' fio
}

test_dry_run_keeps_header() {
	local before line

	create_volume crypt
	before=$(generation)
	line=$(header_crypt_line)
	# Without fio in PATH, tune measures with its own loop.
	DMTOOL_TUNE_CHOICE=no_read_workqueue PATH=/nonexistent "$DMTOOL" tune "$NAME" --dry-run --rounds 1 --runtime 0.3 |
		tee "$TEST_DIR/tune.txt"
	grep -q 'dry run: the header is unchanged' "$TEST_DIR/tune.txt" || fail "no dry-run notice"
	grep -q ', with Linux AIO;' "$TEST_DIR/tune.txt" || fail "tune without fio did not use its own loop"
	grep -Eq '^no_read_workqueue +.*chosen$' "$TEST_DIR/tune.txt" || fail "the table does not mark the chosen row"
	assert_eq "$(generation)" "$before" "header generation after a dry run"
	assert_eq "$(header_crypt_line)" "$line" "header crypt line after a dry run"
	assert_no_tune_devices
}

# Keeping the header's flags is a valid outcome: then nothing is written.
test_unforced_choice_matches_header() {
	local before chosen

	create_volume thin-crypt
	before=$(generation)
	"$DMTOOL" tune "$NAME" --json --rounds 1 --runtime 0.3 >"$TEST_DIR/tune.json"
	cat "$TEST_DIR/tune.json"
	assert_eq "$(jq -r .engine "$TEST_DIR/tune.json")" fio "engine with fio installed"
	chosen=$(jq -r '.chosen_flags | join(" ")' "$TEST_DIR/tune.json")
	header_crypt_line | grep -q " 0 [^ ]* 32768 [0-9]* $chosen\( sector_size:4096\)\?$" ||
		fail "the header's flags are not the chosen '$chosen': $(header_crypt_line)"
	if [ "$(jq -c .chosen_flags "$TEST_DIR/tune.json")" = '["allow_discards"]' ]; then
		assert_eq "$(generation)" "$before" "header generation when the flags stay"
	else
		assert_eq "$(generation)" $((before + 1)) "header generation when the flags change"
	fi
	assert_no_tune_devices
	assert_scratch_thin_deleted
}

test_removes_leftovers_of_killed_tune() {
	local pid waited=0 status=0

	create_volume thin-crypt
	"$DMTOOL" tune "$NAME" --rounds 3 >"$TEST_DIR/tune.log" 2>&1 &
	pid=$!
	track_pid "$pid"
	until dmsetup info "$NAME-tune-crypt3" >/dev/null 2>&1; do
		sleep 0.5
		waited=$((waited + 1))
		[ "$waited" -lt 240 ] || fail "no scratch crypt device appeared within 120 s"
	done
	kill -KILL "$pid"
	wait "$pid" || true
	dmsetup info "$NAME-tune-thin" >/dev/null 2>&1 || fail "the killed tune left no scratch thin device to clean up"

	# The next run removes the devices, deletes thin device 1 and measures.
	"$DMTOOL" --debug tune "$NAME" --dry-run --rounds 1 --runtime 0.3 >"$TEST_DIR/again.log" 2>&1 || status=$?
	cat "$TEST_DIR/again.log"
	assert_eq "$status" 0 "exit status of the tune after the killed one"
	grep -q "left by an interrupted tune" "$TEST_DIR/again.log" || fail "no message about the leftovers"
	assert_no_tune_devices
	assert_scratch_thin_deleted
}

test_interrupt_removes_scratch() {
	local pid waited=0 status=0

	create_volume crypt-thin
	"$DMTOOL" tune "$NAME" --rounds 3 >"$TEST_DIR/tune.log" 2>&1 &
	pid=$!
	track_pid "$pid"
	until dmsetup info "$NAME-tune-crypt3" >/dev/null 2>&1; do
		sleep 0.5
		waited=$((waited + 1))
		[ "$waited" -lt 240 ] || fail "no scratch crypt device appeared within 120 s"
	done
	expect_failure 5 "another 'dmtool tune $NAME' is running" "$DMTOOL" tune "$NAME" --dry-run --rounds 1
	dmsetup info "$NAME-tune-crypt0" >/dev/null 2>&1 || fail "the second tune removed the first one's devices"
	kill -INT "$pid"
	wait "$pid" || status=$?
	cat "$TEST_DIR/tune.log"
	assert_eq "$status" 1 "exit status of an interrupted tune"
	grep -q "tune interrupted" "$TEST_DIR/tune.log" || fail "no message about the interruption"
	assert_no_tune_devices
}

test_rejects_what_it_cannot_tune() {
	make_key_file
	IMAGE=$TEST_DIR/thin.img
	NAME=$(volume_name)
	"$DMTOOL" create "$IMAGE" --size 1G --layout thin --open "$NAME"
	expect_failure 9 "layout thin has no dm-crypt layer" "$DMTOOL" tune "$NAME"
	"$DMTOOL" close "$NAME"

	expect_failure 8 "no open volume named '${TEST_PREFIX}missing'" "$DMTOOL" tune "${TEST_PREFIX}missing"
	expect_failure 2 "invalid --rounds 0" "$DMTOOL" tune "$NAME" --rounds 0
	expect_failure 2 "invalid --runtime '0'" "$DMTOOL" tune "$NAME" --runtime 0
	expect_failure 2 "expected NAME" "$DMTOOL" tune
	expect_failure 2 "invalid --engine 'fast'" "$DMTOOL" tune "$NAME" --engine fast
	expect_failure 2 "fio is not in PATH" env PATH=/nonexistent "$DMTOOL" tune "$NAME" --engine fio

	# A pool with less than twice the scratch size free.
	IMAGE=$TEST_DIR/small.img
	"$DMTOOL" create "$IMAGE" --size 1G --initial 64M --layout thin-crypt \
		--key-file "$KEY_FILE" "${FAST_KDF[@]}" --open "$NAME"
	expect_failure 6 "needs twice that" "$DMTOOL" tune "$NAME" --scratch-size 64M
	expect_failure 2 "invalid scratch size" "$DMTOOL" tune "$NAME" --scratch-size 10M
	assert_no_tune_devices
}
