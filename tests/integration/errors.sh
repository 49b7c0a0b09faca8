# Bad input: each gets its error and exit status, and leaves no dm device,
# no loop device and the image unchanged.

# Creates a closed volume (thin unless LAYOUT is given) in a new image and
# records the image's checksum.
make_closed_volume() {
	local layout=${1:-thin}

	IMAGE=$TEST_DIR/$layout.img
	make_key_file
	"$DMTOOL" create "$IMAGE" --size 1G --layout "$layout" --key-file "$KEY_FILE" "${FAST_KDF[@]}" >/dev/null
	IMAGE_SUM=$(md5sum <"$IMAGE")
}

assert_image_unchanged() {
	assert_eq "$(md5sum <"$IMAGE")" "$IMAGE_SUM" "checksum of $IMAGE"
	assert_no_leftovers "$IMAGE"
}

test_missing_image() {
	expect_failure 3 "$TEST_DIR/nothing.img: cannot open the image: No such file" \
		"$DMTOOL" open "$TEST_DIR/nothing.img" "$(volume_name)"
	mkdir "$TEST_DIR/dir.img"
	expect_failure 3 "dir.img: not a regular file or block device" "$DMTOOL" open "$TEST_DIR/dir.img" "$(volume_name)"
	assert_no_leftovers "$TEST_DIR/nothing.img"
}

test_corrupt_header() {
	make_closed_volume
	# One damaged slot: the other generation still opens the volume.
	printf 'X' | dd of="$IMAGE" bs=1 seek=100 conv=notrunc status=none
	"$DMTOOL" open "$IMAGE" "$(volume_name)"
	"$DMTOOL" close "$(volume_name)"

	printf 'X' | dd of="$IMAGE" bs=1 seek=$((4096 + 100)) conv=notrunc status=none
	IMAGE_SUM=$(md5sum <"$IMAGE")
	expect_failure 3 "header is unusable: header checksum mismatch" \
		"$DMTOOL" open "$IMAGE" "$(volume_name)"
	assert_image_unchanged
}

test_truncated_image() {
	make_closed_volume
	truncate -s 32M "$IMAGE"
	IMAGE_SUM=$(md5sum <"$IMAGE")
	expect_failure 3 "image is truncated: 33554432 bytes, but its header describes" \
		"$DMTOOL" open "$IMAGE" "$(volume_name)"
	assert_image_unchanged

	head -c 1000 /dev/zero >"$TEST_DIR/tiny.img"
	expect_failure 3 "not a dmtool image: only 1000 bytes long" \
		"$DMTOOL" open "$TEST_DIR/tiny.img" "$(volume_name)"
}

test_foreign_header() {
	IMAGE=$TEST_DIR/ext4.img
	truncate -s 64M "$IMAGE"
	mkfs.ext4 -q -F "$IMAGE"
	IMAGE_SUM=$(md5sum <"$IMAGE")
	expect_failure 3 "not a dmtool image: it holds a filesystem signature 'ext4'" \
		"$DMTOOL" open "$IMAGE" "$(volume_name)"
	expect_failure 3 "holds a filesystem signature 'ext4'; refusing to overwrite it without --force" \
		"$DMTOOL" create "$IMAGE" --size 1G --layout thin
	assert_image_unchanged

	IMAGE=$TEST_DIR/zeros.img
	truncate -s 64M "$IMAGE"
	IMAGE_SUM=$(md5sum <"$IMAGE")
	expect_failure 3 "no dmtool header found" "$DMTOOL" open "$IMAGE" "$(volume_name)"
	expect_failure 3 "the file is not empty \\(67108864 bytes\\)" \
		"$DMTOOL" create "$IMAGE" --size 1G --layout thin
	assert_image_unchanged
}

test_wrong_passphrase() {
	make_closed_volume thin-crypt
	printf 'wrong' >"$TEST_DIR/wrong"
	expect_failure 4 "wrong passphrase" \
		"$DMTOOL" open "$IMAGE" "$(volume_name)" --key-file "$TEST_DIR/wrong"
	expect_failure 4 "cannot open the key file" \
		"$DMTOOL" open "$IMAGE" "$(volume_name)" --key-file "$TEST_DIR/missing-key"
	assert_image_unchanged

	make_closed_volume crypt
	expect_failure 4 "wrong passphrase" \
		"$DMTOOL" open "$IMAGE" "$(volume_name)" --key-file "$TEST_DIR/wrong"
	assert_image_unchanged
}

test_invalid_sizes() {
	IMAGE=$TEST_DIR/new.img
	expect_failure 2 "invalid size '0x10' for --size" "$DMTOOL" create "$IMAGE" --size 0x10 --layout thin
	expect_failure 2 "volume size 0 is invalid" "$DMTOOL" create "$IMAGE" --size 0 --layout thin
	expect_failure 2 "sizes must be multiples of 512 bytes \\(size 1000" \
		"$DMTOOL" create "$IMAGE" --size 1000 --layout thin
	expect_failure 2 "beyond the 1 EiB" "$DMTOOL" create "$IMAGE" --size 4P --max 2048P --layout thin
	expect_failure 2 "over dm-thin's limit .*use a larger chunk size" \
		"$DMTOOL" create "$IMAGE" --size 512P --layout thin
	expect_failure 2 "invalid chunk size 4096" "$DMTOOL" create "$IMAGE" --size 1G --chunk-size 4K --layout thin
	expect_failure 2 "initial data size .* exceeds the maximum" \
		"$DMTOOL" create "$IMAGE" --size 1G --initial 2G --layout thin
	expect_failure 2 "missing --size" "$DMTOOL" create "$IMAGE" --layout thin
	# The crypt layout has no pool, so --initial gets a warning. The usage
	# error for the missing IMAGE follows.
	expect_failure 2 "warning: --initial sizes a thin pool's data area; the crypt layout has none" \
		"$DMTOOL" create --size 1G --initial 64M --layout crypt
	expect_failure 2 "unknown layout 'raid'" "$DMTOOL" create "$IMAGE" --size 1G --layout raid
	[ ! -e "$IMAGE" ] || fail "a rejected create left $IMAGE behind"
	assert_no_leftovers "$IMAGE"
}

test_invalid_names() {
	make_closed_volume
	expect_failure 2 "contains '/'" "$DMTOOL" open "$IMAGE" "a/b"
	expect_failure 2 "volume name is 101 bytes long; the limit is 100" \
		"$DMTOOL" open "$IMAGE" "$(printf 'n%.0s' $(seq 101))"
	expect_failure 2 "must not start with '-'" "$DMTOOL" open "$IMAGE" -- -x
	assert_image_unchanged
}

test_name_in_use() {
	make_closed_volume
	local other=$TEST_DIR/other.img
	"$DMTOOL" create "$other" --size 1G --layout thin --open "$(volume_name)" >/dev/null
	expect_failure 5 "name '$(volume_name)' is already in use" \
		"$DMTOOL" open "$IMAGE" "$(volume_name)"
	assert_eq "$(md5sum <"$IMAGE")" "$IMAGE_SUM" "image checksum"
	[ -z "$(losetup -j "$IMAGE")" ] || fail "loop device left on $IMAGE"
	"$DMTOOL" close "$(volume_name)"
}

test_image_already_open() {
	make_closed_volume
	"$DMTOOL" open "$IMAGE" "$(volume_name a)"
	expect_failure 5 "the image is in use: /dev/loop[0-9]+ is attached to it" \
		"$DMTOOL" open "$IMAGE" "$(volume_name b)"
	[ ! -e "/dev/mapper/$(volume_name b)" ] || fail "a second stack was built"
	"$DMTOOL" close "$(volume_name a)"

	# Any loop device on the image counts, not only dmtool's.
	local loop
	loop=$(losetup -f --show "$IMAGE")
	expect_failure 5 "is attached to it" "$DMTOOL" open "$IMAGE" "$(volume_name)"
	losetup -d "$loop"
	assert_image_unchanged
}

test_kernel_without_thin_pool() {
	[ "$(hostname)" = dmtool-guest ] || skip "hides the dm-thin-pool module, which only the test guest may do"
	make_closed_volume
	local module
	module=$(modinfo -n dm-thin-pool)
	modprobe -r dm-thin-pool 2>/dev/null || true
	grep -q '^dm_thin_pool ' /proc/modules && skip "dm-thin-pool is in use and cannot be unloaded"
	mount --bind /dev/null "$module"
	local status=0
	"$DMTOOL" open "$IMAGE" "$(volume_name)" >"$TEST_DIR/out" 2>&1 || status=$?
	umount "$module"
	cat "$TEST_DIR/out"
	assert_eq "$status" 7 "exit status without dm-thin-pool"
	grep -q "no 'thin-pool' device-mapper target" "$TEST_DIR/out" || fail "the error does not name the missing target"
	assert_image_unchanged
}

test_no_space_on_host() {
	make_host_fs 32M
	IMAGE=$HOST_DIR/volume.img
	# 100 GiB in 64 KiB chunks needs 75 MiB of preallocated metadata.
	expect_failure 6 "allocating the .*-byte metadata area failed: No space left on device" \
		"$DMTOOL" create "$IMAGE" --size 100G --layout thin
	[ ! -e "$IMAGE" ] || fail "the failed create left $IMAGE behind"
	assert_no_leftovers "$IMAGE"
}

test_create_keeps_existing_data() {
	IMAGE=$TEST_DIR/data.img
	head -c 1M /dev/urandom >"$IMAGE"
	IMAGE_SUM=$(md5sum <"$IMAGE")
	expect_failure 3 "not empty" "$DMTOOL" create "$IMAGE" --size 1G --layout thin
	assert_image_unchanged
}

test_close_unknown_and_mounted() {
	expect_failure 8 "no open volume named '$(volume_name)'" "$DMTOOL" close "$(volume_name)"
	expect_failure 8 "no open volume named" "$DMTOOL" status "$(volume_name)"

	make_closed_volume
	"$DMTOOL" open "$IMAGE" "$(volume_name)"
	mkfs.ext4 -q "/dev/mapper/$(volume_name)"
	mkdir -p "$TEST_DIR/mnt"
	mount "/dev/mapper/$(volume_name)" "$TEST_DIR/mnt"
	expect_failure 5 "in use: unmount it" "$DMTOOL" close "$(volume_name)"
	[ -b "/dev/mapper/$(volume_name)-pool" ] || fail "a rejected close removed the pool"
	umount "$TEST_DIR/mnt"
	"$DMTOOL" close "$(volume_name)"
	assert_no_leftovers "$IMAGE"
}

test_passphrase_never_from_argv() {
	make_closed_volume thin-crypt
	expect_failure 2 "no terminal to ask for the passphrase" \
		setsid "$DMTOOL" open "$IMAGE" "$(volume_name)" </dev/null
	expect_failure 2 "invalid option" "$DMTOOL" open "$IMAGE" "$(volume_name)" --passphrase secret
	assert_image_unchanged
}
