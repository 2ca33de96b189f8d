#!/usr/bin/env python3
"""End-to-end test of the jsec privacy proxy (integrations/mitmproxy).

On loopback only: starts the test photo cloud (cloud.py) and two mitmdump
proxies with the addon, uploads JPEGs through them with curl (raw PUT / POST,
chunked, multipart/form-data; whole and streamed bodies), and checks what the
cloud stored and what comes back:

* the stored JPEG has the original's size, decodes with djpeg (exit 0,
  nothing on stderr) and differs from the original;
* the cloud's own thumbnail of it shows nothing of the picture: PSNR against
  the cloud's thumbnail of the original below 15 dB;
* downloading through the proxy gives the original bytes back; downloading
  around it gives the encrypted bytes;
* a PNG and a progressive JPEG pass through unchanged and are logged;
* the two-pass stream (proxy A) gives exactly what whole-body encryption
  gives; the one-pass stream with random nonces (proxy B) is decrypted
  through its nonce journal;
* a user without a key is refused, the user header never reaches the cloud,
  and another user's key does not open the photo.

It installs nothing. Exit status: 0 passed, 1 failed, 77 skipped (mitmdump
or another tool missing: the message says which).

    python3 tests/proxy/run_proxy_test.py --library build/jsec-lib/libjsec.so \\
        --corpus ../shared/corpus
"""

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ADDON = REPO / "integrations" / "mitmproxy" / "jsec_addon.py"
SKIP = 77
STREAM_THRESHOLD = "512k"
STREAM_THRESHOLD_BYTES = 512 * 1024
PSNR_LIMIT = 15.0
USER_HEADER = "X-Jsec-User"
# Baseline camera photos of ../shared/corpus (see its MANIFEST.md): a 4:2:2
# one with an EXIF thumbnail (whole body), a large one with an EXIF thumbnail
# (streamed), a 4:4:4 one with restart markers and Adobe/IPTC segments, and a
# progressive one that must pass through. Each is uploaded raw and in a
# multipart body.
CORPUS_BASELINE = ("real/DSCN0010.jpg", "real/canon_hdr_NO.jpg", "real/nikon-e950.jpg")
CORPUS_PROGRESSIVE = "generated/jpeg/jt-DSCN0010-prog.jpg"

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(REPO / "integrations" / "mitmproxy"))
import jsec_ctypes as jc  # noqa: E402  (the test's reference encryption)


class Skip(Exception):
    """The test cannot run here (a tool is missing)."""


class Failed(Exception):
    """A fatal failure (setup did not work)."""


# --- small helpers ----------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """The environment without proxy variables (everything stays on loopback),
    and without __pycache__ writes into the source tree."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def find_tool(given: Optional[str], name: str) -> Optional[str]:
    """A tool from the command line (CMake's find_program) or from PATH."""
    if given and not given.endswith("-NOTFOUND") and Path(given).is_file():
        return given
    return shutil.which(name)


def wait_port(port: int, deadline: float, proc: Optional[subprocess.Popen] = None) -> None:
    """Wait until 127.0.0.1:port accepts connections."""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Failed(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise Failed(f"nothing listens on 127.0.0.1:{port}")


def read_ppm(data: bytes) -> tuple[int, int, int, bytes]:
    """Parse binary PNM (P5 grey, P6 RGB) from djpeg -pnm: w, h, channels, samples."""
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        tokens.append(data[start:pos])
    pos += 1
    magic, w, h, maxval = tokens[0], int(tokens[1]), int(tokens[2]), int(tokens[3])
    if maxval != 255 or magic not in (b"P5", b"P6"):
        raise ValueError(f"unexpected PNM {magic!r} maxval {maxval}")
    channels = 3 if magic == b"P6" else 1
    return w, h, channels, data[pos:pos + w * h * channels]


def psnr(a: tuple[int, int, int, bytes], b: tuple[int, int, int, bytes]) -> float:
    """PSNR in dB of two decoded images of the same size (8-bit samples)."""
    if a[:3] != b[:3]:
        raise ValueError(f"sizes differ: {a[:3]} vs {b[:3]}")
    sa, sb = a[3], b[3]
    sse = sum((x - y) * (x - y) for x, y in zip(sa, sb))
    if sse == 0:
        return float("inf")
    mse = sse / len(sa)
    return 10.0 * math.log10(255.0 * 255.0 / mse)


# --- the test -------------------------------------------------------------------


class ProxyTest:
    """Processes, tools and checks of one run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.failures: list[str] = []
        self.passed = 0
        self.procs: list[tuple[str, subprocess.Popen, Path]] = []
        self.env = clean_env()
        self.mitmdump = find_tool(args.mitmdump, "mitmdump")
        if not self.mitmdump:
            raise Skip("mitmdump not found: pip install -r integrations/mitmproxy/requirements.txt")
        tools = {}
        for name in ("curl", "djpeg", "convert"):
            tools[name] = find_tool(getattr(args, name), name)
            if not tools[name]:
                package = {"curl": "curl", "djpeg": "libjpeg-turbo-progs",
                           "convert": "imagemagick"}[name]
                raise Skip(f"{name} not found (Debian package {package})")
        self.curl_bin, self.djpeg, self.convert = tools["curl"], tools["djpeg"], tools["convert"]
        library = args.library or os.environ.get("JSEC_LIBRARY") or ""
        if not library:
            for candidate in (REPO / "build" / "jsec-lib" / "libjsec.so",
                              REPO / "target" / "release" / "libjsec.so"):
                if candidate.is_file():
                    library = str(candidate)
                    break
        if not library or not Path(library).is_file():
            raise Failed(f"libjsec.so not found ({library or 'give --library or JSEC_LIBRARY'})")
        self.library = str(Path(library).resolve())
        self.lib = jc.Library(self.library)
        if args.workdir:
            self.work = Path(args.workdir).resolve()
            if self.work.exists():
                shutil.rmtree(self.work)
            self.work.mkdir(parents=True)
        else:
            self.work = Path(tempfile.mkdtemp(prefix="jsec-proxy-test-"))
        self.cloud_port = 0
        self.ports: dict[str, int] = {}

    # -- reporting

    def check(self, ok: bool, what: str) -> bool:
        """Record one check."""
        if ok:
            self.passed += 1
            if self.args.verbose:
                print(f"  ok   {what}")
        else:
            self.failures.append(what)
            print(f"  FAIL {what}")
        return ok

    # -- processes

    def start(self, name: str, cmd: list[str], env: Optional[dict[str, str]] = None) -> subprocess.Popen:
        """Start a process with its output in <work>/<name>.log."""
        log_path = self.work / f"{name}.log"
        log = open(log_path, "wb")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env or self.env, cwd=self.work)
        log.close()
        self.procs.append((name, proc, log_path))
        return proc

    def stop_all(self) -> None:
        """Stop every process this test started (by its own handle)."""
        for _, proc, _ in self.procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 5
        for _, proc, _ in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log_text(self, name: str) -> str:
        """The output of a started process so far."""
        return (self.work / f"{name}.log").read_text(errors="replace")

    def wait_mitmdump(self, name: str, proc: subprocess.Popen, deadline: float) -> int:
        """Wait for 'listening at' and the addon's 'jsec: ready' line."""
        pattern = re.compile(r"proxy listening at 127\.0\.0\.1:(\d+)")
        while time.monotonic() < deadline:
            text = self.log_text(name)
            m = pattern.search(text)
            if m and "jsec: ready" in text:
                port = int(m.group(1))
                wait_port(port, deadline, proc)
                return port
            if proc.poll() is not None:
                raise Failed(f"{name} exited with {proc.returncode}:\n{text[-3000:]}")
            time.sleep(0.05)
        raise Failed(f"{name} not ready in time:\n{self.log_text(name)[-3000:]}")

    # -- HTTP

    def curl(self, url_path: str, proxy: Optional[str] = None, user: Optional[str] = None,
             extra: Optional[list[str]] = None, expect_ok: bool = True) -> bytes:
        """Run curl against the cloud, through proxy A/B or around it."""
        cmd = [self.curl_bin, "-sS", "--max-time", "30", "-o", "-"]
        if proxy:
            cmd += ["-x", f"http://127.0.0.1:{self.ports[proxy]}"]
        else:
            cmd += ["--noproxy", "*"]
        if user:
            cmd += ["-H", f"{USER_HEADER}: {user}"]
        if expect_ok:
            cmd += ["--fail-with-body"]
        cmd += (extra or []) + [f"http://127.0.0.1:{self.cloud_port}{url_path}"]
        proc = subprocess.run(cmd, capture_output=True, env=self.env, timeout=60)
        if expect_ok and proc.returncode != 0:
            raise Failed(f"{' '.join(cmd)}: exit {proc.returncode}: "
                         f"{proc.stderr.decode(errors='replace')} {proc.stdout[:300]!r}")
        return proc.stdout

    def direct(self, url_path: str) -> bytes:
        """GET from the cloud around the proxy."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{self.cloud_port}{url_path}", timeout=30) as r:
            return r.read()

    def meta(self, name: str) -> dict[str, Any]:
        """What the cloud saw of an upload."""
        return json.loads(self.direct(f"/meta/{name}"))

    # -- images

    def run_tool(self, cmd: list[str]) -> subprocess.CompletedProcess:
        """Run a local tool; its failure is fatal."""
        proc = subprocess.run(cmd, capture_output=True, env=self.env, timeout=60)
        if proc.returncode != 0:
            raise Failed(f"{' '.join(cmd)}: exit {proc.returncode}: "
                         f"{proc.stderr.decode(errors='replace')}")
        return proc

    def decode(self, data: bytes) -> tuple[int, bytes, bytes]:
        """djpeg -pnm of JPEG bytes: exit status, pixels, stderr."""
        proc = subprocess.run([self.djpeg, "-pnm"], input=data, capture_output=True, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def make_images(self) -> dict[str, Path]:
        """Generate the test pictures (the test also runs without the corpus)."""
        d = self.work / "images"
        d.mkdir()
        gen_small, gen_large = d / "gen-small.jpg", d / "gen-large.jpg"
        self.run_tool([self.convert, "-size", "640x480", "-seed", "7", "plasma:fractal",
                       "-blur", "0x1", "-quality", "88", "-sampling-factor", "2x2",
                       str(gen_small)])
        self.run_tool([self.convert, "-size", "1600x1200", "-seed", "11", "plasma:fractal",
                       "-quality", "92", str(gen_large)])
        png, prog = d / "gen.png", d / "gen-prog.jpg"
        self.run_tool([self.convert, str(gen_small), "-resize", "50%", str(png)])
        self.run_tool([self.convert, str(gen_small), "-interlace", "JPEG", str(prog)])
        big_prog = d / "gen-large-prog.jpg"
        self.run_tool([self.convert, str(gen_large), "-interlace", "JPEG", str(big_prog)])
        images = {"gen-small.jpg": gen_small, "gen-large.jpg": gen_large,
                  "gen.png": png, "gen-prog.jpg": prog, "gen-large-prog.jpg": big_prog}
        if gen_large.stat().st_size <= STREAM_THRESHOLD_BYTES:
            raise Failed("gen-large.jpg is too small to be streamed")
        if gen_small.stat().st_size >= STREAM_THRESHOLD_BYTES:
            raise Failed("gen-small.jpg is too large for a whole-body upload")
        for p in (prog, big_prog):
            if p.read_bytes().find(b"\xff\xc2") < 0:
                raise Failed(f"{p.name} is not progressive")
        if big_prog.stat().st_size <= STREAM_THRESHOLD_BYTES:
            raise Failed("gen-large-prog.jpg is too small to be streamed")
        corpus = self.args.corpus or os.environ.get("JSEC_CORPUS_DIR") or ""
        if corpus and Path(corpus).is_dir():
            for rel in CORPUS_BASELINE + (CORPUS_PROGRESSIVE,):
                src = Path(corpus) / rel
                if src.is_file():
                    images[src.name] = src
                else:
                    print(f"note: corpus file {src} missing")
        else:
            print(f"note: corpus not found ({corpus or 'no --corpus / JSEC_CORPUS_DIR'}): "
                  "generated images only")
        return images

    # -- setup

    def setup(self) -> None:
        """Keys, images, the cloud and both proxies."""
        keys = self.work / "keys"
        keys.mkdir()
        for user in ("alice", "bob"):
            (keys / f"{user}.key").write_text(os.urandom(32).hex() + "\n")
        solo = self.work / "solo.key"
        solo.write_text(os.urandom(16).hex() + "\n")  # AES-128 for proxy B
        self.ciphers = {
            # proxy A also enciphers GPS and identity EXIF values
            "alice": jc.Cipher(self.lib, jc.Key.from_file(self.lib, keys / "alice.key"),
                               metadata=jc.parse_metadata("gps,identity")),
            "bob": jc.Cipher(self.lib, jc.Key.from_file(self.lib, keys / "bob.key"),
                             metadata=jc.parse_metadata("gps,identity")),
            # proxy B uses Kobayashi & Kiya's rule: the reference must too
            "solo": jc.Cipher(self.lib, jc.Key.from_file(self.lib, solo), rule="paper"),
        }
        self.journal = self.work / "b.nonces"

        deadline = time.monotonic() + 40
        port_file = self.work / "cloud.port"
        cloud = self.start("cloud", [sys.executable, str(HERE / "cloud.py"), "--port", "0",
                                     "--port-file", str(port_file), "--store",
                                     str(self.work / "cloud"), "--convert", self.convert])
        common = [self.mitmdump, "--listen-host", "127.0.0.1", "--listen-port", "0",
                  "-s", str(ADDON), "--set", f"stream_large_bodies={STREAM_THRESHOLD}",
                  "--set", "termlog_verbosity=info", "--set", "flow_detail=1"]
        while not port_file.exists():
            if cloud.poll() is not None or time.monotonic() > deadline:
                raise Failed(f"the cloud did not start:\n{self.log_text('cloud')}")
            time.sleep(0.02)
        self.cloud_port = int(port_file.read_text())
        # Proxy A: per-user keys chosen by a header, default (two-pass)
        # streaming, libjsec from JSEC_LIBRARY.
        env_a = dict(self.env, JSEC_LIBRARY=self.library)
        proxy_a = self.start("proxy-a", common + [
            "--set", f"confdir={self.work / 'mitm-a'}",
            "--set", f"jsec_key_dir={keys}", "--set", "jsec_user_from=header",
            "--set", "jsec_hosts=127.0.0.1", "--set", "jsec_paths=/photos,/upload",
            "--set", "jsec_exif=gps,identity"], env_a)
        # Proxy B: one key, the paper rule, one-pass streaming with random
        # nonces and a journal, host:port matching, libjsec from the
        # jsec_library option.
        proxy_b = self.start("proxy-b", common + [
            "--set", f"confdir={self.work / 'mitm-b'}",
            "--set", f"jsec_key={solo}", "--set", f"jsec_library={self.library}",
            "--set", f"jsec_hosts=127.0.0.1:{self.cloud_port}",
            "--set", "jsec_paths=/photos,/upload", "--set", "jsec_stream_nonce=random",
            "--set", "jsec_rule=paper",
            "--set", f"jsec_journal={self.journal}"])
        self.images = self.make_images()  # while the proxies start
        wait_port(self.cloud_port, deadline, cloud)
        self.ports["A"] = self.wait_mitmdump("proxy-a", proxy_a, deadline)
        self.ports["B"] = self.wait_mitmdump("proxy-b", proxy_b, deadline)
        print(f"cloud :{self.cloud_port}, proxy A :{self.ports['A']}, proxy B :{self.ports['B']}, "
              f"libjsec {self.lib.version} ({self.library})")

    # -- checks

    def reference(self, original: bytes) -> str:
        """Upload the original around the proxy (once) so that the cloud makes
        its thumbnail of it; return its name."""
        ref = f"ref-{hashlib.sha256(original).hexdigest()[:16]}.jpg"
        if not (self.work / "cloud" / "files" / ref).exists():
            path = self.work / "upload.tmp"
            path.write_bytes(original)
            self.curl(f"/public/{ref}", extra=["-T", str(path)])
        return ref

    def verify_encrypted(self, name: str, original: bytes, proxy: str, user: Optional[str],
                         cipher: jc.Cipher, exact: bool, label: str) -> None:
        """The stored file is an encrypted JPEG of the same size, opaque in
        the cloud's thumbnail, and the proxy gives the original back."""
        stored = self.direct(f"/photos/{name}")
        on_disk = (self.work / "cloud" / "files" / name).read_bytes()
        self.check(len(stored) == len(original), f"{label}: stored size {len(stored)} == "
                   f"original {len(original)}")
        self.check(stored != original, f"{label}: stored bytes differ from the original")
        self.check(stored == on_disk, f"{label}: download around the proxy gives the stored "
                   "(encrypted) bytes")
        rc, _, err = self.decode(stored)
        self.check(rc == 0 and not err, f"{label}: djpeg decodes the stored file "
                   f"(exit {rc}, stderr {err[:200]!r})")
        expected = bytearray(original)
        cipher.encrypt(expected)  # whole-body encryption, default nonce
        if exact:
            self.check(stored == bytes(expected), f"{label}: stored bytes equal whole-body "
                       "jsec_fspe_cipher_encrypt")
        else:
            self.check(stored != bytes(expected), f"{label}: stored bytes differ from the "
                       "default-nonce encryption (a random nonce was used)")
        meta = self.meta(name)
        self.check(meta.get("thumbnail") is True, f"{label}: the cloud made a thumbnail "
                   f"({meta.get('thumbnail_error')})")
        self.check(USER_HEADER.lower() not in meta.get("request_headers", {}),
                   f"{label}: the {USER_HEADER} header did not reach the cloud")
        ref = self.reference(original)
        try:
            thumb_enc = read_ppm(self.decode(self.direct(f"/thumbs/{name}"))[1])
            thumb_ref = read_ppm(self.decode(self.direct(f"/thumbs/{ref}"))[1])
            value = psnr(thumb_enc, thumb_ref)
            self.check(value < PSNR_LIMIT, f"{label}: PSNR of the cloud's thumbnail against "
                       f"the original's {value:.2f} dB < {PSNR_LIMIT} dB")
        except (ValueError, OSError) as e:
            self.check(False, f"{label}: thumbnails comparable ({e})")
        back = self.curl(f"/photos/{name}", proxy=proxy, user=user)
        self.check(back == original, f"{label}: download through proxy {proxy} gives the "
                   f"original bytes ({len(back)} bytes)")

    def verify_unchanged(self, name: str, original: bytes, proxy: str, user: Optional[str],
                         label: str) -> None:
        """Stored as sent, and comes back as sent."""
        stored = self.direct(f"/photos/{name}")
        self.check(stored == original, f"{label}: stored unchanged")
        back = self.curl(f"/photos/{name}", proxy=proxy, user=user)
        self.check(back == original, f"{label}: download through proxy {proxy} unchanged")

    def upload_raw(self, name: str, path: Path, proxy: str, user: Optional[str],
                   how: str = "put", collection: str = "photos") -> dict[str, Any]:
        """Raw-body upload through a proxy with curl."""
        if how == "put":
            extra = ["-T", str(path)]
        elif how == "post":
            extra = ["--data-binary", f"@{path}", "-H", "Content-Type: image/jpeg"]
        else:  # chunked
            extra = ["-T", str(path), "-H", "Transfer-Encoding: chunked"]
        return json.loads(self.curl(f"/{collection}/{name}", proxy=proxy, user=user, extra=extra))

    def upload_multipart(self, files: list[tuple[str, Path, str]], proxy: str,
                         user: Optional[str], caption: str) -> dict[str, Any]:
        """multipart/form-data upload of (server name, file, type) with a caption."""
        extra = ["-F", f"caption={caption}"]
        for server_name, path, ctype in files:
            extra += ["-F", f"file=@{path};type={ctype};filename={server_name}"]
        return json.loads(self.curl("/upload", proxy=proxy, user=user, extra=extra))

    def exif(self, data: bytes) -> dict[str, str]:
        """The EXIF tags ImageMagick reads from JPEG bytes."""
        path = self.work / "exif.tmp.jpg"
        path.write_bytes(data)
        out = self.run_tool([self.convert, str(path), "-format", "%[EXIF:*]", "info:"]).stdout
        text = out.decode(errors="replace") if isinstance(out, bytes) else out
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def check_exif_privacy(self, jpegs: list[str], originals: dict[str, bytes]) -> None:
        """Proxy A runs with jsec_exif=gps,identity: in what the cloud
        stored, ImageMagick reads the same EXIF tags, the GPS position is not
        the original's, and the capture date is."""
        checked = 0
        for name in jpegs:
            before = self.exif(originals[name])
            if "exif:GPSLatitude" not in before:
                continue
            after = self.exif(self.direct(f"/photos/a-raw-{name}"))
            label = f"A EXIF {name}"
            self.check(sorted(after) == sorted(before), f"{label}: the cloud reads the same "
                       f"EXIF tags ({len(before)})")
            for tag in ("exif:GPSLatitude", "exif:GPSLongitude"):
                self.check(after.get(tag) != before[tag], f"{label}: {tag} enciphered "
                           f"({before[tag]!r} -> {after.get(tag)!r})")
            for tag in ("exif:DateTimeOriginal", "exif:Make", "exif:Model"):
                if tag in before:
                    self.check(after.get(tag) == before[tag], f"{label}: {tag} readable "
                               f"({before[tag]!r})")
            checked += 1
        if any(n.startswith("DSCN0010") for n in jpegs):
            self.check(checked > 0, "A EXIF: a GPS-tagged photo was checked")
        else:
            print("note: no GPS-tagged photo (corpus missing): EXIF privacy not checked")

    def run_checks(self) -> None:
        """Everything the test checks."""
        img = self.images
        jpegs = [n for n in img if n.endswith(".jpg") and "prog" not in n]
        originals = {n: img[n].read_bytes() for n in img}

        print("proxy A: raw uploads (whole and two-pass streamed bodies), user alice")
        for i, name in enumerate(jpegs):
            how = ("put", "post")[i % 2]
            server_name = f"a-raw-{name}"
            streamed = len(originals[name]) > STREAM_THRESHOLD_BYTES
            info = self.upload_raw(server_name, img[name], "A", "alice", how)
            label = f"A {how.upper()} {name} ({'streamed' if streamed else 'whole body'})"
            self.check(info.get("content_length") == str(len(originals[name])),
                       f"{label}: Content-Length at the cloud {info.get('content_length')} "
                       "== original size")
            self.verify_encrypted(server_name, originals[name], "A", "alice",
                                  self.ciphers["alice"], True, label)
        self.check_exif_privacy(jpegs, originals)
        other = self.curl(f"/photos/a-raw-{jpegs[0]}", proxy="A", user="bob")
        self.check(other != originals[jpegs[0]] and len(other) == len(originals[jpegs[0]]),
                   "A: bob's key does not open alice's photo")

        print("proxy A: chunked upload (body of unknown length, streamed)")
        self.upload_raw("a-chunked.jpg", img["gen-large.jpg"], "A", "alice", "chunked")
        meta = self.meta("a-chunked.jpg")
        self.check((meta.get("transfer_encoding") or "").lower() == "chunked",
                   "A chunked: the cloud received a chunked body")
        self.verify_encrypted("a-chunked.jpg", originals["gen-large.jpg"], "A", "alice",
                              self.ciphers["alice"], True, "A chunked gen-large.jpg")

        print("proxy A: multipart uploads (whole body, and streamed)")
        small = [n for n in jpegs if len(originals[n]) < 200 * 1024]
        files = [(f"a-mp-{n}", img[n], "image/jpeg") for n in small]
        files.append(("a-mp-gen.png", img["gen.png"], "image/png"))
        if sum(p.stat().st_size for _, p, _ in files) >= STREAM_THRESHOLD_BYTES:
            raise Failed("the whole-body multipart upload would be streamed")
        result = self.upload_multipart(files, "A", "alice", "holiday 2024 -- private")
        self.check(result.get("fields", {}).get("caption") == "holiday 2024 -- private",
                   "A multipart: the text field reached the cloud unchanged")
        for server_name, path, _ in files[:-1]:
            self.verify_encrypted(server_name, originals[path.name], "A", "alice",
                                  self.ciphers["alice"], True, f"A multipart {path.name}")
        self.verify_unchanged("a-mp-gen.png", originals["gen.png"], "A", "alice",
                              "A multipart gen.png")
        big = [n for n in jpegs if len(originals[n]) > STREAM_THRESHOLD_BYTES]
        files = [(f"a-mps-{n}", img[n], "image/jpeg") for n in big]
        self.upload_multipart(files, "A", "alice", "streamed")
        for server_name, path, _ in files:
            self.verify_encrypted(server_name, originals[path.name], "A", "alice",
                                  self.ciphers["alice"], True,
                                  f"A multipart streamed {path.name}")

        print("proxy A: pass-through (PNG, progressive JPEG, other paths, no key)")
        self.upload_raw("a-gen.png", img["gen.png"], "A", "alice")
        self.verify_unchanged("a-gen.png", originals["gen.png"], "A", "alice", "A PUT gen.png")
        for name in [n for n in img if "prog" in n and "large" not in n]:
            self.upload_raw(f"a-{name}", img[name], "A", "alice")
            self.verify_unchanged(f"a-{name}", originals[name], "A", "alice",
                                  f"A PUT progressive {name}")
        self.upload_raw("a-public.jpg", img["gen-small.jpg"], "A", "alice", collection="public")
        stored = self.direct("/public/a-public.jpg")
        self.check(stored == originals["gen-small.jpg"],
                   "A: a path outside jsec_paths is not touched")
        refused = subprocess.run(
            [self.curl_bin, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-x",
             f"http://127.0.0.1:{self.ports['A']}", "-T", str(img["gen-small.jpg"]),
             f"http://127.0.0.1:{self.cloud_port}/photos/a-nokey.jpg"],
            capture_output=True, env=self.env, timeout=60)
        self.check(refused.stdout == b"403", f"A: a user without a key is refused "
                   f"(HTTP {refused.stdout.decode()})")
        self.check(not (self.work / "cloud" / "files" / "a-nokey.jpg").exists(),
                   "A: nothing of the refused upload reached the cloud")
        listing = json.loads(self.curl("/photos", proxy="A", user="alice"))
        self.check(any(e.get("name") == "a-gen.png" for e in listing),
                   "A: the listing passes through")

        print("proxy B: one-pass streaming with random nonces and the journal")
        large = img["gen-large.jpg"]
        self.upload_raw("b-large.jpg", large, "B", None)
        self.verify_encrypted("b-large.jpg", originals[large.name], "B", None,
                              self.ciphers["solo"], False, "B PUT streamed gen-large.jpg")
        files = [("b-mp-large.jpg", large, "image/jpeg"),
                 ("b-mp-small.jpg", img["gen-small.jpg"], "image/jpeg"),
                 ("b-mp-gen.png", img["gen.png"], "image/png")]
        self.upload_multipart(files, "B", None, "one pass")
        for server_name, path, _ in files[:2]:
            self.verify_encrypted(server_name, originals[path.name], "B", None,
                                  self.ciphers["solo"], False, f"B multipart streamed {path.name}")
        self.verify_unchanged("b-mp-gen.png", originals["gen.png"], "B", None,
                              "B multipart streamed gen.png")
        self.upload_raw("b-large-prog.jpg", img["gen-large-prog.jpg"], "B", None)
        self.verify_unchanged("b-large-prog.jpg", originals["gen-large-prog.jpg"], "B", None,
                              "B PUT streamed progressive gen-large-prog.jpg")
        self.upload_raw("b-small.jpg", img["gen-small.jpg"], "B", None)
        self.verify_encrypted("b-small.jpg", originals["gen-small.jpg"], "B", None,
                              self.ciphers["solo"], True, "B PUT whole-body gen-small.jpg (the same photo as b-mp-small.jpg)")
        entries = self.journal.read_text().splitlines() if self.journal.exists() else []
        self.check(len(entries) == 3, f"B: the journal holds one nonce per streamed JPEG "
                   f"({len(entries)} of 3)")

        print("logs")
        log_a, log_b = self.log_text("proxy-a"), self.log_text("proxy-b")
        self.check(re.search(r"a-gen\.png: body not a JPEG \(image/png", log_a) is not None
                   or re.search(r"a-gen\.png.*not a JPEG", log_a) is not None,
                   "A logged the PNG as passed through")
        self.check(re.search(r"a-gen-prog\.jpg.*JSEC_ERR_UNSUPPORTED.*progressive", log_a)
                   is not None, "A logged the progressive JPEG as unsupported")
        self.check("part 'file' file 'a-mp-gen.png' not a JPEG (image/png" in log_a,
                   "A logged the multipart PNG part as passed through")
        self.check("JPEG encrypted (two passes)" in log_a, "A logged two-pass streamed encryption")
        self.check("JPEG decrypted (two passes)" in log_a, "A logged two-pass streamed decryption")
        self.check("no key for user '127.0.0.1'" in log_a, "A logged the refused user")
        self.check("encrypted (one pass, random nonce)" in log_b,
                   "B logged one-pass streamed encryption")
        self.check(re.search(r"b-large-prog\.jpg: streamed body JPEG not encrypted .*"
                             r"JSEC_ERR_UNSUPPORTED.*progressive.*passed through unchanged", log_b)
                   is not None, "B logged the streamed progressive JPEG as unsupported, unchanged")
        self.check("Traceback" not in log_a + log_b, "no Python traceback in the proxy logs")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command line (CMake passes the tools it found)."""
    ap = argparse.ArgumentParser(description="End-to-end test of the jsec mitmproxy addon.")
    ap.add_argument("--library", help="libjsec.so (default: $JSEC_LIBRARY, build trees)")
    ap.add_argument("--corpus", help="../shared/corpus (default: $JSEC_CORPUS_DIR; optional)")
    ap.add_argument("--workdir", help="scratch directory (emptied first; default: a temp dir)")
    ap.add_argument("--mitmdump")
    ap.add_argument("--curl")
    ap.add_argument("--djpeg")
    ap.add_argument("--convert")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every passed check")
    return ap.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run the test; 0 passed, 1 failed, 77 skipped."""
    args = parse_args(argv)
    def terminated(*_: object) -> None:
        raise Failed("terminated (SIGTERM, a ctest timeout?)")

    signal.signal(signal.SIGTERM, terminated)
    started = time.monotonic()
    try:
        test = ProxyTest(args)
    except Skip as e:
        print(f"SKIP: {e}")
        return SKIP
    except Failed as e:
        print(f"FAIL: {e}")
        return 1
    try:
        test.setup()
        test.run_checks()
    except Failed as e:
        test.failures.append(str(e))
        print(f"FAIL: {e}")
    finally:
        test.stop_all()
    elapsed = time.monotonic() - started
    if test.failures:
        for name in ("proxy-a", "proxy-b", "cloud"):
            path = test.work / f"{name}.log"
            if path.exists():
                print(f"--- tail of {path}")
                print(path.read_text(errors="replace")[-4000:])
        print(f"FAILED: {len(test.failures)} of {len(test.failures) + test.passed} checks "
              f"({elapsed:.1f} s); work directory kept: {test.work}")
        return 1
    print(f"ALL OK: {test.passed} checks passed in {elapsed:.1f} s")
    if not args.workdir:
        shutil.rmtree(test.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
