/* Proves: the inode table finds every inode by number through inserts and removals in scattered
 * pages, refuses a number twice, visits inodes in increasing number and frees what it holds;
 * the data locks are striped by inode number (ino and ino + IO_STRIPES share one, neighbours
 * do not), so two files' data ops do not wait on each other unless their stripes collide. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <stdlib.h>
#include "fs/fs.h"

struct seen {
	uint64_t last, n;
	bool ordered;
};

static void visit(void *inode, void *arg)
{
	struct seen *s = arg;
	const struct inode *i = inode;
	s->ordered = s->ordered && (s->n == 0 || i->ino > s->last);
	s->last = i->ino;
	s->n++;
}

static void table(void)
{
	enum { N = 5000 };
	struct fs fs = {.inodes = inode_table_new()};
	CHECK(fs.inodes != NULL);
	uint64_t x = 0x9e3779b97f4a7c15ull, ino[N];
	for (size_t k = 0; k < N; k++) { /* a few dense pages, many sparse ones, one far away */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		ino[k] = k < N / 2 ? k + 1 : k == N - 1 ? 64u * 1000000 + 63 : N + x % 200000;
		struct inode *i = inode_new(ino[k], S_IFREG | 0644);
		int err = inode_insert(&fs, i);
		if (err == -EEXIST) /* a random number drawn twice */
			inode_free(i), ino[k] = 0;
		else
			CHECK(err == 0);
	}
	size_t live = 0, bad = 0;
	for (size_t k = 0; k < N; k++)
		if (ino[k]) {
			live++;
			struct inode *i = inode_get(&fs, ino[k]);
			bad += !i || i->ino != ino[k];
		}
	CHECK(bad == 0 && inode_count(&fs) == live);
	struct inode *twice = inode_new(1, S_IFREG);
	CHECK(inode_insert(&fs, twice) == -EEXIST);
	inode_free(twice);
	CHECK(inode_get(&fs, 0) == NULL && inode_get(&fs, 64u * 2000000) == NULL);
	for (size_t k = 0; k < N; k += 2) /* removal empties whole pages too */
		if (ino[k]) {
			struct inode *i = inode_remove(&fs, ino[k]);
			bad += !i || i->ino != ino[k];
			inode_free(i);
			live--;
			bad += inode_get(&fs, ino[k]) != NULL || inode_remove(&fs, ino[k]) != NULL;
			ino[k] = 0;
		}
	for (size_t k = 0; k < N; k++)
		bad += ino[k] && (!inode_get(&fs, ino[k]) || inode_get(&fs, ino[k])->ino != ino[k]);
	CHECK(bad == 0 && inode_count(&fs) == live);
	struct seen s = {.ordered = true};
	inode_each(fs.inodes, visit, &s);
	CHECK(s.n == live && s.ordered);
	inode_table_free(fs.inodes); /* the rest: ASan's leak check proves they are freed */
}

static void stripes(void)
{
	struct fs *fs = calloc(1, sizeof(*fs));
	inode_io_init(fs);
	CHECK(inode_io(fs, 5) == inode_io(fs, 5 + IO_STRIPES));
	CHECK(inode_io(fs, 5) != inode_io(fs, 6));
	CHECK(pthread_rwlock_wrlock(inode_io(fs, 5)) == 0);
	CHECK(pthread_rwlock_trywrlock(inode_io(fs, 6)) == 0); /* a neighbour does not wait */
	CHECK(pthread_rwlock_unlock(inode_io(fs, 6)) == 0);
	CHECK(pthread_rwlock_tryrdlock(inode_io(fs, 5 + IO_STRIPES)) == EBUSY);
	CHECK(pthread_rwlock_unlock(inode_io(fs, 5)) == 0);
	inode_io_destroy(fs);
	free(fs);
}

int main(void)
{
	unit_setup();
	table();
	stripes();
	return unit_finish("test_inode");
}
