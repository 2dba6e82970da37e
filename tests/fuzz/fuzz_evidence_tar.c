/*
 * Fuzz harness: evidence bundles as one file (prb_evidence_unpack).
 *
 * The input is an untrusted .tar or .tar.gz. Unpacking must either fail
 * and leave nothing (its directory removed, the name given back empty),
 * or give a directory holding only regular files and directories, at
 * most one subdirectory deep, each file within its role's bound
 * (prb_evidence_role_max), which is then removed. A violation calls
 * abort().
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "probity/evidence.h"
#include "audit/audit_int.h"

/* Checks what is in dir/sub (sub NULL: dir itself), depth 0 or 1. */
static void
check_tree(const char *dir, const char *sub)
{
	char path[PRB_EVIDENCE_DIR_MAX + 600], rel[600];
	snprintf(path, sizeof path, "%s%s%s", dir, sub ? "/" : "",
	         sub ? sub : "");
	DIR *d = opendir(path);
	check(d != NULL);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(rel, sizeof rel, "%s%s%s", sub ? sub : "",
		         sub ? "/" : "", de->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, rel);
		struct stat st;
		check(lstat(path, &st) == 0);
		check(S_ISREG(st.st_mode) || (S_ISDIR(st.st_mode) && !sub));
		if (S_ISDIR(st.st_mode))
			check_tree(dir, rel);
		else
			check((uint64_t)st.st_size <= prb_evidence_role_max(rel));
	}
	closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tar[] = "/tmp/prb-fuzz-tar-XXXXXX";
	char dir[PRB_EVIDENCE_DIR_MAX];
	int fd = mkstemp(tar);
	check(fd >= 0);
	check(write(fd, data, size) == (ssize_t)size);
	close(fd);
	prb_err err;
	int rc = prb_evidence_unpack(tar, dir, &err);
	unlink(tar);
	if (rc) {
		check(dir[0] == 0);
		return 0;
	}
	check(dir[0] != 0);
	check_tree(dir, NULL);
	prb_evidence_remove_dir(dir);
	struct stat st;
	check(lstat(dir, &st) != 0);
	return 0;
}
