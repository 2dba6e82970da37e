/* Error codes and the error record. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probity/error.h"

const char *
prb_strerror(int code)
{
	switch (code) {
	case PRB_OK: return "success";
	case PRB_EIO: return "input/output error";
	case PRB_ENOMEM: return "out of memory";
	case PRB_EINVAL: return "invalid argument";
	case PRB_ENOTFOUND: return "not found";
	case PRB_EEXIST: return "already exists";
	case PRB_ELOCKED: return "locked by another writer";
	case PRB_ENOSPC: return "no space left on storage";
	case PRB_ECONFLICT: return "checkpoint changed concurrently";
	case PRB_EMALFORMED: return "malformed input";
	case PRB_ETOOBIG: return "too big";
	case PRB_EKEY: return "malformed key";
	case PRB_EBADSIG: return "signature does not verify";
	case PRB_ENOSIG: return "no signature from a known key";
	case PRB_EAMBIGUOUS: return "ambiguous verifier keys";
	case PRB_EPROOF: return "proof does not verify";
	case PRB_EORIGIN: return "key does not match the log origin";
	case PRB_ESPLIT: return "two signed checkpoints of the log conflict";
	case PRB_ECORRUPT: return "log storage is inconsistent";
	case PRB_EFAILED: return "log handle failed earlier; reopen it";
	case PRB_EINDOUBT: return "commit outcome unknown; reopen the log";
	default: return "unknown error";
	}
}

int
prb_err_set(prb_err *err, int code, const char *where, uint64_t offset,
            const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	err->offset = offset;
	snprintf(err->where, sizeof err->where, "%s", where ? where : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

void
prb_err_clear(prb_err *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof *err);
	err->offset = UINT64_MAX;
}

void
prb_err_prefix(prb_err *err, const char *dir)
{
	char w[2 * sizeof err->where];
	if (!err || !err->where[0])
		return;
	int n = snprintf(w, sizeof w, "%s/%s", dir, err->where);
	size_t len = n < 0 ? 0 : (size_t)n;
	if (len >= sizeof err->where)
		len = sizeof err->where - 1;
	memcpy(err->where, w, len);
	err->where[len] = 0;
}
