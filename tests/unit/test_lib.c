/* Proves: the hash table keeps every key through growth and deletion; the buffer writer and
 * reader round-trip integers and the reader refuses to run past the end. */
#include "tests/unit/unit.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include "lib/array.h"
#include "lib/buf.h"
#include "lib/htab.h"
#include "lib/idxtab.h"

static void htab(void)
{
	enum { N = 100000 };
	static uint64_t keys[N];
	struct htab *t = htab_new();
	for (uint64_t k = 0; k < N; k++) {
		keys[k] = k * 7919;
		CHECK(htab_put(t, &keys[k], 8, &keys[k]) == 0);
	}
	CHECK(htab_count(t) == N);
	int bad = 0;
	for (uint64_t k = 0; k < N; k++)
		bad += htab_get(t, &keys[k], 8) != &keys[k];
	CHECK(bad == 0);
	for (uint64_t k = 0; k < N; k += 2)
		CHECK(htab_del(t, &keys[k], 8) == &keys[k]);
	uint64_t missing = 3;
	CHECK(htab_get(t, &missing, 8) == NULL);
	CHECK(htab_count(t) == N / 2);
	CHECK(htab_get(t, &keys[1], 8) == &keys[1] && htab_get(t, &keys[2], 8) == NULL);
	htab_free(t);
}

/* Random puts, replaces and deletions of keys of many lengths, checked against a plain array
 * after every step's batch: backward-shift deletion must never hide a key behind a gap. */
static void htab_stress(void)
{
	enum { N = 5000, STEPS = 200000 };
	static char keys[N][24];
	static size_t lens[N];
	static void *want[N];
	struct htab *t = htab_new();
	uint64_t x = 88172645463325252ull;
	int bad = 0;
	size_t live = 0;
	for (size_t k = 0; k < N; k++)
		lens[k] = (size_t)snprintf(keys[k], sizeof(keys[k]), "%zu-%.*s", k, (int)(k % 9),
					   "abcdefghi");
	for (int s = 0; s < STEPS; s++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t k = (size_t)(x % N) / (s < STEPS / 2 ? 1 : 8); /* later: a dense corner */
		if (x >> 63) {
			bad += htab_put(t, keys[k], lens[k], &want[k]) != 0;
			live += !want[k];
			want[k] = &want[k];
		} else {
			bad += htab_del(t, keys[k], lens[k]) != want[k];
			live -= !!want[k];
			want[k] = NULL;
		}
		if (s % 10000 == 0)
			for (size_t j = 0; j < N; j++)
				bad += htab_get(t, keys[j], lens[j]) != want[j];
	}
	CHECK(bad == 0);
	CHECK(htab_count(t) == live);
	for (size_t k = 0; k < N; k++)
		htab_del(t, keys[k], lens[k]);
	CHECK(htab_count(t) == 0 && htab_get(t, keys[0], lens[0]) == NULL);
	CHECK(htab_put(t, NULL, 0, &want[0]) == -EINVAL);
	htab_free(t);
}

/* The index keys of idxtab_stress: entry k's key is keys[k] (an entry is in the table or not). */
static char ikeys[5000][24];
static size_t ilens[5000];

static void ikey_of(const void *ctx, uint32_t pos, const void **key, size_t *len)
{
	(void)ctx;
	*key = ikeys[pos];
	*len = ilens[pos];
}

/* 200,000 random adds and deletions against a reference, every entry looked up now and then;
 * the table shrinks back once emptied. */
static void idxtab_stress(void)
{
	enum { N = 5000, STEPS = 200000 };
	static bool in[N];
	struct idxtab t;
	idxtab_init(&t, ikey_of, NULL);
	uint64_t x = 2463534242ull;
	int bad = 0;
	uint32_t live = 0;
	for (size_t k = 0; k < N; k++)
		ilens[k] = (size_t)snprintf(ikeys[k], sizeof(ikeys[k]), "%zu.%.*s", k,
					    (int)(k % 11), "abcdefghijk");
	CHECK(idxtab_find(&t, ikeys[0], ilens[0]) == -1 && idxtab_del(&t, "x", 1) == -1);
	for (int s = 0; s < STEPS; s++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint32_t k = (uint32_t)((x % N) / (s < STEPS / 2 ? 1 : 16));
		if (x >> 63 && !in[k]) {
			bad += idxtab_add(&t, k) != 0;
			in[k] = true;
			live++;
		} else if (!(x >> 63)) {
			bad += idxtab_del(&t, ikeys[k], ilens[k]) != (in[k] ? (int64_t)k : -1);
			live -= in[k];
			in[k] = false;
		}
		if (s % 10000 == 0)
			for (uint32_t j = 0; j < N; j++)
				bad += idxtab_find(&t, ikeys[j], ilens[j]) !=
				       (in[j] ? (int64_t)j : -1);
	}
	CHECK(bad == 0 && t.count == live && (uint64_t)t.count * 4 <= (uint64_t)t.cap * 3);
	for (uint32_t k = 0; k < N; k++)
		idxtab_del(&t, ikeys[k], ilens[k]);
	CHECK(t.count == 0 && t.cap <= 16);
	idxtab_free(&t);
}

static void buf(void)
{
	struct buf b = {0};
	buf_u8(&b, 0xab);
	buf_u16(&b, 0xbeef);
	buf_u32(&b, 0xdeadbeef);
	buf_u64(&b, 0x0123456789abcdefull);
	buf_put(&b, "xyz", 3);
	CHECK(b.len == 1 + 2 + 4 + 8 + 3 && b.err == 0);
	CHECK(b.data[1] == 0xef && b.data[2] == 0xbe); /* little-endian */
	struct rd r = {.p = b.data, .left = b.len};
	CHECK(rd_u8(&r) == 0xab);
	CHECK(rd_u16(&r) == 0xbeef);
	CHECK(rd_u32(&r) == 0xdeadbeef);
	CHECK(rd_u64(&r) == 0x0123456789abcdefull);
	CHECK(memcmp(rd_take(&r, 3), "xyz", 3) == 0);
	CHECK(r.err == 0 && r.left == 0);
	CHECK(rd_u32(&r) == 0 && r.err == 1);
	CHECK(rd_take(&r, 0) == NULL); /* stays failed */
	buf_free(&b);
}

static void array(void)
{
	size_t cap = 0, n = 0;
	int *v = NULL;
	for (; n < 100; n++) {
		int *grown = array_reserve(v, n, &cap, sizeof(*v), 4);
		CHECK(grown != NULL);
		v = grown;
		v[n] = (int)n;
	}
	CHECK(cap == 128 && v[99] == 99);
	size_t huge = SIZE_MAX / 2 + 1; /* doubling it, or any size times 8, overflows */
	CHECK(array_reserve(v, huge, &huge, 8, 4) == NULL && huge == SIZE_MAX / 2 + 1);
	free(v);
}

int main(void)
{
	unit_setup();
	htab();
	htab_stress();
	idxtab_stress();
	buf();
	array();
	return unit_finish("test_lib");
}
