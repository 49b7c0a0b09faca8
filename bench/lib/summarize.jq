# Turns one benchmark run into its summary. Input: the records of
# runs.jsonl, slurped into an array. Arguments (jq --argjson / --slurpfile):
#   $run        run.json: the machine, the cipher throughput, the scale
#   $rows       rows.tsv as an array of objects
#   $tune       the 'dmtool tune --json' outputs, each with its layering
#   $stock      what cryptsetup chose for its row: {key_bits, sector_size}
#   $flags      the records of flags.jsonl (the flag comparison), or []
#   $defaults   the records of defaults.jsonl (the defaults comparison), or []
# Throughput is in MiB/s, latency in microseconds.

def median: sort | if length == 0 then null
	elif length % 2 == 1 then .[(length - 1) / 2]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;

def mib: . / 1048576;

# The direction a profile's bytes travel through the cipher.
def direction: if test("read") then "read" elif . == "rand-rw" then "mixed" else "write" end;

# The layering whose top device is the same stack without dm-crypt.
def plain_counterpart($row):
	if $row.layering == "crypt" or $row.layering == "cryptsetup" then "raw-loop"
	elif $row.layering == "thin-crypt" or $row.layering == "crypt-thin" then
		(if $row.variant == "guard" then "thin.guard" else "thin" end)
	else null end;

def key_bits($row):
	if $row.variant == "key-256" then 256
	elif $row.layering == "cryptsetup" then ($stock.key_bits // 512)
	else 512 end;

def has_crypt($row): $row.layering | test("crypt");

# MiB/s the kernel's cipher sustains in the profile's direction; a mixed
# profile moves 70% of its bytes through decryption.
def cipher_ceiling($bits; $profile):
	($run.cipher[$bits | tostring]) as $c |
	if $c == null then null
	else ($profile | direction) as $d |
		if $d == "read" then $c.decrypt
		elif $d == "write" then $c.encrypt
		else 1 / (0.7 / $c.decrypt + 0.3 / $c.encrypt) end
	end;

# The flag variants 'dmtool tune' chooses between, by the bench's names.
def flag_variants: ["default", "no-read-wq", "no-write-wq", "no-wq", "same-cpu"];
def tune_profiles: ["seq-write", "seq-read", "rand-write-qd1", "rand-write-qd32",
	"rand-read-qd1", "rand-read-qd32"];

def geomean: if length == 0 then null
	else (map(log) | add / length | exp) end;

# The flag comparison of one layering: per flag set, its score and the
# score of each round alone, whose range shows the noise. A score is the
# geometric mean over the profiles of the median over the rounds of the
# throughput relative to the default flags in the same round. Rounds in
# which the defaults moved nothing are skipped, and a stalled flag set
# scores 0.001. null when the comparison is missing or failed.
def paired_scores($layering):
	[$flags[] | select(.layering == $layering)] as $f |
	if $f == [] or any($f[]; .failed == true) then null else
	($f | map({key: "\(.variant) \(.profile) \(.round)", value: .bytes_per_second}) | from_entries) as $bps |
	($f | map(.round) | unique) as $rounds |
	def ratio($v; $p; $r): $bps["\($v) \($p) \($r)"] as $x | $bps["default \($p) \($r)"] as $b |
		if $x == null or $b == null or $b <= 0 then null
		elif $x > 0 then $x / $b else 0.001 end;
	def complete: if length == (tune_profiles | length) then geomean else null end;
	[flag_variants[] as $v |
		{variant: $v,
		 score: ([tune_profiles[] as $p | [$rounds[] as $r | ratio($v; $p; $r) | select(. != null)] |
			select(length > 0) | median] | complete),
		 round_scores: [$rounds[] as $r | [tune_profiles[] as $p | ratio($v; $p; $r) | select(. != null)] |
			complete | select(. != null)]}
		| .range = (if .round_scores == [] then null else [(.round_scores | min), (.round_scores | max)] end)]
	end;

# The defaults comparison: per profile and dmtool layering, the median
# over the rounds of its throughput relative to cryptsetup.dio-loop's in
# the same round, and the range of the rounds' ratios. "slower" needs
# every round slower; a median under 1 with a round at 1 or above is
# "within the noise". null when the comparison is missing or failed.
def defaults_side_by_side:
	if $defaults == [] or any($defaults[]; .failed == true) then null else
	($defaults | map({key: "\(.variant) \(.profile) \(.round)", value: .bytes_per_second}) | from_entries) as $bps |
	($defaults | map(.round) | unique) as $rounds |
	($defaults | map(.variant) | unique | map(select(. != "cryptsetup.dio-loop"))) as $layerings |
	[$defaults | map(.profile) | unique | .[] as $p |
		{profile: $p} +
		([$layerings[] as $v |
			[$rounds[] as $r | $bps["\($v) \($p) \($r)"] as $x |
				$bps["cryptsetup.dio-loop \($p) \($r)"] as $b |
				select($x != null and $b != null and $b > 0) | $x / $b] as $ratios |
			select($ratios != []) |
			($ratios | median) as $median |
			{key: $v, value: {ratio: $median, range: [($ratios | min), ($ratios | max)],
				verdict: (if $median >= 1 then "not slower"
					elif ($ratios | max) >= 1 then "within the noise"
					elif $median >= 0.95 then "slower, by under 5%"
					else "slower" end)}}] | from_entries)]
	end;

. as $records
| ([$flags[].layering] | unique | map({key: ., value: paired_scores(.)}) | from_entries) as $paired_by_layering
| ($rows | map({key: .id, value: .}) | from_entries) as $row_by_id
| [$records | group_by([.row, .profile])[] |
	{row: .[0].row, layering: .[0].layering, variant: .[0].variant,
	 profile: .[0].profile, runs: length,
	 mib_s: {median: (map(.bytes_per_second | mib) | median),
		 min: (map(.bytes_per_second | mib) | min),
		 max: (map(.bytes_per_second | mib) | max)},
	 iops: (map(.iops) | median),
	 latency_us: {p50: (map(.latency_us.p50 // empty) | median),
		      p99: (map(.latency_us.p99 // empty) | median),
		      p999: (map(.latency_us.p999 // empty) | median)}}
	| .spread_percent = (if .mib_s.median > 0
		then (.mib_s.max - .mib_s.min) / .mib_s.median * 100 else null end)]
| (map({key: "\(.row) \(.profile)", value: .}) | from_entries) as $by
| def result($row; $profile): $by["\($row) \($profile)"];
  map(. as $r | $row_by_id[$r.row] as $row |
	result("raw-loop"; $r.profile).mib_s.median as $device |
	(if has_crypt($row) then cipher_ceiling(key_bits($row); $r.profile) else null end) as $cipher |
	([$device, $cipher] | map(select(. != null)) | min) as $ceiling |
	plain_counterpart($row) as $plain |
	result($plain // ""; $r.profile).mib_s.median as $plain_median |
	result($row.layering; $r.profile).mib_s.median as $default_median |
	. + {key_bits: (if has_crypt($row) then key_bits($row) else null end),
	     ceiling: {device_mib_s: $device, cipher_mib_s: $cipher, mib_s: $ceiling,
		       bound: (if $ceiling == null then null
			       elif $ceiling == $cipher then "cipher" else "device" end)},
	     fraction_of_ceiling: (if $ceiling and $ceiling > 0 then $r.mib_s.median / $ceiling else null end),
	     crypt_overhead: (if $plain_median and $plain_median > 0
		then {versus: $plain, ratio: ($r.mib_s.median / $plain_median)} else null end),
	     relative_to_default: (if $default_median and $default_median > 0 and $r.row != $row.layering
		then $r.mib_s.median / $default_median else null end)})
| . as $results
| {run: $run, rows: $rows, results: $results,
   flag_comparison: [$paired_by_layering | to_entries[] |
	{layering: .key, failed: (.value == null), scores: .value}],
   defaults_side_by_side: defaults_side_by_side,
   defaults_versus_cryptsetup: [
	$results | map(select(.row == "cryptsetup" or .row == "cryptsetup.dio-loop"))[] |
	. as $stock_result |
	{stock_row: .row, profile: .profile, cryptsetup: .mib_s} +
	([("crypt", "thin-crypt") as $layering | result($layering; $stock_result.profile) |
		select(. != null) |
		{key: $layering, value: {mib_s: .mib_s,
			ratio: (.mib_s.median / $stock_result.mib_s.median),
			verdict: (if .mib_s.median >= $stock_result.mib_s.median then "not slower"
				elif .mib_s.max >= $stock_result.mib_s.min then "slower, within the spread"
				else "slower" end)}}] | from_entries)],
   tune: [$tune[] | . as $t |
	[flag_variants[] as $v |
		{variant: $v,
		 score: ([tune_profiles[] as $p |
			(result(if $v == "default" then $t.layering else "\($t.layering).\($v)" end; $p).mib_s.median) as $x |
			result($t.layering; $p).mib_s.median as $base |
			select($x != null and $base != null and $base > 0) | $x / $base] |
			if length == (tune_profiles | length) then geomean else null end)}] as $scores |
	($paired_by_layering[$t.layering] | if . and any(.[]; .score != null) then . else null end) as $paired |
	# The check rests on the flag comparison when the run made one.
	($paired // $scores) as $basis |
	($basis | map(select(.score != null)) | max_by(.score)) as $best |
	($basis | map(select(.variant == $t.chosen)) | .[0].score) as $chosen_score |
	{layering: $t.layering, chosen: $t.chosen, chosen_flags: $t.chosen_flags, engine: $t.engine,
	 tune_measured: $t.variants, bench_scores: $scores, paired_scores: $paired,
	 check_basis: (if $paired then "flag comparison" else "rows" end),
	 best: $best.variant, best_score: $best.score, chosen_score: $chosen_score,
	 within_5_percent: (if $best.score and $chosen_score
		then $chosen_score >= 0.95 * $best.score else null end)}]}
