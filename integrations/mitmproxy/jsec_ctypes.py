"""A small ctypes binding of libjsec's FSPE C API (include/jsec.h).

Only what the privacy proxy needs: keys, options, ciphers (whole-buffer
encryption and decryption in place) and the length-preserving streams
(digest streams and cipher streams). Every call goes through the stable C
ABI of libjsec; nothing of the cipher is implemented in Python.

The library is found, in order, from an explicit path, the ``JSEC_LIBRARY``
environment variable (path of ``libjsec.so``), the build trees of this
repository (``build/jsec-lib``, ``target/release``, ``target/debug``) and
finally the system loader (``libjsec.so.0`` / ``libjsec.so``).

Thread safety follows the C API (docs/c-api.md): keys and ciphers are
immutable and may be used from any thread at once; a stream is used by one
thread at a time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Optional, Union

# Values of include/jsec.h (part of the ABI).
JSEC_OK = 0
JSEC_ERR_UNSUPPORTED = 3
JSEC_ERR_BUFFER_TOO_SMALL = 4
JSEC_FSPE_NONCE_LEN = 16
JSEC_FSPE_SEED_LEN = 32
JSEC_ABI_VERSION = 1000  # 0.1.x: every 0.x minor release may break the ABI

DIRECTION_ENCRYPT = 0
DIRECTION_DECRYPT = 1

RULES = {"full": 0, "paper": 1}
COMPONENTS = {"all": 0, "luma": 1, "chroma": 2}
BANDS = {"dc": 1, "ac-low": 2, "ac-high": 4}
#: JSEC_FSPE_METADATA_*: classes of sensitive EXIF values (docs/fspe.md section 12).
METADATA = {"gps": 1, "identity": 2, "dates": 4}

#: Largest slice handed to ``jsec_fspe_stream_write`` at once. A stream
#: refuses input while more than 1 MiB of output waits to be read, so the
#: output is drained after every slice.
WRITE_SLICE = 256 * 1024

BytesLike = Union[bytes, bytearray, memoryview]


class JsecError(Exception):
    """A jsec call failed: ``status`` is the jsec_status code, ``name`` its
    name (``JSEC_ERR_UNSUPPORTED`` ...) and ``message`` jsec_last_error()."""

    def __init__(self, function: str, status: int, name: str, message: str) -> None:
        self.function = function
        self.status = status
        self.name = name
        self.message = message
        # jsec_last_error() already names the function.
        super().__init__(f"{name}: {message}" if message else f"{function}: {name}")

    @property
    def unsupported(self) -> bool:
        """True when the input is a JPEG jsec does not handle (progressive,
        arithmetic coding, 12-bit ...)."""
        return self.status == JSEC_ERR_UNSUPPORTED


def _candidate_paths() -> list[Path]:
    """Build-tree locations of libjsec.so, relative to this file
    (integrations/mitmproxy/ in the repository)."""
    root = Path(__file__).resolve().parent.parent.parent
    return [
        root / "build" / "jsec-lib" / "libjsec.so",
        root / "target" / "release" / "libjsec.so",
        root / "target" / "debug" / "libjsec.so",
    ]


def find_library(explicit: Optional[str] = None) -> str:
    """Return the path (or loader name) of libjsec to load.

    ``explicit`` (an option value) wins, then ``$JSEC_LIBRARY``, then the
    repository's build trees, then the system loader's ``libjsec``.
    Raises FileNotFoundError when nothing is found.
    """
    for value, origin in ((explicit, "the jsec_library option"),
                          (os.environ.get("JSEC_LIBRARY"), "JSEC_LIBRARY")):
        if value:
            if not Path(value).is_file():
                raise FileNotFoundError(f"{origin} names {value!r}, which is not a file")
            return value
    for path in _candidate_paths():
        if path.is_file():
            return str(path)
    name = ctypes.util.find_library("jsec")
    if name:
        return name
    raise FileNotFoundError(
        "libjsec.so not found: set JSEC_LIBRARY=/path/to/libjsec.so, or build it "
        "(cargo build --release, or cmake --build)")


_P = ctypes.c_void_p
_SZ = ctypes.c_size_t
_U32 = ctypes.c_uint32
_BUF = ctypes.POINTER(ctypes.c_uint8)

# name: (restype, argtypes); restype None for void functions.
_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "jsec_init": (ctypes.c_int, [_U32]),
    "jsec_version": (ctypes.c_char_p, []),
    "jsec_last_error": (ctypes.c_char_p, []),
    "jsec_status_str": (ctypes.c_char_p, [ctypes.c_int]),
    "jsec_key_new_from_hex": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_P)]),
    "jsec_key_free": (None, [_P]),
    "jsec_fspe_options_new": (ctypes.c_int, [ctypes.POINTER(_P)]),
    "jsec_fspe_options_set_rule": (ctypes.c_int, [_P, _U32]),
    "jsec_fspe_options_set_components": (ctypes.c_int, [_P, _U32]),
    "jsec_fspe_options_set_bands": (ctypes.c_int, [_P, _U32]),
    "jsec_fspe_options_set_region": (ctypes.c_int, [_P, _U32, _U32, _U32, _U32, ctypes.c_bool]),
    "jsec_fspe_options_set_nonce": (ctypes.c_int, [_P, ctypes.c_char_p, _SZ]),
    "jsec_fspe_options_set_metadata": (ctypes.c_int, [_P, _U32]),
    "jsec_fspe_options_free": (None, [_P]),
    "jsec_fspe_cipher_new": (ctypes.c_int, [_P, _P, _U32, ctypes.POINTER(_P)]),
    "jsec_fspe_cipher_encrypt": (ctypes.c_int, [_P, _BUF, _SZ, _P]),
    "jsec_fspe_cipher_decrypt": (ctypes.c_int, [_P, _BUF, _SZ, _P]),
    "jsec_fspe_cipher_free": (None, [_P]),
    "jsec_fspe_digest_stream_new": (ctypes.c_int, [_P, ctypes.POINTER(_P)]),
    "jsec_fspe_stream_new": (ctypes.c_int, [_P, _U32, ctypes.c_char_p, _SZ, ctypes.POINTER(_P)]),
    "jsec_fspe_stream_write": (ctypes.c_int, [_P, ctypes.c_char_p, _SZ]),
    "jsec_fspe_stream_read": (ctypes.c_int, [_P, _BUF, _SZ, ctypes.POINTER(_SZ)]),
    "jsec_fspe_stream_available": (ctypes.c_int, [_P, ctypes.POINTER(_SZ)]),
    "jsec_fspe_stream_finish": (ctypes.c_int, [_P, _P]),
    "jsec_fspe_stream_seed": (ctypes.c_int, [_P, _BUF, _SZ]),
    "jsec_fspe_stream_free": (None, [_P]),
}


class Library:
    """libjsec loaded with ctypes, its functions typed, its ABI checked."""

    def __init__(self, path: Optional[str] = None) -> None:
        self.path = find_library(path)
        self.lib = ctypes.CDLL(self.path)
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(self.lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        status = self.lib.jsec_init(JSEC_ABI_VERSION)
        if status != JSEC_OK:
            raise self.error("jsec_init", status)
        self.version: str = self.lib.jsec_version().decode()

    def error(self, function: str, status: int) -> JsecError:
        """A JsecError for ``status``, with the calling thread's last error
        (call right after the failing function, on the same thread)."""
        name = self.lib.jsec_status_str(status).decode()
        message = self.lib.jsec_last_error().decode(errors="replace")
        return JsecError(function, status, name, message)

    def check(self, function: str, status: int) -> None:
        """Raise a JsecError unless ``status`` is JSEC_OK."""
        if status != JSEC_OK:
            raise self.error(function, status)

    def call(self, function: str, *args: object) -> None:
        """Call a status-returning function and raise on failure."""
        self.check(function, getattr(self.lib, function)(*args))


class Key:
    """A jsec_key (AES-128 or AES-256), from hexadecimal text."""

    def __init__(self, lib: Library, hex_text: str) -> None:
        self._lib = lib
        self.handle = _P()
        handle = _P()
        lib.call("jsec_key_new_from_hex", hex_text.encode("ascii", errors="replace"),
                 ctypes.byref(handle))
        self.handle = handle

    @classmethod
    def from_file(cls, lib: Library, path: Union[str, Path]) -> "Key":
        """Read a key file: 32 or 64 hex digits, whitespace ignored."""
        return cls(lib, Path(path).read_text(encoding="ascii", errors="replace"))

    def close(self) -> None:
        """Release the key (its bytes are wiped by jsec)."""
        if self.handle:
            self._lib.lib.jsec_key_free(self.handle)
            self.handle = _P()

    def __del__(self) -> None:
        self.close()


def _parse_flags(text: str, table: dict[str, int], what: str) -> int:
    """A comma-separated list of names from ``table`` to the OR of their flags."""
    flags = 0
    for name in text.split(","):
        name = name.strip()
        if name not in table:
            raise ValueError(f"unknown {what} {name!r} ({', '.join(table)})")
        flags |= table[name]
    return flags


def parse_bands(text: str) -> int:
    """``"dc,ac-low,ac-high"`` (or ``"all"``) to the band flags."""
    text = text.strip().lower()
    if text in ("", "all"):
        return BANDS["dc"] | BANDS["ac-low"] | BANDS["ac-high"]
    return _parse_flags(text, BANDS, "band")


def parse_metadata(text: str) -> int:
    """``"gps,identity[,dates]"`` (``""`` or ``"none"``: nothing) to the
    JSEC_FSPE_METADATA_* flags."""
    text = text.strip().lower()
    if text in ("", "none"):
        return 0
    return _parse_flags(text, METADATA, "EXIF class")


def parse_region(text: str) -> Optional[tuple[int, int, int, int]]:
    """``"X,Y,W,H"`` in pixels (``""`` for no region)."""
    text = text.strip()
    if not text:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise ValueError(f"region {text!r} is not X,Y,W,H")
    x, y, w, h = (int(p) for p in parts)
    if w == 0 or h == 0:
        raise ValueError(f"region {text!r} is empty")
    return x, y, w, h


class Cipher:
    """A jsec_fspe_cipher: a master key (level 0) plus FSPE options.

    The options must be the same for encryption and decryption: nothing of
    them is stored in the (size-preserving) file.
    """

    def __init__(self, lib: Library, key: Key, rule: str = "full", components: str = "all",
                 bands: int = 7, region: Optional[tuple[int, int, int, int]] = None,
                 outside: bool = False, nonce: Optional[bytes] = None,
                 metadata: int = 0) -> None:
        self._lib = lib
        self.handle = _P()
        self.nonce = nonce
        opts = _P()
        lib.call("jsec_fspe_options_new", ctypes.byref(opts))
        try:
            if rule not in RULES:
                raise ValueError(f"unknown rule {rule!r} (full, paper)")
            if components not in COMPONENTS:
                raise ValueError(f"unknown components {components!r} (all, luma, chroma)")
            lib.call("jsec_fspe_options_set_rule", opts, RULES[rule])
            lib.call("jsec_fspe_options_set_components", opts, COMPONENTS[components])
            lib.call("jsec_fspe_options_set_bands", opts, bands)
            if region is not None:
                lib.call("jsec_fspe_options_set_region", opts, *region, outside)
            if nonce is not None:
                lib.call("jsec_fspe_options_set_nonce", opts, nonce, len(nonce))
            if metadata:
                lib.call("jsec_fspe_options_set_metadata", opts, metadata)
            handle = _P()
            lib.call("jsec_fspe_cipher_new", key.handle, opts, 0, ctypes.byref(handle))
            self.handle = handle
        finally:
            lib.lib.jsec_fspe_options_free(opts)

    def _in_place(self, function: str, buf: bytearray, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > len(buf):
            raise ValueError("range outside the buffer")
        if length == 0:
            raise ValueError("empty range")
        view = (ctypes.c_uint8 * length).from_buffer(buf, offset)
        try:
            self._lib.call(function, self.handle, view, length, None)
        finally:
            del view  # release the export so the bytearray may be resized again

    def encrypt(self, buf: bytearray, offset: int = 0, length: Optional[int] = None) -> None:
        """Encrypt the JPEG in ``buf[offset:offset+length]`` in place (same
        length). On failure the bytes are unchanged and JsecError is raised."""
        self._in_place("jsec_fspe_cipher_encrypt", buf, offset,
                       len(buf) - offset if length is None else length)

    def decrypt(self, buf: bytearray, offset: int = 0, length: Optional[int] = None) -> None:
        """Decrypt the JPEG in ``buf[offset:offset+length]`` in place."""
        self._in_place("jsec_fspe_cipher_decrypt", buf, offset,
                       len(buf) - offset if length is None else length)

    def close(self) -> None:
        """Release the cipher."""
        if self.handle:
            self._lib.lib.jsec_fspe_cipher_free(self.handle)
            self.handle = _P()

    def __del__(self) -> None:
        self.close()


class Stream:
    """A length-preserving jsec_fspe_stream (one thread at a time).

    ``write`` and ``finish`` return the output that became ready; over the
    whole stream the output has exactly the length of the input. After a
    JsecError the stream is failed: the caller must not use what it produced
    for that image (see ``docs/c-api.md``).
    """

    def __init__(self, lib: Library, handle: _P) -> None:
        self._lib = lib
        self.handle = handle
        self._out = (ctypes.c_uint8 * WRITE_SLICE)()

    @classmethod
    def digest(cls, lib: Library, cipher: Cipher) -> "Stream":
        """A digest stream: output = input; ``seed()`` after ``finish()``."""
        handle = _P()
        lib.call("jsec_fspe_digest_stream_new", cipher.handle, ctypes.byref(handle))
        return cls(lib, handle)

    @classmethod
    def cipher(cls, lib: Library, cipher: Cipher, direction: int,
               seed: Optional[bytes] = None) -> "Stream":
        """A cipher stream: with the file's ``seed`` from a digest stream, or
        with ``seed`` None when the cipher's options carry a caller nonce."""
        handle = _P()
        lib.call("jsec_fspe_stream_new", cipher.handle, direction, seed,
                 0 if seed is None else len(seed), ctypes.byref(handle))
        return cls(lib, handle)

    def _drain(self, keep: bool) -> bytes:
        chunks: list[bytes] = []
        got = _SZ()
        while True:
            self._lib.call("jsec_fspe_stream_read", self.handle, self._out, WRITE_SLICE,
                           ctypes.byref(got))
            if got.value == 0:
                break
            if keep:
                chunks.append(ctypes.string_at(self._out, got.value))
        return b"".join(chunks)

    def write(self, data: BytesLike, keep_output: bool = True) -> bytes:
        """Feed ``data``; return the output that is ready (b"" when
        ``keep_output`` is False: the output is read and dropped)."""
        mv = memoryview(data).cast("B")
        out: list[bytes] = []
        for start in range(0, len(mv), WRITE_SLICE):
            piece = bytes(mv[start:start + WRITE_SLICE])
            self._lib.call("jsec_fspe_stream_write", self.handle, piece, len(piece))
            out.append(self._drain(keep_output))
        return b"".join(out)

    def finish(self, keep_output: bool = True) -> bytes:
        """Declare the end of input; return the rest of the output."""
        self._lib.call("jsec_fspe_stream_finish", self.handle, None)
        return self._drain(keep_output)

    def seed(self) -> bytes:
        """The seed of a finished digest stream (32 bytes)."""
        buf = (ctypes.c_uint8 * JSEC_FSPE_SEED_LEN)()
        self._lib.call("jsec_fspe_stream_seed", self.handle, buf, JSEC_FSPE_SEED_LEN)
        return bytes(buf)

    def close(self) -> None:
        """Release the stream (unread output is dropped)."""
        if self.handle:
            self._lib.lib.jsec_fspe_stream_free(self.handle)
            self.handle = _P()

    def __del__(self) -> None:
        self.close()


def is_jpeg(data: BytesLike) -> bool:
    """True when ``data`` starts with the JPEG magic bytes FF D8 FF."""
    return bytes(data[:3]) == b"\xff\xd8\xff"

