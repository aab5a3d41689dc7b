#!/usr/bin/env bash
# t_posix_ops: POSIX semantics on the mount, each checked again after umount + remount:
# hard links across directories (nlink, shared and stable inode numbers); every rename case
# (replace file, replace empty dir, ENOTEMPTY, EISDIR/ENOTDIR, EINVAL into own subdir,
# RENAME_NOREPLACE -> EEXIST, RENAME_EXCHANGE of a file and a dir across directories,
# directory moves with parent link counts); symlinks/readlink; chmod (incl. setuid/sticky)
# and chown; utimensat with nanoseconds; fifo, unix socket and device nodes; user.* xattrs
# set/get/list/remove/CREATE/REPLACE; truncate grow (zeros) and shrink; O_APPEND; random
# overwrites and mmap writes against a reference copy; statfs; 255-byte names ok and
# 256 -> ENAMETOOLONG; a file past 4 GiB; 100,000 entries in one directory; permission
# checks as a non-root user, POSIX ACLs (access entries, default inheritance), setuid/setgid
# cleared when a non-owner writes or chowns; flock and fcntl locks.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

coffer_init
coffer_mount
cd /

# ---------------------------------------------------------------- hard links
mkdir "$MNT/h1" "$MNT/h2" "$MNT/h2/deeper"
echo "linked content" >"$MNT/h1/f"
ln "$MNT/h1/f" "$MNT/h2/g"
ln "$MNT/h1/f" "$MNT/h2/deeper/h"
assert_eq "$(stat -c %h "$MNT/h1/f")" 3 "nlink of a file with 3 names"
assert_eq "$(stat -c %i "$MNT/h2/g")" "$(stat -c %i "$MNT/h1/f")" "inode of hard link"
echo "more" >>"$MNT/h2/deeper/h"
assert_eq "$(cat "$MNT/h1/f")" "linked content
more" "content written through another hard link"
echo tmp >"$MNT/h1/gone"
ln "$MNT/h1/gone" "$MNT/h2/stays"
rm "$MNT/h1/gone"
assert_eq "$(stat -c %h "$MNT/h2/stays")" 1 "nlink after unlinking one of two names"
# Open-but-unlinked file keeps its data while open.
exec 7<>"$MNT/h1/unlinked-open"
echo "still here" >&7
rm "$MNT/h1/unlinked-open"
assert_eq "$(cat /proc/self/fd/7 2>/dev/null || python3 -c 'import os; os.lseek(7,0,0); print(os.read(7,100).decode(), end="")')" "still here" "data of an open unlinked file"
exec 7>&-
ok "hard links across directories, unlink of one name, open unlinked file"

# ---------------------------------------------------------------- renames (python, renameat2)
python3 - "$MNT" <<'PY' || fail "rename checks failed"
import ctypes, errno, os, sys
M = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
AT_FDCWD = -100
NOREPLACE, EXCHANGE = 1, 2
def renameat2(a, b, flags):
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), a)
def expect_errno(code, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        if e.errno != code:
            sys.exit(f"{fn.__name__}{args}: expected {errno.errorcode[code]}, got {errno.errorcode.get(e.errno)}")
        return
    sys.exit(f"{fn.__name__}{args}: expected {errno.errorcode[code]}, succeeded")
def write(p, s):
    with open(p, "w") as f: f.write(s)
def read(p):
    with open(p) as f: return f.read()
R = os.path.join(M, "ren")
os.mkdir(R); os.chdir(R)
# replace a file
write("a", "A"); write("b", "B")
ino_a = os.stat("a").st_ino
os.rename("a", "b")
assert not os.path.exists("a") and read("b") == "A" and os.stat("b").st_ino == ino_a, "replace file"
# replace an empty dir
os.makedirs("d1/x"); os.mkdir("d2")
os.rename("d1", "d2")
assert not os.path.exists("d1") and os.path.isdir("d2/x"), "replace empty dir"
# over a non-empty dir
os.makedirs("e1"); os.makedirs("e2/child")
expect_errno(errno.ENOTEMPTY, os.rename, "e1", "e2")
assert os.path.isdir("e1") and os.path.isdir("e2/child")
# file over dir, dir over file
write("f", "F")
expect_errno(errno.EISDIR, os.rename, "f", "e1")
expect_errno(errno.ENOTDIR, os.rename, "e1", "f")
# dir into its own subdirectory
expect_errno(errno.EINVAL, os.rename, "e2", "e2/child/inside")
# RENAME_NOREPLACE
write("n1", "N1"); write("n2", "N2")
expect_errno(errno.EEXIST, renameat2, "n1", "n2", NOREPLACE)
assert read("n1") == "N1" and read("n2") == "N2", "NOREPLACE left both"
renameat2("n1", "n3", NOREPLACE)
assert not os.path.exists("n1") and read("n3") == "N1", "NOREPLACE to a new name"
expect_errno(errno.ENOENT, renameat2, "nope", "n4", EXCHANGE)
# RENAME_EXCHANGE of a file and a dir in different parents
os.makedirs("p1"); os.makedirs("p2/xd/inner")
write("p1/xf", "file content")
n1, n2 = os.stat("p1").st_nlink, os.stat("p2").st_nlink
ino_f, ino_d = os.stat("p1/xf").st_ino, os.stat("p2/xd").st_ino
renameat2("p1/xf", "p2/xd", EXCHANGE)
assert os.path.isdir("p1/xf") and os.path.isdir("p1/xf/inner"), "exchange: dir now at p1/xf"
assert read("p2/xd") == "file content", "exchange: file now at p2/xd"
assert os.stat("p1/xf").st_ino == ino_d and os.stat("p2/xd").st_ino == ino_f, "exchange keeps inodes"
assert os.stat("p1").st_nlink == n1 + 1 and os.stat("p2").st_nlink == n2 - 1, \
    f"exchange parent nlink: p1 {n1}->{os.stat('p1').st_nlink}, p2 {n2}->{os.stat('p2').st_nlink}"
assert os.path.samestat(os.stat("p1/xf/.."), os.stat("p1")), "exchanged dir's .. is its new parent"
# exchange two files in the same dir
write("s1", "one"); write("s2", "two")
renameat2("s1", "s2", EXCHANGE)
assert read("s1") == "two" and read("s2") == "one", "exchange two files"
# directory with contents moved into another directory
os.makedirs("mv/src/a/b"); write("mv/src/a/b/leaf", "leaf"); os.makedirs("mv/dst")
nsrc, ndst = os.stat("mv").st_nlink, os.stat("mv/dst").st_nlink
os.rename("mv/src", "mv/dst/moved")
assert read("mv/dst/moved/a/b/leaf") == "leaf", "moved tree readable"
assert os.stat("mv").st_nlink == nsrc - 1 and os.stat("mv/dst").st_nlink == ndst + 1, "parent nlink after dir move"
assert os.path.samestat(os.stat("mv/dst/moved/.."), os.stat("mv/dst")), ".. of moved dir"
# rename onto another name of the same inode: no-op, both names remain
write("hl1", "same"); os.link("hl1", "hl2")
os.rename("hl1", "hl2")
assert os.path.exists("hl1") and os.path.exists("hl2") and os.stat("hl1").st_nlink == 2, "rename of hard link onto itself"
# rename to the same name
os.rename("f", "f"); assert read("f") == "F"
# rename of a file open for writing keeps the data
fd = os.open("openfile", os.O_CREAT | os.O_WRONLY, 0o644)
os.rename("openfile", "renamed-open")
os.write(fd, b"written after rename"); os.close(fd)
assert read("renamed-open") == "written after rename"
# a long chain of renames ending where it started
for i in range(50):
    os.rename("s1" if i == 0 else f"chain{i-1}", f"chain{i}")
os.rename("chain49", "s1"); assert read("s1") == "two"
PY
(cd "$MNT/ren" && find . -printf '%y %p %i %n %s\n' | sort) >"$T/ren.before"
ok "rename: replace file/empty dir, ENOTEMPTY, EISDIR, ENOTDIR, EINVAL, NOREPLACE, EXCHANGE, dir moves"

# ---------------------------------------------------------------- symlinks
ln -s h1/f "$MNT/sl-rel"
ln -s /etc/passwd "$MNT/sl-abs"
ln -s "no such target" "$MNT/sl-dangling"
long_target=$(printf 'x%.0s' $(seq 1 4000))
ln -s "$long_target" "$MNT/sl-long"
assert_eq "$(readlink "$MNT/sl-rel")" "h1/f" "readlink"
assert_eq "$(cat "$MNT/sl-rel" | head -n1)" "linked content" "read through a symlink"
assert_eq "$(stat -c %s "$MNT/sl-long")" 4000 "lstat size of a symlink"
assert_eq "$(readlink "$MNT/sl-long")" "$long_target" "4000-byte symlink target"
ok "symlinks and readlink"

# ---------------------------------------------------------------- chmod / chown
mkdir "$MNT/perm"
for m in 4755 2755 1777 0000 0644 0600 0751; do
	touch "$MNT/perm/m$m"
	chmod "$m" "$MNT/perm/m$m"
	assert_eq "$(stat -c %a "$MNT/perm/m$m" | sed 's/^/0000/; s/.*\(....\)$/\1/')" "$m" "chmod $m"
done
mkdir "$MNT/perm/sticky" && chmod 1777 "$MNT/perm/sticky"
touch "$MNT/perm/owned"
chown 1234:5678 "$MNT/perm/owned"
chown -h 4321:8765 "$MNT/sl-dangling"
assert_eq "$(stat -c '%u:%g' "$MNT/perm/owned")" "1234:5678" "chown"
ok "chmod (setuid, setgid, sticky, 0000) and chown"

# ---------------------------------------------------------------- times with nanoseconds
python3 - "$MNT" <<'PY' || fail "utimensat checks failed"
import os, sys
M = sys.argv[1]
os.mkdir(f"{M}/times")
open(f"{M}/times/f", "w").close()
os.symlink("f", f"{M}/times/l")
os.utime(f"{M}/times/f", ns=(1234567890123456789, 987654321987654321))
os.utime(f"{M}/times", ns=(1111111111000000001, 1222222222999999999))
os.utime(f"{M}/times/l", ns=(1333333333000000007, 1444444444000000008), follow_symlinks=False)
os.utime(f"{M}/perm/owned", ns=(0, 1))  # epoch
for p, a, m in [("times/f", 1234567890123456789, 987654321987654321),
                ("times", 1111111111000000001, 1222222222999999999),
                ("times/l", 1333333333000000007, 1444444444000000008),
                ("perm/owned", 0, 1)]:
    st = os.stat(f"{M}/{p}", follow_symlinks=False)
    assert (st.st_atime_ns, st.st_mtime_ns) == (a, m), f"{p}: {st.st_atime_ns} {st.st_mtime_ns}"
PY
ok "utimensat with nanoseconds on a file, a dir, a symlink"
stat -c '%n %X %x %Y %y' "$MNT/times/f" "$MNT/times" >"$T/times.before"
stat -c '%n %x %y' "$MNT/times/l" "$MNT/perm/owned" >>"$T/times.before"

# ---------------------------------------------------------------- special files
mkfifo "$MNT/fifo"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$MNT/sock" ||
	fail "binding a unix socket in the mount failed"
mknod "$MNT/chardev" c 1 3
mknod "$MNT/blockdev" b 7 200
assert_eq "$(stat -c %F "$MNT/fifo")" "fifo" "type of fifo"
assert_eq "$(stat -c %F "$MNT/sock")" "socket" "type of socket"
assert_eq "$(stat -c '%F %t:%T' "$MNT/chardev")" "character special file 1:3" "char device"
# a fifo on the mount carries data between processes
(echo "through the fifo" >"$MNT/fifo") &
assert_eq "$(cat "$MNT/fifo")" "through the fifo" "data through a fifo"
wait
ok "fifo, unix socket, device nodes"

# ---------------------------------------------------------------- xattrs
python3 - "$MNT" <<'PY' || fail "xattr checks failed"
import errno, os, sys
M = sys.argv[1]
f = f"{M}/xa"; open(f, "w").close(); os.mkdir(f"{M}/xadir")
os.setxattr(f, "user.one", b"1")
os.setxattr(f, "user.bin", bytes(range(256)))
os.setxattr(f, "user.empty", b"")
os.setxattr(f, "user.large", b"L" * 4000)
os.setxattr(f, "user.gone", b"bye")
os.setxattr(f"{M}/xadir", "user.d", b"on dir")
os.setxattr(f, "user.one", b"one")  # replace
os.removexattr(f, "user.gone")
def expect(code, fn, *a):
    try: fn(*a)
    except OSError as e:
        assert e.errno == code, f"{fn.__name__}{a[1:]}: errno {e.errno}, want {code}"
        return
    raise AssertionError(f"{fn.__name__}{a[1:]} succeeded, want errno {code}")
expect(errno.EEXIST, os.setxattr, f, "user.one", b"x", os.XATTR_CREATE)
expect(errno.ENODATA, os.setxattr, f, "user.missing", b"x", os.XATTR_REPLACE)
expect(errno.ENODATA, os.getxattr, f, "user.gone")
expect(errno.ENODATA, os.removexattr, f, "user.gone")
assert sorted(os.listxattr(f)) == ["user.bin", "user.empty", "user.large", "user.one"], os.listxattr(f)
assert os.getxattr(f, "user.one") == b"one"
assert os.getxattr(f, "user.bin") == bytes(range(256))
assert os.getxattr(f, "user.empty") == b""
assert os.getxattr(f, "user.large") == b"L" * 4000
PY
ok "xattrs: set, replace, remove, CREATE/REPLACE flags, ENODATA, list"

# ---------------------------------------------------------------- truncate, append, random I/O, mmap
python3 - "$MNT" "$T" <<'PY' || fail "truncate/append/random-write checks failed"
import mmap, os, random, sys
M, T = sys.argv[1], sys.argv[2]
p = f"{M}/trunc"
with open(p, "wb") as f: f.write(b"\xaa" * 10000)
os.truncate(p, 100000)                    # grow
d = open(p, "rb").read()
assert len(d) == 100000 and d[:10000] == b"\xaa" * 10000 and d[10000:] == bytes(90000), "grow reads zeros"
os.truncate(p, 5000)                      # shrink mid-block
os.truncate(p, 3 * 1024 * 1024)           # grow again: old bytes must not reappear
d = open(p, "rb").read()
assert d[:5000] == b"\xaa" * 5000 and d[5000:] == bytes(len(d) - 5000), "shrink then grow reads zeros"
os.truncate(p, 1024 * 1024 + 7)           # shrink across a chunk boundary
assert os.stat(p).st_size == 1024 * 1024 + 7
with open(p, "r+b") as f: f.truncate(1234)
assert os.stat(p).st_size == 1234
# ftruncate on an open fd with data written past it
fd = os.open(f"{M}/trunc2", os.O_CREAT | os.O_RDWR, 0o644)
os.pwrite(fd, b"Z" * 8192, 0); os.ftruncate(fd, 100); os.pwrite(fd, b"Y", 6000)
data = os.pread(fd, 10000, 0); os.close(fd)
assert data == b"Z" * 100 + bytes(5900) + b"Y", "ftruncate then write past end"
# O_APPEND from two descriptors
a = os.open(f"{M}/append", os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
b = os.open(f"{M}/append", os.O_WRONLY | os.O_APPEND)
for i in range(200):
    os.write(a if i % 2 == 0 else b, b"line %03d\n" % i)
os.lseek(a, 0, os.SEEK_SET); os.write(a, b"tail\n")   # O_APPEND ignores the seek
os.close(a); os.close(b)
assert open(f"{M}/append", "rb").read() == b"".join(b"line %03d\n" % i for i in range(200)) + b"tail\n", "O_APPEND"
# random overwrites (partial blocks, across block and chunk edges) against a reference
rnd = random.Random(42)
size = 3 * 1024 * 1024 + 333
ref = bytearray(os.urandom(size))
with open(f"{M}/random", "wb") as f: f.write(ref)
fd = os.open(f"{M}/random", os.O_RDWR)
for i in range(400):
    off = rnd.choice([rnd.randrange(size), rnd.randrange(4) * 1024 * 1024 - rnd.randrange(9),
                      rnd.randrange(800) * 4096 - rnd.randrange(3)])
    off = max(0, off)
    n = rnd.choice([1, 7, 4095, 4096, 4097, 10000, 70000])
    buf = os.urandom(n)
    os.pwrite(fd, buf, off)
    if off + n > len(ref): ref.extend(bytes(off + n - len(ref)))
    ref[off:off + n] = buf
    if i % 50 == 0:
        assert os.pread(fd, len(ref) + 10, 0) == bytes(ref), f"random writes: mismatch after {i}"
os.close(fd)
assert open(f"{M}/random", "rb").read() == bytes(ref), "random writes"
open(f"{T}/random.ref", "wb").write(ref)
# shared mmap writes
with open(f"{M}/mm", "wb") as f: f.write(bytes(3 * 4096 + 100))
with open(f"{M}/mm", "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[10:15] = b"hello"; m[4096 * 3 + 50:4096 * 3 + 55] = b"world"
    m.flush(); m.close()
d = open(f"{M}/mm", "rb").read()
assert d[10:15] == b"hello" and d[4096 * 3 + 50:4096 * 3 + 55] == b"world" and len(d) == 3 * 4096 + 100, "mmap"
PY
sha_trunc=$(sha256sum <"$MNT/trunc")
sha_mm=$(sha256sum <"$MNT/mm")
ok "truncate grow/shrink, O_APPEND, random overwrites vs reference, mmap writes"

# ---------------------------------------------------------------- statfs
df "$MNT" >"$T/df.out" || fail "df on the mount failed"
stat -f -c '%b %S' "$MNT" >/dev/null || fail "statfs failed"
[ "$(stat -f -c %b "$MNT")" -gt 0 ] || fail "statfs reports 0 blocks"
[ "$(stat -f -c %l "$MNT")" -ge 255 ] || fail "statfs max name length < 255"
ok "statfs: $(tail -n1 "$T/df.out" | awk '{print $2" blocks, "$4" avail"}')"

# ---------------------------------------------------------------- name lengths
python3 - "$MNT" <<'PY' || fail "name length checks failed"
import errno, os, sys
M = sys.argv[1]
n255, n256 = "n" * 255, "n" * 256
with open(f"{M}/{n255}", "w") as f: f.write("255")
os.mkdir(f"{M}/d" + "d" * 254)
os.symlink("t", f"{M}/s" + "s" * 254)
assert open(f"{M}/{n255}").read() == "255"
for fn in (lambda: open(f"{M}/{n256}", "w"), lambda: os.mkdir(f"{M}/{n256}"),
           lambda: os.symlink("t", f"{M}/{n256}"), lambda: os.rename(f"{M}/{n255}", f"{M}/{n256}"),
           lambda: os.stat(f"{M}/{n256}")):
    try:
        fn()
    except OSError as e:
        assert e.errno == errno.ENAMETOOLONG, f"256-byte name: errno {e.errno}"
    else:
        raise AssertionError("256-byte name accepted")
# multibyte: 85 three-byte characters = 255 bytes
u = "€" * 85
open(f"{M}/{u}", "w").close()
assert u in os.listdir(M)
PY
ok "255-byte names work, 256-byte names give ENAMETOOLONG"

# ---------------------------------------------------------------- a file past 4 GiB
head -c 1048576 /dev/urandom >"$T/chunk"
dd if="$T/chunk" of="$MNT/big" bs=1M seek=4608 conv=notrunc status=none || fail "write at 4.5 GiB failed"
assert_eq "$(stat -c %s "$MNT/big")" $((4609 * 1048576)) "size of the >4 GiB file"
cmp <(dd if="$MNT/big" bs=1M skip=4608 count=1 status=none) "$T/chunk" || fail "data at 4.5 GiB reads back wrong"
cmp <(dd if="$MNT/big" bs=1M skip=4095 count=2 status=none) <(head -c 2097152 /dev/zero) || fail "hole near 4 GiB not zeros"
ok "file past 4 GiB: write at 4.5 GiB reads back"

# ---------------------------------------------------------------- 100,000 entries
start=$(date +%s)
python3 - "$MNT/many" <<'PY' || fail "creating 100000 files failed"
import os, sys
d = sys.argv[1]; os.mkdir(d)
for i in range(100000):
    os.close(os.open(f"{d}/entry-{i:06d}", os.O_CREAT | os.O_WRONLY, 0o644))
PY
ok "100000 files created in $(($(date +%s) - start))s"
assert_eq "$(ls -f "$MNT/many" | grep -c '^entry-')" 100000 "readdir count"
rm "$MNT/many/entry-050000"
assert_eq "$(python3 -c 'import os,sys; print(len(os.listdir(sys.argv[1])))' "$MNT/many")" 99999 "count after unlink"

# ---------------------------------------------------------------- permissions as nobody
mkdir "$MNT/acc" "$MNT/acc/open" "$MNT/acc/closed" "$MNT/acc/sticky"
chmod 0755 "$MNT/acc" "$MNT/acc/closed"
chmod 0777 "$MNT/acc/open"
chmod 1777 "$MNT/acc/sticky"
echo secret >"$MNT/acc/private" && chmod 0600 "$MNT/acc/private"
echo public >"$MNT/acc/public" && chmod 0644 "$MNT/acc/public"
echo root >"$MNT/acc/sticky/rootfile" && chmod 0666 "$MNT/acc/sticky/rootfile"
chmod 0755 "$MNT"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
as_nobody cat "$MNT/acc/public" >/dev/null || fail "nobody cannot read a 0644 file"
assert_fails as_nobody sh -c "echo x >>'$MNT/acc/public'" 2>/dev/null
assert_fails as_nobody cat "$MNT/acc/private" 2>/dev/null
assert_fails as_nobody touch "$MNT/acc/closed/new" 2>/dev/null
assert_fails as_nobody rm -f "$MNT/acc/public" 2>/dev/null
assert_fails as_nobody rm -f "$MNT/acc/sticky/rootfile" 2>/dev/null
assert_fails as_nobody chmod 0777 "$MNT/acc/public" 2>/dev/null
assert_fails as_nobody chown 65534 "$MNT/acc/public" 2>/dev/null
as_nobody sh -c "echo mine >'$MNT/acc/open/byobody' && mkdir '$MNT/acc/open/dir' && echo w >>'$MNT/acc/sticky/rootfile'" ||
	fail "nobody cannot write in a 0777 dir or to a 0666 file"
assert_eq "$(stat -c '%u:%g' "$MNT/acc/open/byobody")" "65534:65534" "owner of a file nobody created"
as_nobody rm "$MNT/acc/open/byobody" || fail "nobody cannot delete its own file"
echo x >"$MNT/acc/open/rootowned"
as_nobody rm -f "$MNT/acc/open/rootowned" || fail "nobody cannot delete in a 0777 non-sticky dir"
assert_eq "$(cat "$MNT/acc/public")" "public" "0644 file unchanged by nobody"
ok "permission checks as nobody (read/write/exec bits, sticky dir, chmod/chown refused)"
# POSIX ACLs: an access ACL entry grants nobody what the mode bits deny; a default ACL is
# inherited by new files.
echo "acl" >"$MNT/acc/acl-file" && chmod 0600 "$MNT/acc/acl-file"
assert_fails as_nobody cat "$MNT/acc/acl-file" 2>/dev/null
setfacl -m u:65534:rw "$MNT/acc/acl-file" || fail "setfacl on the mount failed"
as_nobody sh -c "echo more >>'$MNT/acc/acl-file'" || fail "an ACL entry granting nobody rw is not honoured"
setfacl -x u:65534 "$MNT/acc/acl-file"
assert_fails as_nobody cat "$MNT/acc/acl-file" 2>/dev/null
mkdir "$MNT/acc/inherit" && setfacl -m d:u:65534:rwx "$MNT/acc/inherit"
echo new >"$MNT/acc/inherit/child"
getfacl -cpn "$MNT/acc/inherit/child" 2>/dev/null | grep -q '^user:65534:rw' ||
	fail "a new file did not inherit the default ACL: $(getfacl -cpn "$MNT/acc/inherit/child" 2>&1)"
as_nobody sh -c "echo w >>'$MNT/acc/inherit/child'" || fail "the inherited ACL is not honoured"
getfacl -cpn "$MNT/acc/inherit/child" >"$T/acl.before"
ok "POSIX ACLs: access entries honoured and removable, default ACL inherited"
# setuid/setgid must not survive a write by someone else, nor a chown.
echo x >"$MNT/acc/suid" && chmod 6777 "$MNT/acc/suid"
as_nobody sh -c "echo y >>'$MNT/acc/suid'" || fail "nobody cannot write a 6777 file"
assert_eq "$(stat -c %a "$MNT/acc/suid")" "777" "mode after a non-owner wrote to a 6777 file"
chmod 6777 "$MNT/acc/suid"
as_nobody truncate -s 0 "$MNT/acc/suid" || fail "nobody cannot truncate a 6777 file"
assert_eq "$(stat -c %a "$MNT/acc/suid")" "777" "mode after a non-owner truncated a 6777 file"
echo z >"$MNT/acc/suid2" && chmod 6755 "$MNT/acc/suid2"
chown 65534 "$MNT/acc/suid2"
assert_eq "$(stat -c '%a %u' "$MNT/acc/suid2")" "755 65534" "mode after chown of a 6755 file"
ok "setuid/setgid cleared by a non-owner's write or truncate and by chown"

# ---------------------------------------------------------------- locks
echo lock >"$MNT/lockfile"
flock "$MNT/lockfile" sh -c ': >"$1"; sleep 4' sh "$T/locked" &
lockpid=$!
for _ in $(seq 100); do [ -e "$T/locked" ] && break; sleep 0.1; done
[ -e "$T/locked" ] || fail "flock on $MNT/lockfile did not take the lock in 10 s"
assert_fails flock -n "$MNT/lockfile" true
flock -n -s "$MNT/h1/f" true || fail "flock on an unlocked file failed"
python3 - "$MNT/lockfile" <<'PY' || fail "fcntl lock checks failed"
import fcntl, os, sys, time
p = sys.argv[1]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    fd = os.open(p, os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)
    os.write(w, b"x"); time.sleep(3); os._exit(0)
os.read(r, 1)
fd = os.open(p, os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
except OSError:
    pass
else:
    sys.exit("fcntl lock on a range locked by another process succeeded")
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 20)  # a disjoint range is free
os.waitpid(pid, 0)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)   # free once the holder exited
PY
wait "$lockpid"
flock -n "$MNT/lockfile" true || fail "flock still held after the holder exited"
ok "flock and fcntl locks"

# ---------------------------------------------------------------- record, remount, compare
inode_list() { (cd "$MNT" && find . -path ./many -prune -o -printf '%p %i %n %y %m %U:%G %s\n' | sort); }
inode_list >"$T/inodes.before"
inode_many=$(stat -c %i "$MNT/many/entry-099999")
remount
inode_list >"$T/inodes.after"
diff -u "$T/inodes.before" "$T/inodes.after" >"$T/inodes.diff" ||
	fail "inode numbers/link counts/modes/owners/sizes changed across remount: $(head -n 20 "$T/inodes.diff")"
ok "$(wc -l <"$T/inodes.before") entries: same inode numbers, nlink, type, mode, owner, size after remount"

(cd "$MNT/ren" && find . -printf '%y %p %i %n %s\n' | sort) >"$T/ren.after"
diff -u "$T/ren.before" "$T/ren.after" >/dev/null || fail "rename results changed across remount"
assert_eq "$(cat "$MNT/ren/p2/xd")" "file content" "exchanged file after remount"
assert_eq "$(cat "$MNT/ren/mv/dst/moved/a/b/leaf")" "leaf" "moved tree after remount"
assert_eq "$(stat -c %h "$MNT/h1/f")" 3 "hard link count after remount"
assert_eq "$(stat -c %i "$MNT/h2/deeper/h")" "$(stat -c %i "$MNT/h1/f")" "hard link inode after remount"
ok "renames and hard links after remount"

assert_eq "$(readlink "$MNT/sl-long")" "$long_target" "long symlink after remount"
assert_eq "$(readlink "$MNT/sl-dangling")" "no such target" "dangling symlink after remount"
assert_eq "$(stat -c '%u:%g' "$MNT/sl-dangling")" "4321:8765" "symlink owner after remount"
assert_eq "$(stat -c '%a %u:%g' "$MNT/perm/m4755")" "4755 0:0" "setuid mode after remount"
assert_eq "$(stat -c '%a' "$MNT/perm/sticky")" "1777" "sticky dir after remount"
getfacl -cpn "$MNT/acc/inherit/child" | diff - "$T/acl.before" >/dev/null || fail "ACL changed across remount"
as_nobody sh -c "echo w >>'$MNT/acc/inherit/child'" || fail "the inherited ACL is not honoured after remount"
ok "symlinks, modes, owners and ACLs after remount"

stat -c '%n %X %x %Y %y' "$MNT/times/f" "$MNT/times" >"$T/times.after"
stat -c '%n %x %y' "$MNT/times/l" "$MNT/perm/owned" >>"$T/times.after"
diff -u "$T/times.before" "$T/times.after" >"$T/times.diff" || fail "times changed across remount: $(cat "$T/times.diff")"
ok "nanosecond atime/mtime after remount"

assert_eq "$(stat -c %F "$MNT/fifo")" "fifo" "fifo after remount"
assert_eq "$(stat -c %F "$MNT/sock")" "socket" "socket after remount"
assert_eq "$(stat -c '%F %t:%T' "$MNT/chardev")" "character special file 1:3" "char device after remount"
assert_eq "$(stat -c '%F %t:%T' "$MNT/blockdev")" "block special file 7:c8" "block device after remount"
ok "fifo, socket, device nodes after remount"

python3 - "$MNT" <<'PY' || fail "xattrs changed across remount"
import os, sys
M = sys.argv[1]; f = f"{M}/xa"
assert sorted(os.listxattr(f)) == ["user.bin", "user.empty", "user.large", "user.one"], os.listxattr(f)
assert os.getxattr(f, "user.one") == b"one" and os.getxattr(f, "user.bin") == bytes(range(256))
assert os.getxattr(f, "user.empty") == b"" and os.getxattr(f, "user.large") == b"L" * 4000
assert os.getxattr(f"{M}/xadir", "user.d") == b"on dir"
PY
ok "xattrs after remount"

assert_eq "$(sha256sum <"$MNT/trunc")" "$sha_trunc" "truncated file after remount"
assert_eq "$(sha256sum <"$MNT/mm")" "$sha_mm" "mmap-written file after remount"
cmp "$MNT/random" "$T/random.ref" || fail "randomly overwritten file differs after remount"
[ "$(wc -l <"$MNT/append")" = 201 ] || fail "O_APPEND file after remount"
ok "file contents after remount"

assert_eq "$(stat -c %s "$MNT/big")" $((4609 * 1048576)) "size of the >4 GiB file after remount"
cmp <(dd if="$MNT/big" bs=1M skip=4608 count=1 status=none) "$T/chunk" || fail "data at 4.5 GiB wrong after remount"
ok ">4 GiB file after remount"

assert_eq "$(ls -f "$MNT/many" | grep -c '^entry-')" 99999 "readdir count after remount"
[ ! -e "$MNT/many/entry-050000" ] || fail "unlinked entry came back"
[ -e "$MNT/many/entry-077777" ] || fail "entry-077777 missing after remount"
assert_eq "$(stat -c %i "$MNT/many/entry-099999")" "$inode_many" "inode of entry 99999 after remount"
ok "99999 directory entries after remount"

coffer_umount
coffer_fsck
ok "coffer fsck clean"
