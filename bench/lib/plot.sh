# Plots of one benchmark run, drawn with gnuplot as SVG from
# summary.json. Sourced by bench/report.
# shellcheck shell=bash

# The profiles whose latency percentiles get a plot: one I/O at a time,
# where latency is what the application waits for.
PLOT_LATENCY_PROFILES=(rand-read-qd1 rand-write-qd1 fsync-write)

# plot_data DIR PROFILE: prints "index row median min max" per row, in the
# order of rows.tsv, for the rows that have the profile.
plot_data() {
	jq -r --arg profile "$2" '
		(.rows | map(.id)) as $order |
		[.results[] | select(.profile == $profile)] as $results |
		[$order[] as $id | $results[] | select(.row == $id)] | to_entries[] |
		"\(.key) \(.value.row) \(.value.mib_s.median) \(.value.mib_s.min) \(.value.mib_s.max) \(.value.latency_us.p50 // "NaN") \(.value.latency_us.p99 // "NaN") \(.value.latency_us.p999 // "NaN")"' \
		"$1/summary.json"
}

# plot_ceilings DIR PROFILE: prints "device cipher", the raw loop device's
# median and the 512-bit cipher's throughput in the profile's direction
# (NaN when unknown).
plot_ceilings() {
	jq -r --arg profile "$2" '
		[.results[] | select(.profile == $profile and .row != "raw-loop" and .key_bits == 512)][0] as $r |
		([.results[] | select(.profile == $profile and .row == "raw-loop")][0].mib_s.median) as $device |
		"\($device // "NaN") \($r.ceiling.cipher_mib_s // "NaN")"' "$1/summary.json"
}

plot_throughput() {
	local dir=$1 profile=$2 data=$1/plots/$2.dat device cipher count

	plot_data "$dir" "$profile" >"$data"
	count=$(wc -l <"$data")
	[ "$count" -gt 0 ] || return 0
	read -r device cipher < <(plot_ceilings "$dir" "$profile")
	gnuplot <<EOF
set terminal svg size $((300 + count * 28)),480 dynamic font "sans,11"
set output "$dir/plots/$profile.svg"
set title "$profile: throughput per row (median of the runs; bars span min to max)"
set ylabel "MiB/s"
set yrange [0:*]
set xrange [-1:$count]
set xtics rotate by -50 nomirror font ",9"
set grid ytics
set style fill solid 0.5 border -1
set boxwidth 0.7
set key top right
device = $device
cipher = $cipher
plot "$data" using 1:3:xtic(2) with boxes lc rgb "#4a7ebb" title "median", \
     "" using 1:3:4:5 with yerrorbars lc rgb "black" pt -1 title "min to max", \
     (device == device ? device : 1/0) with lines dt 2 lw 2 lc rgb "#b03030" title "ceiling: raw loop device", \
     (cipher == cipher ? cipher : 1/0) with lines dt 4 lw 2 lc rgb "#208020" title "ceiling: aes-xts 512-bit in the kernel (cryptsetup benchmark)"
EOF
}

plot_latency() {
	local dir=$1 profile=$2 data=$1/plots/$2.dat device_p50 device_p99 count

	plot_data "$dir" "$profile" >"$data"
	count=$(wc -l <"$data")
	[ "$count" -gt 0 ] || return 0
	read -r device_p50 device_p99 < <(awk '$2 == "raw-loop" { print $6, $7 }' "$data")
	gnuplot <<EOF
set terminal svg size $((300 + count * 28)),480 dynamic font "sans,11"
set output "$dir/plots/latency-$profile.svg"
set title "$profile: completion latency percentiles per row (medians of the runs)"
set ylabel "microseconds (log scale)"
set logscale y
set xrange [-1:$count]
set xtics rotate by -50 nomirror font ",9"
set grid ytics
set style fill solid 0.6 border -1
set boxwidth 0.25
set key top left
device_p50 = ${device_p50:-NaN}
device_p99 = ${device_p99:-NaN}
plot "$data" using (\$1 - 0.27):6:xtic(2) with boxes lc rgb "#4a7ebb" title "p50", \
     "" using 1:7 with boxes lc rgb "#e0a030" title "p99", \
     "" using (\$1 + 0.27):8 with boxes lc rgb "#b03030" title "p99.9", \
     (device_p50 == device_p50 ? device_p50 : 1/0) with lines dt 2 lw 2 lc rgb "#4a7ebb" title "raw loop device p50", \
     (device_p99 == device_p99 ? device_p99 : 1/0) with lines dt 2 lw 2 lc rgb "#e0a030" title "raw loop device p99"
EOF
}

# plots_write DIR: every plot of the run into DIR/plots.
plots_write() {
	local dir=$1 profile

	mkdir -p "$dir/plots"
	while read -r profile; do
		plot_throughput "$dir" "$profile"
	done <"$dir/profiles.txt"
	for profile in "${PLOT_LATENCY_PROFILES[@]}"; do
		grep -qx "$profile" "$dir/profiles.txt" && plot_latency "$dir" "$profile"
	done
	return 0
}
