# The libdevmapper layer on a real kernel, with no udev running.

test_table_roundtrip_without_udev() {
	[ ! -e /run/udev/control ] || skip "udev is running; this test covers the case without it"
	"$HELPERS/mapper-smoke" "$TEST_DIR/smoke.img" "${TEST_PREFIX}smoke"
	[ ! -e "/dev/mapper/${TEST_PREFIX}smoke" ] || fail "node left behind"
	[ -z "$(losetup -j "$TEST_DIR/smoke.img")" ] || fail "loop device left behind"
}
