#!/usr/bin/env python3
# hostile.py: a small hostile HTTP server on 127.0.0.1 for t_remote_hostile.sh, two kinds:
#   --kind record  answers every request 401 (WWW-Authenticate: Basic) and appends one line per
#                  request to --log: METHOD PATH AUTH, AUTH being "auth" when the request carried
#                  an Authorization header, else "-" (the header's value is never written).
#   --kind s3      a path-style S3 store kept in --dir (GET, PUT, DELETE of /BUCKET/KEY; any
#                  bucket; signatures not checked) whose ListObjectsV2 answers follow the mode
#                  file (--mode-file, read at each listing):
#                    honest      the keys under the prefix, one page, IsTruncated false
#                    same-token  those keys, IsTruncated true, the same token every time
#                    fresh-same  those keys, IsTruncated true, a fresh token every time
#                    fresh-empty no keys, IsTruncated true, a fresh token every time
#                    huge        a 32 MiB page (white space inside the document)
#                  and logs one line per listing to --log: LIST MODE PREFIX.
# Prints the port it listens on (one line on stdout) once it accepts connections.
# Usage: hostile.py --kind record|s3 --log FILE [--dir DIR --mode-file FILE]
# Python 3 standard library only. Must never listen on anything but 127.0.0.1.
import argparse
import hashlib
import os
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()


def log(line):
    with LOCK, open(ARGS.log, "a") as f:
        f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, code, data=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        if ARGS.kind == "record":
            self.body()
            auth = "auth" if self.headers.get("Authorization") else "-"
            log(f"{self.command} {self.path} {auth}")
            return self.answer(401, b"no", [("WWW-Authenticate", 'Basic realm="x"')])
        return self.s3()

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = handle_any
    do_PROPFIND = do_MKCOL = do_MOVE = do_COPY = handle_any

    # ---- s3 ----
    def s3(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.lstrip("/").split("/", 1)
        key = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
        data = self.body()
        if self.command == "GET" and not key:
            return self.listing(urllib.parse.parse_qs(u.query))
        name = os.path.join(ARGS.dir, urllib.parse.quote(key, safe=""))
        if self.command == "PUT":
            with open(name + ".tmp", "wb") as f:
                f.write(data)
            os.replace(name + ".tmp", name)
            return self.answer(200, b"", [("ETag", self.etag(data))])
        if self.command == "DELETE":
            if os.path.exists(name):
                os.unlink(name)
            return self.answer(204)
        try:
            with open(name, "rb") as f:
                got = f.read()
        except FileNotFoundError:
            return self.answer(404, b"<Error><Code>NoSuchKey</Code></Error>")
        return self.answer(200, got, [("ETag", self.etag(got))])

    @staticmethod
    def etag(data):
        return '"' + hashlib.md5(data).hexdigest() + '"'

    def listing(self, q):
        prefix = q.get("prefix", [""])[0]
        try:
            with open(ARGS.mode_file) as f:
                mode = f.read().strip()
        except FileNotFoundError:
            mode = "honest"
        log(f"LIST {mode} {prefix}")
        keys = sorted(k for k in (urllib.parse.unquote(n) for n in os.listdir(ARGS.dir))
                      if k.startswith(prefix) and not k.endswith(".tmp"))
        if mode == "fresh-empty":
            keys = []
        contents = "".join(f"<Contents><Key>{k}</Key></Contents>" for k in keys)
        trunc = ""
        if mode == "same-token":
            trunc = "<IsTruncated>true</IsTruncated><NextContinuationToken>T</NextContinuationToken>"
        elif mode in ("fresh-same", "fresh-empty"):
            trunc = f"<IsTruncated>true</IsTruncated><NextContinuationToken>{uuid.uuid4()}</NextContinuationToken>"
        else:
            trunc = "<IsTruncated>false</IsTruncated>"
        pad = " " * (32 << 20) if mode == "huge" else ""
        doc = f'<?xml version="1.0"?><ListBucketResult>{pad}{contents}{trunc}</ListBucketResult>'
        self.answer(200, doc.encode())


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=["record", "s3"], required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--dir")
    p.add_argument("--mode-file")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
