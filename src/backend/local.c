/*
 * local.c - the local backend: each job is a process group on this
 * machine, run by `/bin/sh -c` under a small supervisor process.
 *
 * One file a job attempt in $ORCHESTRA_HOME/jobs (mode 0700, the
 * service's account's alone).  <id>-<attempt>.job is made by start()
 * (O_EXCL, or a spare renamed into place with RENAME_NOREPLACE: a second
 * start of the same attempt does nothing) and flock()ed by the supervisor
 * for as long as it lives.  It holds the supervisor's
 * pid ("pid N", for stop()), the job's process group ("pgid N") and,
 * written just before the supervisor exits, how the job ended and what
 * it used (complete only with its last line "done"; local_read_exit()),
 * so the exit status survives a pilot
 * that is down when the job ends; and from 4 KiB on (LOCAL_LOG_AT) the
 * job's stdout and stderr, which the supervisor moves there from a pipe:
 * the job holds only the pipe, so it writes its log but never the record
 * the pilot trusts (the pid it signals); past log_max, the middle of the
 * log is cut (local-int.h, LOCAL_CUT_AT); a job in a cgroup of the pool
 * says so at LOCAL_POOL_AT (local-int.h).  Attempts started while the log
 * had a file of its own (<id>-<attempt>.log, which the job held) have
 * their log there; logs() reads those.  The file stays until the job's
 * task is removed (purge): creating files is what a burst of short jobs
 * costs most (on ext4 without a journal a create skips over the inodes
 * deleted in the last minutes), so a job creates one, and not on the
 * pilot's path: each supervisor, once its job's end is told, leaves a
 * spare in jobs/spare, which a later start renames into place
 * (local_spare_take); with none there, start() makes the file itself.
 *
 * Beside them, cgroup-<n>.lock, the locks of the pool of the jobs'
 * memory cgroups (local_pool_claim), made once and kept.
 *
 * A job runs as its owner's Unix account (struct backend_job's uid, gid
 * and groups, looked up by the pilot): the job's process takes them, each
 * checked, with no_new_privs, before it runs anything; when the pilot is
 * not root, account() admits only the pilot's own account's jobs.  The
 * supervisor stays the pilot's account, so the job cannot touch it, and
 * is not dumpable, so not even a job of the same account reads its
 * memory or environment.
 *
 * The supervisor (local-super.c) is forked into a session of its own by
 * the launcher, orchestra-launch, a small program the pilot starts once
 * and hands each start to with the locked .job descriptor (or, without
 * one, by the pilot itself), so the pilot can die and restart at any
 * instant: the supervisor goes on.  It waits for the job, enforces the
 * time limit, turns a stop request into SIGTERM to the job's process group
 * and SIGKILL after a grace period, and kills whatever is left of the
 * group when the job's shell ends.  poll() tells a job that runs (lock
 * held), one that ended (complete record) and one that was lost (lock
 * free, no record: the machine restarted, the supervisor was killed, or
 * the pilot died between creating the file and handing it on); what is
 * left of a lost job's process group is killed before it is reported, so
 * a job queued again never runs beside its lost self.  An inotify watch
 * on the directory tells the pilot of each end as it happens, and spares
 * poll() reading the files of jobs it knows running (local_poll()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/local-int.h"
#include "util/proc.h"

extern char **environ;

/* The most file events kept between two polls. */
#define LOCAL_TOUCHED_MAX 65536

typedef VEC(char *) local_name_vec;

struct local_backend {
	struct backend base; /* first, for the checked downcast */
	char *dir;           /* $ORCHESTRA_HOME/jobs */
	char *home;
	char *volume;    /* users' outputs: <volume>/<user>/<task> */
	char *node;      /* this machine's node name */
	char *self;      /* the pilot's own login (or its uid) */
	int64_t log_max; /* each job's log's bound (0: none) */
	int inotify_fd;
	/*
	 * What poll() may answer without reading a file: the attempts it
	 * last found running (or start() forked a supervisor for), sorted,
	 * and those whose .job file was closed for writing since (the
	 * watch's events), which it reads again.  See local_poll().
	 */
	backend_ref_vec running;
	backend_ref_vec touched;
	bool overflow; /* the watch lost events: read every file */
	/* The launcher (local-super.c): its socket and pid, or -1. */
	int launch_fd;
	pid_t launch_pid;
	bool launch_tried;
	/*
	 * The memory cgroup the jobs' own go under (util/cgroup.h), looked
	 * for once (local_cgroup_setup, cgroup_tried); the jobs' are
	 * job-<tag>-<id>-<attempt>, `tag` naming this state directory, so
	 * that pilots of other homes on the machine (tests) keep apart.
	 */
	struct cgroup cg;
	bool cgroup_tried;
	char cgroup_tag[9];
	/*
	 * Spare .job files (local_spare_take), in `spare_dir` (made at the
	 * first start; NULL until, or when it cannot be): the names last
	 * read from it, taken from the end.
	 */
	char *spare_dir;
	bool spare_tried;
	local_name_vec spares;
	/*
	 * The pool of job cgroups (see local_pool_claim): what this pilot
	 * handed entry n out to, as far as it knows (job_id 0: nothing, or
	 * ended since; -1: held by a supervisor of an earlier pilot).
	 */
	backend_ref_vec pool;
};

static struct local_backend *
local_downcast(struct backend *be)
{
	if (be->ops != &backend_local_ops)
		BUG("not a local backend");
	return (struct local_backend *)be;
}

static void
local_path(struct local_backend *lb, const struct backend_ref *ref,
    const char *ext, struct buf *out)
{
	buf_reset(out);
	buf_addf(out, "%s/%lld-%lld.%s", lb->dir, (long long)ref->job_id,
	    (long long)ref->attempt, ext);
}

/* The names of spare .job files read (local_spare_take). */
static void
local_spares_release(struct local_backend *lb)
{
	size_t i;

	for (i = 0; i < lb->spares.n; i++)
		free(lb->spares.v[i]);
	VEC_RELEASE(&lb->spares);
}

/* Create `path` with `mode` (whatever the umask) unless it exists. */
static int
local_mkdir(const char *path, mode_t mode, struct buf *err)
{
	if (mkdir(path, mode) == 0) {
		if (chmod(path, mode) < 0)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot set the mode of '%s': %s", path,
			    strerror(errno));
		return 0;
	}
	if (errno != EEXIST)
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot create directory '%s': %s", path, strerror(errno));
	return 0;
}

/* ---- memory cgroups -------------------------------------------------- */

/* The tag of the job cgroups of state directory `dir`: FNV-1a, in hex. */
static void
local_cgroup_tag(const char *dir, char tag[9])
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = dir; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	snprintf(tag, 9, "%08x", (unsigned)h);
}

/* The directory of the memory cgroup of attempt `ref`. */
static void
local_cgroup_path(struct local_backend *lb, const struct backend_ref *ref,
    struct buf *out)
{
	buf_reset(out);
	buf_addf(out, "%s/job-%s-%lld-%lld", lb->cg.dir, lb->cgroup_tag,
	    (long long)ref->job_id, (long long)ref->attempt);
}

/*
 * The pool of job cgroups (util/cgroup.h, CGROUP_POOL_LEFT_MAX): making
 * and removing a cgroup for each job was the kernel's largest cost in a
 * burst of short jobs (issue 18), so a job takes a cgroup an earlier job
 * used, pool-<tag>-<n> under the jobs' cgroup directory.  Entry n is
 * claimed by flock() of its lock file, cgroup-<n>.lock in the state
 * directory (made once, never removed: a create is what a job costs most
 * here, see the top of this file; the names are no attempt's, so
 * local_handles() and the watch pass them by).  The locked descriptor
 * goes to the supervisor with the .job file's and is held by it (and by
 * the launcher, until it has looked at the job's end) for as long as it
 * lives, so the entry comes free however it ends, SIGKILL included: no
 * two jobs ever share a cgroup.  The supervisor readies the cgroup
 * (cgroup_pool_take: a lost job's leftovers killed, its limit, its peak
 * reset, its OOM kills counted from here) and leaves it empty at the
 * job's end; no sweep removes one, but a pilot that stops removes those
 * no job holds (local_pool_remove_free).  Where no entry can be had, the
 * job gets a cgroup of its own, job-<tag>-<id>-<attempt>, as before.
 */
#define LOCAL_POOL_MAX 65536

/* The lock file of entry `n`, and its cgroup's directory. */
static void
local_pool_paths(struct local_backend *lb, size_t n, struct buf *lock,
    struct buf *cg)
{
	buf_reset(lock);
	buf_addf(lock, "%s/cgroup-%zu.lock", lb->dir, n);
	if (cg == NULL)
		return;
	buf_reset(cg);
	buf_addf(cg, "%s/pool-%s-%zu", lb->cg.dir, lb->cgroup_tag, n);
}

/*
 * Entry `n` locked: its lock's descriptor, or -1, `*held` true when
 * another holds it (false: the lock file cannot be had).
 */
static int
local_pool_try(struct local_backend *lb, size_t n, bool *held)
{
	struct buf lock = BUF_INIT;
	int fd;

	*held = false;
	local_pool_paths(lb, n, &lock, NULL);
	/* Read-only: its closes are no IN_CLOSE_WRITE for the watch. */
	fd = open(lock.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = open(lock.data, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		*held = errno == EWOULDBLOCK;
		close(fd);
		fd = -1;
	}
	buf_release(&lock);
	return fd;
}

/*
 * The first entry of those this pilot knows free (`known_free`), or of
 * the others, that can be locked: its lock's descriptor and `*at`, or -1.
 */
static int
local_pool_scan(struct local_backend *lb, bool known_free, size_t *at)
{
	bool held;
	size_t n;
	int fd;

	for (n = 0; n < lb->pool.n; n++) {
		if ((lb->pool.v[n].job_id == 0) != known_free)
			continue;
		fd = local_pool_try(lb, n, &held);
		if (fd >= 0) {
			*at = n;
			return fd;
		}
	}
	return -1;
}

/*
 * Claim an entry of the pool for attempt `ref`: one this pilot knows
 * free, else one it handed out (ended since, not yet seen), else a new
 * one, past those the supervisors of an earlier pilot hold.  The lock's
 * descriptor and the cgroup's directory in `path`, or -1.
 */
static int
local_pool_claim(struct local_backend *lb, const struct backend_ref *ref,
    struct buf *path)
{
	struct backend_ref none = { -1, -1 };
	struct buf lock = BUF_INIT;
	bool held = true;
	size_t n = 0;
	int fd;

	fd = local_pool_scan(lb, true, &n);
	if (fd < 0)
		fd = local_pool_scan(lb, false, &n);
	while (fd < 0 && held && lb->pool.n < LOCAL_POOL_MAX) {
		n = lb->pool.n;
		VEC_PUSH(&lb->pool, none);
		fd = local_pool_try(lb, n, &held);
	}
	if (fd < 0) {
		log_debug("no cgroup of the pool for job %lld",
		    (long long)ref->job_id);
		return -1;
	}
	lb->pool.v[n] = *ref;
	local_pool_paths(lb, n, &lock, path);
	buf_release(&lock);
	return fd;
}

/*
 * A pilot that stops (its backend closed after jobs started) removes the
 * cgroups of the pool that no supervisor holds, so that it leaves none
 * behind on the machine; the next pilot makes them again, one mkdir an
 * entry.  An entry held (a job still running: its supervisor outlives
 * the pilot) stays, and so does one a lost job's process is still in
 * (rmdir refuses it), for the next job there to empty.  The lock files
 * stay, numbered from 0 up as they were made.
 */
static void
local_pool_remove_free(struct local_backend *lb)
{
	struct buf lock = BUF_INIT, path = BUF_INIT;
	struct stat sb;
	bool held;
	size_t n;
	int fd;

	for (n = 0; n < LOCAL_POOL_MAX; n++) {
		local_pool_paths(lb, n, &lock, &path);
		if (stat(lock.data, &sb) < 0)
			break;
		fd = local_pool_try(lb, n, &held);
		if (fd < 0)
			continue;
		if (rmdir(path.data) < 0 && errno != ENOENT)
			log_debug("%s stays: %s", path.data, strerror(errno));
		close(fd);
	}
	buf_release(&lock);
	buf_release(&path);
}

/*
 * The entry of the pool handed out to `ref`, known free from now on (its
 * lock says when it is); or -1.
 */
static ssize_t
local_pool_free(struct local_backend *lb, const struct backend_ref *ref)
{
	size_t n;

	for (n = 0; n < lb->pool.n; n++) {
		if (lb->pool.v[n].job_id == ref->job_id &&
		    lb->pool.v[n].attempt == ref->attempt) {
			lb->pool.v[n].job_id = 0;
			lb->pool.v[n].attempt = 0;
			return (ssize_t)n;
		}
	}
	return -1;
}

static bool local_lock_held_path(struct local_backend *lb,
    const struct backend_ref *ref);

/*
 * Remove the job cgroups of ours that no supervisor holds any more (a
 * supervisor or a machine that died): a pilot that restarts leaks none.
 * Those of live supervisors, which outlive the pilot, stay theirs; those
 * of the pool (pool-<tag>-<n>) stay for the next jobs, which kill what a
 * lost job left in one before they use it.
 */
static void
local_cgroup_sweep(struct local_backend *lb)
{
	struct buf prefix = BUF_INIT, path = BUF_INIT;
	struct backend_ref ref;
	long long id, attempt;
	struct dirent *de;
	int n;
	DIR *d;

	d = opendir(lb->cg.dir);
	if (d == NULL)
		return;
	buf_addf(&prefix, "job-%s-", lb->cgroup_tag);
	while ((de = readdir(d)) != NULL) {
		n = 0;
		if (strncmp(de->d_name, prefix.data, prefix.len) != 0 ||
		    sscanf(de->d_name + prefix.len, "%lld-%lld%n", &id,
		        &attempt, &n) != 2 ||
		    de->d_name[prefix.len + (size_t)n] != '\0')
			continue;
		ref.job_id = id;
		ref.attempt = attempt;
		if (local_lock_held_path(lb, &ref))
			continue;
		local_cgroup_path(lb, &ref, &path);
		if (cgroup_job_remove(lb->cg.kind, path.data) < 0)
			log_warn("cannot remove the stale cgroup '%s': %s",
			    path.data, strerror(errno));
		else
			log_info("removed the stale cgroup '%s'", path.data);
	}
	closedir(d);
	buf_release(&prefix);
	buf_release(&path);
}

/*
 * Once a backend, when the pilot arms its events (local_event_fd) or at
 * the latest before its first start (and so before the launcher, which
 * inherits the pilot's cgroup): find the memory cgroup the jobs'
 * go under, make it ready, and sweep what earlier pilots left in it.
 * Where there is none, jobs run with their memory placed, not enforced.
 */
static void
local_cgroup_setup(struct local_backend *lb)
{
	struct buf why = BUF_INIT;

	if (lb->cgroup_tried)
		return;
	lb->cgroup_tried = true;
	if (cgroup_find(0, &lb->cg, &why) < 0) {
		log_info("jobs' memory not enforced: %s", why.data);
		goto out;
	}
	if (cgroup_prepare(&lb->cg, &why) < 0) {
		log_warn("jobs' memory not enforced: %s", why.data);
		cgroup_release(&lb->cg);
		goto out;
	}
	log_info("jobs' memory enforced: cgroup %s memory at %s",
	    cgroup_kind_name(lb->cg.kind), lb->cg.dir);
	local_cgroup_sweep(lb);
out:
	buf_release(&why);
}

/*
 * The job of `ref` ended (its record read) or was lost: its cgroup goes.
 * Ended, its supervisor may still hold it for a moment (it removes it
 * itself): only an empty one is removed here.  A cgroup of the pool is
 * free again; a lost job's leftovers in it are killed here when its lock
 * can be had (else by the next job's supervisor).
 */
static void
local_cgroup_forget(struct local_backend *lb, const struct backend_ref *ref,
    bool lost)
{
	struct buf path = BUF_INIT, lock = BUF_INIT;
	bool held;
	ssize_t n;
	int fd;

	if (lb->cg.kind == CGROUP_NONE)
		return;
	n = local_pool_free(lb, ref);
	if (n >= 0) {
		fd = lost ? local_pool_try(lb, (size_t)n, &held) : -1;
		if (fd >= 0) {
			local_pool_paths(lb, (size_t)n, &lock, &path);
			cgroup_job_empty(lb->cg.kind, path.data);
			close(fd);
		}
		buf_release(&lock);
		buf_release(&path);
		return;
	}
	local_cgroup_path(lb, ref, &path);
	if (lost)
		cgroup_job_remove(lb->cg.kind, path.data);
	else
		rmdir(path.data);
	buf_release(&path);
}

static int
local_open(struct backend **out, const struct config *cfg, struct buf *err)
{
	struct local_backend *lb;
	struct buf dir = BUF_INIT;
	int ret;

	struct passwd *pw;

	*out = NULL;
	/* Users reach their outputs under it, but list nothing. */
	ret = local_mkdir(cfg->home, 0711, err);
	if (ret < 0)
		return ret;
	buf_addf(&dir, "%s/jobs", cfg->home);
	ret = local_mkdir(dir.data, 0700, err);
	if (ret < 0) {
		buf_release(&dir);
		return ret;
	}
	lb = xcalloc(1, sizeof(*lb));
	lb->base.ops = &backend_local_ops;
	lb->dir = buf_detach(&dir);
	lb->home = xstrdup(cfg->home);
	lb->volume = xstrdup(cfg->volume);
	lb->node = proc_node_name();
	lb->log_max = cfg->log_max;
	pw = getpwuid(geteuid());
	if (pw != NULL) {
		lb->self = xstrdup(pw->pw_name);
	} else {
		buf_addf(&dir, "uid %ld", (long)geteuid());
		lb->self = buf_detach(&dir);
	}
	lb->inotify_fd = -1;
	lb->launch_fd = -1;
	lb->launch_pid = -1;
	local_cgroup_tag(lb->dir, lb->cgroup_tag);
	*out = &lb->base;
	return 0;
}

/* ---- the launcher ----------------------------------------------------- */

/*
 * Let the launcher go: the end of its socket ends it once the last of
 * its supervisors ended (until then it records the end of a job whose
 * supervisor was killed), so it is not waited for unless it is gone.
 */
static void
local_launcher_stop(struct local_backend *lb)
{
	if (lb->launch_fd >= 0)
		close(lb->launch_fd);
	lb->launch_fd = -1;
	if (lb->launch_pid > 0)
		waitpid(lb->launch_pid, NULL, WNOHANG);
	lb->launch_pid = -1;
}

/*
 * Start orchestra-launch, found beside our own program, with one end of
 * a socket as its standard input and nothing else of ours; once a
 * backend.  Without it, start() forks supervisors itself.
 */
static void
local_launcher_spawn(struct local_backend *lb)
{
	char *argv[] = { "orchestra-launch", NULL };
	posix_spawn_file_actions_t fa;
	struct buf path = BUF_INIT;
	char self[PATH_MAX];
	const char *slash;
	int sv[2], rc;
	ssize_t n;
	pid_t pid;

	lb->launch_tried = true;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return;
	buf_add(&path, self, (size_t)(slash - self));
	buf_adds(&path, "/orchestra-launch");
	if (access(path.data, X_OK) < 0) {
		log_info("no launcher at '%s' (%s): the pilot forks each job's "
		         "supervisor itself",
		    path.data, strerror(errno));
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		goto out;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	rc = posix_spawn(&pid, path.data, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		log_warn("cannot start '%s': %s; the pilot forks each job's "
		         "supervisor itself",
		    path.data, strerror(rc));
		close(sv[0]);
		goto out;
	}
	lb->launch_fd = sv[0];
	lb->launch_pid = pid;
out:
	buf_release(&path);
}

/*
 * Hand the supervisor of `s`, `fd` and `poolfd` (the lock of s->pool, or
 * -1) to the launcher, and go on: no answer is awaited (under load,
 * waiting for the launcher to be scheduled each time was slower than
 * forking here).  0 once the request is on its way: the launcher holds
 * the file (and its lock, and the pool's) from then on, and writes an
 * end of kind BACKEND_END_START into it if it cannot fork.  ERR_NOTFOUND
 * when there is no launcher or the request did not go (then nothing of
 * it reached the launcher: fork here instead).
 */
static int
local_launcher_start(struct local_backend *lb, const struct local_super *s,
    int fd, int poolfd)
{
	char control[CMSG_SPACE(2 * sizeof(int))];
	int fds[2] = { fd, poolfd }, nfds = poolfd >= 0 ? 2 : 1;
	struct buf msg = BUF_INIT;
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov;
	int ret = ERR_NOTFOUND;
	ssize_t n;

	if (lb->launch_fd < 0 && !lb->launch_tried)
		local_launcher_spawn(lb);
	if (lb->launch_fd < 0)
		return ERR_NOTFOUND;
	local_super_encode(s, &msg);
	memset(&mh, 0, sizeof(mh));
	memset(control, 0, sizeof(control));
	iov.iov_base = msg.data;
	iov.iov_len = msg.len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control;
	mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	do
		n = sendmsg(lb->launch_fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)msg.len) {
		ret = 0;
	} else if (n >= 0 || errno != EMSGSIZE) {
		/* Too long a request is this job's; else the launcher is gone.
		 */
		log_warn("the launcher is gone (%s): the pilot forks each "
		         "job's supervisor itself",
		    n < 0 ? strerror(errno) : "short write");
		local_launcher_stop(lb);
	}
	buf_release(&msg);
	return ret;
}

static void
local_close(struct backend *be)
{
	struct local_backend *lb;

	if (be == NULL)
		return;
	lb = local_downcast(be);
	local_launcher_stop(lb);
	if (lb->cg.kind != CGROUP_NONE)
		local_pool_remove_free(lb);
	if (lb->inotify_fd >= 0)
		close(lb->inotify_fd);
	VEC_RELEASE(&lb->running);
	VEC_RELEASE(&lb->touched);
	VEC_RELEASE(&lb->pool);
	cgroup_release(&lb->cg);
	free(lb->dir);
	free(lb->spare_dir);
	local_spares_release(lb);
	free(lb->home);
	free(lb->volume);
	free(lb->node);
	free(lb->self);
	free(lb);
}

/* ---- spare .job files -------------------------------------------------- */

/* How many names of the spare directory one look keeps. */
#define LOCAL_SPARES_READ 256

/* The spare directory, made at the first start; NULL where it cannot. */
static const char *
local_spare_dir(struct local_backend *lb)
{
	struct buf dir = BUF_INIT, ignored = BUF_INIT;

	if (!lb->spare_tried) {
		lb->spare_tried = true;
		buf_addf(&dir, "%s/spare", lb->dir);
		if (local_mkdir(dir.data, 0700, &ignored) == 0)
			lb->spare_dir = buf_detach(&dir);
		else
			log_warn("no spare job files: %s", ignored.data);
		buf_release(&dir);
		buf_release(&ignored);
	}
	return lb->spare_dir;
}

/* Read the spare directory's names (some); how many there are now. */
static size_t
local_spares_read(struct local_backend *lb)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	DIR *d;

	d = opendir(lb->spare_dir);
	if (d == NULL)
		return 0;
	while (lb->spares.n < LOCAL_SPARES_READ &&
	    (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		buf_reset(&path);
		buf_addf(&path, "%s/%s", lb->spare_dir, de->d_name);
		VEC_PUSH(&lb->spares, buf_detach(&path));
	}
	closedir(d);
	buf_release(&path);
	return lb->spares.n;
}

/*
 * The .job file `path`, made of a spare (a supervisor's, local-super.c:
 * local_spare_make) by a rename that replaces nothing, so that it is
 * made once as O_EXCL would, without an inode made on the pilot's path:
 * its descriptor, locked (the lock goes to the supervisor).  -1 with
 * `*exists` where `path` was there already (this attempt was started),
 * -1 alone where no spare could be had: then the caller makes it.
 */
static int
local_spare_take(struct local_backend *lb, const char *path, bool *exists)
{
	char *name;
	int fd, sys;

	*exists = false;
	if (local_spare_dir(lb) == NULL)
		return -1;
	while (lb->spares.n > 0 || local_spares_read(lb) > 0) {
		name = lb->spares.v[--lb->spares.n];
		fd = open(name, O_RDWR | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (fd >= 0)
				close(fd);
			free(name);
			continue;
		}
		if (renameat2(AT_FDCWD, name, AT_FDCWD, path,
		        RENAME_NOREPLACE) == 0) {
			free(name);
			return fd;
		}
		sys = errno;
		close(fd);
		if (sys == EEXIST) {
			*exists = true;
			lb->spares.n++; /* still a spare */
			return -1;
		}
		free(name);
		/* A file system that cannot: make the files in place. */
		if (sys == EINVAL || sys == ENOSYS || sys == EXDEV) {
			local_spares_release(lb);
			free(lb->spare_dir);
			lb->spare_dir = NULL;
		}
		return -1;
	}
	return -1;
}

/*
 * The attempt's .job file `path`, made now and locked: a spare renamed
 * into place, else made here (O_EXCL).  ERR_CONFLICT where it was there
 * already (started); ERR_UNAVAILABLE with `err`.
 */
static int
local_job_file(struct local_backend *lb, const char *path, int *out,
    struct buf *err)
{
	bool exists;
	int fd, ret;

	*out = -1;
	fd = local_spare_take(lb, path, &exists);
	if (exists)
		return ERR_CONFLICT;
	if (fd < 0) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			return ERR_CONFLICT;
		if (fd < 0)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot create '%s': %s", path, strerror(errno));
		/* The lock goes with the open file into the supervisor. */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			err_set(err, ERR_UNAVAILABLE, "cannot lock '%s': %s",
			    path, strerror(errno));
			close(fd);
			unlink(path);
			return ERR_UNAVAILABLE;
		}
	}
	/*
	 * The record's block, taken now (a spare's was when it was made;
	 * this is then only a look): a supervisor never fails to write
	 * its job's pid and end into it on a disk that filled up since (it
	 * would leave its job running unknown to anyone: issue 19 found it,
	 * its start being slower by the move into a cgroup); on a full disk
	 * the start fails here instead, and is tried again (issue 17).
	 */
	ret = posix_fallocate(fd, 0, LOCAL_LOG_AT);
	if (ret != 0) {
		err_set(err, ERR_UNAVAILABLE, "cannot make room in '%s': %s",
		    path, strerror(ret));
		close(fd);
		unlink(path);
		return ERR_UNAVAILABLE;
	}
	*out = fd;
	return 0;
}

/* ---- the operations --------------------------------------------------- */

static int
local_start(struct backend *be, const struct backend_job *job, struct buf *err)
{
	struct local_backend *lb = local_downcast(be);
	struct backend_ref ref = { job->job_id, job->attempt };
	struct buf lock = BUF_INIT, cg = BUF_INIT, pool = BUF_INIT;
	struct local_super s;
	int fd, poolfd = -1, ret = ERR_UNAVAILABLE;

	local_cgroup_setup(lb);
	local_path(lb, &ref, "job", &lock);
	ret = local_job_file(lb, lock.data, &fd, err);
	if (ret == ERR_CONFLICT) {
		ret = 0; /* this attempt was started already */
		goto out;
	}
	if (ret < 0)
		goto out;
	s.job = job;
	s.volume = lb->volume;
	s.log_max = lb->log_max;
	/* Held to the memory it was placed with, where the machine lets. */
	s.cgroup_kind = job->memory > 0 ? lb->cg.kind : CGROUP_NONE;
	if (s.cgroup_kind != CGROUP_NONE) {
		local_cgroup_path(lb, &ref, &cg);
		poolfd = local_pool_claim(lb, &ref, &pool);
	}
	s.cgroup = cg.data;
	s.pool = pool.data;
	s.spares = lb->spare_dir != NULL ? lb->spare_dir : "";
	ret = local_launcher_start(lb, &s, fd, poolfd);
	if (ret == ERR_NOTFOUND) {
		/* No launcher: fork the supervisor from here. */
		ret = local_super_fork(&s, fd, poolfd, NULL, err);
	}
	/* The supervisor (or the launcher) holds the pool's lock now. */
	if (poolfd >= 0)
		close(poolfd);
	if (ret < 0) {
		local_pool_free(lb, &ref);
		close(fd);
		unlink(lock.data);
		goto out;
	}
	/*
	 * The supervisor holds the lock now: running until the watch says
	 * the file was closed (its last holder, the supervisor, ended).
	 */
	if (lb->inotify_fd >= 0)
		VEC_PUSH(&lb->running, ref);
	close(fd);
	ret = 0;
out:
	buf_release(&lock);
	buf_release(&cg);
	buf_release(&pool);
	return ret;
}

/*
 * Parse the exit record of a job file; 0, or -1 if it is not complete.
 * Its usage lines ("peak", "cpu": local_super_usage) are there only where
 * the kernel gave them (not in records written before they were).
 */
static int
local_read_exit(const char *path, struct backend_status *st)
{
	long long started = 0, ended = 0, peak = 0, cpu = 0;
	int code = 0, end = 0, at = 0, more = 0;
	char head[512];
	bool has_usage = false;
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	n = fread(head, 1, sizeof(head) - 1, f);
	fclose(f);
	head[n] = '\0';
	if (sscanf(head,
	        "pid %*d\npgid %*d\nexit %d\nend %d\nstarted %lld\n"
	        "ended %lld\n%n",
	        &code, &end, &started, &ended, &at) != 4 ||
	    at <= 0)
		return -1;
	if (sscanf(head + at, "peak %lld\ncpu %lld\n%n", &peak, &cpu, &more) ==
	        2 &&
	    more > 0) {
		has_usage = peak >= 0 && cpu >= 0;
		at += more;
	}
	if (strncmp(head + at, "done\n", 5) != 0 || end < BACKEND_END_EXIT ||
	    end > BACKEND_END_OOM)
		return -1;
	st->state = BACKEND_ENDED;
	st->exit_code = code;
	st->end = (enum backend_end)end;
	st->started_ms = started;
	st->ended_ms = ended;
	st->has_usage = has_usage;
	st->peak_memory = has_usage ? peak : -1;
	st->cpu_ms = has_usage ? cpu : -1;
	return 0;
}

/* Is the supervisor of `lock` alive (it holds the flock)? */
static int
local_lock_held(const char *lock)
{
	int fd, held;

	fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1; /* no lock file */
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held ? 1 : 0;
}

/* Is the .job file of `ref` held (its supervisor, or launcher, alive)? */
static bool
local_lock_held_path(struct local_backend *lb, const struct backend_ref *ref)
{
	struct buf lock = BUF_INIT;
	int held;

	local_path(lb, ref, "job", &lock);
	held = local_lock_held(lock.data);
	buf_release(&lock);
	return held == 1;
}

/*
 * A lost job's supervisor is gone, but its process group may live on:
 * kill it, once /proc shows it is this very job (a pid can be reused).
 */
static void
local_kill_leftovers(const char *path, const struct backend_ref *ref)
{
	struct buf env = BUF_INIT, want = BUF_INIT;
	long pgid = 0;
	char chunk[4096];
	ssize_t n;
	FILE *f;
	int fd;

	f = fopen(path, "re");
	if (f == NULL)
		return;
	if (fscanf(f, "pid %*d\npgid %ld", &pgid) != 1)
		pgid = 0;
	fclose(f);
	if (pgid <= 1)
		return;
	buf_addf(&want, "/proc/%ld/environ", pgid);
	fd = open(want.data, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		env.cap_limit = 1 << 20;
		buf_addch(&env, '\n');
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			buf_add(&env, chunk, (size_t)n);
		close(fd);
		/* NULs separate the variables: make them findable. */
		for (n = 0; n < (ssize_t)env.len; n++)
			if (env.data[n] == '\0')
				env.data[n] = '\n';
		buf_reset(&want);
		buf_addf(&want, "\nORCHESTRA_JOB_ID=%lld\n",
		    (long long)ref->job_id);
		if (strstr(env.data, want.data) != NULL) {
			buf_reset(&want);
			buf_addf(&want, "\nORCHESTRA_ATTEMPT=%lld\n",
			    (long long)ref->attempt);
			if (strstr(env.data, want.data) != NULL)
				kill(-(pid_t)pgid, SIGKILL);
		}
	}
	buf_release(&env);
	buf_release(&want);
}

/*
 * The file is unlocked and holds no end.  With no header, no supervisor
 * ever ran (the pilot died between creating the file and forking): the
 * attempt never started, so forget the file and say so.  Else the job
 * was lost; kill what is left of it.
 */
static enum backend_state
local_lost_or_unstarted(const char *path, const struct backend_ref *ref)
{
	long pid = 0;
	FILE *f;

	f = fopen(path, "re");
	if (f != NULL) {
		if (fscanf(f, "pid %ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	if (pid <= 0) {
		unlink(path);
		return BACKEND_UNKNOWN;
	}
	local_kill_leftovers(path, ref);
	return BACKEND_LOST;
}

static int
local_ref_cmp(const void *a, const void *b)
{
	const struct backend_ref *x = a, *y = b;

	if (x->job_id != y->job_id)
		return x->job_id < y->job_id ? -1 : 1;
	return x->attempt < y->attempt ? -1 : x->attempt > y->attempt;
}

/* Is `ref` in `v` (sorted by local_ref_cmp)? */
static bool
local_ref_in(const backend_ref_vec *v, const struct backend_ref *ref)
{
	return v->n > 0 &&
	    bsearch(ref, v->v, v->n, sizeof(*v->v), local_ref_cmp) != NULL;
}

/*
 * Read the watch's events: each <id>-<attempt>.job closed for writing
 * joins `touched`.  True when there was one (a job ended).
 */
static bool
local_read_events(struct local_backend *lb)
{
	char chunk[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct backend_ref ref;
	long long id, attempt;
	bool ended = false;
	char rest[8];
	ssize_t n, off;

	if (lb->inotify_fd < 0)
		return false;
	while ((n = read(lb->inotify_fd, chunk, sizeof(chunk))) > 0) {
		for (off = 0; off < n;
		     off += (ssize_t)(sizeof(*ev) + ev->len)) {
			ev = (const struct inotify_event *)(chunk + off);
			if (ev->mask & IN_Q_OVERFLOW) {
				lb->overflow = true;
				ended = true;
				continue;
			}
			if (ev->len == 0 ||
			    sscanf(ev->name, "%lld-%lld.%7s", &id, &attempt,
			        rest) != 3 ||
			    strcmp(rest, "job") != 0)
				continue;
			ref.job_id = id;
			ref.attempt = attempt;
			/* Not polled for long: read every file instead. */
			if (lb->touched.n >= LOCAL_TOUCHED_MAX) {
				lb->overflow = true;
				lb->touched.n = 0;
			}
			VEC_PUSH(&lb->touched, ref);
			ended = true;
		}
	}
	return ended;
}

/*
 * The state of each attempt in `refs`.  Reading every running job's file
 * every cycle was most of what the pilot did in a burst of short jobs
 * (bench/README.md), so with the watch in place an attempt found running
 * (or started) is running until its .job file is closed for writing: the
 * supervisor holds it open, with the job's lock, for as long as it lives,
 * and the kernel tells of the last close however the supervisor ends
 * (exit, or SIGKILL).  The events are read first, so an end that came
 * before this poll is seen by it; one that comes after wakes the pilot
 * (event_fd) for the next.
 */
static int
local_poll(struct backend *be, const struct backend_ref *refs, size_t nrefs,
    backend_status_vec *out, struct buf *err)
{
	struct local_backend *lb = local_downcast(be);
	backend_ref_vec running = VEC_INIT;
	struct buf path = BUF_INIT;
	struct backend_status *st;
	bool watched = lb->inotify_fd >= 0;
	size_t i;
	int held;

	(void)err;
	local_cgroup_setup(lb);
	local_read_events(lb);
	if (lb->overflow) {
		lb->running.n = 0;
		lb->overflow = false;
	}
	if (lb->running.n > 1)
		qsort(lb->running.v, lb->running.n, sizeof(*lb->running.v),
		    local_ref_cmp);
	if (lb->touched.n > 1)
		qsort(lb->touched.v, lb->touched.n, sizeof(*lb->touched.v),
		    local_ref_cmp);
	/* Supervisors are our children while we live: reap the ended. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	for (i = 0; i < nrefs; i++) {
		st = VEC_ADD(out);
		st->ref = refs[i];
		if (watched && local_ref_in(&lb->running, &refs[i]) &&
		    !local_ref_in(&lb->touched, &refs[i])) {
			st->state = BACKEND_RUNNING;
			VEC_PUSH(&running, refs[i]);
			continue;
		}
		local_path(lb, &refs[i], "job", &path);
		if (local_read_exit(path.data, st) == 0) {
			local_cgroup_forget(lb, &refs[i], false);
			continue;
		}
		held = local_lock_held(path.data);
		if (held < 0) {
			st->state = BACKEND_UNKNOWN;
		} else if (held) {
			st->state = BACKEND_RUNNING;
			if (watched)
				VEC_PUSH(&running, refs[i]);
		} else if (local_read_exit(path.data, st) < 0) {
			/* Ended between our two looks, or lost. */
			st->state =
			    local_lost_or_unstarted(path.data, &refs[i]);
			if (st->state == BACKEND_LOST)
				local_cgroup_forget(lb, &refs[i], true);
		} else {
			local_cgroup_forget(lb, &refs[i], false);
		}
	}
	/* What was not asked about is no longer held: forget it. */
	VEC_RELEASE(&lb->running);
	lb->running = running;
	lb->touched.n = 0;
	buf_release(&path);
	return 0;
}

static int
local_stop(struct backend *be, const struct backend_ref *ref, struct buf *err)
{
	struct local_backend *lb = local_downcast(be);
	struct buf lock = BUF_INIT;
	long pid = 0;
	FILE *f;
	int ret = 0;

	local_path(lb, ref, "job", &lock);
	/* Only a live supervisor is signalled: a pid can be reused. */
	if (local_lock_held(lock.data) != 1)
		goto out;
	f = fopen(lock.data, "re");
	if (f == NULL || fscanf(f, "pid %ld", &pid) != 1 || pid <= 1) {
		ret = err_set(err, ERR_UNAVAILABLE,
		    "job %lld: its supervisor has not started yet",
		    (long long)ref->job_id);
		if (f != NULL)
			fclose(f);
		goto out;
	}
	fclose(f);
	if (kill((pid_t)pid, SIGTERM) < 0 && errno != ESRCH)
		ret = err_set(err, ERR_UNAVAILABLE, "cannot stop job %lld: %s",
		    (long long)ref->job_id, strerror(errno));
out:
	buf_release(&lock);
	return ret;
}

static int
local_log_open(struct backend *be, const struct backend_ref *ref, size_t max,
    struct backend_log *out, struct buf *err)
{
	struct local_backend *lb = local_downcast(be);
	struct buf log = BUF_INIT;
	struct stat sb;
	off_t start = 0;
	int64_t size, from;
	int fd, ret = 0;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	local_path(lb, ref, "log", &log);
	fd = open(log.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* The log in the .job file, after the record. */
		local_path(lb, ref, "job", &log);
		fd = open(log.data, O_RDONLY | O_CLOEXEC);
		start = LOCAL_LOG_AT;
	}
	if (fd < 0) {
		if (errno != ENOENT)
			ret = err_set(err, ERR_UNAVAILABLE,
			    "cannot read '%s': %s", log.data, strerror(errno));
		goto out;
	}
	if (start > 0)
		local_cut_read(fd, &out->cut_from, &out->cut_to);
	if (fstat(fd, &sb) < 0) {
		ret = err_set(err, ERR_UNAVAILABLE, "cannot read '%s': %s",
		    log.data, strerror(errno));
		close(fd);
		goto out;
	}
	/*
	 * The log as it stands: a running job's later output is not sent.
	 * Where only the head was kept (no hole in this file system), the
	 * cut reaches the log's end.
	 */
	size = sb.st_size > start ? sb.st_size - start : 0;
	if (out->cut_to > size)
		size = out->cut_to;
	from = 0;
	if (max > 0 && size > (int64_t)max)
		from = size - (int64_t)max;
	/* Of a cut log, the last bytes may be of its tail alone. */
	if (out->cut_to > out->cut_from && from >= out->cut_from) {
		if (from < out->cut_to)
			from = out->cut_to;
		out->cut_from = out->cut_to = 0;
	} else if (out->cut_to > out->cut_from) {
		out->cut_from -= from;
		out->cut_to -= from;
	}
	out->fd = fd;
	out->offset = start + from;
	out->length = size - from;
out:
	buf_release(&log);
	return ret;
}

/* Append `len` bytes from `at` of `fd` to `out`. */
static void
local_log_add(int fd, off_t at, int64_t len, struct buf *out)
{
	char chunk[8192];
	size_t want;
	ssize_t n;

	while (len > 0) {
		want = sizeof(chunk);
		if (len < (int64_t)want)
			want = (size_t)len;
		n = pread(fd, chunk, want, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(out, chunk, (size_t)n);
		len -= n;
		at += n;
	}
}

static int
local_logs(struct backend *be, const struct backend_ref *ref, size_t max,
    struct buf *out, struct buf *err)
{
	struct backend_log log;
	int ret;

	ret = local_log_open(be, ref, max, &log, err);
	if (ret < 0 || log.fd < 0)
		return ret;
	if (log.cut_to > log.cut_from) {
		/* The head, what was cut, the tail (from 0: `max` is 0). */
		local_log_add(log.fd, (off_t)log.offset, log.cut_from, out);
		if (out->len > 0 && out->data[out->len - 1] != '\n')
			buf_addch(out, '\n');
		buf_addf(out, BACKEND_CUT_LINE "\n",
		    (long long)(log.cut_to - log.cut_from));
		local_log_add(log.fd, (off_t)(log.offset + log.cut_to),
		    log.length - log.cut_to, out);
	} else {
		local_log_add(log.fd, (off_t)log.offset, log.length, out);
	}
	close(log.fd);
	return 0;
}

/* Kubernetes' kubelet defaults: memory.available < 100Mi, disk < 10%. */
static void
local_health(struct local_backend *lb, struct backend_node *n)
{
	int64_t total, avail;
	struct statvfs vfs;

	n->ready = true;
	proc_meminfo(&total, &avail);
	n->memory_pressure = total > 0 && avail >= 0 && avail < 100 << 20;
	n->memory = total > 0 ? total : 0;
	if (statvfs(lb->home, &vfs) == 0 && vfs.f_blocks > 0)
		n->disk_pressure = vfs.f_bavail * 10 < vfs.f_blocks;
	n->gpus = -1;
	n->cpus = sysconf(_SC_NPROCESSORS_ONLN);
}

/*
 * Jobs run on this machine only: a node of another name would get jobs
 * that run here while they claim to run there.
 */
static int
local_node_check(const struct config *cfg, const char *name, struct buf *err)
{
	char *here = proc_node_name();
	int ret = 0;

	(void)cfg;
	if (strcmp(name, here) != 0)
		ret = err_set(err, ERR_INVALID,
		    "node '%s' is not this machine ('%s'): the local backend "
		    "runs jobs on this machine only",
		    name, here);
	free(here);
	return ret;
}

static int
local_nodes(struct backend *be, backend_node_vec *out, struct buf *err)
{
	struct local_backend *lb = local_downcast(be);
	struct backend_node *n;

	(void)err;
	n = VEC_ADD(out);
	n->name = proc_node_name();
	local_health(lb, n);
	return 0;
}

/*
 * Nothing to do: an ended job's files hold its end and its log, and stay
 * until its task is removed (purge).
 */
static int
local_release(struct backend *be, const struct backend_ref *ref,
    struct buf *err)
{
	(void)local_downcast(be);
	(void)ref;
	(void)err;
	return 0;
}

static int
local_purge(struct backend *be, const struct backend_ref *last, struct buf *err)
{
	static const char *const exts[] = { "job", "log" };
	struct local_backend *lb = local_downcast(be);
	struct backend_ref ref = { last->job_id, 0 };
	struct buf path = BUF_INIT;
	size_t i;

	(void)err;
	for (ref.attempt = 1; ref.attempt <= last->attempt; ref.attempt++) {
		for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
			local_path(lb, &ref, exts[i], &path);
			unlink(path.data);
		}
	}
	buf_release(&path);
	return 0;
}

static int
local_handles(struct backend *be, backend_ref_vec *out, struct buf *err)
{
	struct local_backend *lb = local_downcast(be);
	struct backend_ref *r;
	struct dirent *de;
	long long id, attempt;
	char rest[8];
	DIR *d;

	d = opendir(lb->dir);
	if (d == NULL)
		return err_set(err, ERR_UNAVAILABLE, "cannot read '%s': %s",
		    lb->dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "%lld-%lld.%7s", &id, &attempt, rest) !=
		        3 ||
		    strcmp(rest, "job") != 0)
			continue;
		r = VEC_ADD(out);
		r->job_id = id;
		r->attempt = attempt;
	}
	closedir(d);
	return 0;
}

static int
local_event_fd(struct backend *be)
{
	struct local_backend *lb = local_downcast(be);

	/* The pilot's first call, with its lock taken (none elsewhere). */
	local_cgroup_setup(lb);
	if (lb->inotify_fd < 0) {
		lb->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (lb->inotify_fd >= 0 &&
		    inotify_add_watch(lb->inotify_fd, lb->dir, IN_CLOSE_WRITE) <
		        0) {
			close(lb->inotify_fd);
			lb->inotify_fd = -1;
		}
	}
	return lb->inotify_fd;
}

/* Did a job file get closed for writing (a job ended)? */
static bool
local_drain_events(struct backend *be)
{
	return local_read_events(local_downcast(be));
}

/*
 * The jobs of `username` run as `login` on this machine, which must have
 * that account; a pilot that is not root can run its own account's only.
 */
static int
local_account(struct backend *be, const char *username, const char *login,
    struct proc_account *out, struct buf *why)
{
	struct local_backend *lb = local_downcast(be);
	int ret;

	ret = proc_account_get(login, out, why);
	if (ret == ERR_NOTFOUND)
		return err_set(why, ERR_DENIED,
		    "user %s has no Unix account '%s' on node %s", username,
		    login, lb->node);
	if (ret < 0)
		return ret;
	if (geteuid() != 0 && out->uid != (int64_t)geteuid()) {
		proc_account_release(out);
		return err_set(why, ERR_DENIED,
		    "the pilot runs as %s and cannot run jobs as %s: run it "
		    "as root to serve several accounts",
		    lb->self, login);
	}
	return 0;
}

const struct backend_ops backend_local_ops = {
	.name = "local",
	.open = local_open,
	.close = local_close,
	.start = local_start,
	.poll = local_poll,
	.stop = local_stop,
	.logs = local_logs,
	.log_open = local_log_open,
	.node_check = local_node_check,
	.nodes = local_nodes,
	.nodes_all = true,
	.release = local_release,
	.purge = local_purge,
	.handles = local_handles,
	.event_fd = local_event_fd,
	.drain_events = local_drain_events,
	.account = local_account,
};
