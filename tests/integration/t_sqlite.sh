#!/usr/bin/env bash
# t_sqlite: SQLite's durability pattern (journal files created, fsync'ed, deleted, the db
# fsync'ed on every transaction) works on the mount: 3000 single-row INSERT transactions in
# the default rollback-journal mode, plus updates/deletes and 1000 transactions in WAL mode;
# after umount + remount `PRAGMA integrity_check` is ok, row counts and sums are right, and
# coffer fsck is clean.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

N=${SQLITE_TX:-3000} # single-row transactions (about 30 ms each on the mount today)
coffer_init
coffer_mount
DB=$MNT/db/test.sqlite
mkdir -p "$MNT/db"
sqlite3 "$DB" 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER);' ||
	fail "create table failed"
start=$(date +%s)
{
	for i in $(seq 1 $N); do
		echo "INSERT INTO t (v, n) VALUES ('row $i $(printf '%0100d' "$i")', $i);"
	done
} | sqlite3 "$DB" || fail "the $N INSERT transactions failed"
ok "$N single-row transactions in $(($(date +%s) - start))s"
sqlite3 "$DB" "UPDATE t SET n = n * 2 WHERE id % 3 = 0; DELETE FROM t WHERE id % 10 = 0; CREATE INDEX t_n ON t(n);" ||
	fail "update/delete failed"
expected_count=$(( N - N / 10 ))
expected_sum=$(sqlite3 "$DB" 'SELECT sum(n) FROM t;')
python3 - "$N" <<'PY' >"$T/expected_sum"
import sys
n = int(sys.argv[1])
print(sum((i * 2 if i % 3 == 0 else i) for i in range(1, n + 1) if i % 10 != 0))
PY
assert_eq "$expected_sum" "$(cat "$T/expected_sum")" "sum(n) while mounted"
[ ! -e "$DB-journal" ] || fail "a rollback journal was left behind"

WDB=$MNT/db/wal.sqlite
sqlite3 "$WDB" 'PRAGMA journal_mode=WAL; CREATE TABLE w (id INTEGER PRIMARY KEY, v BLOB);' >/dev/null
{
	for i in $(seq 1 1000); do echo "INSERT INTO w (v) VALUES (randomblob(500));"; done
} | sqlite3 "$WDB" || fail "WAL transactions failed"
ok "1000 WAL transactions"

remount
assert_eq "$(sqlite3 "$DB" 'PRAGMA integrity_check;')" "ok" "integrity_check after remount"
assert_eq "$(sqlite3 "$DB" 'SELECT count(*) FROM t;')" "$expected_count" "row count after remount"
assert_eq "$(sqlite3 "$DB" 'SELECT sum(n) FROM t;')" "$expected_sum" "sum(n) after remount"
probe=$((N - 1)) # a late row that was not deleted
[ $((probe % 10)) -ne 0 ] || probe=$((N - 2))
assert_eq "$(sqlite3 "$DB" "SELECT v FROM t WHERE id = $probe;")" "row $probe $(printf '%0100d' "$probe")" "row $probe"
ok "rollback-journal db: integrity ok, $expected_count rows, sums right after remount"
assert_eq "$(sqlite3 "$WDB" 'PRAGMA integrity_check;')" "ok" "WAL db integrity_check after remount"
assert_eq "$(sqlite3 "$WDB" 'SELECT count(*), sum(length(v)) FROM w;')" "1000|500000" "WAL db rows"
ok "WAL db: integrity ok, 1000 rows after remount"
coffer_umount
coffer_fsck >/dev/null
ok "coffer fsck clean"
