#!/usr/bin/env bash
# bench/lib.sh: what the local data-path benchmarks (bench/run.sh, bench/datapath_ab.sh) share,
# sourced once they have set T (their temp dir) and OUT (build/bench) and defined die: the mounts
# under T, stopping a daemon they started, dropping the page cache, libfuse's passthrough_ll (the
# reference) built from the shipped example, the inputs (a random file and a tar of /usr/include
# in a private tmpfs, a passphrase file), timing, and the workloads both run.
# Request counting: the kernel's fuse:fuse_request_send tracepoint in a private tracefs instance
# (trace_open / trace_close), filtered on one mount's connection.
# Must never touch anything outside $T and $OUT (but the global page cache it drops, and its own
# tracefs instance), nor stop a process it was not given.

mounts_under() { # mount points under $1, deepest first (\040 etc. stay escaped: our paths have none)
	awk -v p="$1/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r
}
is_mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }

stop_pid() { # stop_pid PID: waits 1 s for it to exit, then TERM, then KILL after 5 s in all
	local i
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		[ "$i" -eq 10 ] && kill "$1" 2>/dev/null
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && kill -9 "$1" 2>/dev/null
	return 0
}

fail_logs() { # fail_logs LOG MESSAGE: die with the last lines of LOG
	local f=$1
	shift
	[ -s "$f" ] && {
		echo "--- last lines of $f:" >&2
		tail -n 20 "$f" >&2
	}
	die "$*"
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# build_passthrough_ll BIN: libfuse's passthrough_ll example (from libfuse3-dev) into $OUT, built
# as BIN.
build_passthrough_ll() {
	local ex=/usr/share/doc/libfuse3-dev/examples f
	for f in passthrough_ll.c passthrough_helpers.h; do
		if [ -f "$ex/$f" ]; then
			cp "$ex/$f" "$OUT/"
		elif [ -f "$ex/$f.gz" ]; then
			gzip -dc "$ex/$f.gz" >"$OUT/$f"
		fi
	done
	[ -f "$OUT/passthrough_ll.c" ] ||
		die "libfuse's passthrough_ll example source is not shipped here ($ex/passthrough_ll.c[.gz] missing; install libfuse3-dev) -- no reference, no benchmark"
	# shellcheck disable=SC2046
	gcc -Wall -O2 "$OUT/passthrough_ll.c" $(pkg-config fuse3 --cflags --libs) -o "$1" ||
		die "building passthrough_ll failed (gcc + pkg-config fuse3)"
}

# make_inputs NAME MIB: a tmpfs NAME on $T/src holding rand (MIB MiB of random bytes) and
# include.tar (/usr/include); sets TAR_FILES (its regular files), TAR_MB and PASS (a passphrase
# file of mode 600).
make_inputs() {
	mkdir -p "$T/src" "$T/logs"
	mount -t tmpfs -o "size=$(($2 + 512))m,mode=700" "$1" "$T/src"
	head -c $(($2 * 1048576)) /dev/urandom >"$T/src/rand"
	tar cf "$T/src/include.tar" -C /usr include 2>"$T/logs/tar-c.log" ||
		fail_logs "$T/logs/tar-c.log" "tar of /usr/include failed"
	TAR_FILES=$(tar tvf "$T/src/include.tar" | grep -c '^-')
	TAR_MB=$(($(stat -c %s "$T/src/include.tar") / 1048576))
	PASS=$T/pass
	printf 'bench passphrase %s\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$PASS"
	chmod 600 "$PASS"
}

# timed VAR CMD...: runs CMD, stores its wall time in seconds in VAR; returns CMD's status.
timed() {
	local __v=$1 __t0 __t1 __rc=0
	shift
	__t0=$EPOCHREALTIME
	"$@" || __rc=$?
	__t1=$EPOCHREALTIME
	printf -v "$__v" '%s' "$(awk -v a="$__t0" -v b="$__t1" 'BEGIN { printf "%.3f", b - a }')"
	return "$__rc"
}
mbps() { awk -v mb="$1" -v s="$2" 'BEGIN { printf "%.1f", mb * 1048576 / 1e6 / s }'; } # decimal MB/s

# fio_run RW MNT: fio 4 KiB psync RW (randwrite, randread) over MNT/fio.dat, FIO_MB MiB, at most
# FIO_RT seconds; prints fio's IOPS (which include the end_fsync of writes).
fio_run() {
	local rw=$1 m=$2 out field
	out=$(cd "$T" && fio --name="$rw" --filename="$m/fio.dat" --rw="$rw" --bs=4k --size="${FIO_MB}m" \
		--ioengine=psync --direct=0 --end_fsync=1 --fallocate=none --randrepeat=1 \
		--runtime="$FIO_RT" --minimal 2>"$T/logs/fio.err") || fail_logs "$T/logs/fio.err" "fio $rw on $m failed"
	[ "$(cut -d';' -f5 <<<"$out")" = 0 ] || die "fio $rw on $m reports error $(cut -d';' -f5 <<<"$out")"
	if [ "$rw" = randread ]; then field=8; else field=49; fi
	cut -d';' -f"$field" <<<"$out"
}

untar() { tar xf "$T/src/include.tar" -C "$1" && sync -f "$1"; }
statwalk() { (cd "$1" && find . -type f -print0 | xargs -0 stat >/dev/null); }
rmtree() { rm -rf "$1/include" && sync -f "$1"; }

# ---- FUSE request counts ----
TRACE_EV=events/fuse/fuse_request_send
trace_open() { # makes the tracefs instance $TRACE; trace_close removes it
	local tr=/sys/kernel/tracing
	[ -d "$tr/events" ] || mount -t tracefs nodev "$tr" || die "no tracefs at $tr"
	[ -d "$tr/$TRACE_EV" ] || die "this kernel has no fuse:fuse_request_send tracepoint"
	TRACE=$tr/instances/coffer-bench-$$
	mkdir "$TRACE" || die "cannot make the tracefs instance $TRACE"
	echo 16384 >"$TRACE/buffer_size_kb"
}
trace_close() {
	[ -n "${TRACE:-}" ] || return 0
	echo 0 >"$TRACE/$TRACE_EV/enable" 2>/dev/null
	rmdir "$TRACE" 2>/dev/null
	TRACE=
}
# traced MNT OUTFILE CMD...: runs CMD while the requests to MNT's FUSE connection are traced,
# then writes "COUNT OPCODE" lines (FUSE_ prefix dropped) of what it sent to OUTFILE.
traced() {
	local m=$1 out=$2 rc=0
	shift 2
	echo "connection == $(mountpoint -d "$m" | cut -d: -f2)" >"$TRACE/$TRACE_EV/filter"
	echo 0 >"$TRACE/tracing_on"
	: >"$TRACE/trace"
	echo 1 >"$TRACE/$TRACE_EV/enable"
	echo 1 >"$TRACE/tracing_on"
	"$@" || rc=$?
	echo 0 >"$TRACE/$TRACE_EV/enable"
	grep -o '(FUSE_[A-Z_]*)' "$TRACE/trace" | sed 's/(FUSE_//; s/)//' | sort | uniq -c >"$out"
	grep -q 'overrun: [1-9]' "$TRACE"/per_cpu/cpu*/stats && die "the trace lost events (overrun)"
	return "$rc"
}
