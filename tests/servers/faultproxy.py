#!/usr/bin/env python3
# faultproxy.py: a plain-HTTP reverse proxy for the fault tests (t_remote_faults.sh). It listens
# on 127.0.0.1:PORT and forwards every request (any method: GET, PUT, HEAD, DELETE, POST, MKCOL,
# PROPFIND, MOVE, COPY...) with its request line, headers (the Host header exactly as received:
# S3 SigV4 signs it) and body unchanged to the server on 127.0.0.1:BPORT, and the answer back.
# What it does with each request is read from the mode file when the request arrives:
#   pass  forward it (also when the file is missing or holds anything unknown)
#   500   answer 500 with a short body, forward nothing
#   503   answer 503 with a short body, forward nothing
#   hang  read the request, then answer nothing until the mode is no longer hang, then close
#         the connection (the client may give up first: that is logged)
#   cut   forward it; a 200 answer with a Content-Length over 4096 bytes is cut after half of
#         its body (the connection is closed there); any other answer (a 206 to a Range
#         request among them) is passed whole. A client that resumes with Range gets the rest.
# One log line per request (--log FILE, else stderr), space-separated:
#   EPOCH_SECONDS MODE METHOD PATH RESULT SECONDS
# RESULT is the status sent, or hang-released / hang-client-gone / backend-error, or for a cut
# answer cut-SENT/LENGTH. The request's Range header, if any, is not logged: a 206 shows it.
# Prints the port it listens on (one line on stdout) once it accepts connections.
# Usage: faultproxy.py --port PORT|0 --backend BPORT --mode-file FILE [--log FILE]
# Python 3 standard library only.
# Must never listen on or forward to anything but 127.0.0.1, never change a request or answer
# it forwards (only how the bodies are framed on the wire may differ), and never log headers or
# bodies (they carry credentials and ciphertext).
import argparse
import http.client
import os
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOG_LOCK = threading.Lock()
LOG_FILE = None


def log(mode, method, path, result, secs, start):
    line = "%.3f %s %s %s %s %.3f\n" % (start, mode, method, path, result, secs)
    with LOG_LOCK:
        LOG_FILE.write(line)
        LOG_FILE.flush()


def read_mode():
    try:
        with open(ARGS.mode_file) as f:
            m = f.read().strip()
    except OSError:
        return "pass"
    return m if m in ("pass", "500", "503", "hang", "cut") else "pass"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and "100 Continue" for Expect: 100-continue
    timeout = 300  # an idle client connection is dropped after this many seconds

    def log_message(self, fmt, *args):  # no default access log on stderr
        pass

    def read_body(self):
        """The request body exactly as it came on the wire (chunked stays chunked)."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            raw = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("client closed inside a chunked body")
                raw.append(line)
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while True:  # trailers, then the empty line
                        t = self.rfile.readline(65537)
                        if not t:
                            raise ConnectionError("client closed inside the trailers")
                        raw.append(t)
                        if t in (b"\r\n", b"\n"):
                            break
                    break
                data = self.rfile.read(size + 2)
                if len(data) != size + 2:
                    raise ConnectionError("client closed inside a chunk")
                raw.append(data)
            return b"".join(raw)
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            raise ConnectionError("client closed inside the body")
        return data

    def answer(self, status, text):
        body = ("%s from faultproxy\n" % text).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def client_gone(self):
        """True when the client closed its side (or reset) the connection."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def hang(self, start):
        while read_mode() == "hang":
            if self.client_gone():
                log("hang", self.command, self.path, "hang-client-gone", time.time() - start, start)
                self.close_connection = True
                return
            time.sleep(0.1)
        log("hang", self.command, self.path, "hang-released", time.time() - start, start)
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def forward(self, body, start, mode="pass"):
        conn = http.client.HTTPConnection("127.0.0.1", ARGS.backend, timeout=600)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():  # in the order received, duplicates kept
                conn.putheader(k, v)
            conn.endheaders()
            if body:
                conn.send(body)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            log(mode, self.command, self.path, "backend-error", time.time() - start, start)
            self.answer(502, "backend error: %s" % type(e).__name__)
            return
        try:
            chunked = resp.chunked
            length = resp.length
            self.wfile.write(("HTTP/1.1 %d %s\r\n" % (resp.status, resp.reason)).encode("latin-1"))
            for k, v in resp.getheaders():
                self.wfile.write(("%s: %s\r\n" % (k, v)).encode("latin-1"))
            self.wfile.write(b"\r\n")
            no_body = self.command == "HEAD" or resp.status in (204, 304) or resp.status < 200
            if mode == "cut" and not no_body and resp.status == 200 and not chunked \
                    and length is not None and length > 4096:
                self.wfile.write(resp.read(length // 2))
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                log(mode, self.command, self.path, "cut-%d/%d" % (length // 2, length),
                    time.time() - start, start)
                return
            if not no_body:
                while True:
                    data = resp.read1(65536) if chunked else resp.read(65536)
                    if not data:
                        break
                    if chunked:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    else:
                        self.wfile.write(data)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
                elif length is None:  # delimited by the end of the connection
                    self.close_connection = True
            if (resp.getheader("Connection") or "").lower() == "close":
                self.close_connection = True
            self.wfile.flush()
            log(mode, self.command, self.path, str(resp.status), time.time() - start, start)
        finally:
            conn.close()

    def handle_any(self):
        start = time.time()
        mode = read_mode()
        try:
            body = self.read_body()
        except (ConnectionError, ValueError):
            self.close_connection = True
            return
        if mode in ("pass", "cut"):
            self.forward(body, start, mode)
        elif mode == "hang":
            self.hang(start)
        else:
            self.answer(int(mode), "Service Unavailable" if mode == "503" else "Internal Server Error")
            log(mode, self.command, self.path, mode, time.time() - start, start)

    def __getattr__(self, name):  # do_GET, do_PUT, do_PROPFIND, ...: all the same
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    global ARGS, LOG_FILE
    p = argparse.ArgumentParser(description="fault-injecting HTTP reverse proxy (tests only)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--backend", type=int, required=True)
    p.add_argument("--mode-file", required=True)
    p.add_argument("--log")
    ARGS = p.parse_args()
    LOG_FILE = open(ARGS.log, "a", buffering=1) if ARGS.log else sys.stderr
    srv = Server(("127.0.0.1", ARGS.port), Handler)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
