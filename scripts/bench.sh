#!/usr/bin/env bash
# Time `jsec encrypt` (whole command: read, parse, encrypt, write) against
# `djpeg` (full decode to /dev/null) and `jpegtran -copy all` (entropy
# decode + re-encode), like for like on I/O: jsec and jpegtran both writing
# to /dev/null, and both writing a file. Single-threaded, on the corpus's
# largest photo and on generated/jpeg/a1080-q85-420.jpg. Prints median
# times (hyperfine; the mean of a timed loop without it), MB/s (1 MB = 10^6
# bytes of input) and the time ratios jsec/djpeg and jsec/jpegtran (below
# 1 = jsec is faster).
#
# A shared machine's speed drifts within a run (other tenants), and the
# medians above come from runs minutes apart; so the jsec/jpegtran speed
# ratio is also measured interleaved: ROUNDS rounds, each timing one jsec
# run and one jpegtran run back to back (order alternating), and the median
# and quartiles of the per-round ratios are printed. Both runs of a round see
# the same machine; the shell's fork and exec (a fraction of a millisecond,
# in both times) makes that ratio slightly conservative.
#
# jsec is built as CMake builds and installs it: a static PIE on Linux glibc
# hosts (no dynamic loading at each start); the last line per file gives the
# interleaved ratio of `cargo build`'s dynamically linked binary too.
#
# Usage: scripts/bench.sh [FILE...]   (default: the two corpus files)
# Env:   JSEC_CORPUS (default: ../shared/corpus next to the repository),
#        RUNS (loop mode only, default 10), ROUNDS (interleaved ratio,
#        default 40), CARGO_TARGET_DIR.
# Uses hyperfine when installed, else a loop timed with `date +%s.%N`.
set -euo pipefail
# Decimal points in $EPOCHREALTIME and awk follow the locale: use C.
export LC_ALL=C

repo=$(cd "$(dirname "$0")/.." && pwd)
corpus=${JSEC_CORPUS:-$repo/../shared/corpus}
runs=${RUNS:-10}
rounds=${ROUNDS:-40}

for tool in djpeg jpegtran; do
    command -v "$tool" >/dev/null || {
        echo "bench.sh: $tool not found (Debian: apt-get install libjpeg-turbo-progs)" >&2
        exit 2
    }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The tool as CMake builds and installs it (cmake/cargo.cmake): a static PIE
# on Linux glibc hosts. `cargo build`'s dynamically linked binary is measured
# too (interleaved ratios only), to show what the link costs.
out=${CARGO_TARGET_DIR:-$repo/target}/release/jsec
echo "== building jsec (release)"
(cd "$repo" && cargo build --release --quiet --bin jsec)
cp "$out" "$tmp/jsec-dynamic"
host=$(cargo -vV 2>/dev/null | sed -n 's/^host: //p')
if [[ $host != *-linux-gnu ]]; then
    cp "$out" "$tmp/jsec"
    link="dynamically linked (not a Linux glibc host)"
elif (cd "$repo" && cargo rustc --release --quiet --bin jsec -- -C target-feature=+crt-static); then
    cp "$out" "$tmp/jsec"
    link="static PIE, as CMake builds and installs it"
else
    cp "$tmp/jsec-dynamic" "$tmp/jsec"
    link="dynamically linked (no static PIE here: static glibc missing?), as CMake builds it here"
fi
jsec=$tmp/jsec
echo "== jsec: $link"
"$jsec" keygen -o "$tmp/key.hex"

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    if [ -d "$corpus/real" ]; then
        # The largest photo of the corpus (42_IndexError.jpg, 4032x3024).
        files+=("$corpus/real/$(ls -S "$corpus/real" | grep -iE '\.jpe?g$' | head -n 1)")
    fi
    [ -f "$corpus/generated/jpeg/a1080-q85-420.jpg" ] &&
        files+=("$corpus/generated/jpeg/a1080-q85-420.jpg")
    if [ ${#files[@]} -eq 0 ]; then
        echo "== no corpus at $corpus: using the demo picture instead"
        "$jsec" demo --out-dir "$tmp/demo" >/dev/null
        files+=("$tmp/demo/original.jpg")
    fi
fi

if command -v hyperfine >/dev/null; then
    timer="hyperfine $(hyperfine --version | cut -d' ' -f2)"
else
    timer="loop of $runs runs (date +%s.%N)"
fi
echo "== timer: $timer; $(nproc) cores, all tools single-threaded"

# time_seconds NAME COMMAND...: typical wall time of COMMAND in seconds: the
# median of hyperfine's runs (robust to the odd slow run on a busy machine),
# or the mean of a timed loop.
time_seconds() {
    local name=$1
    shift
    if command -v hyperfine >/dev/null; then
        hyperfine -N --style none --warmup 5 --min-runs 20 \
            --export-csv "$tmp/$name.csv" "$(printf '%q ' "$@")" >/dev/null 2>"$tmp/$name.err" ||
            { cat "$tmp/$name.err" >&2; return 1; }
        # CSV: command,mean,stddev,median,user,system,min,max
        awk -F, 'NR == 2 { print $4 }' "$tmp/$name.csv"
    else
        "$@" >/dev/null # warm-up
        local start end
        start=$(date +%s.%N)
        for _ in $(seq "$runs"); do "$@" >/dev/null; done
        end=$(date +%s.%N)
        awk -v s="$start" -v e="$end" -v n="$runs" 'BEGIN { printf "%.6f\n", (e - s) / n }'
    fi
}

# wall_us COMMAND...: wall time of one run of COMMAND, in microseconds.
wall_us() {
    local s e
    s=$EPOCHREALTIME
    "$@" >/dev/null
    e=$EPOCHREALTIME
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%d\n", (e - s) * 1e6 }'
}

# interleaved NAME -- JSEC_COMMAND... -- OTHER_COMMAND...: per-round speed
# ratios other/jsec over $rounds rounds (after one warm-up round); prints
# "median q1 q3".
interleaved() {
    local name=$1
    shift 2
    local a=() b=()
    while [ "$1" != "--" ]; do a+=("$1"); shift; done
    shift
    b=("$@")
    wall_us "${a[@]}" >/dev/null
    wall_us "${b[@]}" >/dev/null
    : >"$tmp/$name.ratios"
    local i ta tb
    for ((i = 0; i < rounds; i++)); do
        if ((i % 2 == 0)); then
            ta=$(wall_us "${a[@]}")
            tb=$(wall_us "${b[@]}")
        else
            tb=$(wall_us "${b[@]}")
            ta=$(wall_us "${a[@]}")
        fi
        awk -v a="$ta" -v b="$tb" 'BEGIN { printf "%.6f\n", b / a }' >>"$tmp/$name.ratios"
    done
    sort -g "$tmp/$name.ratios" | awk '{ r[NR] = $1 } END {
        m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
        printf "%.2f %.2f %.2f\n", m, r[int((NR + 3) / 4)], r[int((3 * NR + 3) / 4)]
    }'
}

for f in "${files[@]}"; do
    size=$(stat -c %s "$f")
    echo
    echo "== $(basename "$f"): $size bytes"
    # Like for like on I/O: both tools write to /dev/null, and both write a
    # file in the same directory (jsec through its temporary file + rename).
    t_jsec=$(time_seconds jsec "$jsec" encrypt --jobs 1 --key "$tmp/key.hex" "$f" /dev/null)
    t_jsecf=$(time_seconds jsec_file "$jsec" encrypt --jobs 1 --key "$tmp/key.hex" "$f" "$tmp/out.jpg")
    t_djpeg=$(time_seconds djpeg djpeg -outfile /dev/null "$f")
    t_tran=$(time_seconds jpegtran jpegtran -copy all -outfile /dev/null "$f")
    t_tranf=$(time_seconds jpegtran_file jpegtran -copy all -outfile "$tmp/jt.jpg" "$f")
    for row in "jsec encrypt:$t_jsec" "jsec (to a file):$t_jsecf" "djpeg:$t_djpeg" \
        "jpegtran -copy all:$t_tran" "jpegtran (to a file):$t_tranf"; do
        awk -v name="${row%%:*}" -v t="${row##*:}" -v s="$size" \
            'BEGIN { printf "  %-20s %9.2f ms %9.1f MB/s\n", name, t * 1e3, s / t / 1e6 }'
    done
    awk -v j="$t_jsec" -v jf="$t_jsecf" -v d="$t_djpeg" -v t="$t_tran" -v tf="$t_tranf" 'BEGIN {
        printf "  ratio jsec/djpeg    %6.2f (time; %.2fx the speed of djpeg)\n", j / d, d / j
        printf "  ratio jsec/jpegtran %6.2f (time; %.2fx the speed of jpegtran, both to /dev/null)\n", j / t, t / j
        printf "  ratio jsec/jpegtran %6.2f (time; %.2fx the speed of jpegtran, both writing a file)\n", jf / tf, tf / jf
    }'
    read -r m q1 q3 < <(interleaved null -- "$jsec" encrypt --jobs 1 --key "$tmp/key.hex" "$f" /dev/null \
        -- jpegtran -copy all -outfile /dev/null "$f")
    echo "  interleaved, $rounds rounds: ${m}x the speed of jpegtran (quartiles $q1-$q3), both to /dev/null"
    read -r m q1 q3 < <(interleaved file -- "$jsec" encrypt --jobs 1 --key "$tmp/key.hex" "$f" "$tmp/out.jpg" \
        -- jpegtran -copy all -outfile "$tmp/jt.jpg" "$f")
    echo "  interleaved, $rounds rounds: ${m}x the speed of jpegtran (quartiles $q1-$q3), both writing a file"
    if ! cmp -s "$tmp/jsec" "$tmp/jsec-dynamic"; then
        read -r m q1 q3 < <(interleaved dyn -- "$tmp/jsec-dynamic" encrypt --jobs 1 --key "$tmp/key.hex" "$f" \
            "$tmp/out.jpg" -- jpegtran -copy all -outfile "$tmp/jt.jpg" "$f")
        echo "  interleaved, $rounds rounds, cargo build's dynamically linked jsec: ${m}x (quartiles $q1-$q3), both writing a file"
    fi
done
