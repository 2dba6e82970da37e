/*
 * c2sp.org/signed-note: Ed25519 signer and verifier keys, signing and
 * opening notes. Also verifies c2sp.org/tlog-cosignature cosignature/v1
 * (type 0x04) signatures, whose verifier keys share the vkey format.
 *
 *   signer key   PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>
 *   verifier key <name>+<hex key ID>+<base64(type || public key)>
 *   key ID       SHA-256(name || 0x0A || type || public key)[:4]
 *
 * Key names are 1..PRB_NAME_MAX bytes of UTF-8 with no Unicode space and no
 * '+'. The key ID in a key string must be 8 lowercase hex digits, as
 * c2sp.org/signed-note says (x/mod also accepts upper case; probity does
 * not). Signers hold secret key material: prb_signer_free wipes it.
 */
#ifndef PROBITY_NOTE_H
#define PROBITY_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PRB_NAME_MAX 255
#define PRB_NOTE_MAX_SIGS 100 /* >= the 16 the spec asks verifiers accept */
#define PRB_NOTE_MAX_SIZE (1u << 20) /* whole note; 100 ML-DSA lines fit */
#define PRB_KEY_MAX 512       /* longest key string we write */
#define PRB_SIG_ED25519 0x01
#define PRB_SIG_COSIGV1 0x04

typedef struct prb_signer prb_signer;

typedef struct {
	char name[PRB_NAME_MAX + 1];
	uint32_t id;
	uint8_t type; /* PRB_SIG_ED25519 or PRB_SIG_COSIGV1 */
	uint8_t pub[32];
} prb_verifier;

/* Parses a signer key string (surrounding whitespace ignored). The key ID
 * must match the one derived from the seed. *out is freed with
 * prb_signer_free. PRB_EKEY on any defect. */
int prb_signer_parse(const char *skey, size_t len, prb_signer **out,
                     prb_err *err);

/* A new random Ed25519 signer (OpenSSL's RNG) with the given name. */
int prb_signer_generate(const char *name, prb_signer **out, prb_err *err);

/* Reads a signer key from a file (e.g. KEYFILE of the command line). */
int prb_signer_load(const char *path, prb_signer **out, prb_err *err);

/* Wipes and frees. Accepts NULL. */
void prb_signer_free(prb_signer *s);

/* Name of the key; valid until prb_signer_free. */
const char *prb_signer_name(const prb_signer *s);

/* Writes the signer key string or its verifier key string, NUL-terminated,
 * into buf (PRB_KEY_MAX bytes suffice). Returns 0 or PRB_EINVAL. */
int prb_signer_skey(const prb_signer *s, char *buf, size_t cap);
int prb_signer_vkey(const prb_signer *s, char *buf, size_t cap);

/* The verifier matching a signer. */
void prb_signer_verifier(const prb_signer *s, prb_verifier *out);

/* Parses a verifier key string (surrounding whitespace ignored); types
 * 0x01 and 0x04 are understood. PRB_EKEY on any defect. */
int prb_verifier_parse(const char *vkey, size_t len, prb_verifier *out,
                       prb_err *err);

/* Accepts either a verifier key string or the path of a file holding one. */
int prb_verifier_load(const char *arg, prb_verifier *out, prb_err *err);

/* Formats a verifier as a key string. */
int prb_verifier_format(const prb_verifier *v, char *buf, size_t cap);

/* Signs `text` (which must be a valid note text: UTF-8, ends in '\n', no
 * control characters but '\n', no blank line needed) with each signer and
 * returns the note in a malloc'd, NUL-terminated *out of *outlen bytes. */
int prb_note_sign(const char *text, size_t len, prb_signer *const *signers,
                  size_t nsigners, char **out, size_t *outlen, prb_err *err);

typedef struct {
	char *name;      /* the signer's key name, NUL-terminated; owned by
	                    the prb_note (an unknown signer's name may be
	                    longer than PRB_NAME_MAX) */
	uint32_t id;
	const prb_verifier *verifier; /* NULL for an unverified signature */
	uint64_t timestamp;           /* cosignature/v1 only */
	char *line;      /* the whole signature line, '\n' excluded, NUL-
	                    terminated; owned by the prb_note */
	size_t line_len;
} prb_note_sig;

typedef struct {
	char *text;   /* note text including its final '\n'; NUL-terminated */
	size_t text_len;
	prb_note_sig *sigs; /* verified first (nverified), then unverified */
	size_t nsigs;
	size_t nverified;
} prb_note;

/*
 * Opens a signed note as golang.org/x/mod/sumdb/note.Open does: the note
 * must be UTF-8 with no control characters but '\n'; the text ends at the
 * last blank line; every signature line is "— name base64\n". A signature
 * whose (name, key ID) matches a verifier must verify (else PRB_EBADSIG),
 * later signatures by the same known key are dropped unread, as are
 * repeated identical unknown ones, and at least one known signature must
 * verify (else PRB_ENOSIG). At most PRB_NOTE_MAX_SIGS signature lines and
 * PRB_NOTE_MAX_SIZE bytes (else PRB_EMALFORMED). Unknown signatures are kept as unverified. A
 * signature matching two configured verifiers: PRB_EAMBIGUOUS.
 * *out is freed with prb_note_free; its verifier pointers point into `vs`.
 */
int prb_note_open(const uint8_t *msg, size_t len, const prb_verifier *vs,
                  size_t nvs, prb_note **out, prb_err *err);

/* Reads a note's structure without verifying anything: the same checks
 * as prb_note_open, with every signature unverified. For showing or
 * forwarding a note whose keys are not at hand; never trust its text. */
int prb_note_parse(const uint8_t *msg, size_t len, prb_note **out,
                   prb_err *err);

/* The length of a signed note's text, its blank line and its first
 * signature line with its '\n' (the signer's own, ahead of cosignatures
 * added later), or 0 if there is no such line. Checks nothing else. */
size_t prb_note_first_sig_end(const char *note, size_t len);

/* Frees a note. Accepts NULL. */
void prb_note_free(prb_note *n);

/*
 * c2sp.org/tlog-cosignature cosigners: Ed25519 keys of signature type 0x04
 * that sign cosignature/v1 timestamped signatures.
 *
 *   cosigner key   PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || seed)>
 *   verifier key   <name>+<hex key ID>+<base64(0x04 || public key)>
 *   key ID         SHA-256(name || 0x0A || 0x04 || public key)[:4]
 *
 * A cosigner is not a note signer: prb_signer_parse refuses 0x04 keys and
 * prb_cosigner_parse refuses 0x01 keys, so one Ed25519 key never signs
 * both kinds of message. Names as for signers. A cosigner holds secret key
 * material: prb_cosigner_free wipes it. A cosigner may be used by several
 * threads at once (signing does not modify it).
 */
typedef struct prb_cosigner prb_cosigner;

/* A new random cosigner (OpenSSL's RNG) named `name`; PRB_EKEY for an
 * invalid name. Freed with prb_cosigner_free. */
int prb_cosigner_generate(const char *name, prb_cosigner **out,
                          prb_err *err);

/* Parses a cosigner key string (surrounding whitespace ignored); the key
 * ID must match the seed. PRB_EKEY on any defect. */
int prb_cosigner_parse(const char *skey, size_t len, prb_cosigner **out,
                       prb_err *err);

/* Reads a cosigner key from a file (as written by `probity keygen
 * --witness`). */
int prb_cosigner_load(const char *path, prb_cosigner **out, prb_err *err);

/* Wipes and frees. Accepts NULL. */
void prb_cosigner_free(prb_cosigner *c);

/* Name of the key; valid until prb_cosigner_free. */
const char *prb_cosigner_name(const prb_cosigner *c);

/* The cosigner key string / its verifier key string, NUL-terminated, into
 * buf (PRB_KEY_MAX bytes suffice). 0 or PRB_EINVAL. */
int prb_cosigner_skey(const prb_cosigner *c, char *buf, size_t cap);
int prb_cosigner_vkey(const prb_cosigner *c, char *buf, size_t cap);

/* The verifier (type PRB_SIG_COSIGV1) of a cosigner. */
void prb_cosigner_verifier(const prb_cosigner *c, prb_verifier *out);

/* Longest cosignature line prb_cosigner_sign writes, NUL included. */
#define PRB_COSIG_LINE_MAX (PRB_NAME_MAX + 128)

/* Cosigns a note text (e.g. a checkpoint body, extension lines included,
 * ending in '\n'; the signature block excluded) at `timestamp` (POSIX
 * seconds, 1..2^63-1): writes the signature line
 *   "— <name> base64(key ID || uint64be timestamp || Ed25519 signature
 *    over "cosignature/v1\ntime <timestamp>\n" || text)"
 * NUL-terminated and without a final '\n' into line (PRB_COSIG_LINE_MAX
 * bytes suffice). PRB_EMALFORMED for an invalid text, PRB_EINVAL for a
 * timestamp out of range or a short buffer. */
int prb_cosigner_sign(const prb_cosigner *c, uint64_t timestamp,
                      const char *text, size_t len, char *line, size_t cap,
                      prb_err *err);

/* The message a cosignature/v1 signs: "cosignature/v1\ntime T\n" || body,
 * malloc'd into *out. */
int prb_cosig_message(uint64_t timestamp, const char *body, size_t len,
                      uint8_t **out, size_t *outlen);

#endif
