/*
 * paths.c - whether a path lies under a directory, judged by the names
 * alone, as the paths a job is given must lie under what its pod mounts
 * (issue 20's path contract; docs/kubernetes.md).
 *
 * No file system is asked: the names are those the pod will be given,
 * and the machine that checks them need not have the files, nor see them
 * through the same links.  So a symbolic link is not followed: a path is
 * judged by how it is written, "." and empty components dropped and ".."
 * taking back the component before it (as the kernel does for a path
 * without links).  A link under a mount that points elsewhere passes here
 * and fails in the pod, as it would on a real cluster.
 */
#include "core/core.h"

/* How much of a path a message shows. */
#define PATHS_SHOW_MAX 256

void
paths_normalise(const char *path, const char *base, struct buf *out)
{
	const char *p, *end;
	size_t n;

	buf_reset(out);
	if (path[0] != '/' && base != NULL && base[0] == '/')
		paths_normalise(base, NULL, out);
	if (out->len == 1) /* "/": components add their own '/' */
		buf_reset(out);
	for (p = path; *p != '\0'; p = end) {
		while (*p == '/')
			p++;
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			/* Back one component; at the root, stay there. */
			while (out->len > 0 && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > 0)
				out->len--;
			out->data[out->len] = '\0';
			continue;
		}
		buf_addch(out, '/');
		buf_add(out, p, n);
	}
	if (out->len == 0)
		buf_addch(out, '/');
}

bool
paths_is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* A path as a message shows it: printable bytes only, one short line. */
static void
paths_add_shown(struct buf *b, const char *path)
{
	size_t i;

	for (i = 0; path[i] != '\0' && i < PATHS_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)path[i];

		buf_addch(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	if (path[i] != '\0')
		buf_adds(b, "...");
}

int
paths_check_under(const char *what, const char *path, const char *base,
    const char *const *dirs, size_t ndirs, struct buf *err)
{
	struct buf norm = BUF_INIT;
	size_t i;
	bool under = false;

	paths_normalise(path, base, &norm);
	for (i = 0; i < ndirs && !under; i++)
		under = paths_is_under(norm.data, dirs[i]);
	buf_release(&norm);
	if (under)
		return 0;
	buf_reset(err);
	buf_addf(err, "%s ", what);
	paths_add_shown(err, path);
	buf_adds(err, " is not under a path the jobs mount: ");
	for (i = 0; i < ndirs; i++)
		buf_addf(err, "%s%s", i > 0 ? ", " : "", dirs[i]);
	if (ndirs == 0)
		buf_adds(err, "none");
	return ERR_INVALID;
}
