/*
 * c2sp.org/tlog-tiles geometry and paths.
 *
 * Hash tiles live at tile/<L>/<N>[.p/<W>], entry bundles at
 * tile/entries/<N>[.p/<W>]; <N> is written in 3-digit groups, all but the
 * last prefixed with 'x' (1234067 -> x001/x234/067). A full tile holds 256
 * hashes (8,192 bytes); a partial one 1..255. Bundles are uint16 big-endian
 * length-prefixed entries. All functions are pure and thread-safe.
 */
#ifndef PROBITY_TILE_H
#define PROBITY_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PRB_TILE_WIDTH 256
#define PRB_TILE_HEIGHT 8
#define PRB_TILE_MAX_LEVEL 63
#define PRB_ENTRIES_LEVEL (-1) /* the `level` of an entry bundle */
#define PRB_MAX_ENTRY 65535
#define PRB_TILE_PATH_MAX 96

/* Writes the path of tile (level, n) of width `width` (1..256; 256 = full)
 * into buf (at least PRB_TILE_PATH_MAX bytes), NUL-terminated. level is
 * 0..63 or PRB_ENTRIES_LEVEL. Returns 0 or PRB_EINVAL. */
int prb_tile_path(char *buf, size_t cap, int level, uint64_t n,
                  unsigned width);

/* Parses a path of the form above (without a leading slash). Strict: the
 * path must be the one prb_tile_path gives (no leading zeros in <L> or
 * <W>, no leading "x000/" groups, exact 3-digit groups, W in 1..255).
 * Returns 0 or PRB_EMALFORMED. *width is 256 for a full tile. */
int prb_tile_parse_path(const char *path, int *level, uint64_t *n,
                        unsigned *width);

/* Number of hashes at `level` in the tree of `size` leaves:
 * floor(size / 256^level). */
uint64_t prb_tile_level_count(uint64_t size, unsigned level);

/* Width of the partial tile at `level` for tree `size`, 0 if none. */
unsigned prb_tile_partial_width(uint64_t size, unsigned level);

/* Number of tile levels a tree of `size` leaves uses (0 for size 0). */
unsigned prb_tile_levels(uint64_t size);

/* Calls fn(ctx, data, len, index_in_bundle) for each entry of an entry
 * bundle. Fails with PRB_EMALFORMED (err->offset = byte offset) on a
 * truncated entry; if `expect` is not 0, the bundle must hold exactly that
 * many entries. A non-zero return from fn stops and is returned. */
typedef int (*prb_bundle_fn)(void *ctx, const uint8_t *data, size_t len,
                             unsigned index);
int prb_bundle_parse(const uint8_t *bundle, size_t len, unsigned expect,
                     prb_bundle_fn fn, void *ctx, prb_err *err);

#endif
