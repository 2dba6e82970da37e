/* Internal to policy.c, audit.c and evidence.c. */
#ifndef PRB_AUDIT_INT_H
#define PRB_AUDIT_INT_H

#include <stddef.h>

#include <jansson.h>

#include "probity/checkpoint.h"
#include "probity/error.h"

/* A NUL-terminated malloc'd copy of s[0..n), or NULL. */
char *prb_audit_dupn(const char *s, size_t n);

/* Sets err with where = "FILE:LINE" and message msg followed by arg
 * (when not NULL); returns code. */
int prb_policy_err(prb_err *err, int code, const char *file, unsigned line,
                   const char *msg, const char *arg);

/* {"origin", "size", "root" (base64, as in the note)} of cp, or NULL. */
json_t *prb_audit_checkpoint_json(const prb_checkpoint *cp);

/* The largest file of role `rel` (a path in an evidence bundle) that a
 * bundle may hold (evidence.h bounds). */
size_t prb_evidence_role_max(const char *rel);

#endif
