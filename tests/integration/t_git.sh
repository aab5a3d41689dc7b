#!/usr/bin/env bash
# t_git: git works inside the mount: init, several commits (adds, edits, renames, deletes,
# a binary file, a branch and merge, gc into a pack), `git fsck --full` clean; after
# umount + remount `git fsck --full` is still clean, `git log` shows every commit, the
# work tree is clean and a fresh `git clone` of it matches.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME=$T
git config --global init.defaultBranch main
git config --global safe.directory '*'

coffer_init
coffer_mount
R=$MNT/repo
git init -q "$R" || fail "git init in the mount failed"
cd "$R"
for i in $(seq 1 8); do
	seq 1 $((i * 1000)) >"file$i.txt"
	mkdir -p "dir$i/sub"
	echo "commit $i" >"dir$i/sub/note"
	git add -A
	git commit -q -m "commit $i" || fail "git commit $i failed"
done
head -c 3000000 /dev/urandom >blob.bin
git mv file1.txt renamed.txt
git rm -q file2.txt
sed -i 's/^5$/five/' file3.txt
git add -A
git commit -q -m "binary, rename, delete, edit" || fail "commit 9 failed"
git checkout -q -b side
echo side >side.txt
git add side.txt
git commit -q -m "side branch"
git checkout -q main
echo main >main.txt
git add main.txt
git commit -q -m "main branch"
git merge -q --no-edit side || fail "git merge failed"
git gc -q || fail "git gc failed"
git fsck --full --strict >"$T/fsck.out" 2>&1 || fail "git fsck failed in the mount: $(cat "$T/fsck.out")"
head_before=$(git rev-parse HEAD)
log_before=$(git log --format='%H %s' --all)
tree_before=$(git ls-files -s | sha256sum)
ncommits=$(git rev-list --all | wc -l)
assert_eq "$ncommits" 12 "number of commits"
ok "12 commits, gc, git fsck clean while mounted"
cd /

remount
cd "$R"
git fsck --full --strict >"$T/fsck.out" 2>&1 || fail "git fsck failed after remount: $(cat "$T/fsck.out")"
ok "git fsck --full clean after remount"
assert_eq "$(git rev-parse HEAD)" "$head_before" "HEAD after remount"
assert_eq "$(git log --format='%H %s' --all)" "$log_before" "git log after remount"
assert_eq "$(git ls-files -s | sha256sum)" "$tree_before" "index after remount"
git log --oneline | grep -q "commit 1$" || fail "git log misses the first commit"
ok "git log complete after remount"
[ -z "$(git status --porcelain)" ] || fail "work tree not clean after remount: $(git status --porcelain | head)"
ok "git status clean after remount"
cd /
git clone -q "$R" "$T/clone" || fail "git clone out of the mount failed"
diff -r --exclude=.git "$R" "$T/clone" >/dev/null || fail "clone differs from the work tree"
ok "git clone out of the mount matches the work tree"
git clone -q "$T/clone" "$MNT/clone2" || fail "git clone into the mount failed"
(cd "$MNT/clone2" && git fsck --full >/dev/null 2>&1) || fail "git fsck of the clone in the mount failed"
ok "git clone into the mount, fsck clean"
coffer_umount
coffer_fsck >/dev/null
ok "coffer fsck clean"
