#!/usr/bin/env bash
# JPEG 2000 packet index and keyless transcoding against OpenJPEG on the
# same files: `jsec j2k index` vs a full `opj_decompress`, and
# `jsec j2k transcode --layers 1` vs `opj_decompress -l 1`.
# Needs hyperfine and opj_decompress (libopenjp2-tools); run from the
# repository root after `cargo build --release`. Not part of CI.
set -euo pipefail
corpus=${JSEC_CORPUS:-../shared/corpus}
jsec=${JSEC_BIN:-target/release/jsec}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$corpus/generated/j2k/b12mp-LRCP-n6-3L.j2k" \
         "$corpus/j2k-conformance/p1_05.j2k" \
         "$corpus/generated/j2k/c1024-RPCL-sop-eph-prec-t512.j2k"; do
  [ -f "$f" ] || { echo "missing $f" >&2; continue; }
  echo "== $(basename "$f") ($(stat -c %s "$f") bytes, $("$jsec" j2k index "$f" | head -1 | sed 's/.*: //'))"
  hyperfine -N -w 3 -r 15 --export-markdown "$tmp/md" \
    "$jsec j2k index $f" \
    "opj_decompress -i $f -o $tmp/full.pgx" \
    "$jsec j2k transcode --layers 1 $f $tmp/t.j2k" \
    "opj_decompress -i $f -o $tmp/r.pgx -l 1" >/dev/null
  cat "$tmp/md"
done

# JPSEC: protect (three-level encryption by resolution + HMAC per
# resolution) and consume with k0, against a full opj_decompress of the
# same file. Issue 5 asks for at least 10x faster than the decode.
key="$tmp/k0.key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key"
for f in "$corpus/generated/j2k/b12mp-LRCP-n6-3L.j2k" \
         "$corpus/j2k-conformance/p1_05.j2k"; do
  [ -f "$f" ] || { echo "missing $f" >&2; continue; }
  "$jsec" j2k protect --key "$key" --levels resolution --auth hmac-sha256 "$f" "$tmp/p.j2k"
  echo "== JPSEC $(basename "$f") ($(stat -c %s "$f") bytes)"
  hyperfine -N -w 3 -r 15 --export-markdown "$tmp/md" \
    "$jsec j2k protect --key $key --levels resolution --auth hmac-sha256 $f $tmp/p2.j2k" \
    "$jsec j2k consume --key $key $tmp/p.j2k $tmp/c.j2k" \
    "opj_decompress -i $f -o $tmp/full.pgx" >/dev/null
  cat "$tmp/md"
done
