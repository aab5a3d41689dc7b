#!/usr/bin/env bash
# fork_remote_lib.sh: the lost update (a merge) and the operator fork of issue 10 on a remote
# vault, for t_fork_s3.sh, t_fork_webdav.sh and t_fork_sftp.sh, sourced after lib.sh,
# sync_lib.sh and remote_lib.sh once the server runs. The caller sets VAULT (the vault URL),
# DOWN (the same vault behind a closed port: unreachable), and defines root_get FILE / root_put
# FILE, which copy the vault's root key byte for byte around coffer, as the operator can, and
# history_count (how many keys the vault holds under history/).
#  1. Lost update: A commits a.txt and an edit of shared.txt while the vault is unreachable; B
#     publishes b.txt and its own edit; A, back online, merges: both files, B's shared.txt and
#     A's as a conflict copy; B then sees all of it.
#  2. Fork: A and B saw root P; B publishes X.txt; the operator shows A P again and A publishes
#     over it; B refuses A's branch ("fork detected") with its cache untouched, and A refuses B's.
#  3. C, away for 17 publishes (more than a root's tail of 15), proves descent through a history
#     segment that the backend stored under history/.

CA=$T/cache-a MA=$T/mnt-a CB=$T/cache-b MB=$T/mnt-b

# refused_mount CACHE MNT WORD: the mount must fail saying "WORD detected", its root unchanged.
refused_mount() {
	local cache=$1 mnt=$2 word=$3 before
	before=$(sha256sum <"$cache/root")
	if try_mount_at "$cache" "$mnt"; then
		fail "$cache mounted a vault root it must refuse ($word): $(cat "$T/mount.out")"
	fi
	is_mounted "$mnt" && fail "the refused mount left $mnt mounted"
	assert_contains "$(cat "$T/mount.out")" "$word detected" "refusal message of $cache"
	assert_eq "$(sha256sum <"$cache/root")" "$before" "the refused mount changed $cache/root"
}

fork_remote_main() {
	remote_init
	mount_at "$CA" "$MA"
	echo "base" >"$MA/shared.txt"
	umount_at "$CA" "$MA"
	mount_at "$CB" "$MB"
	assert_eq "$(cat "$MB/shared.txt")" "base" "B adopts the first generation"
	umount_at "$CB" "$MB"

	local up=$VAULT
	VAULT=$DOWN
	edit_unreachable "$CA" "$MA"
	VAULT=$up
	ok "A committed a.txt and an edit of shared.txt while the vault was unreachable"
	mount_at "$CB" "$MB"
	echo "B's b" >"$MB/b.txt"
	echo "B's shared" >"$MB/shared.txt"
	umount_at "$CB" "$MB"
	mount_at "$CA" "$MA"
	local m copy
	for m in "$MA" "$MB"; do
		[ "$m" = "$MB" ] && mount_at "$CB" "$MB"
		assert_eq "$(cat "$m/a.txt")" "A's a" "$m/a.txt"
		assert_eq "$(cat "$m/b.txt")" "B's b" "$m/b.txt"
		assert_eq "$(cat "$m/shared.txt")" "B's shared" "$m/shared.txt"
		copy=$(cd "$m" && ls | grep '^shared\.txt (conflict .*)$') ||
			fail "$m holds no conflict copy of shared.txt: $(ls "$m")"
		assert_eq "$(cat "$m/$copy")" "A's shared" "$m/$copy"
		[ "$m" = "$MA" ] && wait_synced "$MA" && umount_at "$CA" "$MA"
	done
	umount_at "$CB" "$MB"
	ok "the lost update is a merge: a.txt, b.txt, B's shared.txt and A's conflict copy on both devices"

	# 2. the operator's fork (B's cache has seen the merged root P)
	root_get "$T/root.P"
	mount_at "$CB" "$MB"
	echo "B's X" >"$MB/X.txt"
	umount_at "$CB" "$MB"
	root_get "$T/root.X"
	root_put "$T/root.P"
	mount_at "$CA" "$MA"
	[ -e "$MA/X.txt" ] && fail "A sees X.txt in root P"
	echo "A's f" >"$MA/f.txt"
	commit_now "$MA"
	echo "A's f, again" >"$MA/f.txt"
	umount_at "$CA" "$MA"
	root_get "$T/root.F"
	refused_mount "$CB" "$MB" fork
	ok "B refuses A's branch: $(cat "$T/mount.out")"
	root_put "$T/root.X"
	refused_mount "$CA" "$MA" rollback
	ok "A refuses B's branch: $(cat "$T/mount.out")"

	# 3. (the operator shows A's branch again)
	local CC=$T/cache-c MC=$T/mnt-c k
	root_put "$T/root.F"
	mount_at "$CC" "$MC" && umount_at "$CC" "$MC"
	mount_at "$CA" "$MA"
	for k in $(seq 17); do
		echo "A $k" >"$MA/n$k.txt"
		wait_synced "$MA"
	done
	umount_at "$CA" "$MA"
	[ "$(history_count)" -ge 1 ] || fail "17 publishes stored no history segment"
	mount_at "$CC" "$MC"
	assert_eq "$(cat "$MC/n17.txt")" "A 17" "C, away for 17 publishes, adopts the newest"
	umount_at "$CC" "$MC"
	ok "C, away for 17 publishes, proved descent through $(history_count) history segment(s)"
}
