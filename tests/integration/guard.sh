# dmtool with the space-guard target: --guard in each layout, status,
# tables, growth, and a host filled behind the volume's back.

use_guard_module() {
	export DMTOOL_GUARD_MODULE=$DMTOOL_TOP/kmod/dm-space-guard.ko
	[ -f "$DMTOOL_GUARD_MODULE" ] || skip "kmod/dm-space-guard.ko is not built; run 'make module'"
}

# Bytes an unprivileged write can still use on the host filesystem.
guard_host_free() {
	local blocks size
	read -r blocks size < <(stat -f -c '%a %S' "$HOST_DIR")
	echo $((blocks * size))
}

# guarded_roundtrip LAYOUT SIZE-OPTIONS...: the guard in LAYOUT, through
# create, growth by 256 MiB, close and reopen.
guarded_roundtrip() {
	local layout=$1 name image sum
	shift
	use_guard_module
	make_host_fs 2G
	make_key_file
	name=$(volume_name)
	image=$HOST_DIR/volume.img
	"$DMTOOL" create "$image" "$@" --layout "$layout" --guard \
		--key-file "$KEY_FILE" "${FAST_KDF[@]}" --open "$name"
	assert_eq "$(status_field "$name" .guard.state)" ok "guard state"
	assert_eq "$(status_field "$name" .guard.failed_writes)" 0 "writes the guard failed"
	output_matches ' space-guard ' "$DMTOOL" table "$name" || fail "no space-guard line in the table"
	"$DMTOOL" table "$name" | while IFS= read -r line; do
		assert_eq "${line#*: }" "$(dmsetup table "${line%%: *}" | sed 's/ *$//')" "table of ${line%%: *}"
	done

	head -c 64M /dev/urandom >"$TEST_DIR/data"
	dd if="$TEST_DIR/data" of="/dev/mapper/$name" bs=1M oflag=direct status=none
	sum=$(md5sum <"$TEST_DIR/data")
	"$DMTOOL" grow "$name" --by 256M
	"$DMTOOL" close "$name"
	assert_no_leftovers "$image"

	# The header remembers the guard.
	"$DMTOOL" open "$image" "$name" --key-file "$KEY_FILE"
	[ "$(status_field "$name" .guard.state)" != null ] || fail "the reopened volume has no guard"
	assert_eq "$(head -c 64M "/dev/mapper/$name" | md5sum)" "$sum" "data after growth and reopen"
	"$DMTOOL" close "$name"
}

test_guarded_thin_crypt_roundtrip() {
	guarded_roundtrip thin-crypt --size 1G --initial 512M
}

test_guarded_crypt_roundtrip() {
	# A crypt volume has no pool: it grows as a whole, up to --max.
	guarded_roundtrip crypt --size 512M --max 1G
}

test_guard_rejects_block_device() {
	use_guard_module
	truncate -s 1G "$TEST_DIR/disk.img"
	local loop
	loop=$(losetup -f --show "$TEST_DIR/disk.img")
	expect_failure 2 "the space guard watches the filesystem holding an image file; a block device has none" \
		"$DMTOOL" create "$loop" --size 512M --layout thin --guard
	losetup -d "$loop"
}

# Another process fills the host behind the volume's back: with the guard,
# writes needing new space fail with ENOSPC before they reach the loop
# device, the pool stays writable and overwrites keep working.
test_guard_stops_writes_when_host_fills() {
	local name image first status=0 filler
	use_guard_module
	make_host_fs 1536M
	name=$(volume_name)
	image=$HOST_DIR/volume.img
	"$DMTOOL" create "$image" --size 2G --initial 1G --layout thin --guard --reserve 128M --open "$name"
	head -c 64M /dev/urandom >"$TEST_DIR/first"
	dd if="$TEST_DIR/first" of="/dev/mapper/$name" bs=1M oflag=direct conv=fsync status=none
	first=$(md5sum <"$TEST_DIR/first")

	# Leave 64 MiB free on the host: under the 128 MiB reserve.
	filler=$(( $(guard_host_free) - (64 << 20) ))
	fallocate -l "$filler" "$HOST_DIR/filler"
	dmsetup message "$name-tdata" 0 refresh 2>/dev/null || sleep 2

	dd if=/dev/urandom of="/dev/mapper/$name" bs=1M seek=512 count=128 oflag=direct \
		status=none 2>"$TEST_DIR/dd.err" || status=$?
	cat "$TEST_DIR/dd.err"
	[ "$status" -ne 0 ] || fail "a write needing new host space succeeded under the reserve"
	grep -q 'No space left on device' "$TEST_DIR/dd.err" || fail "the write did not fail with ENOSPC"
	assert_eq "$(status_field "$name" .guard.state)" exhausted "guard state"
	assert_ge "$(status_field "$name" .guard.failed_writes)" 1 "writes the guard failed"
	assert_eq "$(status_field "$name" .pool.mode)" rw "pool mode"
	assert_eq "$(status_field "$name" .pool.needs_check)" false "needs_check"
	kernel_log_since_start | grep -E 'loop[0-9]*: Write error' && fail "the loop device saw write errors"

	# Overwrites of provisioned blocks still work, and the data is intact.
	dd if="$TEST_DIR/first" of="/dev/mapper/$name" bs=1M oflag=direct conv=fsync status=none ||
		fail "overwriting provisioned blocks failed at exhaustion"
	assert_eq "$(head -c 64M "/dev/mapper/$name" | md5sum)" "$first" "data written before the host filled"

	# Space freed on the host lets writes through again.
	rm "$HOST_DIR/filler"
	dmsetup message "$name-tdata" 0 refresh 2>/dev/null || sleep 2
	dd if=/dev/urandom of="/dev/mapper/$name" bs=1M seek=512 count=32 oflag=direct status=none ||
		fail "writes still fail after the host freed space"
	"$DMTOOL" close "$name"
	output_matches 'metadata: ok' "$DMTOOL" check "$image" || fail "thin_check failed after the exhaustion"
}
