#!/bin/sh
# imagemagick_jsec.sh: ImageMagick 6 runs through the JSEC coder module both
# ways, checked against the jsec command-line tool and pixel by pixel.
# Run by ctest (imagemagick-jsec, tests/imagemagick/CMakeLists.txt) with:
#   JSEC_IM_MODULE_DIR  directory holding jsec.so and jsec.la
#   JSEC_CLI            the jsec command-line tool
#   JSEC_IM_WORK_DIR    scratch directory (emptied first)
#   JSEC_IM_QUANTUM     quantum of the MagickCore built against (q16)
# Exit 0 when every check passes, 1 when one fails, 77 (skipped) only when
# ImageMagick's convert is not installed. Every check prints one line; the
# last line is "N passed, N failed".
set -u

: "${JSEC_IM_MODULE_DIR:?}" "${JSEC_CLI:?}" "${JSEC_IM_WORK_DIR:?}"
q=${JSEC_IM_QUANTUM:-q16}

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok:   $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL: $*"; }
section() { echo; echo "== $*"; }
# check DESCRIPTION COMMAND...: the command's exit status decides.
check() {
  desc=$1
  shift
  if "$@"; then ok "$desc"; else bad "$desc"; fi
}

find_tool() {
  for n in "$@"; do
    if p=$(command -v "$n" 2>/dev/null); then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# The IM6 programs of the module's quantum first: a generic `convert` may be
# another ImageMagick (or a wrapper).
if ! CONVERT=$(find_tool "convert-im6.$q" convert-im6 convert); then
  echo "SKIP: ImageMagick's convert is not installed (Debian: apt-get install imagemagick)"
  exit 77
fi
COMPARE=$(find_tool "compare-im6.$q" compare-im6 compare) || COMPARE=
IDENTIFY=$(find_tool "identify-im6.$q" identify-im6 identify) || IDENTIFY=
DJPEG=$(find_tool djpeg) || DJPEG=
if [ -z "$COMPARE" ] || [ -z "$IDENTIFY" ]; then
  echo "FAIL: convert is installed ($CONVERT) but not compare / identify"
  exit 1
fi
version=$("$CONVERT" -version | head -n 1)
echo "convert:  $CONVERT ($version)"
echo "module:   $JSEC_IM_MODULE_DIR"
echo "jsec CLI: $JSEC_CLI"
case $version in
  *"ImageMagick 6."*) ;;
  *) echo "FAIL: $CONVERT is not ImageMagick 6; the module is built against MagickCore 6"; exit 1 ;;
esac

# MAGICK_CODER_MODULE_PATH replaces ImageMagick's own coder directory, so it
# lists both: the module's directory, then ImageMagick's (PNG, JPEG ...).
coder_path=$("$CONVERT" -list configure | sed -n 's/^CODER_PATH[[:space:]]*//p')
if [ -z "$coder_path" ]; then
  echo "FAIL: \`$CONVERT -list configure\` names no CODER_PATH"
  exit 1
fi
MAGICK_CODER_MODULE_PATH="$JSEC_IM_MODULE_DIR:$coder_path"
export MAGICK_CODER_MODULE_PATH
echo "MAGICK_CODER_MODULE_PATH=$MAGICK_CODER_MODULE_PATH"

rm -rf "$JSEC_IM_WORK_DIR"
mkdir -p "$JSEC_IM_WORK_DIR"
cd "$JSEC_IM_WORK_DIR" || exit 1

# run CMD...: print it, run it with stderr in err.txt; its exit status.
run() {
  echo "  \$ $*"
  "$@" 2>err.txt
  rc=$?
  if [ -s err.txt ]; then sed 's/^/    stderr: /' err.txt; fi
  return $rc
}
# Expected to fail: status non-zero and stderr matching PATTERN.
fails_with() {
  desc=$1
  pattern=$2
  shift 2
  if run "$@"; then
    bad "$desc (exit 0, expected a failure)"
  elif grep -q -e "$pattern" err.txt; then
    ok "$desc (non-zero exit, message names \"$pattern\")"
  else
    bad "$desc (failed, but stderr does not match \"$pattern\")"
  fi
}
# Count of differing pixels (compare -metric AE), PSNR in dB ("inf" when equal).
ae() { "$COMPARE" -metric AE "$1" "$2" null: 2>&1 >/dev/null | awk '{print $1; exit}'; }
psnr() { "$COMPARE" -metric PSNR "$1" "$2" null: 2>&1 >/dev/null | awk '{print $1; exit}'; }
same_pixels() {
  n=$(ae "$1" "$2")
  echo "    AE($1, $2) = $n"
  [ "$n" = "0" ]
}
psnr_below() { # A B LIMIT
  p=$(psnr "$1" "$2")
  echo "    PSNR($1, $2) = $p dB"
  [ "$p" != "inf" ] && awk -v p="$p" -v l="$3" 'BEGIN { exit !(p + 0 < l + 0) }'
}
psnr_above() { # A B LIMIT
  p=$(psnr "$1" "$2")
  echo "    PSNR($1, $2) = $p dB"
  [ "$p" = "inf" ] || awk -v p="$p" -v l="$3" 'BEGIN { exit !(p + 0 > l + 0) }'
}
size_of() { wc -c <"$1" | tr -d ' '; }
same_size() {
  echo "    size($1) = $(size_of "$1"), size($2) = $(size_of "$2")"
  [ "$(size_of "$1")" = "$(size_of "$2")" ]
}
property() { # FILE PROPERTY DEFINES...: an image property as the coder sets it
  f=$1
  p=$2
  shift 2
  "$IDENTIFY" "$@" -format "%[$p]" "jsec:$f" 2>/dev/null
}

# --- setup --------------------------------------------------------------------
section "setup: a test picture and keys"
check "convert draws in.png (256x192 gradient with a white disc)" \
  run "$CONVERT" -size 256x192 gradient:red-blue -fill white -draw "circle 128,96 128,40" in.png
check "jsec keygen writes the key k.hex" run "$JSEC_CLI" keygen -o k.hex
check "jsec keygen writes another key wrong.hex" run "$JSEC_CLI" keygen -o wrong.hex
check "ImageMagick loads the module from $JSEC_IM_MODULE_DIR/jsec.la" \
  sh -c "'$CONVERT' -debug module -define jsec:key=k.hex -size 16x16 xc:gray jsec:probe.jpg 2>&1 |
         grep -F 'Opening module at path \"$JSEC_IM_MODULE_DIR/jsec.la\"'"

# --- write ---------------------------------------------------------------------
section "write: convert in.png -quality 90 -define jsec:key=k.hex jsec:enc.jpg"
check "convert writes enc.jpg through the coder" \
  run "$CONVERT" in.png -quality 90 -define jsec:key=k.hex jsec:enc.jpg
check "convert writes plain.jpg with the same settings (no encryption)" \
  run "$CONVERT" in.png -quality 90 plain.jpg
check "enc.jpg has the size of plain.jpg (FSPE keeps the size)" same_size enc.jpg plain.jpg
check "enc.jpg differs from plain.jpg" sh -c '! cmp -s enc.jpg plain.jpg'
check "jsec decrypt (CLI) of enc.jpg gives plain.jpg byte for byte: the coder wrote ImageMagick's own JPEG, encrypted" \
  sh -c "'$JSEC_CLI' decrypt --key k.hex enc.jpg enc.cli-dec.jpg && cmp enc.cli-dec.jpg plain.jpg"
check "enc.jpg is baseline (interlace None)" \
  sh -c "[ \"\$('$IDENTIFY' -format '%[interlace]' enc.jpg)\" = None ]"
if [ -n "$DJPEG" ]; then
  check "djpeg decodes enc.jpg (exit 0): still a valid JPEG" sh -c "'$DJPEG' enc.jpg >/dev/null"
else
  echo "  (djpeg not installed: libjpeg's check of enc.jpg not run)"
fi
check "enc.jpg is scrambled: PSNR(in.png, enc.jpg) < 15 dB" psnr_below in.png enc.jpg 15
check "-interlace Plane is overridden: the coder still writes the same baseline file" \
  sh -c "'$CONVERT' in.png -quality 90 -interlace Plane -define jsec:key=k.hex jsec:enc-interlace.jpg &&
         cmp enc-interlace.jpg enc.jpg"
check "writing to standard output (jsec:-) gives the same bytes" \
  sh -c "'$CONVERT' in.png -quality 90 -define jsec:key=k.hex jsec:- > enc-stdout.jpg && cmp enc-stdout.jpg enc.jpg"

# --- read ----------------------------------------------------------------------
section "read: convert -define jsec:key=k.hex jsec:enc.jpg dec.png"
check "convert decodes plain.jpg to plain.png (the reference pixels)" run "$CONVERT" plain.jpg plain.png
check "convert reads enc.jpg through the coder" \
  run "$CONVERT" -define jsec:key=k.hex jsec:enc.jpg dec.png
check "dec.png has exactly the pixels of plain.jpg (AE = 0)" same_pixels dec.png plain.png
check "dec.png is close to in.png (PSNR > 30 dB at quality 90)" psnr_above dec.png in.png 30
check "jsec encrypt (CLI) of plain.jpg gives cli.jpg" \
  run "$JSEC_CLI" encrypt --key k.hex plain.jpg cli.jpg
check "convert reads the CLI's cli.jpg through the coder" \
  run "$CONVERT" -define jsec:key=k.hex jsec:cli.jpg cli.png
check "cli.png has exactly the pixels of plain.jpg (AE = 0)" same_pixels cli.png plain.png
check "reading standard input (jsec:-) gives the same pixels" \
  sh -c "'$CONVERT' -define jsec:key=k.hex jsec:- stdin.png < enc.jpg && [ \"\$('$COMPARE' -metric AE stdin.png plain.png null: 2>&1)\" = 0 ]"
check "the decoded image's format is JSEC (identify %m)" \
  sh -c "[ \"\$('$IDENTIFY' -define jsec:key=k.hex -format %m jsec:enc.jpg)\" = JSEC ]"

# --- wrong and missing keys ------------------------------------------------------
section "wrong and missing keys"
check "a wrong key is not detectable (nothing is stored in the file): convert succeeds" \
  run "$CONVERT" -define jsec:key=wrong.hex jsec:enc.jpg wrong.png
check "... and the pixels stay scrambled: PSNR(wrong.png, plain.png) < 15 dB" \
  psnr_below wrong.png plain.png 15
check "without jsec:key the file is read as stored, with a warning (exit 0)" \
  sh -c "'$CONVERT' jsec:enc.jpg nokey.png 2>err.txt && grep -q 'no -define jsec:key' err.txt"
check "... scrambled: PSNR(nokey.png, plain.png) < 15 dB" psnr_below nokey.png plain.png 15
printf 'not a key\n' >notkey.hex
fails_with "a key file that is not hex fails the read" "jsec:key=notkey.hex" \
  "$CONVERT" -define jsec:key=notkey.hex jsec:enc.jpg bad.png
fails_with "a missing key file fails the read" "jsec:key=missing.hex" \
  "$CONVERT" -define jsec:key=missing.hex jsec:enc.jpg bad.png
fails_with "writing without jsec:key fails" "needs -define jsec:key" \
  "$CONVERT" in.png jsec:nokey.jpg
check "... and writes nothing" sh -c '[ ! -e nokey.jpg ]'
fails_with "an unknown jsec:rule value fails" "jsec:rule=bogus" \
  "$CONVERT" -define jsec:key=k.hex -define jsec:rule=bogus jsec:enc.jpg bad.png
fails_with "a file that is not a JPEG fails with jsec's message" "jsec_fspe_cipher_decrypt" \
  "$CONVERT" -define jsec:key=k.hex jsec:in.png bad.png

# --- FSPE options ------------------------------------------------------------------
section "FSPE options through -define (the decryptor gets the encryptor's options)"
check "write with jsec:rule=paper, jsec:components=luma" \
  run "$CONVERT" in.png -quality 90 -define jsec:key=k.hex -define jsec:rule=paper \
  -define jsec:components=luma jsec:paper.jpg
check "... jsec decrypt --rule paper --components luma gives plain.jpg byte for byte" \
  sh -c "'$JSEC_CLI' decrypt --key k.hex --rule paper --components luma paper.jpg paper.cli-dec.jpg &&
         cmp paper.cli-dec.jpg plain.jpg"
check "... convert reads it back with the same defines: AE = 0" \
  sh -c "'$CONVERT' -define jsec:key=k.hex -define jsec:rule=paper -define jsec:components=luma \
           jsec:paper.jpg paper.png && [ \"\$('$COMPARE' -metric AE paper.png plain.png null: 2>&1)\" = 0 ]"
check "write with jsec:bands=dc,ac-high and jsec:nonce=00112233445566778899aabbccddeeff" \
  run "$CONVERT" in.png -quality 90 -define jsec:key=k.hex -define jsec:bands=dc,ac-high \
  -define jsec:nonce=00112233445566778899aabbccddeeff jsec:bands.jpg
check "... jsec decrypt --bands dc,ac-high --nonce ... gives plain.jpg byte for byte" \
  sh -c "'$JSEC_CLI' decrypt --key k.hex --bands dc,ac-high --nonce 00112233445566778899aabbccddeeff \
           bands.jpg bands.cli-dec.jpg && cmp bands.cli-dec.jpg plain.jpg"
check "... convert reads it back with the same defines: AE = 0" \
  sh -c "'$CONVERT' -define jsec:key=k.hex -define jsec:bands=dc,ac-high \
           -define jsec:nonce=00112233445566778899aabbccddeeff jsec:bands.jpg bands.png &&
         [ \"\$('$COMPARE' -metric AE bands.png plain.png null: 2>&1)\" = 0 ]"
check "write with jsec:region=64,48,128,96 and jsec:outside=true (everything but the disc)" \
  run "$CONVERT" in.png -quality 90 -define jsec:key=k.hex -define jsec:region=64,48,128,96 \
  -define jsec:outside=true jsec:region.jpg
check "... jsec's warning (the DC stays in clear without restart markers) reaches ImageMagick's stderr" \
  grep -q "JSECWarning.*stays in clear" err.txt
check "... jsec decrypt --region 64,48,128,96 --outside gives plain.jpg byte for byte" \
  sh -c "'$JSEC_CLI' decrypt --key k.hex --region 64,48,128,96 --outside region.jpg region.cli-dec.jpg &&
         cmp region.cli-dec.jpg plain.jpg"
"$CONVERT" region.jpg -crop 96x80+80+56 +repage region-disc.png
"$CONVERT" plain.jpg -crop 96x80+80+56 +repage plain-disc.png
check "... without the key the disc (inside the region) is clear: same pixels as plain.jpg's" \
  same_pixels region-disc.png plain-disc.png
check "... and the rest is changed (AE > 0; only its AC is scrambled: the DC mosaic stays, as jsec warned)" \
  sh -c "! [ \"\$('$COMPARE' -metric AE region.jpg plain.png null: 2>&1)\" = 0 ]"
check "... convert reads it back with the same defines: AE = 0" \
  sh -c "'$CONVERT' -define jsec:key=k.hex -define jsec:region=64,48,128,96 -define jsec:outside=true \
           jsec:region.jpg region.png && [ \"\$('$COMPARE' -metric AE region.png plain.png null: 2>&1)\" = 0 ]"
check "write with jsec:levels=true (multi-level access)" \
  run "$CONVERT" in.png -quality 90 -define jsec:key=k.hex -define jsec:levels=true jsec:levels.jpg
check "... the master key reads it back: AE = 0" \
  sh -c "'$CONVERT' -define jsec:key=k.hex -define jsec:levels=true jsec:levels.jpg levels.png &&
         [ \"\$('$COMPARE' -metric AE levels.png plain.png null: 2>&1)\" = 0 ]"
check "jsec derive-key --level 2 gives the preview key k2.hex" \
  run "$JSEC_CLI" derive-key --key k.hex --level 2 -o k2.hex
check "... convert reads levels.jpg with k2.hex and jsec:key-level=2" \
  run "$CONVERT" -define jsec:key=k2.hex -define jsec:key-level=2 -define jsec:levels=true \
  jsec:levels.jpg preview.png
check "... the preview is not the full image (AE > 0)" sh -c "! [ \"\$('$COMPARE' -metric AE preview.png plain.png null: 2>&1)\" = 0 ]"
check "... the preview is much closer than the scrambled file (PSNR > 18 dB)" psnr_above preview.png plain.png 18
check "... the scrambled file itself is not (PSNR < 15 dB)" psnr_below levels.jpg plain.png 15
fails_with "jsec:key-level=2 cannot encrypt" "only the master key" \
  "$CONVERT" in.png -define jsec:key=k2.hex -define jsec:key-level=2 -define jsec:levels=true jsec:bad.jpg

# --- EXIF privacy ----------------------------------------------------------------------
section "EXIF privacy: -define jsec:exif=gps,identity (docs/fspe.md section 12)"
exif_of() { # FILE TAG [DEFINES...]: one EXIF tag as ImageMagick reads it
  f=$1
  t=$2
  shift 2
  "$IDENTIFY" "$@" -format "%[EXIF:$t]" "$f" 2>/dev/null
}
check "jsec demo writes a GPS-tagged photo (demo/original.jpg)" \
  sh -c "'$JSEC_CLI' demo --out-dir demo >demo.txt"
lat=$(exif_of demo/original.jpg GPSLatitude)
date0=$(exif_of demo/original.jpg DateTimeOriginal)
echo "    original: GPSLatitude=$lat DateTimeOriginal=$date0"
check "... ImageMagick reads its GPS position and capture date" \
  sh -c "[ -n '$lat' ] && [ -n '$date0' ]"
check "write: convert demo/original.jpg -define jsec:key=k.hex -define jsec:exif=gps,identity jsec:exif.jpg" \
  run "$CONVERT" demo/original.jpg -define jsec:key=k.hex -define jsec:exif=gps,identity jsec:exif.jpg
enc_lat=$(exif_of exif.jpg GPSLatitude)
enc_date=$(exif_of exif.jpg DateTimeOriginal)
echo "    written: GPSLatitude=$enc_lat DateTimeOriginal=$enc_date"
check "... without the key the GPS position is not the original's" test "$enc_lat" != "$lat"
check "... the capture date stays readable" test "$enc_date" = "$date0"
check "... jsec decrypt --exif=gps,identity restores the position" \
  sh -c "'$JSEC_CLI' decrypt --key k.hex --exif=gps,identity exif.jpg exif.cli-dec.jpg &&
         [ \"\$('$IDENTIFY' -format '%[EXIF:GPSLatitude]' exif.cli-dec.jpg)\" = '$lat' ]"
check "... convert reads it back with the same defines: the image's GPSLatitude is the original's" \
  sh -c "[ \"\$('$IDENTIFY' -define jsec:key=k.hex -define jsec:exif=gps,identity \
             -format '%[EXIF:GPSLatitude]' jsec:exif.jpg)\" = '$lat' ]"
fails_with "jsec:exif=planets is refused, naming the define" "jsec:exif" \
  "$CONVERT" in.png -define jsec:key=k.hex -define jsec:exif=planets jsec:bad.jpg

# --- signatures ----------------------------------------------------------------------
section "verify: -define jsec:verify=PUBKEY (croppable signatures from jsec sign)"
check "jsec keygen --type bls writes sk / pk" run "$JSEC_CLI" keygen --type bls -o sk --public-out pk
check "jsec keygen --type bls writes another pair sk2 / pk2" \
  run "$JSEC_CLI" keygen --type bls -o sk2 --public-out pk2
check "jsec sign -k sk plain.jpg signed.jpg" run "$JSEC_CLI" sign -k sk plain.jpg signed.jpg
check "convert reads signed.jpg with the right public key" \
  run "$CONVERT" -define jsec:verify=pk jsec:signed.jpg signed.png
check "... same pixels as plain.jpg (the signature lives in COM segments)" same_pixels signed.png plain.png
check "... identify reports %[jsec:signature] = valid" \
  sh -c "[ \"\$('$IDENTIFY' -define jsec:verify=pk -format '%[jsec:signature]' jsec:signed.jpg)\" = valid ]"
fails_with "another public key fails the read" "signature does not verify" \
  "$CONVERT" -define jsec:verify=pk2 jsec:signed.jpg bad.png
check "... and writes no output" sh -c '[ ! -e bad.png ]'
fails_with "an unsigned file fails the read" "signature does not verify" \
  "$CONVERT" -define jsec:verify=pk jsec:plain.jpg bad.png
fails_with "a secret key given as jsec:verify is refused" "secret key file" \
  "$CONVERT" -define jsec:verify=sk jsec:signed.jpg bad.png
check "jsec crop --rect 0,0,128,96 signed.jpg crop.jpg (no key)" \
  run "$JSEC_CLI" crop --rect 0,0,128,96 signed.jpg crop.jpg
check "convert verifies the crop: %[jsec:signature-crop] = 128x96+0+0 of 256x192" \
  sh -c "[ \"\$('$IDENTIFY' -define jsec:verify=pk -format '%[jsec:signature-crop]' jsec:crop.jpg)\" = '128x96+0+0 of 256x192' ]"
check "signed, then encrypted (CLI): jsec encrypt signed.jpg signed-enc.jpg" \
  run "$JSEC_CLI" encrypt --key k.hex signed.jpg signed-enc.jpg
check "... convert with jsec:key and jsec:verify decrypts and verifies it" \
  run "$CONVERT" -define jsec:key=k.hex -define jsec:verify=pk jsec:signed-enc.jpg signed-enc.png
check "... same pixels as plain.jpg" same_pixels signed-enc.png plain.png
check "... the signature was checked after decryption" \
  sh -c "[ \"\$('$IDENTIFY' -define jsec:key=k.hex -define jsec:verify=pk -format '%[jsec:signature-checked]' jsec:signed-enc.jpg)\" = 'after decryption' ]"
check "encrypted by convert, then signed (CLI): jsec sign enc.jpg enc-signed.jpg" \
  run "$JSEC_CLI" sign -k sk enc.jpg enc-signed.jpg
check "... convert decrypts and verifies it; the signature was checked as stored" \
  sh -c "[ \"\$('$IDENTIFY' -define jsec:key=k.hex -define jsec:verify=pk -format '%[jsec:signature-checked]' jsec:enc-signed.jpg)\" = 'as stored' ]"
fails_with "... with another public key the read fails" "signature does not verify" \
  "$CONVERT" -define jsec:key=k.hex -define jsec:verify=pk2 jsec:enc-signed.jpg bad.png
check "profile paper: jsec keygen --type ecdsa-p256 writes ec.pem / ec.pub.pem" \
  run "$JSEC_CLI" keygen --type ecdsa-p256 -o ec.pem --public-out ec.pub.pem
check "... jsec sign -k ec.pem plain.jpg signed-paper.jpg" \
  run "$JSEC_CLI" sign -k ec.pem plain.jpg signed-paper.jpg
check "... convert verifies it with the PEM public key (profile paper)" \
  sh -c "[ \"\$('$IDENTIFY' -define jsec:verify=ec.pub.pem -format '%[jsec:signature-profile]' jsec:signed-paper.jpg)\" = paper ]"
fails_with "... a BLS public key does not verify it" "signature does not verify" \
  "$CONVERT" -define jsec:verify=pk jsec:signed-paper.jpg bad.png

echo
echo "imagemagick-jsec: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
