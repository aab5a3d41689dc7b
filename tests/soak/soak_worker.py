#!/usr/bin/env python3
"""soak_worker.py: the writer and the checker of tests/soak/crash_soak.sh (see its header).

  soak_worker.py write MNT ACKS SEED CYCLE
      Appends numbered records to MNT/records.log, fsync'ing (1 in 4: fdatasync'ing) after each,
      and between records does random metadata operations in MNT/scratch. Runs until an
      operation fails (the daemon was killed), then writes an 'E' line and exits 0 (3 when the
      worker itself is at fault: a short write, a model that disagrees with the mount).
  soak_worker.py check MNT STATE ACKS KILL_TS CYCLE
      Applies the acknowledgements of ACKS ('-' for none) to the cumulative STATE (a JSON file
      outside the mount), then checks the mount against it. Exit 1 on any problem.
  soak_worker.py totals STATE
      Prints the cumulative counters as shell assignments.

ACKS is a file OUTSIDE the mount, one line per event, written by the writer with write(2):
  B TIME DELAY          the writer runs (after its start-up scan); the driver kills after DELAY s
  R N                   record N is in records.log: written, and fsync/fdatasync returned 0
  F PATH SHA SIZE XD O  PATH is a regular file with this content (sha256, size) and this set of
                        user.* xattrs (XD = sha256 of the sorted names and values); O is 'o' (an
                        operation's ack) or 's' (the start-up scan)
  D PATH O              PATH is a directory
  G PATH O              PATH does not exist
  X PATH                written BEFORE an operation that may change PATH or anything under it:
                        every earlier statement about them no longer holds
  E TIME ERRNO NAME OP  the operation OP failed with ERRNO; the writer stops
A statement (F, D, G) is written only after fsync returned 0 on the object itself and on every
directory from its parent up to the mount's root (both parents for a rename), so POSIX makes it
durable; it holds until an X for that path or an ancestor. Records and statements accumulate
over all cycles: a later crash must not lose what an earlier cycle acknowledged.
"""
import errno
import hashlib
import json
import os
import random
import stat
import sys
import time
import zlib

RECSZ = 100
RECORDS = "records.log"
SCRATCH = "scratch"
MAX_FILES, MAX_DIRS, MAX_DEPTH = 120, 25, 4


def rec(i):
    """Record i: fixed 100 bytes, its number, a CRC of the number, a letter, a newline. 100 does
    not divide 4096, so records straddle the 4 KiB blocks Coffer seals."""
    head = b"%010d %08x " % (i, zlib.crc32(b"%d" % i))
    return head + bytes([65 + i % 26]) * (RECSZ - len(head) - 1) + b"\n"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def xdigest(xattrs):
    h = hashlib.sha256()
    for name in sorted(xattrs):
        h.update(b"%d:%s=%d:" % (len(name), name.encode(), len(xattrs[name])) + xattrs[name])
    return h.hexdigest()[:32]


def read_xattrs(p):
    out = {}
    for name in os.listxattr(p, follow_symlinks=False):
        if name.startswith("user."):
            out[name] = os.getxattr(p, name, follow_symlinks=False)
    return out


def ancestors(rel):
    """The directories from rel's parent up to the mount's root ('')."""
    out = []
    while rel:
        rel = os.path.dirname(rel)
        out.append(rel)
    return out


def under(path, prefix):
    return path == prefix or path.startswith(prefix + "/")


# ---------------------------------------------------------------------------------------------
class Writer:
    def __init__(self, mnt, acks, seed, cycle):
        self.mnt, self.cycle = mnt, cycle
        self.rnd = random.Random(f"{seed}-{cycle}")
        self.delay = round(self.rnd.uniform(0.2, 3.0), 3)  # the driver's kill delay
        self.ackfd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.files, self.xattrs, self.dirs = {}, {}, set()
        self.n = 0
        self.op = "start"

    def put(self, *words):
        line = (" ".join(str(w) for w in words) + "\n").encode()
        if os.write(self.ackfd, line) != len(line):
            raise RuntimeError("short write to the ack file")

    def a(self, rel):
        return os.path.join(self.mnt, rel) if rel else self.mnt

    def fsync_obj(self, rel, is_dir):
        fd = os.open(self.a(rel), os.O_RDONLY | (os.O_DIRECTORY if is_dir else 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def statement(self, rel, origin):
        if rel in self.files:
            c = self.files[rel]
            return ("F", rel, sha(c), len(c), xdigest(self.xattrs[rel]), origin)
        if rel in self.dirs:
            return ("D", rel, origin)
        return ("G", rel, origin)

    def ack(self, paths, origin="o"):
        """Makes paths durable (fsync of each existing one, then of every ancestor directory,
        deepest first) and only then states their present state."""
        for rel in paths:
            if rel in self.files:
                self.fsync_obj(rel, False)
            elif rel in self.dirs:
                self.fsync_obj(rel, True)
        chain = {d for rel in paths for d in ancestors(rel)}
        for d in sorted(chain, key=lambda d: (-d.count("/"), -len(d), d)):
            self.fsync_obj(d, True)
        for rel in paths:
            self.put(*self.statement(rel, origin))

    # -- start-up: learn the state the crash left, make it durable, state all of it --
    def scan(self):
        if not os.path.isdir(self.a(SCRATCH)):
            os.mkdir(self.a(SCRATCH))
        for d, subdirs, fs in os.walk(self.a(SCRATCH), onerror=self.walk_error):
            rd = os.path.relpath(d, self.mnt)
            self.dirs.add(rd)
            for f in fs:
                rel = os.path.join(rd, f)
                with open(self.a(rel), "rb") as fh:
                    self.files[rel] = bytearray(fh.read())
                self.xattrs[rel] = read_xattrs(self.a(rel))
        self.ack(sorted(self.dirs) + sorted(self.files), origin="s")

    @staticmethod
    def walk_error(e):
        raise e

    def open_records(self):
        p = self.a(RECORDS)
        created = not os.path.exists(p)
        fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        size = os.fstat(fd).st_size
        if size % RECSZ:  # a torn record that was never acknowledged
            os.ftruncate(fd, size - size % RECSZ)
        if created:
            os.fsync(fd)
            self.fsync_obj("", True)
        return fd, size // RECSZ

    # -- metadata operations in the scratch tree --
    def new_name(self, kind):
        self.n += 1
        return f"{kind}{self.cycle}-{self.n}"

    def data(self):
        r = self.rnd.random()
        size = self.rnd.randrange(0, 2 << 20) if r < 0.04 else self.rnd.randrange(0, 70000)
        return bytearray(os.urandom(size))  # random: a swapped or stale block cannot match

    def pick_dir(self, max_depth=MAX_DEPTH):
        ds = [d for d in self.dirs if d.count("/") < max_depth]
        return self.rnd.choice(sorted(ds))

    def pick_file(self):
        return self.rnd.choice(sorted(self.files)) if self.files else None

    def maybe_ack(self, paths):
        if self.rnd.random() < 0.5:
            self.ack(paths)

    def meta_op(self):
        r = self.rnd.random()
        f = self.pick_file()
        if len(self.files) > MAX_FILES and f:
            r = 0.40  # unlink
        if r < 0.18 or f is None:  # create, write, close
            rel = os.path.join(self.pick_dir(), self.new_name("f"))
            data = self.data()
            self.op = f"create {rel} ({len(data)} bytes)"
            self.put("X", rel)
            fd = os.open(self.a(rel), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            try:
                if data and os.write(fd, data) != len(data):
                    raise RuntimeError(f"short write creating {rel}")
            finally:
                os.close(fd)
            self.files[rel], self.xattrs[rel] = data, {}
            self.maybe_ack([rel])
        elif r < 0.28:  # overwrite or append in place
            c = self.files[f]
            off = self.rnd.randrange(0, len(c) + 1)
            data = os.urandom(self.rnd.randrange(1, 20000))
            self.op = f"pwrite {f} at {off} ({len(data)} bytes)"
            self.put("X", f)
            fd = os.open(self.a(f), os.O_WRONLY)
            try:
                if os.pwrite(fd, data, off) != len(data):
                    raise RuntimeError(f"short pwrite to {f}")
            finally:
                os.close(fd)
            c[off:off + len(data)] = data
            self.maybe_ack([f])
        elif r < 0.38:  # truncate: shrink or extend (a hole)
            c = self.files[f]
            size = self.rnd.randrange(0, len(c) + 1) if self.rnd.random() < 0.6 \
                else len(c) + self.rnd.randrange(1, 300000)
            self.op = f"truncate {f} from {len(c)} to {size}"
            self.put("X", f)
            os.truncate(self.a(f), size)
            if size <= len(c):
                del c[size:]
            else:
                c.extend(bytes(size - len(c)))
            self.maybe_ack([f])
        elif r < 0.48:  # unlink
            self.op = f"unlink {f}"
            self.put("X", f)
            os.unlink(self.a(f))
            del self.files[f], self.xattrs[f]
            self.maybe_ack([f])
        elif r < 0.62:  # rename a file: to a new name or over another file, maybe across dirs
            others = [g for g in sorted(self.files) if g != f]
            if others and self.rnd.random() < 0.3:
                dst = self.rnd.choice(others)
            else:
                dst = os.path.join(self.pick_dir(), self.new_name("r"))
            self.op = f"rename {f} -> {dst}"
            self.put("X", f)
            self.put("X", dst)
            os.rename(self.a(f), self.a(dst))
            self.files[dst], self.xattrs[dst] = self.files.pop(f), self.xattrs.pop(f)
            self.maybe_ack([dst, f])
        elif r < 0.74:  # setxattr
            name = f"user.k{self.rnd.randrange(4)}"
            value = os.urandom(self.rnd.randrange(0, 200))
            self.op = f"setxattr {f} {name} ({len(value)} bytes)"
            self.put("X", f)
            os.setxattr(self.a(f), name, value)
            self.xattrs[f][name] = value
            self.maybe_ack([f])
        elif r < 0.80:  # removexattr
            names = sorted(self.xattrs[f])
            if not names:
                return
            name = self.rnd.choice(names)
            self.op = f"removexattr {f} {name}"
            self.put("X", f)
            os.removexattr(self.a(f), name)
            del self.xattrs[f][name]
            self.maybe_ack([f])
        elif r < 0.87:  # mkdir
            if len(self.dirs) >= MAX_DIRS:
                return
            rel = os.path.join(self.pick_dir(MAX_DEPTH - 1), self.new_name("d"))
            self.op = f"mkdir {rel}"
            self.put("X", rel)
            os.mkdir(self.a(rel))
            self.dirs.add(rel)
            self.maybe_ack([rel])
        elif r < 0.93:  # rmdir an empty directory
            empty = [d for d in sorted(self.dirs) if d != SCRATCH and
                     not any(under(p, d) and p != d for p in list(self.dirs) + list(self.files))]
            if not empty:
                return
            d = self.rnd.choice(empty)
            self.op = f"rmdir {d}"
            self.put("X", d)
            os.rmdir(self.a(d))
            self.dirs.discard(d)
            self.maybe_ack([d])
        elif r < 0.97:  # rename a directory (with what it holds) under another one
            movable = [d for d in sorted(self.dirs) if d != SCRATCH]
            if not movable:
                return
            src = self.rnd.choice(movable)
            depth = max(p.count("/") for p in self.dirs if under(p, src)) - src.count("/")
            targets = [d for d in sorted(self.dirs)
                       if not under(d, src) and d.count("/") + 1 + depth <= MAX_DEPTH - 1]
            if not targets:
                return
            dst = os.path.join(self.rnd.choice(targets), self.new_name("m"))
            self.op = f"rename dir {src} -> {dst}"
            self.put("X", src)
            self.put("X", dst)
            os.rename(self.a(src), self.a(dst))
            moved = [p for p in self.dirs if under(p, src)]
            for p in moved:
                self.dirs.discard(p)
                self.dirs.add(dst + p[len(src):])
            for p in [p for p in self.files if under(p, src)]:
                q = dst + p[len(src):]
                self.files[q], self.xattrs[q] = self.files.pop(p), self.xattrs.pop(p)
            if self.rnd.random() < 0.5:
                inside = sorted(p for p in list(self.dirs) + list(self.files) if under(p, dst))
                self.ack(inside + [src])
        else:  # read a file back and compare it with what was written (live, before the kill)
            self.op = f"read {f}"
            with open(self.a(f), "rb") as fh:
                got = fh.read()
            if got != self.files[f] or read_xattrs(self.a(f)) != self.xattrs[f]:
                raise RuntimeError(f"{f} reads back {len(got)} bytes (sha {sha(got)[:12]}), "
                                   f"expected {len(self.files[f])} (sha {sha(self.files[f])[:12]}) "
                                   f"or its xattrs differ, while mounted")

    def run(self):
        try:
            self.op = "open records"
            fd, i = self.open_records()
            self.op = "start-up scan"
            self.scan()
            self.put("B", f"{time.time():.6f}", self.delay)
            while True:
                self.op = f"record {i}"
                r = rec(i)
                if os.write(fd, r) != RECSZ:
                    raise RuntimeError(f"short write of record {i}")
                if self.rnd.random() < 0.25:
                    os.fdatasync(fd)
                else:
                    os.fsync(fd)
                self.put("R", i)
                i += 1
                if self.rnd.random() < 0.3:
                    self.meta_op()
        except OSError as e:
            name = errno.errorcode.get(e.errno, "?")
            self.put("E", f"{time.time():.6f}", e.errno, name, self.op.replace("\n", " "))
            return 0
        except Exception as e:  # the worker's own fault, or the mount disagrees with its model
            self.put("E", f"{time.time():.6f}", -1, type(e).__name__,
                     (self.op + ": " + str(e)).replace("\n", " "))
            return 3


# ---------------------------------------------------------------------------------------------
def load_state(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"last_rec": -1, "verified_n": 0, "prefix_sha": sha(b""), "stmts": {},
                "records_checked": 0, "stmts_checked": 0, "op_acks": 0, "scan_acks": 0,
                "entries_walked": 0, "checks": 0, "lost": 0, "stops": {}}


def apply_acks(st, acks, kill_ts, cycle, problems):
    stmts = st["stmts"]
    began = None
    if acks == "-":
        return
    with open(acks) as f:
        for line in f:
            w = line.split()
            if not w or line[-1] != "\n":
                problems.append(f"torn ack line {line!r}")
                continue
            k = w[0]
            if k == "R":
                n = int(w[1])
                if n <= st["last_rec"]:
                    problems.append(f"ack of record {n} follows record {st['last_rec']}")
                st["last_rec"] = max(st["last_rec"], n)
            elif k in ("F", "D", "G"):
                stmts[w[1]] = w[:1] + w[2:] + [cycle]
                st["op_acks" if w[-1] == "o" else "scan_acks"] += 1
            elif k == "X":
                p = w[1]
                for q in [q for q in stmts if under(q, p)]:
                    del stmts[q]
            elif k == "B":
                began = float(w[1])
            elif k == "E":
                t, code, name, op = float(w[1]), int(w[2]), w[3], " ".join(w[4:])
                st["stops"][name] = st["stops"].get(name, 0) + 1
                if code < 0:
                    problems.append(f"the writer failed while the mount was live: {name}: {op}")
                elif kill_ts and t < kill_ts:
                    problems.append(f"the writer got {name} ({code}) {kill_ts - t:.3f}s BEFORE the "
                                    f"kill, in: {op}")
            else:
                problems.append(f"unknown ack line {line!r}")
    if began is None:
        problems.append("the writer never started its main loop (no B line)")


def check_records(mnt, st, problems):
    path = os.path.join(mnt, RECORDS)
    last, vn = st["last_rec"], st["verified_n"]
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        data = None
    if data is None:
        if last >= 0:
            problems.append(f"{RECORDS} is missing; records 0..{last} were acknowledged")
            st["lost"] += last + 1
        return 0
    n = len(data) // RECSZ
    start = vn if n >= vn and sha(data[:vn * RECSZ]) == st["prefix_sha"] else 0
    if start == 0 and vn:
        problems.append(f"{RECORDS}: the first {vn} records, verified before, changed "
                        f"(now {n} complete records)")
    bad = [i for i in range(start, n) if data[i * RECSZ:(i + 1) * RECSZ] != rec(i)]
    tail = data[n * RECSZ:]
    if tail and tail != rec(n)[:len(tail)]:
        problems.append(f"{RECORDS}: {len(tail)} bytes after record {n - 1} are not a prefix of "
                        f"record {n}: {tail[:40]!r}")
    lost = [i for i in bad if i <= last] + list(range(n, last + 1))
    if bad:
        problems.append(f"{RECORDS}: {len(bad)} records with wrong bytes, first {bad[:5]}: "
                        f"{data[bad[0] * RECSZ:bad[0] * RECSZ + RECSZ]!r}")
    if n <= last:
        problems.append(f"{RECORDS}: {n} complete records, but 0..{last} were acknowledged "
                        f"({last + 1 - n} lost)")
    if lost:
        st["lost"] += len(lost)
    if not bad:
        st["verified_n"], st["prefix_sha"] = n, sha(data[:n * RECSZ])
    st["records_checked"] += last + 1
    return n


def check_stmts(mnt, st, problems):
    k = 0
    for rel, s in sorted(st["stmts"].items()):
        kind, cyc = s[0], s[-1]
        p = os.path.join(mnt, rel)
        where = f"(acknowledged in cycle {cyc}, {'scan' if s[-2] == 's' else 'operation'})"
        k += 1
        try:
            lst = os.lstat(p)
        except FileNotFoundError:
            if kind != "G":
                problems.append(f"{rel} is missing {where}")
            continue
        except OSError as e:
            problems.append(f"{rel}: lstat: {e} {where}")
            continue
        if kind == "G":
            problems.append(f"{rel} exists but was removed {where}")
        elif kind == "D" and not stat.S_ISDIR(lst.st_mode):
            problems.append(f"{rel} is not a directory {where}")
        elif kind == "F":
            if not stat.S_ISREG(lst.st_mode):
                problems.append(f"{rel} is not a regular file {where}")
                continue
            try:
                with open(p, "rb") as f:
                    data = f.read()
                xd = xdigest(read_xattrs(p))
            except OSError as e:
                problems.append(f"{rel}: {e} {where}")
                continue
            if len(data) != int(s[2]) or sha(data) != s[1]:
                problems.append(f"{rel}: {len(data)} bytes sha {sha(data)[:16]}, expected "
                                f"{s[2]} bytes sha {s[1][:16]} {where}")
            if xd != s[3]:
                problems.append(f"{rel}: its user.* xattrs differ from the acknowledged ones {where}")
    st["stmts_checked"] += k
    return k


def walk(mnt, st, problems):
    """Every entry of the scratch tree can be stat'ed and read (no EIO), and link counts agree."""
    n = 0
    root = os.path.join(mnt, SCRATCH)
    if not os.path.isdir(root):
        return 0
    for d, subdirs, fs in os.walk(root, onerror=lambda e: problems.append(f"walk: {e}")):
        n += 1
        try:
            lst = os.lstat(d)
            if lst.st_nlink != 2 + len(subdirs):
                problems.append(f"{d}: nlink {lst.st_nlink} with {len(subdirs)} subdirectories")
        except OSError as e:
            problems.append(f"{d}: {e}")
        for f in fs:
            p = os.path.join(d, f)
            n += 1
            try:
                lst = os.lstat(p)
                with open(p, "rb") as fh:
                    data = fh.read()
                read_xattrs(p)
            except OSError as e:
                problems.append(f"{p}: {e}")
                continue
            if lst.st_nlink != 1:
                problems.append(f"{p}: nlink {lst.st_nlink}, the writer makes no hard links")
            if len(data) != lst.st_size:
                problems.append(f"{p}: read {len(data)} bytes, size {lst.st_size}")
    st["entries_walked"] += n
    return n


def check(mnt, state, acks, kill_ts, cycle):
    st = load_state(state)
    problems = []
    apply_acks(st, acks, float(kill_ts), cycle, problems)
    n = check_records(mnt, st, problems)
    k = check_stmts(mnt, st, problems)
    e = walk(mnt, st, problems)
    st["checks"] += 1
    tmp = state + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f)
    os.replace(tmp, state)
    print(f"records 0..{st['last_rec']} acknowledged, {n} present; {k} statements; "
          f"{e} entries walked" + (f"; {len(problems)} PROBLEMS" if problems else ""))
    for p in problems[:30]:
        print("  PROBLEM: " + p)
    return 1 if problems else 0


def totals(state):
    st = load_state(state)
    for key in ("last_rec", "records_checked", "stmts_checked", "op_acks", "scan_acks",
                "entries_walked", "checks", "lost"):
        print(f"T_{key}={st[key]}")
    print("T_stops='" + " ".join(f"{k}:{v}" for k, v in sorted(st["stops"].items())) + "'")
    return 0


def main(argv):
    if len(argv) == 6 and argv[1] == "write":
        return Writer(argv[2], argv[3], int(argv[4]), int(argv[5])).run()
    if len(argv) == 7 and argv[1] == "check":
        return check(argv[2], argv[3], argv[4], argv[5], int(argv[6]))
    if len(argv) == 3 and argv[1] == "totals":
        return totals(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
