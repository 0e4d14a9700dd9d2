/*
 * cgroup.c - the memory cgroup of the pilot's jobs: which one this
 * machine offers, and each job's own (cgroup.h says how v2 and v1 are
 * used).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cgroup.h"

/* The most read of a file of the kernel's (mountinfo, cgroup.procs). */
#define CGROUP_READ_MAX (4 << 20)

const char *
cgroup_kind_name(enum cgroup_kind kind)
{
	switch (kind) {
	case CGROUP_V2:
		return "v2";
	case CGROUP_V1:
		return "v1";
	case CGROUP_NONE:
		break;
	}
	return "none";
}

/* ---- pure ------------------------------------------------------------- */

/* Is `word` one of the items of `list`, separated by any of `seps`? */
static bool
cgroup_has_item(const char *list, size_t len, const char *word,
    const char *seps)
{
	size_t wlen = strlen(word), i = 0, n;

	while (i < len) {
		while (i < len && strchr(seps, list[i]) != NULL)
			i++;
		for (n = 0; i + n < len && strchr(seps, list[i + n]) == NULL;
		     n++)
			;
		if (n == wlen && memcmp(list + i, word, n) == 0)
			return true;
		i += n;
	}
	return false;
}

bool
cgroup_has_word(const char *list, const char *word)
{
	return cgroup_has_item(list, strlen(list), word, " \t\n");
}

int
cgroup_self_path(const char *proc_cgroup, enum cgroup_kind kind,
    struct buf *out)
{
	const char *line = proc_cgroup, *end, *c1, *c2;

	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		/* "ID:CONTROLLERS:PATH" */
		c1 = memchr(line, ':', (size_t)(end - line));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (c2 == NULL || c2 + 1 >= end || c2[1] != '/')
			continue;
		if (kind == CGROUP_V2 &&
		    !(c1 - line == 1 && line[0] == '0' && c2 == c1 + 1))
			continue;
		if (kind == CGROUP_V1 &&
		    !cgroup_has_item(c1 + 1, (size_t)(c2 - c1 - 1), "memory",
		        ","))
			continue;
		if (kind == CGROUP_NONE)
			continue;
		buf_reset(out);
		buf_add(out, c2 + 1, (size_t)(end - c2 - 1));
		return 0;
	}
	return ERR_NOTFOUND;
}

/* Append the mountinfo field [s, e) to `out`, its \ooo escapes undone. */
static void
cgroup_add_unescaped(struct buf *out, const char *s, const char *e)
{
	while (s < e) {
		if (*s == '\\' && e - s >= 4 && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			buf_addch(out,
			    (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			        (s[3] - '0')));
			s += 4;
		} else {
			buf_addch(out, *s++);
		}
	}
}

int
cgroup_mount_dir(const char *mountinfo, enum cgroup_kind kind, const char *path,
    struct buf *out)
{
	const char *line = mountinfo, *end, *f[16], *fe[16], *p, *dash;
	size_t nf, rootlen;
	int i;

	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		/* ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE
		 * SOURCE SUPER-OPTIONS */
		nf = 0;
		dash = NULL;
		for (p = line; p < end && nf < 16;) {
			while (p < end && *p == ' ')
				p++;
			if (p == end)
				break;
			f[nf] = p;
			while (p < end && *p != ' ')
				p++;
			fe[nf] = p;
			if (nf >= 6 && dash == NULL && fe[nf] - f[nf] == 1 &&
			    *f[nf] == '-')
				dash = f[nf];
			nf++;
		}
		if (dash == NULL)
			continue;
		for (i = 6; f[i] != dash; i++)
			;
		/* The type, the source and the super options follow. */
		if ((size_t)i + 3 >= nf)
			continue;
		i++;
		if (kind == CGROUP_V2 &&
		    !(fe[i] - f[i] == 7 && memcmp(f[i], "cgroup2", 7) == 0))
			continue;
		if (kind == CGROUP_V1 &&
		    !(fe[i] - f[i] == 6 && memcmp(f[i], "cgroup", 6) == 0 &&
		        cgroup_has_item(f[i + 2],
		            (size_t)(fe[i + 2] - f[i + 2]), "memory", ",")))
			continue;
		if (kind == CGROUP_NONE)
			continue;
		/* `path` lies below the mount's root, or not here. */
		rootlen = (size_t)(fe[3] - f[3]);
		if (rootlen == 1 && *f[3] == '/')
			rootlen = 0;
		if (strncmp(path, f[3], rootlen) != 0 ||
		    (path[rootlen] != '/' && path[rootlen] != '\0'))
			continue;
		buf_reset(out);
		cgroup_add_unescaped(out, f[4], fe[4]);
		if (strcmp(path + rootlen, "/") != 0)
			buf_adds(out, path + rootlen);
		return 0;
	}
	return ERR_NOTFOUND;
}

int64_t
cgroup_count(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *line;
	long long v;
	char *e;

	for (line = text; line != NULL; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
			continue;
		errno = 0;
		v = strtoll(line + klen + 1, &e, 10);
		if (errno != 0 || e == line + klen + 1 || v < 0)
			return -1;
		return v;
	}
	return -1;
}

int64_t
cgroup_value(const char *text)
{
	int64_t v = 0;
	const char *p;

	if (*text < '0' || *text > '9')
		return -1;
	for (p = text; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (*p == '\n')
		p++;
	return *p == '\0' ? v : -1;
}

int64_t
cgroup_oom_count(enum cgroup_kind kind, const char *text)
{
	int64_t n = -1;

	if (kind == CGROUP_NONE)
		return 0;
	n = cgroup_count(text, "oom_kill");
	/* v2 with memory.oom.group: a kernel may count the group's kill. */
	if (kind == CGROUP_V2 && n <= 0)
		n = cgroup_count(text, "oom_group_kill");
	return n > 0 ? n : 0;
}

/* ---- files of the kernel's -------------------------------------------- */

/* Read `dir`/`name` whole (at most CGROUP_READ_MAX) into `out`; 0 or -1. */
static int
cgroup_read(const char *dir, const char *name, struct buf *out)
{
	char chunk[4096], path[4096];
	ssize_t n;
	int fd;

	buf_reset(out);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (out->len < CGROUP_READ_MAX) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

/* Read the small file `dir`/`name` into `text` (cap bytes); 0 or -1. */
static int
cgroup_read_small(const char *dir, const char *name, char *text, size_t cap)
{
	char path[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	text[n] = '\0';
	return 0;
}

/* Write `text` into `dir`/`name`; 0, or -1 with errno. */
static int
cgroup_write(const char *dir, const char *name, const char *text)
{
	char path[4096];
	ssize_t n;
	int fd, sys;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	sys = errno;
	close(fd);
	if (n == (ssize_t)strlen(text))
		return 0;
	errno = n < 0 ? sys : EIO;
	return -1;
}

/* `dir`/`name` exists, and `dir` may be written (children made). */
static bool
cgroup_writable(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, W_OK) == 0 && access(dir, W_OK) == 0;
}

/* ---- finding one ------------------------------------------------------ */

/*
 * Is v2 cgroup `dir` (`path` in the hierarchy) delegated to the pilot with
 * the memory controller?  A pilot in its leaf CGROUP_PILOT_LEAF is taken
 * to the leaf's parent (both changed).  Else why not, in `why`.
 */
static bool
cgroup_usable_v2(struct buf *path, struct buf *dir, struct buf *why)
{
	char controllers[1024];
	const char *slash;

	/* Restarted: in the leaf an earlier pilot (or systemd) put it in. */
	slash = strrchr(dir->data, '/');
	if (slash != NULL && strcmp(slash + 1, CGROUP_PILOT_LEAF) == 0 &&
	    strcmp(path->data, "/" CGROUP_PILOT_LEAF) != 0) {
		dir->len = (size_t)(slash - dir->data);
		dir->data[dir->len] = '\0';
		path->len -= strlen("/" CGROUP_PILOT_LEAF);
		path->data[path->len] = '\0';
	}
	if (strcmp(path->data, "/") == 0) {
		buf_addf(why,
		    "cgroup v2 at %s: the pilot is in its root cgroup, none "
		    "delegated to it",
		    dir->data);
		return false;
	}
	if (cgroup_read_small(dir->data, "cgroup.controllers", controllers,
	        sizeof(controllers)) < 0 ||
	    !cgroup_has_word(controllers, "memory")) {
		buf_addf(why, "cgroup v2 %s offers no memory controller",
		    dir->data);
		return false;
	}
	if (!cgroup_writable(dir->data, "cgroup.subtree_control")) {
		buf_addf(why,
		    "cgroup v2 %s is not delegated to the pilot (cannot write "
		    "its cgroup.subtree_control)",
		    dir->data);
		return false;
	}
	return true;
}

/*
 * The memory cgroup of `kind` the texts name, where the pilot may make
 * children: 0 and `out`, or ERR_NOTFOUND and why not appended to `why`.
 */
static int
cgroup_find_kind(const char *self, const char *mounts, enum cgroup_kind kind,
    struct cgroup *out, struct buf *why)
{
	struct buf path = BUF_INIT, dir = BUF_INIT;
	int ret = ERR_NOTFOUND;

	if (cgroup_self_path(self, kind, &path) < 0 ||
	    cgroup_mount_dir(mounts, kind, path.data, &dir) < 0) {
		buf_adds(why,
		    kind == CGROUP_V2 ? "no cgroup v2"
		                      : "no cgroup v1 memory controller");
		goto out;
	}
	if (kind == CGROUP_V2 && !cgroup_usable_v2(&path, &dir, why))
		goto out;
	if (kind == CGROUP_V1 &&
	    !cgroup_writable(dir.data, "memory.limit_in_bytes")) {
		buf_addf(why, "cgroup v1 memory %s cannot be written",
		    dir.data);
		goto out;
	}
	out->kind = kind;
	out->dir = buf_detach(&dir);
	ret = 0;
out:
	buf_release(&path);
	buf_release(&dir);
	return ret;
}

/* Read /proc/PID/`name` (PID 0: ours) into `out`; 0, or -1 and why. */
static int
cgroup_read_proc(pid_t pid, const char *name, struct buf *out, struct buf *why)
{
	char dir[32];

	if (pid > 0)
		snprintf(dir, sizeof(dir), "/proc/%ld", (long)pid);
	else
		snprintf(dir, sizeof(dir), "/proc/self");
	if (cgroup_read(dir, name, out) == 0)
		return 0;
	buf_addf(why, "cannot read %s/%s: %s", dir, name, strerror(errno));
	return -1;
}

int
cgroup_find(pid_t pid, struct cgroup *out, struct buf *why)
{
	struct buf self = BUF_INIT, mounts = BUF_INIT;
	int ret = ERR_NOTFOUND;

	memset(out, 0, sizeof(*out));
	buf_reset(why);
	if (cgroup_read_proc(pid, "cgroup", &self, why) < 0 ||
	    cgroup_read_proc(pid, "mountinfo", &mounts, why) < 0)
		goto out;
	if (cgroup_find_kind(self.data, mounts.data, CGROUP_V2, out, why) ==
	    0) {
		buf_reset(why);
		ret = 0;
		goto out;
	}
	buf_adds(why, "; ");
	if (cgroup_find_kind(self.data, mounts.data, CGROUP_V1, out, why) ==
	    0) {
		buf_reset(why);
		ret = 0;
	}
out:
	buf_release(&self);
	buf_release(&mounts);
	return ret;
}

int
cgroup_prepare(struct cgroup *cg, struct buf *err)
{
	struct buf leaf = BUF_INIT, procs = BUF_INIT;
	const char *p;
	char num[24], *e;
	long pid;
	int tries, ret = ERR_UNAVAILABLE;

	if (cg->kind != CGROUP_V2)
		return 0;
	buf_addf(&leaf, "%s/" CGROUP_PILOT_LEAF, cg->dir);
	if (mkdir(leaf.data, 0755) < 0 && errno != EEXIST) {
		err_set(err, ERR_UNAVAILABLE, "cannot create cgroup '%s': %s",
		    leaf.data, strerror(errno));
		goto out;
	}
	/* No process of ours may stay where the children are enabled. */
	for (tries = 0; tries < 3; tries++) {
		if (cgroup_read(cg->dir, "cgroup.procs", &procs) < 0 ||
		    procs.len == 0)
			break;
		for (p = procs.data;; p = e) {
			pid = strtol(p, &e, 10);
			if (e == p)
				break;
			snprintf(num, sizeof(num), "%ld", pid);
			if (cgroup_write(leaf.data, "cgroup.procs", num) < 0 &&
			    errno != ESRCH)
				log_debug("cannot move pid %ld into '%s': %s",
				    pid, leaf.data, strerror(errno));
		}
		buf_reset(&procs);
	}
	if (cgroup_write(cg->dir, "cgroup.subtree_control", "+memory") < 0) {
		err_set(err, ERR_UNAVAILABLE,
		    "cannot enable the memory controller in '%s': %s", cg->dir,
		    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	buf_release(&leaf);
	buf_release(&procs);
	return ret;
}

void
cgroup_release(struct cgroup *cg)
{
	free(cg->dir);
	cg->dir = NULL;
	cg->kind = CGROUP_NONE;
}

/* ---- a job's ---------------------------------------------------------- */

/*
 * Hold cgroup `dir` to `limit` bytes, none when `limit` <= 0 (a cgroup of
 * a pool may hold an earlier job's limit); 0, or -1 with errno.
 */
static int
cgroup_limit(enum cgroup_kind kind, const char *dir, int64_t limit)
{
	char num[32];

	if (limit > 0)
		snprintf(num, sizeof(num), "%lld", (long long)limit);
	else
		snprintf(num, sizeof(num), "%s",
		    kind == CGROUP_V2 ? "max" : "-1");
	if (kind == CGROUP_V2) {
		if (cgroup_write(dir, "memory.max", num) < 0)
			return -1;
		/* Past its memory, no swap: killed, as on Kubernetes. */
		if (cgroup_write(dir, "memory.swap.max", "0") < 0 &&
		    errno != ENOENT)
			return -1;
		return cgroup_write(dir, "memory.oom.group", "1");
	}
	/*
	 * Memory and swap together (where swap is accounted): no swap.  The
	 * kernel keeps memsw at least the memory's limit: a limit above an
	 * earlier job's memsw is refused (EINVAL) until memsw is raised.
	 */
	if (cgroup_write(dir, "memory.limit_in_bytes", num) < 0) {
		if (errno != EINVAL ||
		    cgroup_write(dir, "memory.memsw.limit_in_bytes", num) < 0 ||
		    cgroup_write(dir, "memory.limit_in_bytes", num) < 0)
			return -1;
	}
	if (cgroup_write(dir, "memory.memsw.limit_in_bytes", num) < 0 &&
	    errno != ENOENT)
		return -1;
	return 0;
}

int
cgroup_job_make(enum cgroup_kind kind, const char *dir, int64_t limit,
    struct buf *err)
{
	if (kind == CGROUP_NONE)
		return err_set(err, ERR_UNAVAILABLE, "no memory cgroup");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot create cgroup '%s': %s", dir, strerror(errno));
	if (limit <= 0)
		return 0;
	if (cgroup_limit(kind, dir, limit) == 0)
		return 0;
	err_set(err, ERR_UNAVAILABLE,
	    "cannot limit the memory of cgroup '%s': %s", dir, strerror(errno));
	rmdir(dir);
	return ERR_UNAVAILABLE;
}

int
cgroup_job_procs_fd(enum cgroup_kind kind, const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir,
	    kind == CGROUP_V1 ? "tasks" : "cgroup.procs");
	return open(path, O_WRONLY | O_CLOEXEC);
}

int
cgroup_job_oom_watch(enum cgroup_kind kind, const char *dir)
{
	char path[4096], line[64];
	int efd, cfd, ret = -1;

	if (kind != CGROUP_V1)
		return -1;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/memory.oom_control", dir);
	cfd = open(path, O_RDONLY | O_CLOEXEC);
	if (cfd >= 0) {
		snprintf(line, sizeof(line), "%d %d", efd, cfd);
		ret = cgroup_write(dir, "cgroup.event_control", line);
		close(cfd);
	}
	if (ret < 0) {
		close(efd);
		return -1;
	}
	return efd;
}

int64_t
cgroup_job_oom_kills(enum cgroup_kind kind, const char *dir)
{
	char text[1024];

	if (kind == CGROUP_NONE ||
	    cgroup_read_small(dir,
	        kind == CGROUP_V2 ? "memory.events" : "memory.oom_control",
	        text, sizeof(text)) < 0)
		return 0;
	return cgroup_oom_count(kind, text);
}

int64_t
cgroup_job_peak(enum cgroup_kind kind, const char *dir)
{
	char text[64];

	if (kind == CGROUP_NONE ||
	    cgroup_read_small(dir,
	        kind == CGROUP_V2 ? "memory.peak" : "memory.max_usage_in_bytes",
	        text, sizeof(text)) < 0)
		return -1;
	return cgroup_value(text);
}

void
cgroup_job_kill(enum cgroup_kind kind, const char *dir)
{
	struct buf procs = BUF_INIT;
	const char *p;
	char *e;
	long pid;

	if (kind == CGROUP_NONE)
		return;
	if (kind == CGROUP_V2 && cgroup_write(dir, "cgroup.kill", "1") == 0)
		return;
	if (cgroup_read(dir, "cgroup.procs", &procs) == 0) {
		for (p = procs.data; *p != '\0'; p = e) {
			pid = strtol(p, &e, 10);
			if (e == p)
				break;
			if (pid > 1)
				kill((pid_t)pid, SIGKILL);
		}
	}
	buf_release(&procs);
}

int
cgroup_job_remove(enum cgroup_kind kind, const char *dir)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int tries;

	if (kind == CGROUP_NONE)
		return 0;
	for (tries = 0; tries < 100; tries++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		cgroup_job_kill(kind, dir);
		/* The killed take a moment to leave it. */
		nanosleep(&pause, NULL);
	}
	return -1;
}

int
cgroup_job_empty(enum cgroup_kind kind, const char *dir)
{
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	struct buf procs = BUF_INIT;
	int tries, ret = -1;

	if (kind == CGROUP_NONE)
		return 0;
	for (tries = 0; tries < 200; tries++) {
		/* Zombies are not listed: a process is gone once it exited. */
		if (cgroup_read(dir, "cgroup.procs", &procs) < 0) {
			if (errno == ENOENT)
				ret = 0;
			break;
		}
		if (procs.len == 0) {
			ret = 0;
			break;
		}
		cgroup_job_kill(kind, dir);
		nanosleep(&pause, NULL);
	}
	buf_release(&procs);
	return ret;
}

/* The memory charged to `dir` now (bytes), or -1. */
static int64_t
cgroup_usage(enum cgroup_kind kind, const char *dir)
{
	char text[64];

	if (cgroup_read_small(dir,
	        kind == CGROUP_V2 ? "memory.current" : "memory.usage_in_bytes",
	        text, sizeof(text)) < 0)
		return -1;
	return cgroup_value(text);
}

/*
 * Reset the peak of the pooled cgroup `dir` (made before), into `use`;
 * 0, or -1 where it cannot be reset (then the cgroup is retired).
 */
static int
cgroup_pool_reset_peak(enum cgroup_kind kind, const char *dir,
    struct cgroup_use *use)
{
	char path[4096];
	int fd;

	if (kind == CGROUP_V1)
		return cgroup_write(dir, "memory.max_usage_in_bytes", "0");
	/*
	 * v2 (NEEDSWORK: not run here, no v2 memory controller on this
	 * machine): since kernel 6.12 a write to memory.peak resets it for
	 * what is read through the same descriptor alone; before, the file
	 * cannot be opened for writing.
	 */
	snprintf(path, sizeof(path), "%s/memory.peak", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, "reset\n", 6) != 6) {
		close(fd);
		return -1;
	}
	use->peak_fd = fd;
	return 0;
}

int
cgroup_pool_take(enum cgroup_kind kind, const char *dir, int64_t limit,
    struct cgroup_use *use, struct buf *err)
{
	int64_t usage;

	use->oom_base = 0;
	use->peak_fd = -1;
	use->fresh = false;
	if (kind == CGROUP_NONE)
		return err_set(err, ERR_UNAVAILABLE, "no memory cgroup");
	/*
	 * Looked up before it is made: a mkdir() takes the lock of the
	 * parent directory, for which every supervisor would wait in turn.
	 */
	if (access(dir, F_OK) < 0) {
		if (errno != ENOENT || mkdir(dir, 0755) < 0)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot create cgroup '%s': %s", dir,
			    strerror(errno));
		use->fresh = true;
	}
	if (!use->fresh) {
		/* A lost job's processes may be in it (its supervisor
		 * killed). */
		if (cgroup_job_empty(kind, dir) < 0)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot empty cgroup '%s' of an earlier job's "
			    "processes",
			    dir);
		usage = cgroup_usage(kind, dir);
		if (usage >= 0 && usage <= CGROUP_POOL_LEFT_MAX &&
		    cgroup_limit(kind, dir, limit) == 0 &&
		    cgroup_pool_reset_peak(kind, dir, use) == 0)
			goto counted;
		/* Retired: empty, what was charged to it goes to the parent. */
		if (rmdir(dir) < 0 || mkdir(dir, 0755) < 0)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot make cgroup '%s' afresh: %s", dir,
			    strerror(errno));
		use->fresh = true;
	}
	if (cgroup_limit(kind, dir, limit) < 0)
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot limit the memory of cgroup '%s': %s", dir,
		    strerror(errno));
counted:
	use->oom_base = cgroup_job_oom_kills(kind, dir);
	return 0;
}

int64_t
cgroup_pool_peak(const struct cgroup_use *use)
{
	char text[64];
	ssize_t n;

	if (use->peak_fd < 0)
		return -1;
	n = pread(use->peak_fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	return cgroup_value(text);
}
