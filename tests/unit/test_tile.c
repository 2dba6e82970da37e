/*
 * c2sp.org/tlog-tiles geometry, paths and entry bundles
 * (include/probity/tile.h), checked against:
 *   - known answers from tlog-tiles.md and transparency-dev/tessera
 *     api/layout/paths_test.go written in below (always run);
 *   - $PRB_SHARED/vectors/tiles.json and the tile files under
 *     vectors/tiles/ (log1000, and sunlight's 300-leaf mirror) when present.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probity/error.h"
#include "probity/merkle.h"
#include "probity/tile.h"
#include "t.h"
#include "vec.h"

/* prb_tile_path into a local buffer; "" on failure. */
static const char *
path_of(int level, uint64_t n, unsigned width)
{
	static char buf[PRB_TILE_PATH_MAX];

	if (prb_tile_path(buf, sizeof buf, level, n, width) != 0)
		return "";
	return buf;
}

static bool
parses_to(const char *path, int level, uint64_t n, unsigned width)
{
	int l = -99;
	uint64_t x = 0;
	unsigned w = 0;

	return prb_tile_parse_path(path, &l, &x, &w) == 0 && l == level &&
	       x == n && w == width;
}

/* ------------------------------------------------------------------ */
/* Known answers, always run.                                          */

static void
kat_paths(void)
{
	/* tlog-tiles.md: index 1234067 is written x001/x234/067. */
	CHECK(!strcmp(path_of(0, 1234067, 256), "tile/0/x001/x234/067"),
	      "1234067 -> %s", path_of(0, 1234067, 256));
	/* tessera api/layout/paths_test.go TestTilePath / TestEntriesPath. */
	CHECK(!strcmp(path_of(0, 0, 256), "tile/0/000"), "%s", path_of(0, 0, 256));
	CHECK(!strcmp(path_of(0, 0, 255), "tile/0/000.p/255"), "%s",
	      path_of(0, 0, 255));
	CHECK(!strcmp(path_of(15, 455667, 256), "tile/15/x455/667"), "%s",
	      path_of(15, 455667, 256));
	CHECK(!strcmp(path_of(15, 123456789, 41), "tile/15/x123/x456/789.p/41"),
	      "%s", path_of(15, 123456789, 41));
	CHECK(!strcmp(path_of(PRB_ENTRIES_LEVEL, 0, 8), "tile/entries/000.p/8"),
	      "%s", path_of(PRB_ENTRIES_LEVEL, 0, 8));
	CHECK(!strcmp(path_of(PRB_ENTRIES_LEVEL, 255, 256), "tile/entries/255"),
	      "%s", path_of(PRB_ENTRIES_LEVEL, 255, 256));

	CHECK(parses_to("tile/0/x001/x234/067", 0, 1234067, 256), "parse full");
	CHECK(parses_to("tile/0/x001/x234/067.p/89", 0, 1234067, 89),
	      "parse partial");
	CHECK(parses_to("tile/entries/x001/002.p/1", PRB_ENTRIES_LEVEL, 1002, 1),
	      "parse bundle");
	CHECK(parses_to("tile/63/x999/x999/x999/x999/x999/999.p/255", 63,
	                999999999999999999ULL, 255),
	      "parse level 63");
}

static void
kat_bad_paths(void)
{
	/* Each breaks a rule of tlog-tiles.md or tile.h's "strict" parse. */
	static const char *const bad[] = {
		"tile/0/000.p/0",      /* <W> is 1..255 */
		"tile/0/000.p/256",    /* a full tile has no .p/ */
		"tile/0/000.p/01",     /* <W> has no leading zeros */
		"tile/01/000",         /* <L> has no leading zeros */
		"tile/64/000",         /* level 0..63 */
		"tile/0/1",            /* groups are three digits */
		"tile/0/0001",         /* groups are three digits */
		"tile/0/X001/002",     /* the prefix is a lowercase x */
		"tile/0/001/002",      /* all but the last group have x */
		"tile/0/x001",         /* the last group has no x */
		"tile/0/x001002",      /* groups are separated by '/' */
		"tile/0/x001.p/3",
		"tile/0/",             /* no index */
		"tile/0/000/",         /* trailing slash */
		"/tile/0/000",         /* no leading slash */
		"tile/0/000.p/",       /* empty width */
		"tile/entries/000.p/0",
		"tiles/0/000",
		"tile//000",
		"tile/-1/000",
		"tile/0/-01",
		"tile/0/000 ",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int l;
		uint64_t n;
		unsigned w;
		int rc = prb_tile_parse_path(bad[i], &l, &n, &w);
		CHECK(rc == PRB_EMALFORMED, "\"%s\" parsed (rc %d)", bad[i], rc);
	}
	char buf[PRB_TILE_PATH_MAX];
	CHECK(prb_tile_path(buf, sizeof buf, 0, 0, 0) == PRB_EINVAL, "width 0");
	CHECK(prb_tile_path(buf, sizeof buf, 0, 0, 257) == PRB_EINVAL,
	      "width 257");
	CHECK(prb_tile_path(buf, sizeof buf, 64, 0, 256) == PRB_EINVAL,
	      "level 64");
	CHECK(prb_tile_path(buf, sizeof buf, -2, 0, 256) == PRB_EINVAL,
	      "level -2");
	CHECK(prb_tile_path(buf, 5, 0, 0, 256) == PRB_EINVAL, "short buffer");
	/* 2^64 - 1 has seven groups. */
	CHECK(!strcmp(path_of(0, UINT64_MAX, 255),
	              "tile/0/x018/x446/x744/x073/x709/x551/615.p/255"),
	      "%s", path_of(0, UINT64_MAX, 255));
}

static void
kat_geometry(void)
{
	/* tlog-tiles.md: a tree of size 70000 has 273 full level 0 tiles, a
	 * partial level 0 tile of width 112, one full level 1 tile, a partial
	 * level 1 tile of width 17 and a partial level 2 tile of width 1. */
	CHECK(prb_tile_level_count(70000, 0) == 70000, "level 0 count");
	CHECK(prb_tile_level_count(70000, 1) == 273, "level 1 count");
	CHECK(prb_tile_level_count(70000, 2) == 1, "level 2 count");
	CHECK(prb_tile_level_count(70000, 3) == 0, "level 3 count");
	CHECK(prb_tile_partial_width(70000, 0) == 112, "level 0 width %u",
	      prb_tile_partial_width(70000, 0));
	CHECK(prb_tile_partial_width(70000, 1) == 17, "level 1 width %u",
	      prb_tile_partial_width(70000, 1));
	CHECK(prb_tile_partial_width(70000, 2) == 1, "level 2 width %u",
	      prb_tile_partial_width(70000, 2));
	CHECK(prb_tile_partial_width(70000, 3) == 0, "no level 3 tile");
	CHECK(prb_tile_levels(70000) == 3, "70000: %u levels",
	      prb_tile_levels(70000));
	/* tlog-tiles.md: size 256 has a full level 0 tile and a partial level
	 * 1 tile of width 1. */
	CHECK(prb_tile_partial_width(256, 0) == 0, "256: no partial level 0");
	CHECK(prb_tile_partial_width(256, 1) == 1, "256: level 1 width 1");
	CHECK(prb_tile_levels(256) == 2, "256: %u levels", prb_tile_levels(256));
	CHECK(prb_tile_levels(0) == 0, "empty tree has no tiles");
	CHECK(prb_tile_levels(1) == 1, "1: one level");
	CHECK(prb_tile_levels(255) == 1, "255: one level");
	CHECK(prb_tile_partial_width(255, 0) == 255, "255: width 255");
	CHECK(prb_tile_levels(65536) == 3, "65536: %u levels",
	      prb_tile_levels(65536));
	CHECK(prb_tile_level_count(UINT64_MAX, 7) == 255, "2^64-1 at level 7");
	CHECK(prb_tile_level_count(UINT64_MAX, 8) == 0, "2^64-1 at level 8");
}

/* ------------------------------------------------------------------ */
/* Entry bundles                                                       */

typedef struct {
	unsigned n;
	char got[8][16];
	unsigned stop_at; /* return 7 on this entry, if non-zero */
} bundle_seen;

static int
bundle_cb(void *ctx, const uint8_t *data, size_t len, unsigned index)
{
	bundle_seen *s = ctx;

	if (index != s->n || len >= sizeof s->got[0] || s->n >= 8)
		return -1000;
	memcpy(s->got[s->n], data, len);
	s->got[s->n][len] = 0;
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static void
kat_bundles(void)
{
	/* uint16 big-endian length-prefixed entries: "abc", "", "z". */
	static const uint8_t b[] = {0, 3, 'a', 'b', 'c', 0, 0, 0, 1, 'z'};
	bundle_seen s = {0};
	prb_err err;
	int rc;

	rc = prb_bundle_parse(b, sizeof b, 0, bundle_cb, &s, &err);
	CHECK(rc == 0 && s.n == 3 && !strcmp(s.got[0], "abc") &&
	              !strcmp(s.got[1], "") && !strcmp(s.got[2], "z"),
	      "bundle of 3 (rc %d, n %u)", rc, s.n);
	memset(&s, 0, sizeof s);
	rc = prb_bundle_parse(b, sizeof b, 3, bundle_cb, &s, NULL);
	CHECK(rc == 0 && s.n == 3, "expect 3 (rc %d)", rc);
	memset(&s, 0, sizeof s);
	rc = prb_bundle_parse(b, sizeof b, 4, bundle_cb, &s, NULL);
	CHECK(rc < 0, "expect 4 of 3 fails (rc %d)", rc);
	memset(&s, 0, sizeof s);
	prb_err_clear(&err);
	rc = prb_bundle_parse(b, sizeof b, 2, bundle_cb, &s, &err);
	CHECK(rc < 0 && err.offset == 7 &&
	              strstr(err.msg, "3 bytes after entry 1, from byte 7"),
	      "expect 2 of 3 fails, naming the extra bytes (rc %d): %s", rc,
	      err.msg);

	for (size_t cut = 1; cut < sizeof b; cut++) {
		if (cut == 5 || cut == 7) /* whole entries: a shorter bundle */
			continue;
		memset(&s, 0, sizeof s);
		prb_err_clear(&err);
		rc = prb_bundle_parse(b, cut, 0, bundle_cb, &s, &err);
		CHECK(rc == PRB_EMALFORMED && err.code == PRB_EMALFORMED &&
		              err.offset <= cut,
		      "bundle cut at %zu: rc %d, offset %llu", cut, rc,
		      (unsigned long long)err.offset);
	}
	memset(&s, 0, sizeof s);
	s.stop_at = 2;
	rc = prb_bundle_parse(b, sizeof b, 0, bundle_cb, &s, NULL);
	CHECK(rc == 7 && s.n == 2, "callback stops (rc %d, n %u)", rc, s.n);
	memset(&s, 0, sizeof s);
	rc = prb_bundle_parse(b, 0, 0, bundle_cb, &s, NULL);
	CHECK(rc == 0 && s.n == 0, "empty bundle (rc %d)", rc);
}

/* ------------------------------------------------------------------ */
/* tiles.json                                                          */

/* tiles.json writes a full tile as width 0 (tessera); tile.h uses 256. */
static unsigned
width_of(const json_t *v)
{
	uint64_t w = vec_u64(v, "width");
	return w == 0 ? 256 : (unsigned)w;
}

static void
json_paths(const json_t *arr, bool entries, bool n_only)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		int level = entries ? PRB_ENTRIES_LEVEL : (int)vec_u64(v, "level");
		uint64_t n = vec_u64(v, "index");
		unsigned w = width_of(v);
		const char *want = vec_str(v, n_only ? "n_path" : "path");
		const char *got = path_of(level, n, w);
		/* n_path is what follows "tile/<L>/" */
		const char *tail = strlen(got) > 5 ? strchr(got + 5, '/') : NULL;

		CHECK(n_only ? (tail && !strcmp(tail + 1, want)) : !strcmp(got, want),
		      "tiles.json: (%d, %llu, %u) -> \"%s\", want \"%s\"", level,
		      (unsigned long long)n, w, got, want);
		if (!n_only)
			CHECK(parses_to(want, level, n, w), "tiles.json: parse %s",
			      want);
	}
}

static void
json_log_index(const json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		uint64_t leaf = vec_u64(v, "leaf_index"), size = vec_u64(v, "tree_size");
		uint64_t n = leaf / 256;
		/* The bundle holding `leaf` is full or, on the right edge,
		 * partial: prb_tile_partial_width(size, 0) entries. */
		unsigned w = (n + 1) * 256 <= size ? 256
		                                   : prb_tile_partial_width(size, 0);
		const char *got = path_of(PRB_ENTRIES_LEVEL, n, w);
		CHECK(!strcmp(got, vec_str(v, "path")),
		      "entry %llu of %llu: \"%s\", want \"%s\"",
		      (unsigned long long)leaf, (unsigned long long)size, got,
		      vec_str(v, "path"));
	}
}

static void
json_parse_cases(const json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		char path[256];
		int l = -99;
		uint64_t n = 0;
		unsigned w = 0;
		bool want_err = json_is_true(json_object_get(v, "wantErr"));
		json_t *want = json_object_get(v, "want");
		/* tile.h departs here: the grammar allows a non-canonical
		 * "x000/001"; probity keeps one name per tile, as x/mod does. */
		const char *why = vec_str(v, "reason");
		if (why && strstr(why, "not the canonical"))
			want_err = true;

		snprintf(path, sizeof path, "tile/%s/%s", vec_str(v, "level"),
		         vec_str(v, "index"));
		int rc = prb_tile_parse_path(path, &l, &n, &w);
		if (want_err) {
			CHECK(rc == PRB_EMALFORMED, "\"%s\" must not parse (rc %d)",
			      path, rc);
			continue;
		}
		CHECK(rc == 0 && l == (int)vec_u64(want, "level") &&
		              n == vec_u64(want, "index") && w == width_of(want),
		      "\"%s\" -> rc %d (%d, %llu, %u)", path, rc, l,
		      (unsigned long long)n, w);
	}
}

/* Derives the tile (level_kind 0) or bundle (-1) paths of a tree from
 * tile.h's geometry and compares them with the vector's set. */
static void
tile_set_check(uint64_t size, const json_t *tiles, int level_kind)
{
	size_t found = 0, derived = 0, total = json_array_size(tiles);
	unsigned levels = prb_tile_levels(size);

	if (level_kind < 0 && levels > 1)
		levels = 1; /* bundles follow level 0 */
	for (unsigned l = 0; l < levels; l++) {
		uint64_t full = prb_tile_level_count(size, l) / 256;
		unsigned pw = prb_tile_partial_width(size, l);
		int lv = level_kind < 0 ? PRB_ENTRIES_LEVEL : (int)l;
		for (uint64_t n = 0; n <= full; n++) {
			unsigned w = n < full ? 256 : pw;
			if (w == 0)
				continue;
			const char *p = path_of(lv, n, w);
			size_t i;
			json_t *v;
			derived++;
			json_array_foreach(tiles, i, v) {
				if (!strcmp(vec_str(v, "path"), p)) {
					found++;
					break;
				}
			}
		}
	}
	CHECK(found == total && derived == total,
	      "size %llu: derived %zu %s paths, %zu of the %zu expected",
	      (unsigned long long)size, derived,
	      level_kind < 0 ? "bundle" : "tile", found, total);
}

static void
json_trees(const json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		uint64_t size = vec_u64(v, "tree_size");

		CHECK(json_array_size(json_object_get(v, "tiles")) ==
		              vec_u64(v, "num_tiles"),
		      "tiles.json: size %llu lists num_tiles tiles",
		      (unsigned long long)size);
		tile_set_check(size, json_object_get(v, "tiles"), 0);
		tile_set_check(size, json_object_get(v, "entry_bundles"), -1);
	}
}

static void
vectors_tiles_json(void)
{
	const char *path = t_shared("vectors/tiles.json");
	json_t *j;

	if (!path) {
		SKIP("vectors/tiles.json not found (set PRB_SHARED)");
		return;
	}
	if (!(j = vec_load_json(path, 0))) {
		CHECK(0, "cannot load %s", path);
		return;
	}
	json_paths(json_object_get(j, "tile_path"), false, false);
	json_paths(json_object_get(j, "entries_path"), true, false);
	json_paths(json_object_get(j, "n_with_suffix"), false, true);
	json_log_index(json_object_get(j, "entries_path_for_log_index"));
	json_parse_cases(json_object_get(j, "parse_level_index"));
	json_parse_cases(json_object_get(j, "parse_level_index_spec_derived"));
	json_trees(json_object_get(j, "trees"));
	json_decref(j);
}

/* ------------------------------------------------------------------ */
/* Tile files under vectors/tiles/                                     */

/* Reads <dir>/<path>; NULL when absent. */
static uint8_t *
tile_file(const char *dir, const char *path, size_t *len)
{
	char rel[512];
	const char *p;

	snprintf(rel, sizeof rel, "vectors/tiles/%s/%s", dir, path);
	p = t_shared(rel);
	return p ? vec_read_file(p, len) : NULL;
}

typedef struct {
	uint64_t next;      /* index of the next entry in the log */
	const uint8_t *hashes; /* level-0 tile bytes of this bundle */
	unsigned bad;
} log1000_walk;

static int
log1000_entry(void *ctx, const uint8_t *data, size_t len, unsigned index)
{
	log1000_walk *w = ctx;
	char want[32];
	prb_hash h;
	int n = snprintf(want, sizeof want, "entry-%llu",
	                 (unsigned long long)w->next);

	prb_merkle_leaf_hash(data, len, &h);
	if (len != (size_t)n || memcmp(data, want, len) != 0 ||
	    memcmp(h.b, w->hashes + 32 * index, 32) != 0)
		w->bad++;
	w->next++;
	return 0;
}

/* log1000: 1000 entries "entry-<i>" in bundles 000..002 and 003.p/232; the
 * level-0 tiles hold their leaf hashes and tile/1/000.p/3 the roots of
 * each full 256-leaf subtree (log1000.json: size-256 root f85f4ead...). */
static void
files_log1000(void)
{
	static const char *const bundles[4][2] = {
		{"tile/entries/000", "tile/0/000"},
		{"tile/entries/001", "tile/0/001"},
		{"tile/entries/002", "tile/0/002"},
		{"tile/entries/003.p/232", "tile/0/003.p/232"},
	};
	log1000_walk w = {0, NULL, 0};
	size_t blen, hlen;

	if (!t_shared("vectors/tiles/log1000/tile/0/000")) {
		SKIP("vectors/tiles/log1000 not found (set PRB_SHARED)");
		return;
	}
	for (int i = 0; i < 4; i++) {
		int l;
		uint64_t n;
		unsigned wd;
		uint8_t *b = tile_file("log1000", bundles[i][0], &blen);
		uint8_t *h = tile_file("log1000", bundles[i][1], &hlen);
		int ok = prb_tile_parse_path(bundles[i][0], &l, &n, &wd) == 0;
		ok = ok && b && h && hlen == 32u * wd;
		w.hashes = h;
		int rc = ok ? prb_bundle_parse(b, blen, wd, log1000_entry, &w, NULL)
		            : -1;
		CHECK(ok && rc == 0, "%s: rc %d", bundles[i][0], rc);
		free(b);
		free(h);
	}
	CHECK(w.next == 1000 && w.bad == 0, "log1000 bundles: %llu entries, %u bad",
	      (unsigned long long)w.next, w.bad);
	uint8_t *t1 = tile_file("log1000", "tile/1/000.p/3", &hlen);
	prb_hash r256;
	vec_hex_hash("f85f4ead34080710b4d1e808301543aaab81aa04deb88599350dc26a"
	             "4f2f58de", &r256);
	CHECK(t1 && hlen == 96 && memcmp(t1, r256.b, 32) == 0,
	      "tile/1/000.p/3 starts with the size-256 root");
	free(t1);
}

/* sunlight-mirror-300: leaves "record <i>", 300 of them; checks each
 * level-0 hash against prb_merkle_leaf_hash and recomputes the root of the
 * tree from the tiles, which must equal its checkpoint's root. */
typedef struct {
	prb_hash leaf[300];
	prb_hash lv1; /* tile/1/000.p/1 */
} mirror;

static int
mirror_read(void *ctx, unsigned level, uint64_t index, prb_hash *out)
{
	mirror *m = ctx;

	if (level == 0 && index < 300) {
		*out = m->leaf[index];
		return 0;
	}
	if (level == 8 && index == 0) {
		*out = m->lv1;
		return 0;
	}
	if (level >= 1 && level < 8 && ((index + 1) << level) <= 300) {
		prb_hash l, r;
		mirror_read(ctx, level - 1, 2 * index, &l);
		mirror_read(ctx, level - 1, 2 * index + 1, &r);
		vec_ref_node(&l, &r, out);
		return 0;
	}
	return PRB_ENOTFOUND;
}

static int
mirror_load(mirror *m)
{
	size_t l0, l1, l2;
	uint8_t *a = tile_file("sunlight-mirror-300", "tile/0/000", &l0);
	uint8_t *b = tile_file("sunlight-mirror-300", "tile/0/001.p/44", &l1);
	uint8_t *c = tile_file("sunlight-mirror-300", "tile/1/000.p/1", &l2);
	int rc = -1;

	if (a && b && c && l0 == 8192 && l1 == 44 * 32 && l2 == 32) {
		memcpy(m->leaf, a, 8192);
		memcpy(m->leaf + 256, b, 44 * 32);
		memcpy(m->lv1.b, c, 32);
		rc = 0;
	}
	free(a);
	free(b);
	free(c);
	return rc;
}

static prb_hash *
checkpoint_root(prb_hash *out)
{
	size_t len;
	uint8_t *cp = tile_file("sunlight-mirror-300", "checkpoint", &len);
	char *l2 = cp ? strchr((char *)cp, '\n') : NULL;
	char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
	char *end = l3 ? strchr(l3 + 1, '\n') : NULL;
	prb_hash *ret = NULL;

	if (end) {
		*end = 0;
		if (vec_b64_hash(l3 + 1, out) == 0)
			ret = out;
	}
	free(cp);
	return ret;
}

static void
files_mirror(void)
{
	static mirror m;
	prb_hash want, got, sub;
	unsigned bad = 0;

	if (!t_shared("vectors/tiles/sunlight-mirror-300/checkpoint")) {
		SKIP("vectors/tiles/sunlight-mirror-300 not found (set PRB_SHARED)");
		return;
	}
	if (mirror_load(&m) || !checkpoint_root(&want)) {
		CHECK(0, "cannot read the sunlight-mirror-300 tiles");
		return;
	}
	for (int i = 0; i < 300; i++) {
		char e[32];
		int n = snprintf(e, sizeof e, "record %d", i);
		prb_hash h;
		prb_merkle_leaf_hash((const uint8_t *)e, (size_t)n, &h);
		bad += memcmp(&h, &m.leaf[i], sizeof h) != 0;
	}
	CHECK(bad == 0, "sunlight-mirror-300: %u leaf hashes differ", bad);
	mirror_read(&m, 7, 0, &got); /* MTH(D[0:128]) from level 0, twice */
	mirror_read(&m, 7, 1, &sub);
	vec_ref_node(&got, &sub, &sub);
	CHECK(memcmp(&sub, &m.lv1, sizeof sub) == 0,
	      "tile/1/000.p/1 is MTH(D[0:256])");
	int rc = prb_merkle_root(mirror_read, &m, 300, &got);
	CHECK(rc == 0 && memcmp(&got, &want, sizeof got) == 0,
	      "sunlight-mirror-300 root equals its checkpoint (rc %d)", rc);
}

int
main(void)
{
	kat_paths();
	kat_bad_paths();
	kat_geometry();
	kat_bundles();
	vectors_tiles_json();
	files_log1000();
	files_mirror();
	return T_DONE("test_tile");
}
