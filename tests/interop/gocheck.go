// gocheck: an independent checker for probity's output, built on Go's
// golang.org/x/mod/sumdb/tlog and golang.org/x/mod/sumdb/note (Debian's
// golang-golang-x-mod-dev, used in GOPATH mode; see test_interop.sh).
//
// Nothing here shares code with probity: tiles, entry bundles, checkpoints,
// signed notes and proofs are read with x/mod, plus the few C2SP details
// x/mod does not know (the tile/<L>/<N> path layout without the height,
// entry bundles, the checkpoint's first line being an origin rather than
// "go.sum database tree", the tlog-proof text format), which are
// implemented here from the C2SP specifications.
//
// x/mod's tlog.TileHashReader is used, but never trusted alone: the
// Debian version (0.7.0) has the tile-authentication bypass fixed in
// v0.40.0 (GO-2026-6179), so tiles are also compared byte for byte with
// tlog.ReadTileData over a tree built independently from the entries.
//
// Every subcommand prints "ok: ..." and exits 0 when everything checks, or
// prints "gocheck: rejected: <reason>" to stderr and exits 1. Usage errors
// exit 2.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	tileHeight = 8
	tileWidth  = 1 << tileHeight
	proofHdr   = "c2sp.org/tlog-proof@v1"
	maxEntry   = 65535
)

var b64 = base64.StdEncoding.Strict()

// emptyRoot is the RFC 6962 hash of the empty tree, SHA-256 of nothing.
// (x/mod's tlog.TreeHash(0, r) returns the all-zero hash instead.)
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

type usageError string

func (e usageError) Error() string { return string(e) }

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmds := map[string]func([]string) (string, error){
		"genkey":            cmdGenkey,
		"check-key":         cmdCheckKey,
		"vkey":              cmdVkey,
		"resign":            cmdResign,
		"sign":              cmdSign,
		"verify-log":        cmdVerifyLog,
		"check-proof":       cmdCheckProof,
		"check-consistency": cmdCheckConsistency,
		"roots":             cmdRoots,
		"mklog":             cmdMklog,
		"prove":             cmdProve,
		"prove-consistency": cmdProveConsistency,
		"selftest":          cmdSelftest,
	}
	f, ok := cmds[os.Args[1]]
	if !ok {
		usage()
	}
	msg, err := f(os.Args[2:])
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(os.Stderr, "gocheck %s: usage: %s\n", os.Args[1], ue)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gocheck: rejected: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if msg != "" {
		fmt.Println(msg)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: gocheck COMMAND ARGS
  genkey NAME                         print a note signer key and verifier key (x/mod note.GenerateKey)
  vkey SKEYFILE                       print the verifier key of a signer key (x/mod derivation)
  check-key SKEYFILE VKEY             x/mod accepts the signer and verifier keys, and they match
  resign CHECKPOINT SKEYFILE VKEY     x/mod's note.Sign of the checkpoint text == the file, byte for byte
  sign SKEYFILE TEXTFILE              print TEXTFILE signed with x/mod note.Sign
  verify-log [-entries F] [-checkpoint CP] DIR VKEY
                                      verify a C2SP tlog-tiles directory end to end
  check-proof [-dir DIR] PROOF ENTRY VKEY
                                      verify a c2sp.org/tlog-proof@v1 file (tlog.CheckRecord)
  check-consistency [-dir DIR] OLDCP NEWCP PROOFLINES VKEY
                                      verify a consistency proof (tlog.CheckTree)
  roots ENTRIESFILE SIZE...           print the tree roots of the first SIZE lines
  mklog DIR SKEYFILE ENTRIESFILE      write a C2SP log directory with x/mod (tiles, bundles, checkpoint)
  prove [-extra B64] [-cosign SKEYFILE] DIR INDEX VKEY
                                      print a tlog-proof made with x/mod tlog.ProveRecord
  prove-consistency DIR OLDSIZE VKEY  print a consistency proof made with x/mod tlog.ProveTree
  selftest SHAREDDIR                  check gocheck itself against ../shared/vectors
`)
	os.Exit(2)
}

// ---------------------------------------------------------------- paths

// nPath encodes a tile index in 3-digit groups, all but the last prefixed
// with 'x' (c2sp.org/tlog-tiles; 1234067 -> x001/x234/067).
func nPath(n int64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

func widthSuffix(w int) string {
	if w == tileWidth {
		return ""
	}
	return fmt.Sprintf(".p/%d", w)
}

// tilePath maps an x/mod tile of height 8 to its C2SP path (x/mod's own
// Tile.Path is tile/<H>/<L>/..., which C2SP does not use).
func tilePath(t tlog.Tile) string {
	if t.H != tileHeight {
		panic("tile height")
	}
	return fmt.Sprintf("tile/%d/%s%s", t.L, nPath(t.N), widthSuffix(t.W))
}

func bundlePath(n int64, w int) string {
	return fmt.Sprintf("tile/entries/%s%s", nPath(n), widthSuffix(w))
}

var (
	reLevel = regexp.MustCompile(`^(0|[1-9][0-9]?)$`)
	reWidth = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)
	reGroup = regexp.MustCompile(`^x[0-9]{3}$`)
	reLast  = regexp.MustCompile(`^[0-9]{3}$`)
	reDec   = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)
)

// parseTilePath parses a path relative to the log directory. level -1 is
// an entry bundle. Only the canonical encoding is accepted.
func parseTilePath(p string) (level int, n int64, w int, err error) {
	bad := fmt.Errorf("not a C2SP tile path: %q", p)
	f := strings.Split(p, "/")
	if len(f) < 3 || f[0] != "tile" {
		return 0, 0, 0, bad
	}
	if f[1] == "entries" {
		level = -1
	} else if reLevel.MatchString(f[1]) {
		level, _ = strconv.Atoi(f[1])
		if level > 63 {
			return 0, 0, 0, bad
		}
	} else {
		return 0, 0, 0, bad
	}
	f = f[2:]
	w = tileWidth
	if len(f) >= 2 && strings.HasSuffix(f[len(f)-2], ".p") {
		if !reWidth.MatchString(f[len(f)-1]) {
			return 0, 0, 0, bad
		}
		w, _ = strconv.Atoi(f[len(f)-1])
		if w >= tileWidth {
			return 0, 0, 0, bad
		}
		f[len(f)-2] = strings.TrimSuffix(f[len(f)-2], ".p")
		f = f[:len(f)-1]
	}
	for i, g := range f {
		if i < len(f)-1 && !reGroup.MatchString(g) || i == len(f)-1 && !reLast.MatchString(g) {
			return 0, 0, 0, bad
		}
		d, _ := strconv.Atoi(strings.TrimPrefix(g, "x"))
		n = n*1000 + int64(d)
	}
	var canon string
	if level < 0 {
		canon = bundlePath(n, w)
	} else {
		canon = tilePath(tlog.Tile{H: tileHeight, L: level, N: n, W: w})
	}
	if canon != p {
		return 0, 0, 0, fmt.Errorf("non-canonical tile path %q (want %q)", p, canon)
	}
	return level, n, w, nil
}

// requiredTiles lists the hash tiles of a tree of size n: per level L,
// floor(n/256^(L+1)) full tiles and a partial one if floor(n/256^L) % 256 != 0.
func requiredTiles(n int64) []tlog.Tile {
	var tiles []tlog.Tile
	for L := 0; n>>(uint(L)*tileHeight) > 0; L++ {
		m := n >> (uint(L) * tileHeight)
		full := m >> tileHeight
		for i := int64(0); i < full; i++ {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: L, N: i, W: tileWidth})
		}
		if w := int(m & (tileWidth - 1)); w != 0 {
			tiles = append(tiles, tlog.Tile{H: tileHeight, L: L, N: full, W: w})
		}
	}
	return tiles
}

// ------------------------------------------------------- tile reading

// dirTiles is a tlog.TileReader over a C2SP directory. In lenient mode
// (reading an older tree than the directory's checkpoint), a missing
// partial tile is served from the full tile or the smallest wider partial
// tile, truncated, as the C2SP spec lets clients do.
type dirTiles struct {
	dir       string
	lenient   bool
	reads     int
	fallbacks int
}

func (d *dirTiles) Height() int                     { return tileHeight }
func (d *dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func (d *dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := d.readFile(t.L, t.N, t.W, tlog.HashSize, nil)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// readFile reads the tile (level >= 0) or entry bundle (level -1) (n, w).
// For hash tiles it returns exactly w*unit bytes; for bundles, cut (which
// knows the bundle encoding) trims a wider bundle to w entries.
func (d *dirTiles) readFile(level int, n int64, w int, unit int, cut func([]byte, int) ([]byte, error)) ([]byte, error) {
	rel := pathFor(level, n, w)
	d.reads++
	b, err := os.ReadFile(filepath.Join(d.dir, rel))
	if err == nil {
		if unit > 0 && len(b) != w*unit {
			return nil, fmt.Errorf("%s: %d bytes, want %d", rel, len(b), w*unit)
		}
		return b, nil
	}
	if !d.lenient || !os.IsNotExist(err) || w == tileWidth {
		return nil, fmt.Errorf("%s: %v", rel, err)
	}
	// Candidates: the full tile, then wider partial tiles, narrowest first.
	cands := []int{tileWidth}
	full := pathFor(level, n, tileWidth)
	if ents, e := os.ReadDir(filepath.Join(d.dir, full+".p")); e == nil {
		var ws []int
		for _, ent := range ents {
			if x, e := strconv.Atoi(ent.Name()); e == nil && x > w && x < tileWidth {
				ws = append(ws, x)
			}
		}
		sort.Ints(ws)
		cands = append(ws, cands...)
	}
	for _, cw := range cands {
		p := pathFor(level, n, cw)
		b, e := os.ReadFile(filepath.Join(d.dir, p))
		if e != nil {
			continue
		}
		d.fallbacks++
		if unit > 0 {
			if len(b) != cw*unit {
				return nil, fmt.Errorf("%s: %d bytes, want %d", p, len(b), cw*unit)
			}
			return b[:w*unit], nil
		}
		return cut(b, w)
	}
	return nil, fmt.Errorf("%s: %v (and no full or wider tile)", rel, err)
}

func pathFor(level int, n int64, w int) string {
	if level < 0 {
		return bundlePath(n, w)
	}
	return tilePath(tlog.Tile{H: tileHeight, L: level, N: n, W: w})
}

// parseBundle splits an entry bundle: a sequence of big-endian uint16
// lengths, each followed by that many bytes.
func parseBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for off := 0; off < len(b); {
		if len(b)-off < 2 {
			return nil, fmt.Errorf("truncated length prefix at byte %d", off)
		}
		l := int(binary.BigEndian.Uint16(b[off:]))
		off += 2
		if len(b)-off < l {
			return nil, fmt.Errorf("entry %d: length %d runs past the end (byte %d)", len(out), l, off)
		}
		out = append(out, b[off:off+l])
		off += l
	}
	return out, nil
}

func encodeBundle(entries [][]byte) []byte {
	var buf bytes.Buffer
	for _, e := range entries {
		var l [2]byte
		binary.BigEndian.PutUint16(l[:], uint16(len(e)))
		buf.Write(l[:])
		buf.Write(e)
	}
	return buf.Bytes()
}

func cutBundle(b []byte, w int) ([]byte, error) {
	ents, err := parseBundle(b)
	if err != nil {
		return nil, err
	}
	if len(ents) < w {
		return nil, fmt.Errorf("bundle has %d entries, need %d", len(ents), w)
	}
	return encodeBundle(ents[:w]), nil
}

// readEntries reads the first n entries from the directory's bundles.
func readEntries(d *dirTiles, n int64) ([][]byte, error) {
	var all [][]byte
	for k := int64(0); k*tileWidth < n; k++ {
		w := tileWidth
		if rem := n - k*tileWidth; rem < tileWidth {
			w = int(rem)
		}
		b, err := d.readFile(-1, k, w, 0, cutBundle)
		if err != nil {
			return nil, err
		}
		ents, err := parseBundle(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", bundlePath(k, w), err)
		}
		if len(ents) != w {
			return nil, fmt.Errorf("%s: %d entries, want %d", bundlePath(k, w), len(ents), w)
		}
		all = append(all, ents...)
	}
	return all, nil
}

// --------------------------------------------------- in-memory tree

// memTree is an independent tree built with tlog.StoredHashes.
type memTree struct {
	n      int64
	hashes []tlog.Hash
}

func (m *memTree) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("memTree: hash index %d not stored (%d stored)", x, len(m.hashes))
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

func (m *memTree) add(entry []byte) error {
	hs, err := tlog.StoredHashes(m.n, entry, m)
	if err != nil {
		return err
	}
	if tlog.StoredHashIndex(0, m.n) != int64(len(m.hashes)) {
		return errors.New("memTree: bad index math")
	}
	m.hashes = append(m.hashes, hs...)
	m.n++
	return nil
}

// root returns the RFC 6962 root of the first n entries.
func (m *memTree) root(n int64) (tlog.Hash, error) {
	if n == 0 {
		return emptyRoot, nil
	}
	return tlog.TreeHash(n, m)
}

func buildTree(entries [][]byte) (*memTree, error) {
	m := &memTree{}
	for _, e := range entries {
		if err := m.add(e); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ------------------------------------------------------- checkpoints

type checkpoint struct {
	origin string
	tree   tlog.Tree
	ext    []string
	text   string
	note   *note.Note
}

// parseCheckpointText parses c2sp.org/tlog-checkpoint text strictly, and
// cross-checks lines 2 and 3 with x/mod's tlog.ParseTree (which insists on
// the first line "go.sum database tree", so that line is substituted).
func parseCheckpointText(text string) (*checkpoint, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("checkpoint text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("checkpoint text has %d lines, want at least 3", len(lines))
	}
	cp := &checkpoint{origin: lines[0], text: text}
	if cp.origin == "" {
		return nil, errors.New("empty origin line")
	}
	if !reDec.MatchString(lines[1]) {
		return nil, fmt.Errorf("size line %q is not a canonical decimal", lines[1])
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("size line %q: %v", lines[1], err)
	}
	h, err := parseHash(lines[2])
	if err != nil {
		return nil, fmt.Errorf("root hash line: %v", err)
	}
	cp.tree = tlog.Tree{N: n, Hash: h}
	for i, e := range lines[3:] {
		if e == "" {
			return nil, fmt.Errorf("empty extension line %d", i+4)
		}
		cp.ext = append(cp.ext, e)
	}
	gt, err := tlog.ParseTree([]byte("go.sum database tree\n" + strings.Join(lines[1:], "\n") + "\n"))
	if err != nil {
		return nil, fmt.Errorf("x/mod tlog.ParseTree (first line substituted): %v", err)
	}
	if gt != cp.tree {
		return nil, fmt.Errorf("x/mod tlog.ParseTree disagrees: %v vs %v", gt, cp.tree)
	}
	return cp, nil
}

func parseHash(s string) (tlog.Hash, error) {
	b, err := b64.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize || b64.EncodeToString(b) != s {
		return tlog.Hash{}, fmt.Errorf("%q is not a canonical base64 SHA-256 hash", s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h, nil
}

// openCheckpoint opens a signed checkpoint with x/mod note.Open, requires a
// verified signature by vkey, and requires origin == the key's name.
func openCheckpoint(raw []byte, vkey string) (*checkpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("x/mod note.NewVerifier(%q): %v", vkey, err)
	}
	n, err := note.Open(raw, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("x/mod note.Open: %v", err)
	}
	found := false
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			found = true
		}
	}
	if !found {
		return nil, errors.New("no verified signature by the log key")
	}
	cp, err := parseCheckpointText(n.Text)
	if err != nil {
		return nil, err
	}
	if cp.origin != v.Name() {
		return nil, fmt.Errorf("origin %q differs from the key name %q", cp.origin, v.Name())
	}
	cp.note = n
	return cp, nil
}

func readCheckpoint(path, vkey string) (*checkpoint, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cp, err := openCheckpoint(raw, vkey)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return cp, nil
}

// ------------------------------------------------------------ keys

func readKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func cmdGenkey(args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError("genkey NAME")
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, args[0])
	if err != nil {
		return "", err
	}
	return skey + "\n" + vkey, nil
}

func cmdCheckKey(args []string) (string, error) {
	if len(args) != 2 {
		return "", usageError("check-key SKEYFILE VKEY")
	}
	skey, err := readKeyFile(args[0])
	if err != nil {
		return "", err
	}
	vkey := strings.TrimSpace(args[1])
	s, err := note.NewSigner(skey)
	if err != nil {
		return "", fmt.Errorf("x/mod note.NewSigner rejects the signer key: %v", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", fmt.Errorf("x/mod note.NewVerifier rejects the verifier key %q: %v", vkey, err)
	}
	if s.Name() != v.Name() || s.KeyHash() != v.KeyHash() {
		return "", fmt.Errorf("signer %s+%08x and verifier %s+%08x differ", s.Name(), s.KeyHash(), v.Name(), v.KeyHash())
	}
	// The verifier key derived from the seed must be the same string.
	parts := strings.SplitN(skey, "+", 5)
	raw, err := b64.DecodeString(parts[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return "", errors.New("signer key material is not base64(0x01 || 32-byte seed) in canonical form")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	want, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return "", err
	}
	if want != vkey {
		return "", fmt.Errorf("verifier key %q, but x/mod derives %q from the signer key", vkey, want)
	}
	if fmt.Sprintf("%08x", s.KeyHash()) != parts[3] {
		return "", fmt.Errorf("key ID %q is not 8 lowercase hex digits", parts[3])
	}
	msg := "interop\ncheck\n"
	signed, err := note.Sign(&note.Note{Text: msg}, s)
	if err != nil {
		return "", err
	}
	if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
		return "", fmt.Errorf("note signed by x/mod with the signer key fails with the verifier key: %v", err)
	}
	return fmt.Sprintf("ok: keys %s+%08x accepted by x/mod note.NewSigner/NewVerifier and match", s.Name(), s.KeyHash()), nil
}

func cmdVkey(args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError("vkey SKEYFILE")
	}
	skey, err := readKeyFile(args[0])
	if err != nil {
		return "", err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return "", fmt.Errorf("x/mod note.NewSigner: %v", err)
	}
	raw, err := b64.DecodeString(strings.SplitN(skey, "+", 5)[4])
	if err != nil || len(raw) != 33 {
		return "", errors.New("signer key material is not base64(0x01 || 32-byte seed)")
	}
	return note.NewEd25519VerifierKey(s.Name(), ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey))
}

func cmdResign(args []string) (string, error) {
	if len(args) != 3 {
		return "", usageError("resign CHECKPOINTFILE SKEYFILE VKEY")
	}
	raw, err := os.ReadFile(args[0])
	if err != nil {
		return "", err
	}
	cp, err := openCheckpoint(raw, args[2])
	if err != nil {
		return "", err
	}
	skey, err := readKeyFile(args[1])
	if err != nil {
		return "", err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return "", fmt.Errorf("x/mod note.NewSigner: %v", err)
	}
	out, err := note.Sign(&note.Note{Text: cp.text}, s)
	if err != nil {
		return "", fmt.Errorf("x/mod note.Sign: %v", err)
	}
	if !bytes.Equal(out, raw) {
		return "", fmt.Errorf("x/mod note.Sign of the same text differs:\n--- file\n%s--- x/mod\n%s", raw, out)
	}
	return fmt.Sprintf("ok: x/mod re-signs the size-%d checkpoint to identical bytes", cp.tree.N), nil
}

func cmdSign(args []string) (string, error) {
	if len(args) != 2 {
		return "", usageError("sign SKEYFILE TEXTFILE")
	}
	skey, err := readKeyFile(args[0])
	if err != nil {
		return "", err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return "", err
	}
	text, err := os.ReadFile(args[1])
	if err != nil {
		return "", err
	}
	out, err := note.Sign(&note.Note{Text: string(text)}, s)
	if err != nil {
		return "", err
	}
	os.Stdout.Write(out)
	return "", nil
}

// ------------------------------------------------------- verify-log

func readLines(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, nil
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.Split(b, []byte("\n")), nil
}

func cmdVerifyLog(args []string) (string, error) {
	fs := flag.NewFlagSet("verify-log", flag.ContinueOnError)
	entriesFile := fs.String("entries", "", "file whose lines are the expected entries")
	cpFile := fs.String("checkpoint", "", "verify this (older) checkpoint against the directory")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 {
		return "", usageError("verify-log [-entries FILE] [-checkpoint CP] DIR VKEY")
	}
	dir, vkey := fs.Arg(0), fs.Arg(1)
	lenient := *cpFile != ""
	if !lenient {
		*cpFile = filepath.Join(dir, "checkpoint")
	}
	cp, err := readCheckpoint(*cpFile, vkey)
	if err != nil {
		return "", err
	}
	N := cp.tree.N
	var want [][]byte
	if *entriesFile != "" {
		if want, err = readLines(*entriesFile); err != nil {
			return "", err
		}
		if int64(len(want)) < N {
			return "", fmt.Errorf("checkpoint size %d but only %d expected entries", N, len(want))
		}
		want = want[:N]
	}
	d := &dirTiles{dir: dir, lenient: lenient}

	// 1. The entries, from the bundles.
	entries, err := readEntries(d, N)
	if err != nil {
		return "", err
	}
	for i, e := range want {
		if !bytes.Equal(e, entries[i]) {
			return "", fmt.Errorf("entry %d in the bundles is %q, want %q", i, trunc(entries[i]), trunc(e))
		}
	}

	// 2. An independent tree over those entries (x/mod tlog.StoredHashes).
	mt, err := buildTree(entries)
	if err != nil {
		return "", err
	}
	r, err := mt.root(N)
	if err != nil {
		return "", err
	}
	if r != cp.tree.Hash {
		return "", fmt.Errorf("checkpoint root %s, but x/mod computes %s over the %d entries in the bundles", cp.tree.Hash, r, N)
	}
	if N == 0 {
		if tiles, _ := listTiles(dir); len(tiles) != 0 && !lenient {
			return "", fmt.Errorf("size-0 log has tile files: %v", tiles)
		}
		return fmt.Sprintf("ok: size 0 root %s (SHA-256 of nothing)", cp.tree.Hash), nil
	}

	// 3. Every required tile, byte for byte, against tlog.ReadTileData.
	req := requiredTiles(N)
	for _, t := range req {
		b, err := d.readFile(t.L, t.N, t.W, tlog.HashSize, nil)
		if err != nil {
			return "", err
		}
		exp, err := tlog.ReadTileData(t, mt)
		if err != nil {
			return "", err
		}
		if !bytes.Equal(b, exp) {
			return "", fmt.Errorf("%s differs from x/mod tlog.ReadTileData (first difference at hash %d)", tilePath(t), firstDiff(b, exp)/tlog.HashSize)
		}
	}

	// 4. x/mod's TileHashReader over the tiles gives the root, and every
	// leaf hash equals RecordHash(entry). (TileHashReader is meant to
	// authenticate the tiles it reads, but in x/mod before v0.40.0 it skips
	// some of them -- GO-2026-6179, go.dev/issue/80744 -- which is why
	// step 3 compares every tile itself.)
	hr := tlog.TileHashReader(cp.tree, d)
	th, err := tlog.TreeHash(N, hr)
	if err != nil {
		return "", fmt.Errorf("x/mod tlog.TreeHash over the tiles: %v", err)
	}
	if th != cp.tree.Hash {
		return "", fmt.Errorf("x/mod tlog.TreeHash over the tiles = %s, checkpoint says %s", th, cp.tree.Hash)
	}
	idx := make([]int64, N)
	for i := range idx {
		idx[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leaves, err := hr.ReadHashes(idx)
	if err != nil {
		return "", fmt.Errorf("x/mod TileHashReader.ReadHashes(all leaves): %v", err)
	}
	for i, e := range entries {
		if leaves[i] != tlog.RecordHash(e) {
			return "", fmt.Errorf("leaf %d: tile hash %s, RecordHash(entry) %s", i, leaves[i], tlog.RecordHash(e))
		}
	}

	msg := fmt.Sprintf("ok: size %d root %s: %d tiles, %d entry bundles", N, cp.tree.Hash, len(req), (N+tileWidth-1)/tileWidth)
	if lenient {
		return msg + fmt.Sprintf(" (older checkpoint; %d reads fell back to a full or wider tile)", d.fallbacks), nil
	}

	// 5. Every file under tile/ has a C2SP name; those within the tree
	// (including leftover narrower partials) hold the right bytes.
	files, err := listTiles(dir)
	if err != nil {
		return "", err
	}
	stale, beyond := 0, 0
	for _, f := range files {
		level, n, w, err := parseTilePath(f)
		if err != nil {
			return "", err
		}
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", err
		}
		if level < 0 {
			end := n*tileWidth + int64(w)
			if end > N {
				beyond++
				continue
			}
			exp := encodeBundle(entries[n*tileWidth : end])
			if !bytes.Equal(b, exp) {
				return "", fmt.Errorf("%s: bytes differ from the entries (first difference at byte %d)", f, firstDiff(b, exp))
			}
		} else {
			m := N >> (uint(level) * tileHeight)
			if n*tileWidth+int64(w) > m {
				beyond++
				continue
			}
			exp, err := tlog.ReadTileData(tlog.Tile{H: tileHeight, L: level, N: n, W: w}, mt)
			if err != nil {
				return "", err
			}
			if !bytes.Equal(b, exp) {
				return "", fmt.Errorf("%s differs from x/mod tlog.ReadTileData", f)
			}
		}
		if w < tileWidth {
			m := N
			if level >= 0 {
				m = N >> (uint(level) * tileHeight)
			}
			if n*tileWidth+int64(w) < m { // the tile has grown since
				stale++
			}
		}
	}
	if stale > 0 {
		msg += fmt.Sprintf("; note: %d superseded narrower partial tiles/bundles kept (contents consistent)", stale)
	}
	if beyond > 0 {
		msg += fmt.Sprintf("; note: %d tile files beyond the checkpoint", beyond)
	}
	return msg, nil
}

func listTiles(dir string) ([]string, error) {
	var out []string
	root := filepath.Join(dir, "tile")
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == root {
				return filepath.SkipDir
			}
			return err
		}
		if info.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out, err
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) < len(b) {
		return len(a)
	}
	return len(b)
}

func trunc(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// ------------------------------------------------------- tlog-proof

type tlogProof struct {
	extra    []byte
	hasExtra bool
	index    int64
	path     tlog.RecordProof
	cp       []byte
}

// parseTlogProof parses c2sp.org/tlog-proof@v1 strictly and checks that
// re-formatting the parsed proof gives back the same bytes.
func parseTlogProof(b []byte) (*tlogProof, error) {
	i := bytes.Index(b, []byte("\n\n"))
	if i < 0 {
		return nil, errors.New("no empty line before the checkpoint")
	}
	head := strings.Split(string(b[:i]), "\n")
	p := &tlogProof{cp: b[i+2:]}
	if len(p.cp) == 0 {
		return nil, errors.New("no checkpoint after the empty line")
	}
	if head[0] != proofHdr {
		return nil, fmt.Errorf("first line %q, want %q", head[0], proofHdr)
	}
	k := 1
	if k < len(head) && strings.HasPrefix(head[k], "extra ") {
		e, err := b64.DecodeString(head[k][len("extra "):])
		if err != nil {
			return nil, fmt.Errorf("extra line: %v", err)
		}
		p.extra, p.hasExtra = e, true
		k++
	}
	if k >= len(head) || !strings.HasPrefix(head[k], "index ") {
		return nil, errors.New("no index line")
	}
	s := head[k][len("index "):]
	if !reDec.MatchString(s) {
		return nil, fmt.Errorf("index %q is not a canonical decimal", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("index %q: %v", s, err)
	}
	p.index = n
	for _, l := range head[k+1:] {
		h, err := parseHash(l)
		if err != nil {
			return nil, fmt.Errorf("proof line: %v", err)
		}
		p.path = append(p.path, h)
	}
	if len(p.path) > 63 {
		return nil, fmt.Errorf("%d proof hashes", len(p.path))
	}
	if f := formatTlogProof(p); !bytes.Equal(f, b) {
		return nil, errors.New("re-formatting the parsed proof gives different bytes")
	}
	return p, nil
}

func formatTlogProof(p *tlogProof) []byte {
	var buf bytes.Buffer
	buf.WriteString(proofHdr + "\n")
	if p.hasExtra {
		buf.WriteString("extra " + base64.StdEncoding.EncodeToString(p.extra) + "\n")
	}
	fmt.Fprintf(&buf, "index %d\n", p.index)
	for _, h := range p.path {
		buf.WriteString(h.String() + "\n")
	}
	buf.WriteString("\n")
	buf.Write(p.cp)
	return buf.Bytes()
}

func cmdCheckProof(args []string) (string, error) {
	fs := flag.NewFlagSet("check-proof", flag.ContinueOnError)
	dir := fs.String("dir", "", "also recompute the proof with tlog.ProveRecord over this directory's tiles")
	if err := fs.Parse(args); err != nil || fs.NArg() != 3 {
		return "", usageError("check-proof [-dir DIR] PROOFFILE ENTRYFILE VKEY")
	}
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return "", err
	}
	entry, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		return "", err
	}
	p, err := parseTlogProof(raw)
	if err != nil {
		return "", fmt.Errorf("tlog-proof: %v", err)
	}
	cp, err := openCheckpoint(p.cp, fs.Arg(2))
	if err != nil {
		return "", fmt.Errorf("embedded checkpoint: %v", err)
	}
	if err := tlog.CheckRecord(p.path, cp.tree.N, cp.tree.Hash, p.index, tlog.RecordHash(entry)); err != nil {
		return "", fmt.Errorf("x/mod tlog.CheckRecord(index %d, size %d): %v", p.index, cp.tree.N, err)
	}
	msg := fmt.Sprintf("ok: index %d in size %d (%d hashes) checked by tlog.CheckRecord", p.index, cp.tree.N, len(p.path))
	if *dir != "" {
		hr := tlog.TileHashReader(cp.tree, &dirTiles{dir: *dir, lenient: true})
		gp, err := tlog.ProveRecord(cp.tree.N, p.index, hr)
		if err != nil {
			return "", fmt.Errorf("x/mod tlog.ProveRecord over %s: %v", *dir, err)
		}
		if !equalHashes(gp, p.path) {
			return "", fmt.Errorf("x/mod tlog.ProveRecord gives a different path: %v vs %v", gp, p.path)
		}
		msg += "; identical to tlog.ProveRecord"
	}
	return msg, nil
}

func equalHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ------------------------------------------------------- consistency

func parseProofLines(b []byte) ([]tlog.Hash, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[len(b)-1] != '\n' {
		return nil, errors.New("proof does not end in a newline")
	}
	var out []tlog.Hash
	for i, l := range strings.Split(string(b[:len(b)-1]), "\n") {
		h, err := parseHash(l)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", i+1, err)
		}
		out = append(out, h)
	}
	return out, nil
}

func cmdCheckConsistency(args []string) (string, error) {
	fs := flag.NewFlagSet("check-consistency", flag.ContinueOnError)
	dir := fs.String("dir", "", "also recompute the proof with tlog.ProveTree over this directory's tiles")
	if err := fs.Parse(args); err != nil || fs.NArg() != 4 {
		return "", usageError("check-consistency [-dir DIR] OLDCP NEWCP PROOFLINES VKEY")
	}
	vkey := fs.Arg(3)
	old, err := readCheckpoint(fs.Arg(0), vkey)
	if err != nil {
		return "", err
	}
	nw, err := readCheckpoint(fs.Arg(1), vkey)
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(fs.Arg(2))
	if err != nil {
		return "", err
	}
	p, err := parseProofLines(raw)
	if err != nil {
		return "", fmt.Errorf("consistency proof: %v", err)
	}
	if old.origin != nw.origin {
		return "", fmt.Errorf("origins differ: %q, %q", old.origin, nw.origin)
	}
	if old.tree.N == 0 {
		// x/mod's CheckTree and ProveTree reject an old size of 0.
		if len(p) != 0 {
			return "", fmt.Errorf("consistency proof from size 0 has %d hashes, want none", len(p))
		}
		return "ok: size 0 -> any: empty proof (x/mod CheckTree does not take size 0)", nil
	}
	if err := tlog.CheckTree(p, nw.tree.N, nw.tree.Hash, old.tree.N, old.tree.Hash); err != nil {
		return "", fmt.Errorf("x/mod tlog.CheckTree(%d -> %d): %v", old.tree.N, nw.tree.N, err)
	}
	msg := fmt.Sprintf("ok: %d -> %d (%d hashes) checked by tlog.CheckTree", old.tree.N, nw.tree.N, len(p))
	if *dir != "" {
		hr := tlog.TileHashReader(nw.tree, &dirTiles{dir: *dir, lenient: true})
		gp, err := tlog.ProveTree(nw.tree.N, old.tree.N, hr)
		if err != nil {
			return "", fmt.Errorf("x/mod tlog.ProveTree over %s: %v", *dir, err)
		}
		if !equalHashes(gp, p) {
			return "", fmt.Errorf("x/mod tlog.ProveTree gives a different proof: %v vs %v", gp, p)
		}
		msg += "; identical to tlog.ProveTree"
	}
	return msg, nil
}

// ------------------------------------------------------------- roots

func cmdRoots(args []string) (string, error) {
	if len(args) < 2 {
		return "", usageError("roots ENTRIESFILE SIZE...")
	}
	lines, err := readLines(args[0])
	if err != nil {
		return "", err
	}
	mt, err := buildTree(lines)
	if err != nil {
		return "", err
	}
	var out []string
	for _, a := range args[1:] {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 || n > mt.n {
			return "", fmt.Errorf("bad size %q (have %d entries)", a, mt.n)
		}
		r, err := mt.root(n)
		if err != nil {
			return "", err
		}
		out = append(out, fmt.Sprintf("%d %s", n, r))
	}
	return strings.Join(out, "\n"), nil
}

// ------------------------------------------------------------- mklog

// cmdMklog writes a complete C2SP log directory with x/mod: hash tiles
// (tlog.ReadTileData), entry bundles and a checkpoint signed with
// note.Sign. The origin is the key's name.
func cmdMklog(args []string) (string, error) {
	if len(args) != 3 {
		return "", usageError("mklog DIR SKEYFILE ENTRIESFILE")
	}
	dir := args[0]
	skey, err := readKeyFile(args[1])
	if err != nil {
		return "", err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return "", err
	}
	entries, err := readLines(args[2])
	if err != nil {
		return "", err
	}
	mt, err := buildTree(entries)
	if err != nil {
		return "", err
	}
	N := mt.n
	write := func(rel string, b []byte) error {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, b, 0o644)
	}
	for _, t := range requiredTiles(N) {
		b, err := tlog.ReadTileData(t, mt)
		if err != nil {
			return "", err
		}
		if err := write(tilePath(t), b); err != nil {
			return "", err
		}
	}
	for k := int64(0); k*tileWidth < N; k++ {
		end := (k + 1) * tileWidth
		if end > N {
			end = N
		}
		if err := write(bundlePath(k, int(end-k*tileWidth)), encodeBundle(entries[k*tileWidth:end])); err != nil {
			return "", err
		}
	}
	r, err := mt.root(N)
	if err != nil {
		return "", err
	}
	text := fmt.Sprintf("%s\n%d\n%s\n", s.Name(), N, r)
	signed, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		return "", err
	}
	if err := write("checkpoint", signed); err != nil {
		return "", err
	}
	return fmt.Sprintf("ok: wrote a size-%d log with x/mod", N), nil
}

// ------------------------------------------------------------- prove

func cmdProve(args []string) (string, error) {
	fs := flag.NewFlagSet("prove", flag.ContinueOnError)
	extra := fs.String("extra", "", "base64 extra data")
	cosign := fs.String("cosign", "", "add a signature by this (other) signer key to the checkpoint")
	if err := fs.Parse(args); err != nil || fs.NArg() != 3 {
		return "", usageError("prove [-extra B64] [-cosign SKEYFILE] DIR INDEX VKEY")
	}
	dir := fs.Arg(0)
	idx, err := strconv.ParseInt(fs.Arg(1), 10, 64)
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return "", err
	}
	cp, err := openCheckpoint(raw, fs.Arg(2))
	if err != nil {
		return "", err
	}
	path, err := tlog.ProveRecord(cp.tree.N, idx, tlog.TileHashReader(cp.tree, &dirTiles{dir: dir}))
	if err != nil {
		return "", fmt.Errorf("x/mod tlog.ProveRecord: %v", err)
	}
	p := &tlogProof{index: idx, path: path, cp: raw}
	if *extra != "" {
		if p.extra, err = b64.DecodeString(*extra); err != nil {
			return "", err
		}
		p.hasExtra = true
	}
	if *cosign != "" {
		skey, err := readKeyFile(*cosign)
		if err != nil {
			return "", err
		}
		s, err := note.NewSigner(skey)
		if err != nil {
			return "", err
		}
		if p.cp, err = note.Sign(cp.note, s); err != nil {
			return "", err
		}
	}
	os.Stdout.Write(formatTlogProof(p))
	return "", nil
}

func cmdProveConsistency(args []string) (string, error) {
	if len(args) != 3 {
		return "", usageError("prove-consistency DIR OLDSIZE VKEY")
	}
	old, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		return "", err
	}
	cp, err := readCheckpoint(filepath.Join(args[0], "checkpoint"), args[2])
	if err != nil {
		return "", err
	}
	p, err := tlog.ProveTree(cp.tree.N, old, tlog.TileHashReader(cp.tree, &dirTiles{dir: args[0]}))
	if err != nil {
		return "", fmt.Errorf("x/mod tlog.ProveTree: %v", err)
	}
	for _, h := range p {
		fmt.Println(h)
	}
	return "", nil
}

// ---------------------------------------------------------- selftest

// cmdSelftest checks gocheck's own C2SP code (paths, tile sets, tlog-proof
// parsing, checkpoint parsing) against ../shared/vectors, which were made
// and cross-checked independently of probity.
func cmdSelftest(args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError("selftest SHAREDDIR")
	}
	vd := filepath.Join(args[0], "vectors")
	var n int

	// Tile paths and tile sets.
	var tv struct {
		SpecExamples []struct {
			Index int64  `json:"index"`
			NPath string `json:"n_path"`
		} `json:"spec_examples"`
		TilePath []struct {
			Level int    `json:"level"`
			Index int64  `json:"index"`
			Width int    `json:"width"`
			Path  string `json:"path"`
		} `json:"tile_path"`
		EntriesPath []struct {
			Index int64  `json:"index"`
			Width int    `json:"width"`
			Path  string `json:"path"`
		} `json:"entries_path"`
		ParseLevelIndex []struct {
			Level   string `json:"level"`
			Index   string `json:"index"`
			WantErr bool   `json:"wantErr"`
			Want    *struct {
				Level int   `json:"level"`
				Index int64 `json:"index"`
				Width int   `json:"width"`
			} `json:"want"`
		} `json:"parse_level_index"`
		Trees []struct {
			Size  int64 `json:"tree_size"`
			Tiles []struct {
				Path string `json:"path"`
			} `json:"tiles"`
			Bundles []struct {
				Path string `json:"path"`
			} `json:"entry_bundles"`
		} `json:"trees"`
	}
	if err := readJSON(filepath.Join(vd, "tiles.json"), &tv); err != nil {
		return "", err
	}
	for _, e := range tv.SpecExamples {
		if e.NPath != "" && nPath(e.Index) != e.NPath {
			return "", fmt.Errorf("nPath(%d) = %s, want %s", e.Index, nPath(e.Index), e.NPath)
		}
		n++
	}
	for _, e := range tv.TilePath {
		w := e.Width
		if w == 0 {
			w = tileWidth
		}
		if got := tilePath(tlog.Tile{H: tileHeight, L: e.Level, N: e.Index, W: w}); got != e.Path {
			return "", fmt.Errorf("tilePath = %s, want %s", got, e.Path)
		}
		n++
	}
	for _, e := range tv.EntriesPath {
		w := e.Width
		if w == 0 {
			w = tileWidth
		}
		if got := bundlePath(e.Index, w); got != e.Path {
			return "", fmt.Errorf("bundlePath = %s, want %s", got, e.Path)
		}
		n++
	}
	for _, e := range tv.ParseLevelIndex {
		L, idx, w, err := parseTilePath("tile/" + e.Level + "/" + e.Index)
		// The path parser here is canonical-only; tessera's accepts more.
		if e.WantErr && err == nil {
			return "", fmt.Errorf("parseTilePath accepts %s/%s", e.Level, e.Index)
		}
		if !e.WantErr && err != nil && e.Want != nil {
			ww := e.Want.Width
			if ww == 0 {
				ww = tileWidth
			}
			// Only a non-canonical spelling may be refused.
			if pathFor(e.Want.Level, e.Want.Index, ww) == "tile/"+e.Level+"/"+e.Index {
				return "", fmt.Errorf("parseTilePath refuses canonical %s/%s: %v", e.Level, e.Index, err)
			}
		}
		if !e.WantErr && err == nil {
			ww := e.Want.Width
			if ww == 0 {
				ww = tileWidth
			}
			if L != e.Want.Level || idx != e.Want.Index || w != ww {
				return "", fmt.Errorf("parseTilePath(%s/%s) = %d %d %d", e.Level, e.Index, L, idx, w)
			}
		}
		n++
	}
	for _, t := range tv.Trees {
		var got, want []string
		for _, x := range requiredTiles(t.Size) {
			got = append(got, tilePath(x))
		}
		for _, x := range t.Tiles {
			want = append(want, x.Path)
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			return "", fmt.Errorf("tiles for size %d: %v, want %v", t.Size, got, want)
		}
		n++
	}

	// The log1000 reference tiles and roots (made with x/mod upstream).
	var lv struct {
		EmptyRoot string `json:"empty_root"`
		Roots     []struct {
			Size int64  `json:"size"`
			Root string `json:"root"`
		} `json:"roots"`
	}
	if err := readJSON(filepath.Join(vd, "log1000.json"), &lv); err != nil {
		return "", err
	}
	var ents [][]byte
	for i := 0; i < 1000; i++ {
		ents = append(ents, []byte(fmt.Sprintf("entry-%d", i)))
	}
	mt, err := buildTree(ents)
	if err != nil {
		return "", err
	}
	if emptyRoot.String() != lv.EmptyRoot {
		return "", fmt.Errorf("empty root %s, want %s", emptyRoot, lv.EmptyRoot)
	}
	var root1000 tlog.Hash
	for _, r := range lv.Roots {
		h, _ := mt.root(r.Size)
		if h.String() != r.Root {
			return "", fmt.Errorf("log1000 root(%d) = %s, want %s", r.Size, h, r.Root)
		}
		if r.Size == 1000 {
			root1000 = h
		}
		n++
	}
	tree := tlog.Tree{N: 1000, Hash: root1000}
	d := &dirTiles{dir: filepath.Join(vd, "tiles", "log1000")}
	got, err := readEntries(d, 1000)
	if err != nil {
		return "", err
	}
	for i := range got {
		if !bytes.Equal(got[i], ents[i]) {
			return "", fmt.Errorf("log1000 bundle entry %d", i)
		}
	}
	if h, err := tlog.TreeHash(1000, tlog.TileHashReader(tree, d)); err != nil || h != root1000 {
		return "", fmt.Errorf("log1000 tiles: TreeHash %v %v", h, err)
	}
	n += 2

	// Sunlight's (torchwood's) tiles of a 300-leaf tree.
	sd := filepath.Join(vd, "tiles", "sunlight-mirror-300")
	if raw, err := os.ReadFile(filepath.Join(sd, "checkpoint")); err == nil {
		i := bytes.Index(raw, []byte("\n\n"))
		cp, err := parseCheckpointText(string(raw[:i+1]))
		if err != nil {
			return "", fmt.Errorf("sunlight checkpoint: %v", err)
		}
		h, err := tlog.TreeHash(cp.tree.N, tlog.TileHashReader(cp.tree, &dirTiles{dir: sd}))
		if err != nil || h != cp.tree.Hash {
			return "", fmt.Errorf("sunlight tiles: TreeHash %v %v", h, err)
		}
		n++
	}

	// tlog-proof vectors, with the log1000 key.
	var nv struct {
		Keys []struct {
			ID   string `json:"id"`
			Vkey string `json:"vkey"`
		} `json:"keys"`
	}
	if err := readJSON(filepath.Join(vd, "note.json"), &nv); err != nil {
		return "", err
	}
	var vkey string
	for _, k := range nv.Keys {
		if k.ID == "log1000" {
			vkey = k.Vkey
		}
	}
	var pv struct {
		Vectors []struct {
			ID        string `json:"id"`
			ProofText string `json:"proof_text"`
			Entry     string `json:"entry"`
			WantValid bool   `json:"want_valid"`
		} `json:"vectors"`
	}
	if err := readJSON(filepath.Join(vd, "tlog-proof.json"), &pv); err != nil {
		return "", err
	}
	for _, v := range pv.Vectors {
		err := func() error {
			p, err := parseTlogProof([]byte(v.ProofText))
			if err != nil {
				return err
			}
			cp, err := openCheckpoint(p.cp, vkey)
			if err != nil {
				return err
			}
			return tlog.CheckRecord(p.path, cp.tree.N, cp.tree.Hash, p.index, tlog.RecordHash([]byte(v.Entry)))
		}()
		if (err == nil) != v.WantValid {
			return "", fmt.Errorf("tlog-proof vector %s: got %v, want valid=%v", v.ID, err, v.WantValid)
		}
		n++
	}
	return fmt.Sprintf("ok: %d self-test vectors", n), nil
}

func readJSON(path string, v interface{}) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}
