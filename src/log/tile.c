/* c2sp.org/tlog-tiles geometry, path encoding and entry bundles. */
#include <stdio.h>
#include <string.h>

#include "probity/tile.h"
#include "base/util.h"

/* Writes <N> as x-prefixed 3-digit groups; returns chars written or -1. */
static int
format_index(char *buf, size_t cap, uint64_t n)
{
	unsigned groups[7];
	int k = 0;
	do {
		groups[k++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n > 0);
	size_t off = 0;
	for (int i = k - 1; i >= 0; i--) {
		int w = snprintf(buf + off, cap - off, i ? "x%03u/" : "%03u",
		                 groups[i]);
		if (w < 0 || (size_t)w >= cap - off)
			return -1;
		off += (size_t)w;
	}
	return (int)off;
}

int
prb_tile_path(char *buf, size_t cap, int level, uint64_t n, unsigned width)
{
	if (level < PRB_ENTRIES_LEVEL || level > PRB_TILE_MAX_LEVEL ||
	    width < 1 || width > PRB_TILE_WIDTH)
		return PRB_EINVAL;
	int w = level == PRB_ENTRIES_LEVEL
	                ? snprintf(buf, cap, "tile/entries/")
	                : snprintf(buf, cap, "tile/%d/", level);
	if (w < 0 || (size_t)w >= cap)
		return PRB_EINVAL;
	size_t off = (size_t)w;
	w = format_index(buf + off, cap - off, n);
	if (w < 0)
		return PRB_EINVAL;
	off += (size_t)w;
	if (width < PRB_TILE_WIDTH) {
		w = snprintf(buf + off, cap - off, ".p/%u", width);
		if (w < 0 || (size_t)w >= cap - off)
			return PRB_EINVAL;
	}
	return 0;
}

/* Parses one 3-digit group. */
static int
group3(const char *p, unsigned *v)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9')
		return -1;
	*v = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	return 0;
}

int
prb_tile_parse_path(const char *path, int *level, uint64_t *n,
                    unsigned *width)
{
	const char *p = path;
	if (strncmp(p, "tile/", 5) != 0)
		return PRB_EMALFORMED;
	p += 5;
	if (strncmp(p, "entries/", 8) == 0) {
		*level = PRB_ENTRIES_LEVEL;
		p += 8;
	} else {
		const char *slash = strchr(p, '/');
		uint64_t l;
		if (!slash || prb_parse_u64(p, (size_t)(slash - p),
		                            PRB_TILE_MAX_LEVEL, &l))
			return PRB_EMALFORMED;
		*level = (int)l;
		p = slash + 1;
	}
	uint64_t v = 0;
	for (;;) {
		unsigned g;
		int x = *p == 'x';
		if (group3(p + x, &g))
			return PRB_EMALFORMED;
		if (v > (UINT64_MAX - g) / 1000)
			return PRB_EMALFORMED;
		v = v * 1000 + g;
		p += x + 3;
		if (x) {
			if (*p != '/')
				return PRB_EMALFORMED;
			p++;
			continue;
		}
		break;
	}
	*n = v;
	*width = PRB_TILE_WIDTH;
	if (*p != '\0') {
		uint64_t w;
		if (strncmp(p, ".p/", 3) != 0 ||
		    prb_parse_u64(p + 3, strlen(p + 3), PRB_TILE_WIDTH - 1, &w) ||
		    w == 0)
			return PRB_EMALFORMED;
		*width = (unsigned)w;
	}
	/* one name per tile: "x000/001" is not tile 1 (as in x/mod) */
	char canon[PRB_TILE_PATH_MAX];
	if (prb_tile_path(canon, sizeof canon, *level, *n, *width) ||
	    strcmp(canon, path) != 0)
		return PRB_EMALFORMED;
	return 0;
}

uint64_t
prb_tile_level_count(uint64_t size, unsigned level)
{
	if (level >= 8)
		return 0;
	return size >> (PRB_TILE_HEIGHT * level);
}

unsigned
prb_tile_partial_width(uint64_t size, unsigned level)
{
	return (unsigned)(prb_tile_level_count(size, level) % PRB_TILE_WIDTH);
}

unsigned
prb_tile_levels(uint64_t size)
{
	unsigned l = 0;
	while (prb_tile_level_count(size, l) > 0)
		l++;
	return l;
}

int
prb_bundle_parse(const uint8_t *bundle, size_t len, unsigned expect,
                 prb_bundle_fn fn, void *ctx, prb_err *err)
{
	size_t off = 0;
	unsigned i = 0;
	while (off < len) {
		if (i == PRB_TILE_WIDTH || (expect && i == expect))
			return prb_err_set(err, PRB_EMALFORMED, NULL, off,
			                   "bundle has more than %u entries: %zu "
			                   "bytes after entry %u, from byte %zu",
			                   expect ? expect : PRB_TILE_WIDTH,
			                   len - off, i - 1, off);
		if (len - off < 2)
			return prb_err_set(err, PRB_EMALFORMED, NULL, off,
			                   "truncated length prefix of entry %u", i);
		size_t n = load_be16(bundle + off);
		if (len - off - 2 < n)
			return prb_err_set(err, PRB_EMALFORMED, NULL, off,
			                   "entry %u of %zu bytes is truncated at "
			                   "%zu bytes", i, n, len - off - 2);
		if (fn) {
			int rc = fn(ctx, bundle + off + 2, n, i);
			if (rc)
				return rc;
		}
		off += 2 + n;
		i++;
	}
	if (expect && i != expect)
		return prb_err_set(err, PRB_EMALFORMED, NULL, off,
		                   "bundle has %u entries, expected %u", i, expect);
	return 0;
}
