#!/usr/bin/env python3
"""A tiny "photo cloud" for the end-to-end test of the jsec privacy proxy.

Plain HTTP on loopback, standard library only (Pillow is used for the
thumbnails when it is installed, ImageMagick ``convert`` otherwise), as the
real services do: they keep the uploaded file and make their own thumbnail
from it.

    PUT|POST /photos/NAME      store the raw request body as NAME
    PUT      /public/NAME      the same, on a path the proxy is not told about
    POST     /upload           multipart/form-data: store every file part
                               under its filename, keep the other fields
    GET      /photos           JSON list of the stored photos
    GET      /photos/NAME      the stored bytes (also /public/NAME)
    GET      /thumbs/NAME      the server's thumbnail (JPEG, at most 256x256)
    GET      /meta/NAME        what the server saw: size, Content-Length,
                               request headers, form fields, thumbnail status

Request bodies with Content-Length or chunked transfer coding are accepted.
Start with ``--port 0`` to get a free port; it is written to ``--port-file``.
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
THUMB_SIZE = 256


def safe_name(name: str) -> Optional[str]:
    """``name`` if it is a plain file name, else None."""
    name = os.path.basename(name)
    return name if _NAME_RE.match(name) else None


def parse_multipart(body: bytes, boundary: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Parts of a multipart/form-data body: (lower-case headers, content)."""
    dash = b"--" + boundary
    parts: list[tuple[dict[str, str], bytes]] = []
    pos = 0 if body.startswith(dash) else body.find(b"\r\n" + dash) + 2
    if pos < 0 or not body[pos:].startswith(dash):
        raise ValueError("no first boundary")
    while True:
        after = pos + len(dash)
        if body[after:after + 2] == b"--":
            return parts
        eol = body.find(b"\r\n", after)
        end_headers = body.find(b"\r\n\r\n", eol)
        if eol < 0 or end_headers < 0:
            raise ValueError("truncated part headers")
        headers: dict[str, str] = {}
        for line in body[eol + 2:end_headers].decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        start = end_headers + 4
        nxt = body.find(b"\r\n" + dash, start)
        if nxt < 0:
            raise ValueError("no closing boundary")
        parts.append((headers, body[start:nxt]))
        pos = nxt + 2


def disposition_params(value: str) -> dict[str, str]:
    """name= and filename= of a Content-Disposition header."""
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r'(\w+)="([^"]*)"', value)}


class Cloud:
    """The store: files, thumbnails and metadata in a directory."""

    def __init__(self, root: Path, thumbnailer: str, convert: str) -> None:
        self.files = root / "files"
        self.thumbs = root / "thumbs"
        self.meta = root / "meta"
        for d in (self.files, self.thumbs, self.meta):
            d.mkdir(parents=True, exist_ok=True)
        self.convert = convert
        self.thumbnailer = thumbnailer
        if thumbnailer == "auto":
            has_pillow = importlib.util.find_spec("PIL") is not None
            self.thumbnailer = "pillow" if has_pillow else "convert"
        self.lock = threading.Lock()

    def make_thumbnail(self, src: Path, dst: Path) -> str:
        """Make the server's thumbnail of ``src``; return "" or an error."""
        try:
            if self.thumbnailer == "pillow":
                from PIL import Image

                with Image.open(src) as img:
                    img = img.convert("RGB")
                    img.thumbnail((THUMB_SIZE, THUMB_SIZE))
                    img.save(dst, "JPEG", quality=90)
            else:
                proc = subprocess.run(
                    [self.convert, f"{src}[0]", "-thumbnail", f"{THUMB_SIZE}x{THUMB_SIZE}",
                     "-quality", "90", f"jpeg:{dst}"],
                    capture_output=True, timeout=30)
                if proc.returncode != 0:
                    return proc.stderr.decode("utf-8", "replace").strip() or "convert failed"
        except Exception as e:  # a bad upload must not kill the server
            return f"{type(e).__name__}: {e}"
        return ""

    def store(self, name: str, data: bytes, info: dict[str, Any]) -> dict[str, Any]:
        """Keep a file, make its thumbnail, record what was seen."""
        path = self.files / name
        path.write_bytes(data)
        thumb = self.thumbs / name
        thumb.unlink(missing_ok=True)
        error = self.make_thumbnail(path, thumb)
        meta = dict(info, name=name, size=len(data), thumbnail=not error,
                    thumbnail_error=error, thumbnailer=self.thumbnailer)
        (self.meta / f"{name}.json").write_text(json.dumps(meta, indent=1))
        return meta

    def listing(self) -> list[dict[str, Any]]:
        """Every stored photo's metadata."""
        return [json.loads(p.read_text()) for p in sorted(self.meta.glob("*.json"))]


class Handler(BaseHTTPRequestHandler):
    """Routes of the photo cloud."""

    server_version = "jsec-test-cloud/1"
    protocol_version = "HTTP/1.1"
    cloud: Cloud

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: one short line per request on stderr."""
        sys.stderr.write("cloud: " + (format % args) + "\n")

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, (json.dumps(value) + "\n").encode(), "application/json")

    def _error(self, status: int, text: str) -> None:
        self._send(status, (text + "\n").encode(), "text/plain; charset=utf-8")

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(length) if length else b""

    def _info(self, body: bytes) -> dict[str, Any]:
        return {
            "content_length": self.headers.get("Content-Length"),
            "transfer_encoding": self.headers.get("Transfer-Encoding"),
            "received": len(body),
            "request_headers": {k.lower(): v for k, v in self.headers.items()},
            "path": self.path,
        }

    def _route(self) -> tuple[str, Optional[str]]:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) == 1:
            return parts[0], None
        if len(parts) == 2:
            return parts[0], safe_name(parts[1])
        return "", None

    def do_PUT(self) -> None:  # noqa: N802
        """Raw upload."""
        body = self._body()
        coll, name = self._route()
        if coll in ("photos", "public") and name:
            with self.cloud.lock:
                self._json(HTTPStatus.CREATED, self.cloud.store(name, body, self._info(body)))
        else:
            self._error(HTTPStatus.NOT_FOUND, "no such collection")

    def do_POST(self) -> None:  # noqa: N802
        """Raw upload to /photos/NAME or multipart upload to /upload."""
        coll, name = self._route()
        if coll != "upload":
            self.do_PUT()
            return
        body = self._body()
        ctype = self.headers.get("Content-Type", "")
        m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', ctype)
        if not ctype.lower().startswith("multipart/form-data") or not m:
            self._error(HTTPStatus.BAD_REQUEST, "multipart/form-data expected")
            return
        try:
            parts = parse_multipart(body, (m.group(1) or m.group(2)).encode())
        except ValueError as e:
            self._error(HTTPStatus.BAD_REQUEST, f"bad multipart body: {e}")
            return
        info = self._info(body)
        fields: dict[str, str] = {}
        files: list[tuple[str, bytes]] = []
        for headers, content in parts:
            params = disposition_params(headers.get("content-disposition", ""))
            if "filename" in params:
                fname = safe_name(params["filename"])
                if not fname:
                    self._error(HTTPStatus.BAD_REQUEST, f"bad file name {params['filename']!r}")
                    return
                files.append((fname, content))
            else:
                fields[params.get("name", "")] = content.decode("utf-8", "replace")
        info["fields"] = fields
        with self.cloud.lock:
            stored = [self.cloud.store(fname, content, info) for fname, content in files]
        self._json(HTTPStatus.CREATED, {"files": stored, "fields": fields})

    def do_GET(self) -> None:  # noqa: N802
        """Listing, downloads, thumbnails, metadata."""
        coll, name = self._route()
        if coll == "photos" and name is None and self.path.rstrip("/") in ("/photos", ""):
            self._json(HTTPStatus.OK, self.cloud.listing())
            return
        if coll == "health":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain")
            return
        if not name:
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return
        if coll in ("photos", "public"):
            path = self.cloud.files / name
        elif coll == "thumbs":
            path = self.cloud.thumbs / name
        elif coll == "meta":
            path = self.cloud.meta / f"{name}.json"
        else:
            path = None
        if path is None or not path.is_file():
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return
        data = path.read_bytes()
        if coll == "meta":
            ctype = "application/json"
        elif data[:3] == b"\xff\xd8\xff":
            ctype = "image/jpeg"
        elif data[:8] == b"\x89PNG\r\n\x1a\n":
            ctype = "image/png"
        else:
            ctype = "application/octet-stream"
        self._send(HTTPStatus.OK, data, ctype)

    do_HEAD = do_GET


def main() -> int:
    """Run the server until killed."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: any free port")
    ap.add_argument("--port-file", help="write the port number here once listening")
    ap.add_argument("--store", required=True, help="directory for files, thumbnails, metadata")
    ap.add_argument("--thumbnailer", choices=("auto", "pillow", "convert"), default="auto")
    ap.add_argument("--convert", default=shutil.which("convert") or "convert")
    args = ap.parse_args()

    Handler.cloud = Cloud(Path(args.store), args.thumbnailer, args.convert)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = Path(args.port_file + ".tmp")
        tmp.write_text(f"{port}\n")
        tmp.replace(args.port_file)
    print(f"cloud: listening on http://{args.host}:{port} (thumbnails: "
          f"{Handler.cloud.thumbnailer})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
