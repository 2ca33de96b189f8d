"""jsec privacy proxy: a mitmproxy addon that encrypts the JPEGs uploaded to
a photo cloud and decrypts the JPEGs coming back (file-size-preserving JPEG
encryption, docs/fspe.md), through libjsec's C ABI with ctypes.

    mitmdump -s integrations/mitmproxy/jsec_addon.py \\
        --set jsec_key=key.hex --set jsec_hosts=photos.example.com

Request side: for the configured hosts and paths, every body that starts
with the JPEG magic bytes FF D8 FF, and every such part of a
multipart/form-data (or other multipart) body, is encrypted in place.
Response side: every JPEG body coming back from those hosts is decrypted
(with the key of the user who asked for it). Lengths never change, so
Content-Length never changes. Anything else (non-JPEG bodies and parts,
JPEGs jsec does not handle such as progressive or arithmetic-coded ones,
compressed bodies) passes through untouched and is logged.

Bodies that mitmproxy streams (``stream_large_bodies``) go through jsec's
length-preserving streams; see docs/proxy.md for the two nonce modes
(``jsec_stream_nonce``), the options and the limitations.
"""

# No "from __future__ import annotations": mitmproxy executes this file
# outside sys.modules, where dataclasses cannot resolve string annotations.
import asyncio
import hashlib
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterator, Optional, Union

from mitmproxy import ctx, exceptions, http

import jsec_ctypes as jc

log = logging.getLogger("jsec")

USER_SOURCES = ("address", "header", "proxyauth")
NONCE_MODES = ("digest", "random")
SPOOL_CHUNK = 256 * 1024
_USER_RE = re.compile(r"^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,127}$")
_BOUNDARY_RE = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)

StreamResult = Union[bytes, list, Iterator[bytes]]


# --- configuration ----------------------------------------------------------


@dataclass(frozen=True)
class HostRule:
    """One entry of ``jsec_hosts``: ``host``, ``host:port``, ``.domain`` or
    ``*.domain`` (the domain and its subdomains), or ``*`` (every host)."""

    host: str
    port: Optional[int]
    suffix: bool

    @classmethod
    def parse(cls, text: str) -> "HostRule":
        """Parse one comma-separated entry of ``jsec_hosts``."""
        text = text.strip().lower()
        port: Optional[int] = None
        if text.startswith("["):  # [v6]:port
            end = text.find("]")
            if end < 0:
                raise ValueError(f"bad host {text!r}")
            rest = text[end + 1:]
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
            text = text[1:end]
        elif text.count(":") == 1:
            text, _, port_text = text.partition(":")
            if not port_text.isdigit():
                raise ValueError(f"bad port in host {text!r}")
            port = int(port_text)
        suffix = text.startswith(".") or text.startswith("*.")
        if suffix:
            text = text.lstrip("*").lstrip(".")
        if not text:
            raise ValueError("empty host")
        return cls(text, port, suffix)

    def matches(self, host: str, port: int) -> bool:
        """Whether a request to ``host``:``port`` is covered."""
        if self.port is not None and self.port != port:
            return False
        if self.host == "*":
            return True
        host = host.lower().rstrip(".")
        return host == self.host or (self.suffix and host.endswith("." + self.host))


def _split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class Settings:
    """The addon's options, parsed and checked once per configure()."""

    hosts: tuple[HostRule, ...] = ()
    paths: tuple[str, ...] = ()
    key: str = ""
    key_dir: str = ""
    user_from: str = "address"
    user_header: str = "X-Jsec-User"
    rule: str = "full"
    components: str = "all"
    bands: int = 7
    region: Optional[tuple[int, int, int, int]] = None
    outside: bool = False
    metadata: int = 0
    nonce_mode: str = "digest"
    journal: str = ""
    decrypt: bool = True

    @property
    def active(self) -> bool:
        """Whether any destination is configured."""
        return bool(self.hosts)

    def covers(self, host: str, port: int, path: str) -> bool:
        """Whether a request goes to a protected destination."""
        if not any(rule.matches(host, port) for rule in self.hosts):
            return False
        if not self.paths:
            return True
        path = path.split("?", 1)[0]
        for prefix in self.paths:
            if prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return True
        return False


# --- keys and the nonce journal -------------------------------------------------


class NonceJournal:
    """Which caller nonce encrypted which file (``jsec_stream_nonce=random``).

    A text file of lines ``<SHA-256 of the encrypted JPEG, hex> <nonce hex>``,
    one per JPEG encrypted in one pass. The decryptor hashes the encrypted
    JPEG it receives and looks the nonce up; a JPEG that is not listed was
    encrypted with the default nonce derived from the file. (Keying by the
    ciphertext is unambiguous: the same photo encrypted twice, with two
    nonces or once with the default nonce, gives two different files.)
    Hashes and nonces are not secret.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: Optional[tuple[int, int]] = None
        self._entries: dict[bytes, bytes] = {}

    def _stat(self) -> Optional[tuple[int, int]]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def is_empty(self) -> bool:
        """True when no nonce was ever recorded (decrypt with the default seed)."""
        stamp = self._stat()
        return stamp is None or stamp[1] == 0

    def lookup(self, digest: bytes) -> Optional[bytes]:
        """The nonce recorded for the encrypted file whose SHA-256 is
        ``digest``, or None."""
        with self._lock:
            stamp = self._stat()
            if stamp != self._stamp:
                entries: dict[bytes, bytes] = {}
                if stamp is not None:
                    for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
                        fields = line.split()
                        if len(fields) >= 2:
                            try:
                                entries[bytes.fromhex(fields[0])] = bytes.fromhex(fields[1])
                            except ValueError:
                                continue
                self._entries, self._stamp = entries, stamp
            return self._entries.get(digest)

    def record(self, digest: bytes, nonce: bytes) -> None:
        """Append an entry and flush it to disk."""
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, f"{digest.hex()} {nonce.hex()}\n".encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            self._entries[digest] = nonce
            self._stamp = self._stat()


@dataclass
class KeyEntry:
    """A user's key, its cipher under the configured options, its journal."""

    path: str
    key: jc.Key
    cipher: jc.Cipher
    journal: NonceJournal
    stamp: int = 0

    def nonce_cipher(self, lib: jc.Library, settings: Settings, nonce: bytes) -> jc.Cipher:
        """A cipher with the same key and options plus a caller nonce."""
        return jc.Cipher(lib, self.key, settings.rule, settings.components, settings.bands,
                         settings.region, settings.outside, nonce, settings.metadata)


# --- multipart bodies ------------------------------------------------------------


def multipart_boundary(content_type: str) -> Optional[bytes]:
    """The boundary of a multipart Content-Type (multipart/form-data, and
    multipart/related or /mixed as some upload APIs use), else None."""
    if not content_type.lower().lstrip().startswith("multipart/"):
        return None
    m = _BOUNDARY_RE.search(content_type)
    if not m:
        return None
    return (m.group(1) or m.group(2)).encode("latin-1", errors="replace")


def multipart_parts(body: Union[bytes, bytearray], boundary: bytes) -> list[tuple[bytes, int, int]]:
    """The parts of a complete multipart body: (headers, start, end) of each
    part's content. Parsing stops at the close delimiter or at the first
    malformed spot (what follows is left alone)."""
    dash = b"--" + boundary
    parts: list[tuple[bytes, int, int]] = []
    if body.startswith(dash):
        pos = 0
    else:
        pos = body.find(b"\r\n" + dash)
        if pos < 0:
            return parts
        pos += 2
    while True:
        after = pos + len(dash)
        if body[after:after + 2] == b"--":
            break
        eol = body.find(b"\r\n", after)
        if eol < 0:
            break
        head = eol + 2
        if body[head:head + 2] == b"\r\n":
            headers, start = b"", head + 2
        else:
            end_headers = body.find(b"\r\n\r\n", head)
            if end_headers < 0:
                break
            headers, start = bytes(body[head:end_headers]), end_headers + 4
        nxt = body.find(b"\r\n" + dash, start)
        if nxt < 0:
            break
        parts.append((headers, start, nxt))
        pos = nxt + 2
    return parts


def part_name(headers: bytes) -> str:
    """A short description of a part from its Content-Disposition."""
    text = headers.decode("latin-1", errors="replace")
    name = re.search(r'\bname="([^"]*)"', text)
    filename = re.search(r'\bfilename="([^"]*)"', text)
    desc = f"part {name.group(1)!r}" if name else "part"
    if filename:
        desc += f" file {filename.group(1)!r}"
    return desc


def part_type(headers: bytes) -> str:
    """The Content-Type of a part ("" when it has none)."""
    m = re.search(rb"(?im)^content-type:[ \t]*([^;\r\n]*)", headers)
    return m.group(1).strip().decode("latin-1", errors="replace") if m else ""


class MultipartSplitter:
    """Splits a multipart body that arrives in chunks into events, in order:
    ``("raw", bytes)`` (delimiters, part headers, preamble, epilogue),
    ``("start", index, headers)``, ``("data", index, bytes)``, ``("end", index)``.

    Bytes that could begin a delimiter are held back until the next chunk
    decides; everything else comes out as soon as it arrives.
    """

    MAX_HEADERS = 64 * 1024

    def __init__(self, boundary: bytes) -> None:
        self.dash = b"--" + boundary
        self.delim = b"\r\n" + self.dash
        self.buf = bytearray()
        self.state = "first"
        self.index = -1

    def feed(self, data: bytes) -> list[tuple]:
        """Events made available by ``data``."""
        self.buf += data
        return self._run(final=False)

    def finish(self) -> list[tuple]:
        """Events for the rest of the body (an unterminated part ends here)."""
        return self._run(final=True)

    def _take(self, n: int) -> bytes:
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _run(self, final: bool) -> list[tuple]:
        ev: list[tuple] = []
        buf = self.buf
        while buf or (final and self.state == "body"):
            if self.state == "first":
                if len(buf) < len(self.dash) and self.dash.startswith(bytes(buf)) and not final:
                    break
                if buf.startswith(self.dash):
                    ev.append(("raw", self._take(len(self.dash))))
                    self.state = "after-delim"
                else:
                    self.state = "preamble"
            elif self.state in ("preamble", "body"):
                i = buf.find(self.delim)
                kind = "raw" if self.state == "preamble" else "data"
                if i < 0:
                    keep = 0 if final else len(self.delim) - 1
                    if len(buf) > keep:
                        chunk = self._take(len(buf) - keep)
                        ev.append((kind, chunk) if kind == "raw" else (kind, self.index, chunk))
                    if final and self.state == "body":
                        ev.append(("end", self.index))
                        self.state = "epilogue"
                    break
                if i:
                    chunk = self._take(i)
                    ev.append((kind, chunk) if kind == "raw" else (kind, self.index, chunk))
                if self.state == "body":
                    ev.append(("end", self.index))
                ev.append(("raw", self._take(len(self.delim))))
                self.state = "after-delim"
            elif self.state == "after-delim":
                if len(buf) < 2 and not final:
                    break
                if buf.startswith(b"--"):
                    self.state = "epilogue"
                    continue
                j = buf.find(b"\r\n")
                if j < 0:
                    if final or len(buf) > 1024:
                        self.state = "epilogue"
                        continue
                    break
                ev.append(("raw", self._take(j + 2)))
                self.state = "headers"
            elif self.state == "headers":
                if buf.startswith(b"\r\n"):
                    headers, n = b"", 2
                else:
                    j = buf.find(b"\r\n\r\n")
                    if j < 0:
                        if final or len(buf) > self.MAX_HEADERS:
                            self.state = "epilogue"
                            continue
                        break
                    headers, n = bytes(buf[:j]), j + 4
                ev.append(("raw", self._take(n)))
                self.index += 1
                ev.append(("start", self.index, headers))
                self.state = "body"
            else:  # epilogue: everything else unchanged
                ev.append(("raw", self._take(len(buf))))
        return ev


# --- streaming ------------------------------------------------------------------


class PartProcessor:
    """One body or multipart part arriving in chunks.

    If it starts with FF D8 FF it is fed to an optional digest stream (to
    learn the file's seed) and an optional cipher stream (its output is the
    result; without one, the input comes out unchanged), and the SHA-256 of
    its input and of its output are computed. Anything else, or a
    JPEG jsec refuses, passes through: the input not yet produced by the
    cipher stream is kept, so that after a failure the rest of the part
    comes out untouched.
    """

    def __init__(self, index: int, label: str, digest: Optional[Callable[[], jc.Stream]] = None,
                 output: Optional[Callable[[], jc.Stream]] = None, enabled: bool = True,
                 mime: str = "") -> None:
        self.index = index
        self.label = label
        self.mime = mime
        self._make_digest = digest
        self._make_output = output
        self.state = "sniff" if enabled else "pass"
        self.head = bytearray()
        self.pending = bytearray()
        self.digest: Optional[jc.Stream] = None
        self.output: Optional[jc.Stream] = None
        self.jpeg = False
        self.seed: Optional[bytes] = None
        self.sha_in = hashlib.sha256()
        self.sha_out = hashlib.sha256()
        self.error: Optional[jc.JsecError] = None
        self.changed = False
        self.size = 0
        self.done = False

    @property
    def ok(self) -> bool:
        """A JPEG processed to its end without error."""
        return self.jpeg and self.error is None and self.done

    def feed(self, data: bytes) -> bytes:
        """Input in, ready output out."""
        self.size += len(data)
        if self.state == "sniff":
            self.head += data
            if len(self.head) < 3:
                return b""
            data = bytes(self.head)
            self.head.clear()
            if not jc.is_jpeg(data):
                self.state = "pass"
                return data
            self.jpeg = True
            try:
                self.digest = self._make_digest() if self._make_digest else None
                self.output = self._make_output() if self._make_output else None
            except jc.JsecError as e:
                self.error = e
                self._close()
                self.state = "pass"
                return data
            self.state = "jpeg"
        if self.state == "pass":
            return data
        return self._push(data)

    def _push(self, data: bytes) -> bytes:
        self.sha_in.update(data)
        if self.output is not None:
            self.pending += data
        try:
            if self.digest is not None:
                self.digest.write(data, keep_output=False)
            if self.output is None:
                self.sha_out.update(data)
                return data
            return self._emitted(self.output.write(data))
        except jc.JsecError as e:
            return self._fail(e, data)

    def _emitted(self, out: bytes) -> bytes:
        n = len(out)
        if not self.changed and out != self.pending[:n]:
            self.changed = True
        del self.pending[:n]
        self.sha_out.update(out)
        return out

    def _fail(self, error: jc.JsecError, data: bytes) -> bytes:
        self.error = error
        self.state = "pass"
        self._close()
        if self._make_output is None:  # digest only: the input already came out
            return data
        rest = bytes(self.pending)
        self.pending.clear()
        return rest

    def finish(self) -> bytes:
        """End of the part: the rest of the output."""
        if self.done:
            return b""
        self.done = True
        if self.state == "sniff":  # fewer than 3 bytes: not a JPEG
            self.state = "pass"
            return bytes(self.head)
        if self.state == "pass":
            return b""
        try:
            if self.digest is not None:
                self.digest.finish(keep_output=False)
                self.seed = self.digest.seed()
            tail = self._emitted(self.output.finish()) if self.output is not None else b""
        except jc.JsecError as e:
            return self._fail(e, b"")
        self._close()
        return tail

    def _close(self) -> None:
        for stream in (self.digest, self.output):
            if stream is not None:
                stream.close()
        self.digest = None
        self.output = None


class BodyStreamer:
    """Feeds a streamed body to PartProcessors: one for a plain body, one per
    part for a multipart body. ``factory(index, headers)`` makes them;
    ``on_done(processor)`` runs when one ends."""

    def __init__(self, boundary: Optional[bytes],
                 factory: Callable[[int, bytes], PartProcessor],
                 on_done: Callable[[PartProcessor], None]) -> None:
        self.factory = factory
        self.on_done = on_done
        self.splitter = MultipartSplitter(boundary) if boundary else None
        self.parts: dict[int, PartProcessor] = {}
        self.single = None if boundary else factory(0, b"")
        self.finished = False

    def _events(self, events: list[tuple]) -> bytes:
        out: list[bytes] = []
        for event in events:
            kind = event[0]
            if kind == "raw":
                out.append(event[1])
            elif kind == "start":
                self.parts[event[1]] = self.factory(event[1], event[2])
            elif kind == "data":
                out.append(self.parts[event[1]].feed(event[2]))
            elif kind == "end":
                part = self.parts.pop(event[1])
                out.append(part.finish())
                self.on_done(part)
        return b"".join(out)

    def feed(self, data: bytes) -> bytes:
        """A chunk of the body in, ready output out."""
        if self.finished:
            log.error("jsec: data after the end of a streamed body passed through")
            return data
        if self.single is not None:
            return self.single.feed(data)
        assert self.splitter is not None
        return self._events(self.splitter.feed(data))

    def finish(self) -> bytes:
        """End of the body: the rest of the output."""
        if self.finished:
            return b""
        self.finished = True
        if self.single is not None:
            out = self.single.finish()
            self.on_done(self.single)
            return out
        assert self.splitter is not None
        out = self._events(self.splitter.finish())
        for part in list(self.parts.values()):  # unterminated parts
            out += part.finish()
            self.on_done(part)
        self.parts.clear()
        return out


def _as_chunks(data: bytes) -> list[bytes]:
    # An empty chunk must never reach mitmproxy: in HTTP/1 chunked encoding
    # it would end the body.
    return [data] if data else []


# --- the addon ------------------------------------------------------------------


class JsecProxy:
    """The mitmproxy addon (see the module docstring and docs/proxy.md)."""

    def __init__(self) -> None:
        self.lib: Optional[jc.Library] = None
        self.settings = Settings()
        self._keys: dict[str, KeyEntry] = {}
        self._journals: dict[str, NonceJournal] = {}
        self._lock = threading.Lock()

    # -- options

    def load(self, loader) -> None:  # type: ignore[no-untyped-def]
        """Register the options."""
        add = loader.add_option
        add("jsec_key", str, "", "Key file (32 or 64 hex digits) for every user, or the "
            "fallback when jsec_key_dir has no key for a user.")
        add("jsec_key_dir", str, "", "Directory of per-user keys: <user>.key, else default.key.")
        add("jsec_user_from", str, "address", "How a user is identified for jsec_key_dir: "
            "client address, a request header (jsec_user_header, removed before forwarding), "
            "or the proxyauth user name.", choices=USER_SOURCES)
        add("jsec_user_header", str, "X-Jsec-User", "Header naming the user (jsec_user_from=header).")
        add("jsec_hosts", str, "", "Comma-separated protected hosts: host, host:port, "
            ".domain or *.domain (with subdomains), * (all).")
        add("jsec_paths", str, "", "Comma-separated path prefixes to protect (empty: all paths).")
        add("jsec_rule", str, "full", "Eligibility rule.", choices=tuple(jc.RULES))
        add("jsec_components", str, "all", "Components to encrypt.", choices=tuple(jc.COMPONENTS))
        add("jsec_bands", str, "dc,ac-low,ac-high", "Coefficient bands: dc, ac-low, ac-high.")
        add("jsec_region", str, "", "Encrypt only the blocks touching X,Y,W,H (pixels).")
        add("jsec_region_outside", bool, False, "With jsec_region: encrypt outside it instead.")
        add("jsec_exif", str, "", "Also encipher these classes of sensitive EXIF values in "
            "place: gps, identity (owner, artist, serial numbers), dates; e.g. 'gps,identity' "
            "(empty: metadata untouched).")
        add("jsec_stream_nonce", str, "digest", "Streamed bodies: 'digest' (two passes over a "
            "spool file, default per-file nonce) or 'random' (one pass, random nonce kept in "
            "the journal).", choices=NONCE_MODES)
        add("jsec_journal", str, "", "Nonce journal for jsec_stream_nonce=random "
            "(default: <key file>.nonces).")
        add("jsec_library", str, "", "Path of libjsec.so (default: $JSEC_LIBRARY, the build "
            "tree, the system).")
        add("jsec_decrypt", bool, True, "Decrypt JPEGs in responses from the protected hosts.")

    def configure(self, updated: set[str]) -> None:
        """Parse and check the options; load libjsec and the keys."""
        if not any(name.startswith("jsec_") for name in updated):
            return
        o = ctx.options
        try:
            hosts = tuple(HostRule.parse(h) for h in _split_list(o.jsec_hosts))
            paths = tuple(p if p.startswith("/") else "/" + p for p in _split_list(o.jsec_paths))
            settings = Settings(
                hosts=hosts, paths=paths, key=o.jsec_key, key_dir=o.jsec_key_dir,
                user_from=o.jsec_user_from, user_header=o.jsec_user_header.strip(),
                rule=o.jsec_rule, components=o.jsec_components,
                bands=jc.parse_bands(o.jsec_bands), region=jc.parse_region(o.jsec_region),
                outside=o.jsec_region_outside, metadata=jc.parse_metadata(o.jsec_exif),
                nonce_mode=o.jsec_stream_nonce,
                journal=o.jsec_journal, decrypt=o.jsec_decrypt)
        except ValueError as e:
            raise exceptions.OptionsError(f"jsec: {e}") from None
        if settings.user_from == "header" and not settings.user_header:
            raise exceptions.OptionsError("jsec: jsec_user_header is empty")
        if not settings.active:
            self.settings = settings
            return
        if not settings.key and not settings.key_dir:
            raise exceptions.OptionsError("jsec: jsec_hosts needs jsec_key or jsec_key_dir")
        if settings.key_dir and not Path(settings.key_dir).is_dir():
            raise exceptions.OptionsError(f"jsec: jsec_key_dir {settings.key_dir!r} is not a directory")
        if self.lib is None or "jsec_library" in updated:
            try:
                self.lib = jc.Library(o.jsec_library or None)
            except (OSError, jc.JsecError) as e:
                raise exceptions.OptionsError(f"jsec: cannot load libjsec: {e}") from None
        with self._lock:
            self.settings = settings
            self._keys.clear()
        if settings.key:  # check the shared key now, not at the first upload
            try:
                self._load_key(settings.key)
            except (OSError, jc.JsecError, ValueError) as e:
                raise exceptions.OptionsError(f"jsec: jsec_key {settings.key!r}: {e}") from None

    def running(self) -> None:
        """Say that the addon is ready (the end-to-end test waits for it)."""
        s = self.settings
        if not s.active:
            log.warning("jsec: jsec_hosts is empty: nothing is encrypted")
            return
        assert self.lib is not None
        log.info("jsec: ready: libjsec %s (%s); hosts %s; paths %s; rule %s, components %s; "
                 "streamed bodies: nonce %s", self.lib.version, self.lib.path,
                 ",".join(f"{'.' if h.suffix else ''}{h.host}{'' if h.port is None else f':{h.port}'}"
                          for h in s.hosts),
                 ",".join(s.paths) or "all", s.rule, s.components, s.nonce_mode)

    # -- users and keys

    def _journal(self, key_path: str) -> NonceJournal:
        path = self.settings.journal or key_path + ".nonces"
        with self._lock:
            journal = self._journals.get(path)
            if journal is None:
                journal = self._journals[path] = NonceJournal(Path(path))
            return journal

    def _load_key(self, path: str) -> KeyEntry:
        assert self.lib is not None
        stamp = os.stat(path).st_mtime_ns
        with self._lock:
            entry = self._keys.get(path)
            if entry is not None and entry.stamp == stamp:
                return entry
        s = self.settings
        key = jc.Key.from_file(self.lib, path)
        cipher = jc.Cipher(self.lib, key, s.rule, s.components, s.bands, s.region, s.outside,
                           metadata=s.metadata)
        entry = KeyEntry(path, key, cipher, self._journal(path), stamp)
        with self._lock:
            self._keys[path] = entry
        return entry

    def user_of(self, flow: http.HTTPFlow) -> str:
        """Who sent the request (see docs/proxy.md, "Users and keys")."""
        s = self.settings
        if s.user_from == "header":
            value = flow.request.headers.get(s.user_header, "").strip()
            if value:
                return value
        elif s.user_from == "proxyauth":
            auth = flow.metadata.get("proxyauth")
            if auth and auth[0]:
                return str(auth[0])
        host = str(flow.client_conn.peername[0]) if flow.client_conn.peername else "unknown"
        if host.startswith("::ffff:") and host.count(".") == 3:
            host = host[7:]
        return host

    def key_path_for(self, user: str) -> Optional[str]:
        """The key file of ``user``, or None."""
        s = self.settings
        if s.key_dir:
            name = user.replace(":", "_")
            if _USER_RE.match(name):
                candidate = Path(s.key_dir) / f"{name}.key"
                if candidate.is_file():
                    return str(candidate)
            default = Path(s.key_dir) / "default.key"
            if default.is_file():
                return str(default)
        return s.key or None

    def _entry(self, flow: http.HTTPFlow) -> Optional[KeyEntry]:
        info = flow.metadata.get("jsec")
        if not isinstance(info, dict):
            return None
        try:
            return self._load_key(info["key"])
        except (OSError, jc.JsecError, ValueError) as e:
            log.error("jsec: key %s unusable: %s", info["key"], e)
            return None

    # -- hooks

    @staticmethod
    def _stream_unknown_size(message: Union[http.Request, http.Response]) -> bool:
        """A body of unknown length that mitmproxy may decide to stream late."""
        return bool(ctx.options.stream_large_bodies) and "content-length" not in message.headers

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """Pick the user's key; refuse users without one; set up streaming."""
        s = self.settings
        req = flow.request
        if flow.response is not None:  # answered already (proxyauth's 407 ...)
            return
        if not s.active or not s.covers(req.pretty_host, req.port, req.path):
            return
        user = self.user_of(flow)
        if s.user_from == "header":
            req.headers.pop(s.user_header, None)
        key_path = self.key_path_for(user)
        entry: Optional[KeyEntry] = None
        if key_path:
            try:
                entry = self._load_key(key_path)
            except (OSError, jc.JsecError, ValueError) as e:
                log.error("jsec: key %s of user %s unusable: %s", key_path, user, e)
        if entry is None:
            log.warning("jsec: no key for user %r: %s %s refused (403)", user, req.method, req.url)
            req.stream = False
            flow.response = http.Response.make(
                403, f"jsec privacy proxy: no key for user {user!r}\n".encode(),
                {"Content-Type": "text/plain; charset=utf-8"})
            return
        flow.metadata["jsec"] = {"user": user, "key": entry.path}
        if req.stream or self._stream_unknown_size(req):
            req.stream = self._request_stream(flow, entry)

    async def request(self, flow: http.HTTPFlow) -> None:
        """Encrypt the JPEGs of a whole (not streamed) request body."""
        if flow.response is not None or flow.request.stream or "jsec" not in flow.metadata:
            return
        entry = self._entry(flow)
        if entry is not None:
            await asyncio.to_thread(self._process_message, flow, flow.request, entry, True)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Set up decryption of a streamed response."""
        resp = flow.response
        if resp is None or not self.settings.decrypt or "jsec" not in flow.metadata:
            return
        if resp.stream or self._stream_unknown_size(resp):
            entry = self._entry(flow)
            if entry is not None:
                resp.stream = self._response_stream(flow, entry)

    async def response(self, flow: http.HTTPFlow) -> None:
        """Decrypt a whole (not streamed) JPEG response body."""
        resp = flow.response
        if resp is None or resp.stream or not self.settings.decrypt or "jsec" not in flow.metadata:
            return
        entry = self._entry(flow)
        if entry is not None:
            await asyncio.to_thread(self._process_message, flow, resp, entry, False)

    # -- whole bodies

    @staticmethod
    def _describe(flow: http.HTTPFlow, encrypt: bool) -> str:
        req = flow.request
        if encrypt:
            return f"{req.method} {req.url}"
        status = flow.response.status_code if flow.response else 0
        return f"response {status} to {req.method} {req.url}"

    def _process_message(self, flow: http.HTTPFlow, message: Union[http.Request, http.Response],
                         entry: KeyEntry, encrypt: bool) -> None:
        """Encrypt (request) or decrypt (response) every JPEG of a body in place."""
        where = self._describe(flow, encrypt)
        raw = message.raw_content
        if not raw:
            return
        coding = message.headers.get("content-encoding", "").strip().lower()
        if coding and coding != "identity":
            log.warning("jsec: %s: Content-Encoding %s: body passed through unchanged "
                        "(%d bytes)", where, coding, len(raw))
            return
        ctype = message.headers.get("content-type", "")
        boundary = multipart_boundary(ctype) if encrypt else None
        body = bytearray(raw)
        if boundary is not None:
            ranges = [(part_name(h), a, b, part_type(h))
                      for h, a, b in multipart_parts(body, boundary)]
            if not ranges:
                log.warning("jsec: %s: multipart body without parts: passed through", where)
        else:
            ranges = [("body", 0, len(body), ctype.split(";")[0].strip())]
        changed = False
        for what, start, end, mime in ranges:
            if not jc.is_jpeg(body[start:start + 3]):
                log.info("jsec: %s: %s not a JPEG (%s, %d bytes): passed through unchanged",
                         where, what, mime or "no type", end - start)
                continue
            try:
                if encrypt:
                    entry.cipher.encrypt(body, start, end - start)
                else:
                    self._decrypt_range(entry, body, start, end)
            except jc.JsecError as e:
                log.warning("jsec: %s: %s JPEG not %s (%s): passed through unchanged",
                            where, what, "encrypted" if encrypt else "decrypted", e)
                continue
            changed = True
            log.info("jsec: %s: %s JPEG %s (%d bytes)", where, what,
                     "encrypted" if encrypt else "decrypted", end - start)
        if changed:
            message.raw_content = bytes(body)

    def _decrypt_range(self, entry: KeyEntry, body: bytearray, start: int, end: int) -> None:
        assert self.lib is not None
        if entry.journal.is_empty():
            entry.cipher.decrypt(body, start, end - start)
            return
        nonce = entry.journal.lookup(hashlib.sha256(memoryview(body)[start:end]).digest())
        if nonce is None:
            entry.cipher.decrypt(body, start, end - start)
            return
        cipher = entry.nonce_cipher(self.lib, self.settings, nonce)
        try:
            cipher.decrypt(body, start, end - start)
        finally:
            cipher.close()

    # -- streamed bodies

    def _log_part(self, where: str, part: PartProcessor, verb: str, how: str = "") -> None:
        if not part.jpeg:
            log.info("jsec: %s: streamed %s not a JPEG (%s, %d bytes): passed through unchanged",
                     where, part.label, part.mime or "no type", part.size)
        elif part.error is not None:
            state = "partly changed before the error" if part.changed else "unchanged"
            log.warning("jsec: %s: streamed %s JPEG not %s (%s): passed through %s",
                        where, part.label, verb, part.error, state)
        else:
            log.info("jsec: %s: streamed %s JPEG %s%s (%d bytes)", where, part.label, verb, how,
                     part.size)

    def _request_stream(self, flow: http.HTTPFlow, entry: KeyEntry) -> Callable[[bytes], StreamResult]:
        where = self._describe(flow, True)
        boundary = multipart_boundary(flow.request.headers.get("content-type", ""))
        coding = flow.request.headers.get("content-encoding", "").strip().lower()
        if coding and coding != "identity":
            log.warning("jsec: %s: Content-Encoding %s: body passed through unchanged", where, coding)
            return lambda data: _as_chunks(data)
        body_type = flow.request.headers.get("content-type", "").split(";")[0].strip()
        if self.settings.nonce_mode == "random":
            return self._one_pass(where, boundary, entry, body_type)
        return self._two_pass(where, boundary, entry, jc.DIRECTION_ENCRYPT, body_type)

    def _response_stream(self, flow: http.HTTPFlow, entry: KeyEntry) -> Callable[[bytes], StreamResult]:
        where = self._describe(flow, False)
        assert flow.response is not None
        coding = flow.response.headers.get("content-encoding", "").strip().lower()
        if coding and coding != "identity":
            log.warning("jsec: %s: Content-Encoding %s: body passed through unchanged", where, coding)
            return lambda data: _as_chunks(data)
        # Decryption needs the file's seed (the default nonce) or, for a
        # JPEG listed in the journal, its hash before the first byte: two
        # passes.
        body_type = flow.response.headers.get("content-type", "").split(";")[0].strip()
        return self._two_pass(where, None, entry, jc.DIRECTION_DECRYPT, body_type)

    def _one_pass(self, where: str, boundary: Optional[bytes], entry: KeyEntry,
                  body_type: str) -> Callable[[bytes], StreamResult]:
        """Encrypt while the body flows, each JPEG with a fresh random nonce,
        recorded in the journal under the SHA-256 of the encrypted JPEG."""
        lib = self.lib
        settings = self.settings
        assert lib is not None
        nonces: dict[int, bytes] = {}

        def factory(index: int, headers: bytes) -> PartProcessor:
            label = part_name(headers) if boundary else "body"
            nonce = os.urandom(jc.JSEC_FSPE_NONCE_LEN)

            def output() -> jc.Stream:
                cipher = entry.nonce_cipher(lib, settings, nonce)
                try:
                    return jc.Stream.cipher(lib, cipher, jc.DIRECTION_ENCRYPT)
                finally:
                    cipher.close()  # the stream keeps its own copy

            nonces[index] = nonce
            mime = part_type(headers) if boundary else body_type
            return PartProcessor(index, label, output=output, mime=mime)

        def on_done(part: PartProcessor) -> None:
            nonce = nonces.pop(part.index, None)
            if part.ok and nonce is not None:
                entry.journal.record(part.sha_out.digest(), nonce)
            self._log_part(where, part, "encrypted", " (one pass, random nonce)")

        streamer = BodyStreamer(boundary, factory, on_done)

        def stream(data: bytes) -> StreamResult:
            if data:
                return _as_chunks(streamer.feed(data))
            return _as_chunks(streamer.finish())

        return stream

    def _two_pass(self, where: str, boundary: Optional[bytes], entry: KeyEntry,
                  direction: int, body_type: str) -> Callable[[bytes], StreamResult]:
        """Pass 1 while the body arrives: spool it to a temporary file and
        run digest streams over its JPEGs (nothing is forwarded). Pass 2 at
        the end: read the spool back through cipher streams with those seeds
        and forward the result. The output equals the whole-body operation."""
        lib = self.lib
        settings = self.settings
        assert lib is not None
        verb = "encrypted" if direction == jc.DIRECTION_ENCRYPT else "decrypted"
        seeds: dict[int, Optional[tuple[bytes, bytes]]] = {}
        spool: IO[bytes] = tempfile.TemporaryFile(prefix="jsec-spool-")

        def label_of(headers: bytes) -> str:
            return part_name(headers) if boundary else "body"

        def mime_of(headers: bytes) -> str:
            return part_type(headers) if boundary else body_type

        def factory1(index: int, headers: bytes) -> PartProcessor:
            return PartProcessor(index, label_of(headers), mime=mime_of(headers),
                                 digest=lambda: jc.Stream.digest(lib, entry.cipher))

        def on_done1(part: PartProcessor) -> None:
            seeds[part.index] = (part.seed, part.sha_in.digest()) if part.ok and part.seed else None
            if not part.ok:
                self._log_part(where, part, verb)

        def output_for(seed: bytes, sha: bytes) -> Callable[[], jc.Stream]:
            def make() -> jc.Stream:
                nonce = None
                if direction == jc.DIRECTION_DECRYPT and not entry.journal.is_empty():
                    nonce = entry.journal.lookup(sha)
                if nonce is None:
                    return jc.Stream.cipher(lib, entry.cipher, direction, seed)
                cipher = entry.nonce_cipher(lib, settings, nonce)
                try:
                    return jc.Stream.cipher(lib, cipher, direction)
                finally:
                    cipher.close()
            return make

        def factory2(index: int, headers: bytes) -> PartProcessor:
            known = seeds.get(index)
            if known is None:
                return PartProcessor(index, label_of(headers), enabled=False)
            return PartProcessor(index, label_of(headers), output=output_for(*known))

        def on_done2(part: PartProcessor) -> None:
            if part.jpeg:
                self._log_part(where, part, verb, " (two passes)")

        first = BodyStreamer(boundary, factory1, on_done1)

        def second_pass() -> Iterator[bytes]:
            second = BodyStreamer(boundary, factory2, on_done2)
            try:
                spool.seek(0)
                while True:
                    chunk = spool.read(SPOOL_CHUNK)
                    if not chunk:
                        break
                    out = second.feed(chunk)
                    if out:
                        yield out
                out = second.finish()
                if out:
                    yield out
            finally:
                spool.close()

        def stream(data: bytes) -> StreamResult:
            if data:
                spool.write(data)
                first.feed(data)
                return []
            first.finish()
            return second_pass()

        return stream


addons = [JsecProxy()]
