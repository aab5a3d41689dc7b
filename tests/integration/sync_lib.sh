#!/usr/bin/env bash
# sync_lib.sh: helpers for the t_sync_*.sh tests (and bench/sync_cost.sh), sourced after lib.sh.
# Mounts with any cache/mount point, reads `coffer status --json`, waits until the vault holds
# the newest local generation, and inspects the vault folder.

command -v jq >/dev/null || fail "jq is needed by the sync tests (apt-get install jq)"

# mount_at CACHE MNT [extra mount args]: like coffer_mount, with another cache and mount point.
# Log lines go to $LOG. Fails the test if the mount fails.
mount_at() {
	local cache=$1 mnt=$2
	shift 2
	mkdir -p "$mnt"
	_COFFER_MOUNTS+=("$mnt")
	"$COFFER" mount --passfile "$PASSFILE" --cache "$cache" -o "logfile=$LOG" "$@" "$VAULT" "$mnt" ||
		fail "coffer mount --cache $cache $* $VAULT $mnt failed"
	is_mounted "$mnt" || fail "coffer mount returned but $mnt is not in /proc/mounts"
	stat "$mnt" >/dev/null || fail "the mount $mnt is not usable"
	case " $* " in
	*" --snapshot "*) ;; # a snapshot mount does not sync and keeps no status
	*) wait_status "$mnt" ;;
	esac
}

# wait_status [MNT]: waits (up to 10 s) until `coffer status` answers for MNT with the status of
# the daemon now serving it (its pid is alive and serves MNT). Right after a mount returns the
# daemon may not have written its first status yet, and the cache may still hold the status
# file of the previous (unmounted or killed) daemon (t_sync_rollback checks the fresh-cache
# case; the other tests only need the status eventually).
wait_status() {
	local s pid mnt=${1:-$MNT}
	for _ in $(seq 100); do
		if s=$("$COFFER" status --json "$mnt" 2>/dev/null) &&
			pid=$(jq -r .pid <<<"$s" 2>/dev/null) && [ -n "$pid" ] && [ "$pid" != null ] &&
			tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- " $mnt "; then
			return 0
		fi
		sleep 0.1
	done
	fail "coffer status $mnt gives no status of the running daemon 10 s after the mount: $("$COFFER" status --json "$mnt" 2>&1)"
}

# try_mount_at CACHE MNT [extra mount args]: mounts, returns coffer's exit status; its stderr
# (and stdout) are left in $T/mount.out.
try_mount_at() {
	local cache=$1 mnt=$2 rc=0
	shift 2
	mkdir -p "$mnt"
	_COFFER_MOUNTS+=("$mnt")
	"$COFFER" mount --passfile "$PASSFILE" --cache "$cache" -o "logfile=$LOG" "$@" "$VAULT" "$mnt" \
		>"$T/mount.out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || [ -n "${NO_WAIT_STATUS:-}" ] || wait_status "$mnt"
	return "$rc"
}

# umount_at CACHE MNT [umount args]: coffer umount, then checks the mount and daemon are gone.
umount_at() {
	local cache=$1 mnt=$2
	shift 2
	"$COFFER" umount "$@" "$mnt" || fail "coffer umount $* $mnt failed"
	is_mounted "$mnt" && fail "coffer umount returned 0 but $mnt is still mounted"
	wait_daemon_exit "$cache"
}

# sj [MNT]: the daemon's status JSON.
sj() { "$COFFER" status --json "${1:-$MNT}"; }

# sfield FIELD [MNT]: one field of the status JSON (raw).
sfield() { sj "${2:-$MNT}" | jq -r ".$1"; }

# commit_now [MNT]: fsync of the mount's root directory (fsyncdir), which makes a commit.
commit_now() { sync "${1:-$MNT}" || fail "fsync of ${1:-$MNT} failed"; }

# edit_unreachable CACHE MNT: the offline half of the lost update (issue 10): mounts CACHE on
# MNT while $VAULT is unreachable (the caller made it so), commits a new a.txt and an edit of
# shared.txt, and unmounts (nothing could upload).
edit_unreachable() {
	mount_at "$1" "$2" -o drain_timeout=1
	echo "A's a" >"$2/a.txt"
	commit_now "$2"
	echo "A's shared" >"$2/shared.txt"
	commit_now "$2"
	"$COFFER" umount "$2" >/dev/null 2>&1 || true # nothing could upload
	is_mounted "$2" && fail "coffer umount left $2 mounted"
	wait_daemon_exit "$1"
}

# synced_now [MNT]: true when status says idle, nothing waiting, vault generation == local.
synced_now() {
	local s
	s=$(sj "${1:-$MNT}") || return 1
	jq -e '.state == "idle" and .objects_waiting == 0 and .bytes_waiting == 0 and
		.local_generation == .remote_generation' >/dev/null <<<"$s"
}

# wait_synced [MNT] [TIMEOUT]: commits, then waits until the vault holds the newest local
# generation. The status is refreshed about once a second, so the condition must hold on two
# reads at least 1.2 s apart (a stale "idle" right after a commit does not count). Fails after
# TIMEOUT seconds (default 90).
wait_synced() {
	local mnt=${1:-$MNT} limit=${2:-90} start now first=""
	commit_now "$mnt"
	start=$(date +%s)
	while :; do
		now=$(date +%s.%N)
		if synced_now "$mnt"; then
			if [ -z "$first" ]; then
				first=$now
			elif awk -v a="$first" -v b="$now" 'BEGIN { exit !(b - a >= 1.2) }'; then
				return 0
			fi
		else
			first=""
		fi
		if [ $(($(date +%s) - start)) -gt "$limit" ]; then
			fail "the vault did not catch up within ${limit}s: $(sj "$mnt")"
		fi
		sleep 0.3
	done
}

# vault_gen [VAULT]: the newest generation in VAULT/roots (as a plain number), 0 if none.
vault_gen() {
	local g
	g=$(ls "${1:-$VAULT}/roots" 2>/dev/null | sort | tail -n 1)
	[ -n "$g" ] || {
		echo 0
		return
	}
	echo $((10#$g))
}

# vault_objects [VAULT]: sorted names of the vault's objects.
vault_objects() { (cd "${1:-$VAULT}/objects" && ls | sort); }

# last_unmount_gen: the generation of the last "unmounted ... at generation G" line in $LOG.
last_unmount_gen() {
	sed -n 's/.*coffer: unmounted .* at generation \([0-9][0-9]*\).*/\1/p' "$LOG" | tail -n 1
}

# sums DIR: sha256 of every regular file under DIR, by relative path.
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }

# drop_caches: so that reads go to the filesystem again (root only).
drop_caches() { sync -f "$T" 2>/dev/null || true; echo 3 >/proc/sys/vm/drop_caches; }

# coffer_mount (from lib.sh) also waits here until the new daemon's status is there, so that
# `coffer status` right after it describes this mount (see wait_status).
eval "$(declare -f coffer_mount | sed '1s/^coffer_mount/_lib_coffer_mount/')"
coffer_mount() {
	_lib_coffer_mount "$@"
	wait_status "$MNT"
}
