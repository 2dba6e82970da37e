/* The fault-injecting store of faulty.h. */
#include <string.h>

#include "faulty.h"

/* The process is dead once die_at calls were made. */
static int
dead(faulty *f, prb_err *err)
{
	if (f->die_at == 0 || ++f->nops <= f->die_at)
		return 0;
	f->fired = 1;
	return prb_err_set(err, PRB_EIO, "killed", UINT64_MAX, "killed");
}

static int
fault(faulty *f, int op, prb_err *err)
{
	if (f->fired || op != f->op || ++f->calls[op] != f->at)
		return 0;
	f->fired = 1;
	return prb_err_set(err, f->code, "injected", UINT64_MAX,
	                   "injected fault");
}

static int
f_get(prb_store *s, const char *n, uint8_t **d, size_t *l, prb_err *e)
{
	faulty *f = (faulty *)s;
	if (dead(f, e))
		return PRB_EIO;
	if (f->fail_tile_reads && strncmp(n, "tile/", 5) == 0) {
		f->fail_tile_reads = 0;
		f->fired = 1;
		return prb_err_set(e, PRB_EIO, n, UINT64_MAX, "transient");
	}
	return f->in->ops->get(f->in, n, d, l, e);
}

static int
f_put(prb_store *s, const char *n, const uint8_t *d, size_t l, prb_err *e)
{
	faulty *f = (faulty *)s;
	if (dead(f, e))
		return PRB_EIO;
	int rc = f->after ? 0 : fault(f, OP_PUT, e);
	if (rc == 0)
		rc = f->in->ops->put(f->in, n, d, l, e);
	return rc ? rc : f->after ? fault(f, OP_PUT, e) : 0;
}

static int
f_sync(prb_store *s, prb_err *e)
{
	faulty *f = (faulty *)s;
	if (dead(f, e))
		return PRB_EIO;
	int rc = f->after ? 0 : fault(f, OP_SYNC, e);
	if (rc == 0)
		rc = f->in->ops->sync(f->in, e);
	return rc ? rc : f->after ? fault(f, OP_SYNC, e) : 0;
}

static int
f_ckpt(prb_store *s, const uint8_t *o, size_t ol, const uint8_t *d, size_t l,
       prb_err *e)
{
	faulty *f = (faulty *)s;
	if (dead(f, e))
		return PRB_EIO;
	int rc = f->after ? 0 : fault(f, OP_CKPT, e);
	if (rc == 0)
		rc = f->in->ops->set_checkpoint(f->in, o, ol, d, l, e);
	return rc ? rc : f->after ? fault(f, OP_CKPT, e) : 0;
}

static int
f_list(prb_store *s, const char *p, int (*fn)(void *, const char *), void *c,
       prb_err *e)
{
	faulty *f = (faulty *)s;
	if (dead(f, e))
		return PRB_EIO;
	return f->in->ops->list(f->in, p, fn, c, e);
}

static int
f_remove(prb_store *s, const char *n, prb_err *e)
{
	faulty *f = (faulty *)s;
	if (dead(f, e))
		return PRB_EIO;
	return f->in->ops->remove(f->in, n, e);
}

static int
f_lock(prb_store *s, int w, prb_err *e)
{
	faulty *f = (faulty *)s;
	if (dead(f, e))
		return PRB_EIO;
	return f->in->ops->lock(f->in, w, e);
}

void
faulty_close(prb_store *s)
{
	(void)s;
}

/* No commit(): the log calls sync() and set_checkpoint() itself. */
const prb_store_ops faulty_ops = {f_get,    f_put,    f_sync,
                                         f_ckpt,   f_list,   f_remove,
                                         f_lock,   faulty_close, NULL,
                                         NULL};

void
faulty_wrap(faulty *f, prb_store *in)
{
	memset(f, 0, sizeof *f);
	f->base.ops = &faulty_ops;
	f->in = in;
}
