/*
 * proc.c - run a program (never through a shell) and capture its output.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/proc.h"

extern char **environ;

int
proc_capture(const char *const *argv, size_t cap, struct buf *out, int *status,
    struct buf *err)
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
		return err_set(err,
		    rc == ENOENT ? ERR_NOTFOUND : ERR_UNAVAILABLE,
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

void
proc_account_release(struct proc_account *a)
{
	free(a->login);
	free(a->home);
	free(a->groups);
	memset(a, 0, sizeof(*a));
}

int
proc_account_get(const char *login, struct proc_account *out, struct buf *err)
{
	struct passwd pw, *found = NULL;
	gid_t *groups = NULL;
	char *mem = NULL;
	size_t cap = 1024;
	int ngroups = 16, n, e, i;

	memset(out, 0, sizeof(*out));
	for (;;) {
		mem = xrealloc(mem, cap);
		e = getpwnam_r(login, &pw, mem, cap, &found);
		if (e != ERANGE || cap >= (1 << 20))
			break;
		cap *= 2;
	}
	if (found == NULL) {
		free(mem);
		if (e != 0 && e != ENOENT && e != ESRCH)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot look up Unix account '%s': %s", login,
			    strerror(e));
		return err_set(err, ERR_NOTFOUND, "no Unix account '%s'",
		    login);
	}
	for (;;) {
		groups = xrealloc(groups, (size_t)ngroups * sizeof(*groups));
		n = ngroups;
		if (getgrouplist(login, pw.pw_gid, groups, &n) >= 0)
			break;
		if (n <= ngroups || n > 65536) {
			n = 1;
			groups[0] = pw.pw_gid;
			break;
		}
		ngroups = n;
	}
	out->login = xstrdup(pw.pw_name);
	out->uid = pw.pw_uid;
	out->gid = pw.pw_gid;
	out->home = xstrdup(pw.pw_dir ? pw.pw_dir : "/");
	out->groups = xcalloc((size_t)n + 1, sizeof(*out->groups));
	for (i = 0; i < n; i++)
		out->groups[i] = groups[i];
	out->ngroups = (size_t)n;
	free(groups);
	free(mem);
	return 0;
}

int
proc_account_switch(const struct proc_account *a, const char **why, int *sys)
{
	gid_t groups[256];
	bool was_root = geteuid() == 0;
	size_t i, n;

	*sys = 0;
	if (!was_root) {
		if ((int64_t)geteuid() != a->uid) {
			*why = "this process is not root";
			return ERR_DENIED;
		}
	} else {
		n = a->ngroups < 256 ? a->ngroups : 256;
		for (i = 0; i < n; i++)
			groups[i] = (gid_t)a->groups[i];
		if (setgroups(n, groups) < 0 || setgid((gid_t)a->gid) < 0 ||
		    setuid((uid_t)a->uid) < 0) {
			*sys = errno;
			*why = "cannot switch";
			return ERR_DENIED;
		}
	}
	/* Each checked: a half-done switch must never run anything. */
	if ((int64_t)getuid() != a->uid || (int64_t)geteuid() != a->uid ||
	    (was_root && (int64_t)getgid() != a->gid) ||
	    (a->uid != 0 && setuid(0) == 0)) {
		*why = "the switch did not hold";
		return ERR_DENIED;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*sys = errno;
		*why = "cannot set no_new_privs";
		return ERR_DENIED;
	}
	return 0;
}

int
proc_account_become(const struct proc_account *a, struct buf *err)
{
	const char *why = NULL;
	int sys, ret;

	ret = proc_account_switch(a, &why, &sys);
	if (ret < 0 && sys != 0)
		return err_set(err, ret, "cannot become '%s': %s: %s", a->login,
		    why, strerror(sys));
	if (ret < 0)
		return err_set(err, ret, "cannot become '%s': %s", a->login,
		    why);
	setenv("HOME", a->home, 1);
	setenv("USER", a->login, 1);
	setenv("LOGNAME", a->login, 1);
	return 0;
}

void
proc_own_out_dir(const char *root, const char *path, int64_t uid, int64_t gid)
{
	size_t len = strlen(root);
	char *rest, *name, *save = NULL;
	struct stat sb;
	int dfd, fd, depth = 0;

	if (geteuid() != 0 || uid <= 0 || strncmp(path, root, len) != 0 ||
	    path[len] != '/')
		return;
	dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	rest = xstrdup(path + len + 1);
	for (name = strtok_r(rest, "/", &save); name != NULL;
	     name = strtok_r(NULL, "/", &save)) {
		fd = openat(dfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		dfd = fd;
		if (fd < 0 || fstat(fd, &sb) < 0)
			break;
		if (sb.st_uid == 0 &&
		    (fchown(fd, (uid_t)uid, (gid_t)gid) < 0 ||
		        (depth == 0 && fchmod(fd, 0700) < 0)))
			break;
		depth++;
	}
	if (dfd >= 0)
		close(dfd);
	free(rest);
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

void
proc_meminfo(int64_t *total, int64_t *avail)
{
	long long v;
	char key[64];
	FILE *f;

	*total = -1;
	*avail = -1;
	f = fopen("/proc/meminfo", "re");
	if (f == NULL)
		return;
	while (fscanf(f, "%63s %lld kB\n", key, &v) == 2) {
		if (strcmp(key, "MemTotal:") == 0)
			*total = (int64_t)v * 1024;
		else if (strcmp(key, "MemAvailable:") == 0)
			*avail = (int64_t)v * 1024;
	}
	fclose(f);
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
	struct stat sb;
	bool as_owner;
	pid_t pid = 0, w;
	int status, e = 0;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT
		    ? 0
		    : err_set(err, ERR_UNAVAILABLE, "cannot remove '%s': %s",
		          path, strerror(errno));
	/*
	 * A user's tree, and we are root: removed by its owner's uid, so a
	 * link its owner swaps in while we walk leads nowhere of anyone
	 * else's.
	 */
	as_owner = geteuid() == 0 && sb.st_uid != 0;
	if (as_owner)
		pid = fork();
	if (pid < 0)
		return err_set(err, ERR_UNAVAILABLE, "cannot remove '%s': %s",
		    path, strerror(errno));
	if (as_owner && pid > 0) {
		while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		if (w < 0)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot remove '%s': %s", path, strerror(errno));
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return 0;
		e = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
		return err_set(err, ERR_UNAVAILABLE, "cannot remove '%s': %s",
		    path, strerror(e));
	}
	if (as_owner &&
	    (setgroups(0, NULL) < 0 || setgid(sb.st_gid) < 0 ||
	        setuid(sb.st_uid) < 0 || setuid(0) == 0))
		_exit(EPERM);
	if (nftw(path, proc_remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 &&
	    errno != ENOENT)
		e = errno;
	if (as_owner)
		_exit(e);
	if (e != 0)
		return err_set(err, ERR_UNAVAILABLE, "cannot remove '%s': %s",
		    path, strerror(e));
	return 0;
}
