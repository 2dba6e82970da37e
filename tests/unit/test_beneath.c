/*
 * Opening under a directory others may write to (util.h,
 * prb_open_beneath and friends): a link in any component, a ".." or an
 * absolute name leaving the directory, a FIFO, and a second hard link of
 * a file to be written are refused, and nothing outside is touched; the
 * durable write goes through the parent's descriptor alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "t.h"

static char root[64], in[128], out[128];

/* The bytes of the file at path ("" when it cannot be read). */
static const char *
slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* opens NAME beneath the directory `in` with flags; the errno, 0 if it
 * opened */
static int
try_open(int dir, const char *name, int flags)
{
	int fd = prb_open_beneath(dir, name, flags, 0644);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

int
main(void)
{
	char p[256];
	snprintf(root, sizeof root, "/tmp/prb-beneath-XXXXXX");
	if (!mkdtemp(root)) {
		CHECK(0, "mkdtemp");
		return T_DONE("test_beneath");
	}
	snprintf(in, sizeof in, "%s/in", root);
	snprintf(out, sizeof out, "%s/out", root);
	mkdir(in, 0755);
	mkdir(out, 0755);
	snprintf(p, sizeof p, "%s/secret", out);
	put(p, "secret");
	int dir = open(in, O_RDONLY | O_DIRECTORY);

	/* links: last component, middle component, "..", absolute */
	snprintf(p, sizeof p, "%s/link", in);
	CHECK(symlink("../out/secret", p) == 0, "symlink");
	CHECK(try_open(dir, "link", O_RDONLY) == ELOOP, "a link is refused");
	CHECK(try_open(dir, "link", O_WRONLY | O_CREAT | O_TRUNC) == ELOOP,
	      "a link is refused for writing");
	snprintf(p, sizeof p, "%s/sub", in);
	CHECK(symlink("../out", p) == 0, "symlink dir");
	CHECK(try_open(dir, "sub/secret", O_RDONLY) == ELOOP,
	      "a link in a middle component is refused");
	CHECK(try_open(dir, "sub/new", O_WRONLY | O_CREAT | O_EXCL) == ELOOP,
	      "no file is created behind a linked directory");
	CHECK(prb_mkdir_beneath(dir, "sub/d", 0755) != 0 && errno == ELOOP,
	      "no directory is made behind a linked directory");
	CHECK(prb_unlink_beneath(dir, "sub/secret", 0) != 0 && errno == ELOOP,
	      "nothing is removed behind a linked directory");
	CHECK(try_open(dir, "../out/secret", O_RDONLY) == EXDEV,
	      "\"..\" out of the directory is refused");
	snprintf(p, sizeof p, "%s/secret", out);
	CHECK(try_open(dir, p, O_RDONLY) == EXDEV, "an absolute name is "
	      "refused");
	CHECK(strcmp(slurp(p), "secret") == 0, "the file outside is intact");
	CHECK(access(p, F_OK) == 0, "and still there");

	/* a FIFO is refused at once, never waited on */
	snprintf(p, sizeof p, "%s/fifo", in);
	CHECK(mkfifo(p, 0644) == 0, "mkfifo");
	CHECK(try_open(dir, "fifo", O_RDONLY) == ENODEV, "a FIFO is refused "
	      "for reading");
	int e = try_open(dir, "fifo", O_WRONLY);
	CHECK(e == ENXIO || e == ENODEV, "a FIFO is refused for writing (%d)",
	      e);

	/* a hard link to a file outside: read yes, write no, never truncated */
	char h[256];
	snprintf(p, sizeof p, "%s/secret", out);
	snprintf(h, sizeof h, "%s/hard", in);
	CHECK(link(p, h) == 0, "link");
	CHECK(try_open(dir, "hard", O_RDONLY) == 0, "a hard-linked file reads");
	CHECK(try_open(dir, "hard", O_WRONLY | O_TRUNC) == EMLINK,
	      "a hard-linked file is refused for writing");
	CHECK(strcmp(slurp(p), "secret") == 0, "and was not truncated");

	/* the durable write through the parent's descriptor */
	prb_err err;
	CHECK(prb_mkdir_beneath(dir, "d", 0755) == 0, "mkdir beneath");
	CHECK(prb_write_durable(dir, "d/f", "new", 3, 0644, 0, &err) == 0,
	      "durable write beneath: %s", err.msg);
	snprintf(p, sizeof p, "%s/d/f", in);
	CHECK(strcmp(slurp(p), "new") == 0, "wrote d/f");
	snprintf(p, sizeof p, "%s/d/g.tmp", in);
	CHECK(symlink("../../out/secret", p) == 0, "symlink tmp");
	CHECK(prb_write_durable(dir, "d/g", "x", 1, 0644, 0, &err) == PRB_EIO &&
	              strstr(err.msg, "symbolic link") &&
	              strcmp(err.where, "d/g.tmp") == 0,
	      "a link at NAME.tmp is refused, naming it (%s: %s)", err.where,
	      err.msg);
	CHECK(prb_write_durable(dir, "link", "x", 1, 0644, 0, &err) == PRB_EIO &&
	              strstr(err.msg, "symbolic link"),
	      "a link at NAME is refused, not renamed over (%s)", err.msg);
	CHECK(prb_write_durable(dir, "sub/x", "x", 1, 0644, 0, &err) == PRB_EIO,
	      "nothing is written behind a linked directory");
	snprintf(p, sizeof p, "%s/secret", out);
	CHECK(strcmp(slurp(p), "secret") == 0, "the file outside is intact");
	snprintf(p, sizeof p, "%s/x", out);
	CHECK(access(p, F_OK) != 0, "and nothing new is outside");

	/* prb_read_file_at: bounded on the size, before reading */
	uint8_t *data = NULL;
	size_t len;
	CHECK(prb_read_file_at(dir, "d/f", 2, &data, &len, &err) == PRB_ETOOBIG,
	      "over the limit is refused");
	CHECK(prb_read_file_at(dir, "d/f", 3, &data, &len, &err) == 0 &&
	              len == 3 && memcmp(data, "new", 3) == 0,
	      "read beneath");
	free(data);
	CHECK(prb_read_file_at(dir, "link", 100, &data, &len, &err) == PRB_EIO &&
	              strstr(err.msg, "symbolic link"),
	      "read through a link refused (%s)", err.msg);
	close(dir);
	t_rm_rf(root);
	return T_DONE("test_beneath");
}
