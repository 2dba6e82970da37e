/*
 * The filesystem store's sync modes: which filesystems --sync fs is
 * allowed on (prb_store_syncfs_trusted, from a statfs f_type), refusal at
 * open, and --sync files making many files in many directories durable in
 * one commit (with few descriptors too), with a failed sync final for the
 * handle (store.h item 3).
 * The log over the store, and faults injected through the storage
 * interface, are in test_log.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "probity/store.h"
#include "base/util.h"
#include "t.h"

static char tmproot[] = "/tmp/probity-test-store-XXXXXX";

/* Whether dir/name holds exactly `want`, read from the filesystem. */
static int
file_is(const char *dir, const char *name, const char *want)
{
	char path[4400];
	uint8_t *data;
	size_t len;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (prb_read_file(path, 1 << 20, &data, &len, NULL) != 0)
		return 0;
	int same = len == strlen(want) && memcmp(data, want, len) == 0;
	free(data);
	return same;
}

static void
test_fs_types(void)
{
	static const struct {
		uint64_t f_type;
		int trusted;
		const char *name;
	} cases[] = {
		{0xEF53, 1, "ext2/ext3/ext4"},
		{0x58465342, 1, "xfs"},
		{0x9123683E, 1, "btrfs"},
		{0xF2F52010, 1, "f2fs"},
		{0x01021994, 1, "tmpfs"},
		/* a 32-bit f_type sign-extended into 64 bits */
		{UINT64_C(0xFFFFFFFFF2F52010), 1, "f2fs"},
		{0x65735546, 0, "FUSE"}, /* sshfs, s3fs, LazyFS, virtiofs... */
		{0x6969, 0, "nfs"},
		{0xFF534D42, 0, "cifs"},
		{0x794C7630, 0, "overlayfs"},
		{0, 0, "unknown"},
		{0x12345678, 0, "unknown"},
		/* only the low 32 bits name a filesystem */
		{UINT64_C(0x100000000) | 0x65735546, 0, "FUSE"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *name = NULL;
		int got = prb_store_syncfs_trusted(cases[i].f_type, &name);
		CHECK(got == cases[i].trusted && name &&
		              strcmp(name, cases[i].name) == 0,
		      "f_type 0x%llx: trusted %d (%s), want %d (%s)",
		      (unsigned long long)cases[i].f_type, got,
		      name ? name : "NULL", cases[i].trusted, cases[i].name);
	}
	CHECK(prb_store_syncfs_trusted(0xEF53, NULL) == 1 &&
	              prb_store_syncfs_trusted(0x65735546, NULL) == 0,
	      "the name may be left out");
}

/* Opening with PRB_SYNC_FS follows the decision for the filesystem the
 * directory is on; an unknown mode is refused. */
static void
test_open_modes(const char *dir)
{
	struct statfs sf;
	prb_store *st = NULL;
	prb_err err;
	prb_err_clear(&err);
	if (statfs(dir, &sf) != 0) {
		SKIP("statfs %s: %s", dir, strerror(errno));
		return;
	}
	const char *name;
	int trusted = prb_store_syncfs_trusted((uint64_t)sf.f_type, &name);
	int rc = prb_store_open_dir(dir, PRB_SYNC_FS, &st, &err);
	if (trusted)
		CHECK(rc == 0, "--sync fs opens on %s: %s", name, err.msg);
	else
		CHECK(rc == PRB_EINVAL && strstr(err.msg, name) &&
		              strstr(err.msg, "files"),
		      "--sync fs is refused on %s, naming it and the default: %s",
		      name, err.msg);
	prb_store_close(st);
	st = NULL;
	CHECK(prb_store_open_dir(dir, PRB_SYNC_FILES, &st, NULL) == 0,
	      "--sync files opens anywhere");
	prb_store_close(st);
	st = NULL;
	CHECK(prb_store_open_dir(dir, 7, &st, &err) == PRB_EINVAL && !st,
	      "an unknown sync mode is refused (%s)", err.msg);
}

/* Many files in many directories, in two pipelined commits: every one is
 * there afterwards, and the second commit's files were not needed by the
 * first. More files than the syncer threads, and than a small fd limit. */
static void
test_many_files(const char *dir)
{
	prb_store *st;
	prb_err err;
	prb_err_clear(&err);
	int ok = prb_store_open_dir(dir, PRB_SYNC_FILES, &st, &err) == 0;
	char name[64], body[64];
	for (int i = 0; ok && i < 3000; i++) {
		snprintf(name, sizeof name, "tile/%d/x%03d/%03d", i % 3, i / 500,
		         i % 1000);
		snprintf(body, sizeof body, "file %d", i);
		ok &= st->ops->put(st, name, (const uint8_t *)body, strlen(body),
		                   &err) == 0;
		if (i == 1999)
			ok &= st->ops->commit(st, NULL, 0,
			                      (const uint8_t *)"c1\n", 3,
			                      &err) == 0;
	}
	ok = ok &&
	     st->ops->commit(st, (const uint8_t *)"c1\n", 3,
	                     (const uint8_t *)"c2\n", 3, &err) == 0 &&
	     st->ops->commit_wait(st, &err) == 0 &&
	     st->ops->commit_wait(st, &err) == 0;
	CHECK(ok && file_is(dir, "checkpoint", "c2\n"),
	      "3000 files in 18 directories, two pipelined commits (%s)",
	      err.msg);
	int all = 1;
	for (int i = 0; ok && i < 3000; i += 7) {
		snprintf(name, sizeof name, "tile/%d/x%03d/%03d", i % 3, i / 500,
		         i % 1000);
		snprintf(body, sizeof body, "file %d", i);
		all &= file_is(dir, name, body);
	}
	CHECK(all, "every file holds its bytes");
	prb_store_close(st);
}

/* A sync that fails is final: the commit fails and leaves the checkpoint,
 * and so does every later sync or commit on the handle, even once what
 * made it fail is gone. A directory moved away under the store makes its
 * fsync fail. */
static void
test_failed_sync_is_final(const char *dir)
{
	char from[4400], to[4400];
	prb_store *st;
	prb_err err;
	prb_err_clear(&err);
	int ok = prb_store_open_dir(dir, PRB_SYNC_FILES, &st, &err) == 0 &&
	         st->ops->set_checkpoint(st, NULL, 0, (const uint8_t *)"a\n", 2,
	                                 &err) == 0 &&
	         st->ops->put(st, "tile/5/x001/000", (const uint8_t *)"x", 1,
	                      &err) == 0;
	uint8_t *data;
	size_t len;
	ok &= st->ops->get(st, "tile/5/x001/000", &data, &len, &err) == 0;
	if (ok)
		free(data); /* the write is done */
	snprintf(from, sizeof from, "%s/tile/5", dir);
	snprintf(to, sizeof to, "%s/tile/5-moved", dir);
	ok &= rename(from, to) == 0;
	int rc = ok ? st->ops->commit(st, (const uint8_t *)"a\n", 2,
	                              (const uint8_t *)"b\n", 2, &err)
	            : -1;
	if (rc == 0)
		rc = st->ops->commit_wait(st, &err);
	CHECK(ok && rc == PRB_EIO && strstr(err.where, "tile/5") &&
	              file_is(dir, "checkpoint", "a\n"),
	      "a failed directory fsync fails the commit, which leaves the "
	      "checkpoint (%d %s: %s)", rc, err.where, err.msg);
	rename(to, from);
	prb_err_clear(&err);
	CHECK(st->ops->sync(st, &err) == PRB_EIO,
	      "a later sync fails too, though it would succeed now (%s)",
	      err.msg);
	rc = st->ops->commit(st, (const uint8_t *)"a\n", 2,
	                     (const uint8_t *)"c\n", 2, &err);
	if (rc == 0)
		rc = st->ops->commit_wait(st, &err);
	CHECK(rc == PRB_EIO && file_is(dir, "checkpoint", "a\n"),
	      "and so does a later commit (%d %s)", rc, err.msg);
	prb_store_close(st);
	ok = prb_store_open_dir(dir, PRB_SYNC_FILES, &st, &err) == 0 &&
	     st->ops->put(st, "tile/5/x001/001", (const uint8_t *)"y", 1,
	                  &err) == 0 &&
	     st->ops->set_checkpoint(st, (const uint8_t *)"a\n", 2,
	                             (const uint8_t *)"d\n", 2, &err) == 0;
	CHECK(ok && file_is(dir, "checkpoint", "d\n"),
	      "a new handle commits again (%s)", err.msg);
	prb_store_close(st);
}

int
main(void)
{
	char d[4200];
	if (!mkdtemp(tmproot)) {
		perror("mkdtemp");
		return 1;
	}
	test_fs_types();
	test_open_modes(tmproot);
	snprintf(d, sizeof d, "%s/many", tmproot);
	mkdir(d, 0755);
	test_many_files(d);
	/* with few descriptors, most files are fsynced by name */
	struct rlimit rl, low;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		low = rl;
		low.rlim_cur = 64;
		snprintf(d, sizeof d, "%s/fewfds", tmproot);
		mkdir(d, 0755);
		if (setrlimit(RLIMIT_NOFILE, &low) == 0) {
			test_many_files(d);
			setrlimit(RLIMIT_NOFILE, &rl);
		} else {
			SKIP("cannot lower RLIMIT_NOFILE: %s", strerror(errno));
		}
	}
	snprintf(d, sizeof d, "%s/fail", tmproot);
	mkdir(d, 0755);
	test_failed_sync_is_final(d);
	t_rm_rf(tmproot);
	return T_DONE("test_store");
}
