/*
 * proc.c - run a program (never through a shell) and capture its output.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/proc.h"

extern char **environ;

int
proc_capture(const char *const *argv, size_t cap, struct buf *out,
    int *status, struct buf *err)
{
	posix_spawn_file_actions_t fa;
	int fds[2], devnull, ret = ERR_UNAVAILABLE, rc;
	char chunk[4096];
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(err, ERR_UNAVAILABLE, "pipe: %s",
		    strerror(errno));
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	if (devnull >= 0) {
		posix_spawn_file_actions_adddup2(&fa, devnull, 0);
		posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	}
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (devnull >= 0)
		close(devnull);
	if (rc != 0) {
		close(fds[0]);
		return err_set(err, rc == ENOENT ? ERR_NOTFOUND : ERR_UNAVAILABLE,
		    "cannot run '%s': %s", argv[0], strerror(rc));
	}
	out->cap_limit = cap;
	for (;;) {
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(out, chunk, (size_t)n);
	}
	close(fds[0]);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			err_set(err, ERR_UNAVAILABLE, "waitpid: %s",
			    strerror(errno));
			return ret;
		}
	}
	return 0;
}

/* This machine's name, made a valid node name. */
char *
proc_node_name(void)
{
	char host[256];
	char *p;

	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		return xstrdup("localhost");
	host[sizeof(host) - 1] = '\0';
	for (p = host; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
			*p == '-'))
			*p = '-';
	if (strlen(host) > 128)
		host[128] = '\0';
	return xstrdup(host);
}

static int
proc_remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

int
proc_remove_tree(const char *path, struct buf *err)
{
	if (nftw(path, proc_remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 &&
	    errno != ENOENT)
		return err_set(err, ERR_UNAVAILABLE, "cannot remove '%s': %s",
		    path, strerror(errno));
	return 0;
}
