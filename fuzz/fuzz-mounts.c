/* libs: orch_core */
/*
 * fuzz-mounts.c - the Kubernetes submit's path check (core/paths.c) on
 * any text: the input is a path, a newline, a base and a newline, then
 * directories one a line.  A normalised path is absolute, has no empty,
 * "." or ".." component and no '/' at the end, and normalising it again
 * changes nothing; "under" is a prefix of whole components; a refusal is
 * one line.
 */
#include "core/core.h"
#include "fuzz.h"

#define FUZZ_DIRS_MAX 8

/* Is `s` a normalised absolute path? */
static bool
fuzz_mounts_normal(const char *s)
{
	const char *p;

	if (s[0] != '/')
		return false;
	if (strcmp(s, "/") == 0)
		return true;
	if (s[strlen(s) - 1] == '/')
		return false;
	for (p = s; p != NULL; p = strchr(p + 1, '/')) {
		if (p[1] == '/' || strncmp(p, "/./", 3) == 0 ||
		    strcmp(p, "/.") == 0 || strncmp(p, "/../", 4) == 0 ||
		    strcmp(p, "/..") == 0)
			return false;
	}
	return true;
}

/* paths_is_under() again, by whole components. */
static bool
fuzz_mounts_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf norm = BUF_INIT, again = BUF_INIT, err = BUF_INIT;
	char *s = fuzz_cstr(data, size), *lines[FUZZ_DIRS_MAX + 2], *p;
	const char *dirs[FUZZ_DIRS_MAX];
	size_t n = 0, ndirs = 0, i;
	bool under = false;
	int r;

	for (p = s; p != NULL && n < FUZZ_DIRS_MAX + 2; n++) {
		lines[n] = p;
		p = strchr(p, '\n');
		if (p != NULL)
			*p++ = '\0';
	}
	if (n < 2)
		goto out;
	paths_normalise(lines[0], lines[1], &norm);
	FUZZ_CHECK(fuzz_mounts_normal(norm.data));
	paths_normalise(norm.data, NULL, &again);
	FUZZ_CHECK(strcmp(norm.data, again.data) == 0);
	/* An absolute path does not depend on the base. */
	if (lines[0][0] == '/') {
		paths_normalise(lines[0], "/elsewhere", &again);
		FUZZ_CHECK(strcmp(norm.data, again.data) == 0);
	}
	for (i = 2; i < n; i++) {
		/* Directories as the service gives them: normalised. */
		paths_normalise(lines[i], NULL, &again);
		dirs[ndirs++] = xstrdup(again.data);
		FUZZ_CHECK(paths_is_under(norm.data, dirs[ndirs - 1]) ==
		    fuzz_mounts_under(norm.data, dirs[ndirs - 1]));
		under |= paths_is_under(norm.data, dirs[ndirs - 1]);
	}
	r = paths_check_under("input", lines[0], lines[1], dirs, ndirs, &err);
	FUZZ_CHECK((r == 0) == under);
	if (r < 0) {
		FUZZ_CHECK(r == ERR_INVALID);
		FUZZ_CHECK(strchr(err.data, '\n') == NULL);
		FUZZ_CHECK(strncmp(err.data, "input ", 6) == 0);
	}
	for (i = 0; i < ndirs; i++)
		free((char *)dirs[i]);
out:
	buf_release(&norm);
	buf_release(&again);
	buf_release(&err);
	free(s);
	return 0;
}
