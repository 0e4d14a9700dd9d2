/*
 * local-super.c - the supervisor of one local job attempt, and the
 * launcher that forks supervisors for the pilot.
 *
 * A supervisor waits for its job, enforces the time limit, turns a stop
 * request (SIGTERM) into SIGTERM to the job's process group and SIGKILL
 * after a grace period, kills whatever is left of the group when the
 * job's shell ends, and writes how the job ended into its .job file
 * (descriptor 3, which it holds locked for as long as it lives): see
 * local.c for the file and what the pilot reads of it.
 *
 * The launcher (orchestra-launch) is a small program the pilot starts
 * once: forking the pilot, a process with some forty libraries mapped,
 * cost it about 0.3 ms of its own time for each job, where a fork of the
 * launcher costs a fraction of that and is not the pilot's time.  The
 * pilot sends each request with the .job descriptor (and the lock of the
 * job's cgroup of the pool, local.c) over a socket; the
 * launcher forks the supervisor and answers.  When the pilot ends (the
 * end of the socket) its supervisors, in sessions of their own, go on,
 * and the launcher stays their subreaper until the last of them ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/local-int.h"
#include "util/proc.h"

/* ---- the supervisor (runs in its own session; never returns) ---------- */

/* What the pilot's environment may hold that a job must not see. */
static const char *const local_secret_env[] = {
	"ORCHESTRA_DB",
	"ORCHESTRA_TOKEN",
	"ORCHESTRA_SMTP_URL",
	"PGPASSWORD",
	"PGPASSFILE",
	"PGSERVICEFILE",
	"KUBECONFIG",
	NULL,
};

/*
 * What of the pilot's environment a job of another account keeps: where
 * programs are, the locale, and where Orchestra is; nothing of root's
 * own (its agent sockets, credential caches, secrets).
 */
static const char *const local_keep_env[] = {
	"PATH",
	"LANG",
	"LANGUAGE",
	"TZ",
	"TERM",
	"TMPDIR",
	"ORCHESTRA_HOME",
	"ORCHESTRA_VOLUME",
	"ORCHESTRA_URL",
	"ORCHESTRA_CA_FILE",
	NULL,
};

/* Leave only local_keep_env and the LC_ variables in the environment. */
static void
local_job_env_reset(void)
{
	extern char **environ;
	VEC(char *) keep = VEC_INIT;
	char **e, **k;
	size_t i, len;

	for (e = environ; e != NULL && *e != NULL; e++) {
		for (i = 0; local_keep_env[i] != NULL; i++) {
			len = strlen(local_keep_env[i]);
			if (strncmp(*e, local_keep_env[i], len) == 0 &&
			    (*e)[len] == '=')
				break;
		}
		if (local_keep_env[i] != NULL || strncmp(*e, "LC_", 3) == 0)
			VEC_PUSH(&keep, xstrdup(*e));
	}
	clearenv();
	VEC_FOREACH (k, &keep)
		putenv(*k); /* the environment keeps them: never freed */
	if (getenv("PATH") == NULL)
		setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	VEC_RELEASE(&keep);
}

/* The account a job runs as, from what the pilot looked up. */
static void
local_job_account(const struct backend_job *job, struct proc_account *a)
{
	memset(a, 0, sizeof(*a));
	a->login = (char *)job->login;
	a->uid = job->uid;
	a->gid = job->gid;
	a->home = (char *)job->home;
	a->groups = (int64_t *)job->groups;
	a->ngroups = job->ngroups;
}

/*
 * The job's environment, set in the supervisor's own before the vfork():
 * the child shares the supervisor's memory, so it finds it ready and
 * allocates nothing.  The supervisor needs no environment of its own.
 */
static void
local_job_env(const struct backend_job *job)
{
	char num[32];
	int i;

	if (job->uid != (int64_t)geteuid())
		local_job_env_reset();
	/* The pilot's secrets are not the job's. */
	for (i = 0; local_secret_env[i] != NULL; i++)
		unsetenv(local_secret_env[i]);
	if (job->login != NULL) {
		setenv("HOME", job->home ? job->home : "/", 1);
		setenv("USER", job->login, 1);
		setenv("LOGNAME", job->login, 1);
	}
	snprintf(num, sizeof(num), "%lld", (long long)job->job_id);
	setenv("ORCHESTRA_JOB_ID", num, 1);
	snprintf(num, sizeof(num), "%lld", (long long)job->attempt);
	setenv("ORCHESTRA_ATTEMPT", num, 1);
	setenv("ORCHESTRA_TASK", job->task, 1);
	setenv("ORCHESTRA_OUT", job->out_dir, 1);
	setenv("ORCHESTRA_NODE", job->node ? job->node : "", 1);
	if (job->gpu_index >= 0) {
		snprintf(num, sizeof(num), "%d", job->gpu_index);
		setenv("CUDA_VISIBLE_DEVICES", num, 1);
	} else {
		/* A CPU job sees no GPU. */
		setenv("CUDA_VISIBLE_DEVICES", "", 1);
	}
}

/* One line on the job's log, from the child of vfork(): no allocation. */
static void
local_job_say(const char *what, const char *why, int sys)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "orchestra: %s%s%s%s%s\n", what,
	    why ? ": " : "", why ? why : "", sys ? ": " : "",
	    sys ? strerror(sys) : "");
	if (n > 0 &&
	    write(2, line,
	        (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		_exit(127);
}

/*
 * The job's side of the vfork(): system calls only, on the supervisor's
 * memory, until the exec.  `failed` (the supervisor's) gets errno if
 * nothing can run.  The log is `logfd`, opened by the supervisor: the
 * job never opens a file of ours by name, and cannot once it is its
 * owner.  `cgfd`, where it is not -1, is the file of the job's memory
 * cgroup to enter it by (cgroup_job_procs_fd), which the job writes
 * before it is its owner (who may not
 * move itself) and before it runs anything; where it cannot, `cgfailed`
 * gets errno and the job runs without, saying so on its log.
 */
/* Append `v` (>= 0) in decimal to `p`: no stdio, for the vfork child. */
static char *
local_job_num(char *p, long v)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < (int)sizeof(digits));
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/*
 * The .job file's header, "pid SUPERVISOR\npgid JOB\n", written by the
 * job's process itself before it runs anything (its supervisor writes
 * the same after the vfork): a supervisor killed between the vfork and
 * its own write leaves a job that ran all the same, and without the
 * header its pilot and launcher would take it for one never started
 * (local.c, local_lost_or_unstarted) and start it again beside it.  Our
 * lock (descriptor 3, shared with the supervisor until the exec closes
 * it) keeps the pilot from looking before it is there.
 */
static void
local_job_header(long super_pid)
{
	char text[64], *p = text;

	memcpy(p, "pid ", 4);
	p = local_job_num(p + 4, super_pid);
	memcpy(p, "\npgid ", 6);
	p = local_job_num(p + 6, (long)getpid());
	*p++ = '\n';
	if (pwrite(3, text, (size_t)(p - text), 0) < 0) {
		/* The supervisor's own write says it, or records none. */
	}
}

static _Noreturn void
local_job_exec(const struct backend_job *job, long super_pid, int logfd,
    int cgfd, volatile int *failed, volatile int *cgfailed)
{
	struct proc_account acct;
	const char *why = NULL;
	sigset_t none;
	int fd, sys = 0;

	setpgid(0, 0);
	local_job_header(super_pid);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	dup2(logfd, 1);
	dup2(logfd, 2);
	if (logfd > 2)
		close(logfd);
	/* "0": the writer itself (with vfork(), this child alone). */
	if (cgfd >= 0 && write(cgfd, "0", 1) != 1) {
		sys = errno != 0 ? errno : EIO;
		*cgfailed = sys;
		local_job_say("memory not enforced: cannot enter its cgroup",
		    NULL, sys);
		sys = 0;
	}
	/* Its owner before anything of the job's runs, or nothing runs. */
	local_job_account(job, &acct);
	if (job->login == NULL) {
		local_job_say("no account to run the job as", NULL, 0);
		*failed = EPERM;
		_exit(126);
	}
	if (proc_account_switch(&acct, &why, &sys) < 0) {
		local_job_say("cannot become the job's account", why, sys);
		*failed = EPERM;
		_exit(126);
	}
	umask(022);
	if (chdir(job->out_dir) < 0 && chdir("/") < 0) {
		*failed = errno;
		_exit(126);
	}
	execl("/bin/sh", "sh", "-c", job->command, (char *)NULL);
	sys = errno;
	local_job_say("cannot run /bin/sh", NULL, sys);
	*failed = sys;
	_exit(127);
}

/*
 * Start the job with vfork(): the child borrows our memory until its
 * exec, so nothing of the pilot's (whose copy we are) is copied again for
 * each job; we resume once it has exec'ed or given up (`failed`).  A
 * function of its own, so that no variable of the caller's lives in the
 * frame the child runs on.
 */
static pid_t __attribute__((noinline))
local_job_spawn(const struct backend_job *job, int logfd, int cgfd,
    volatile int *failed, volatile int *cgfailed)
{
	long self = (long)getpid();
	pid_t child = vfork();

	if (child == 0)
		local_job_exec(job, self, logfd, cgfd, failed, cgfailed);
	return child;
}

/* The memory cgroup a supervisor put its job in (local_super_cgroup). */
struct local_cg {
	const char *dir; /* s->pool or s->cgroup; NULL: none */
	bool pooled;     /* s->pool: emptied at the end, not removed */
	struct cgroup_use use;
	int oomfd; /* v1: the eventfd of its memory running out; else -1 */
};

int
local_pool_read(int fd, int64_t *oom_base, bool *peak_own)
{
	char line[64];
	long long base;
	int own;
	ssize_t n;

	n = pread(fd, line, sizeof(line) - 1, LOCAL_POOL_AT);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	if (sscanf(line, "pool %lld %d\n", &base, &own) != 2 || base < 0)
		return -1;
	*oom_base = base;
	*peak_own = own != 0;
	return 0;
}

/*
 * The pool's cgroup s->pool, readied for the job (cgroup_pool_take) and
 * said so in the .job file (LOCAL_POOL_AT): true, and `cg` filled.  False
 * where it cannot be (why on `err`): its lock is let go, and the job
 * takes a cgroup of its own.
 */
static bool
local_super_pool(const struct local_super *s, struct local_cg *cg,
    struct buf *err)
{
	char line[64];
	int n;

	if (cgroup_pool_take(s->cgroup_kind, s->pool, s->job->memory, &cg->use,
	        err) == 0) {
		n = snprintf(line, sizeof(line), "pool %lld %d\n",
		    (long long)cg->use.oom_base,
		    s->cgroup_kind == CGROUP_V1 || cg->use.peak_fd < 0);
		if (pwrite(3, line, (size_t)n, LOCAL_POOL_AT) == n) {
			cg->dir = s->pool;
			cg->pooled = true;
			return true;
		}
		err_set(err, ERR_UNAVAILABLE, "cannot write its .job file: %s",
		    strerror(errno));
		if (cg->use.peak_fd >= 0)
			close(cg->use.peak_fd);
		cg->use.peak_fd = -1;
	}
	close(4);
	return false;
}

/*
 * Ready the job's memory cgroup, held to its memory: the pool's
 * (s->pool), else its own (s->cgroup, made here); and open the file the
 * job's process enters it by (cgroup_job_procs_fd): the descriptor, or -1
 * where there is none or it cannot be had; then the job runs with its
 * memory not enforced, and its log (`logfd`, before the job writes) says
 * why.  `cg` says which cgroup, and holds v1's OOM eventfd.
 */
static int
local_super_cgroup(const struct local_super *s, int logfd, struct local_cg *cg)
{
	struct buf err = BUF_INIT, line = BUF_INIT;
	int fd = -1;

	memset(cg, 0, sizeof(*cg));
	cg->use.peak_fd = -1;
	cg->oomfd = -1;
	if (s->cgroup_kind == CGROUP_NONE || s->cgroup == NULL ||
	    *s->cgroup == '\0')
		return -1;
	if (s->pool != NULL && *s->pool != '\0' &&
	    !local_super_pool(s, cg, &err))
		log_debug("job %lld: no cgroup of the pool: %s",
		    (long long)s->job->job_id, err.data);
	if (!cg->pooled) {
		buf_reset(&err);
		if (cgroup_job_make(s->cgroup_kind, s->cgroup, s->job->memory,
		        &err) == 0)
			cg->dir = s->cgroup;
	}
	if (cg->dir != NULL) {
		fd = cgroup_job_procs_fd(s->cgroup_kind, cg->dir);
		if (fd < 0) {
			err_set(&err, ERR_UNAVAILABLE,
			    "cannot open the cgroup '%s' to enter it: %s",
			    cg->dir, strerror(errno));
			if (!cg->pooled)
				cgroup_job_remove(s->cgroup_kind, cg->dir);
		}
	}
	if (fd >= 0) {
		cg->oomfd = cgroup_job_oom_watch(s->cgroup_kind, cg->dir);
	} else {
		cg->dir = NULL;
		buf_addf(&line, "orchestra: memory not enforced: %s\n",
		    err.data);
		if (write(logfd, line.data, line.len) < 0)
			log_debug("cannot write the job's log: %s",
			    strerror(errno));
	}
	buf_release(&err);
	buf_release(&line);
	return fd;
}

/*
 * v1's eventfd `cg->oomfd` says the job's cgroup ran out of memory: the
 * kernel kills a process of it (the count follows the word within a
 * moment; a word with no kill of its own is of an ancestor's running
 * out).  v1 has no memory.oom.group: kill the rest of the job here, so
 * that it dies whole, as on v2.  True once that was done.
 */
static bool
local_super_oom(enum cgroup_kind kind, const struct local_cg *cg, pid_t child)
{
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	uint64_t words;
	int tries;

	if (read(cg->oomfd, &words, sizeof(words)) < 0 && errno != EAGAIN)
		return false;
	for (tries = 0; tries < 40; tries++) {
		if (cgroup_job_oom_kills(kind, cg->dir) > cg->use.oom_base) {
			kill(-child, SIGKILL);
			cgroup_job_kill(kind, cg->dir);
			return true;
		}
		nanosleep(&pause, NULL);
	}
	return false;
}

/* The bound on the job's log, as the supervisor keeps it (local-int.h). */
struct local_cap {
	int64_t max;              /* 0: no bound */
	int64_t cut_from, cut_to; /* what was cut, in the log; equal: none */
	bool no_hole; /* the file system punches none: the head only */
};

void
local_cut_read(int fd, int64_t *from, int64_t *to)
{
	char line[96];
	long long f, t, sum;
	ssize_t n;
	int tries;

	*from = *to = 0;
	/* A line read while it was rewritten fails its sum: read again. */
	for (tries = 0; tries < 3; tries++) {
		n = pread(fd, line, sizeof(line) - 1, LOCAL_CUT_AT);
		if (n <= 0)
			return;
		line[n] = '\0';
		if (strncmp(line, "cut ", 4) != 0)
			return; /* nothing cut */
		if (sscanf(line, "cut %lld %lld %lld\n", &f, &t, &sum) == 3 &&
		    f >= 0 && t > f && sum == f + t) {
			*from = f;
			*to = t;
			return;
		}
	}
}

/* Say what was cut (before its blocks go: see local-int.h). */
static void
local_cap_write(const struct local_cap *c)
{
	char line[96];
	int n;

	n = snprintf(line, sizeof(line), "cut %lld %lld %lld\n",
	    (long long)c->cut_from, (long long)c->cut_to,
	    (long long)(c->cut_from + c->cut_to));
	if (pwrite(3, line, (size_t)n, LOCAL_CUT_AT) < 0)
		return; /* the reader shows the hole as it is */
}

/*
 * Free the blocks of the log from its head up to position `to`.  Where
 * the file system cannot, keep the head only from now on.
 */
static void
local_cap_punch(struct local_cap *c, int64_t to, int64_t written)
{
	off_t from = LOCAL_LOG_AT + c->cut_from, end = LOCAL_LOG_AT + to;

	from = (from + 4095) & ~(off_t)4095;
	end &= ~(off_t)4095;
	if (end <= from)
		return;
	if (fallocate(3, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, from,
	        end - from) == 0)
		return;
	c->no_hole = true;
	c->cut_to = written;
	local_cap_write(c);
	if (ftruncate(3, LOCAL_LOG_AT + c->cut_from) < 0)
		log_debug("cannot free the log's tail: %s", strerror(errno));
}

/*
 * The log is `written` bytes long: past the bound, cut what lies between
 * its head and its tail, a step at a time; at the job's end (`last`),
 * all of it, with no lag.
 */
static void
local_cap_check(struct local_cap *c, int64_t written, bool last)
{
	int64_t head, tail, to, prev;

	if (c->max <= 0 || written <= c->max)
		return;
	head = c->max / 2;
	tail = c->max - head;
	if (c->no_hole) {
		c->cut_to = written;
		local_cap_write(c);
		return;
	}
	to = written - tail;
	prev = c->cut_to > 0 ? c->cut_to : head;
	if (to < prev + tail / LOCAL_CUT_STEP && !last)
		return;
	if (to > prev) {
		c->cut_from = head;
		c->cut_to = to;
		local_cap_write(c);
	}
	local_cap_punch(c, last ? c->cut_to : prev, written);
}

/*
 * Move what the job wrote so far from the pipe into the .job file, from
 * `*at` on, within the bound `cap`; false once the pipe has ended (every
 * writer closed it) or failed.  The read end is non-blocking: nothing
 * waits here.
 */
static bool
local_super_pump(int pipefd, off_t *at, struct local_cap *cap)
{
	char chunk[16384];
	ssize_t n;

	for (;;) {
		if (cap->no_hole) {
			/* Past the head, nothing is kept: only counted. */
			n = read(pipefd, chunk, sizeof(chunk));
			if (n > 0) {
				*at += n;
				local_cap_check(cap, *at - LOCAL_LOG_AT, false);
			}
		} else {
			n = splice(pipefd, NULL, 3, at, 1 << 16,
			    SPLICE_F_NONBLOCK);
		}
		if (n < 0 && errno == EINVAL) {
			/* No splice here: by hand. */
			n = read(pipefd, chunk, sizeof(chunk));
			if (n > 0 && pwrite(3, chunk, (size_t)n, *at) != n)
				return false;
			if (n > 0)
				*at += n;
		}
		if (n > 0 && !cap->no_hole)
			local_cap_check(cap, *at - LOCAL_LOG_AT, false);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

/*
 * waitid() on `pid` with the kernel's accounting beside: glibc's waitid()
 * has no rusage, the system call has.  With WNOWAIT the child stays a
 * zombie (see local_supervise) and `ru` is RUSAGE_BOTH of it: its own and
 * that of every descendant it waited for.
 */
static int
local_super_waitid(pid_t pid, siginfo_t *wi, int options, struct rusage *ru)
{
	return (int)syscall(SYS_waitid, P_PID, (id_t)pid, wi, options, ru);
}

/*
 * The record's usage lines (local.c, local_read_exit): "peak" the job's
 * memory cgroup's peak (`peak`, bytes: all its processes together), else
 * the largest resident set, in bytes, of the job's process or of any one
 * descendant it waited for (ru_maxrss, KiB; not a sum), "cpu" the user
 * and system time of all of them, in ms.
 */
static void
local_super_usage(struct buf *text, const struct rusage *ru, int64_t peak)
{
	buf_addf(text, "peak %lld\ncpu %lld\n",
	    peak > 0 ? (long long)peak : (long long)ru->ru_maxrss * 1024,
	    (long long)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
	        (long long)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) /
	            1000);
}

/*
 * Leave one spare .job file in `dir` for a later start (local.c,
 * local_spare_take), so that the pilot takes a file made beforehand,
 * by a rename, instead of making an inode on its own path: on this
 * project's machine (ext4 without a journal, issue 18) a create skips
 * over every inode freed in the last minutes, and took most of the
 * pilot's time in a burst after many files were deleted.  Made here,
 * once our job's end is recorded and told, off the path of any start or
 * end; its room taken as the pilot takes a record's (LOCAL_LOG_AT).
 * Named by our pid and the time: ours alone.
 */
static void
local_spare_make(const char *dir)
{
	char path[4096];
	int fd;

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%ld-%lld", dir, (long)getpid(),
	    (long long)time_mono_ns());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (posix_fallocate(fd, 0, LOCAL_LOG_AT) != 0)
		unlink(path);
	close(fd);
}

static _Noreturn void
local_supervise(const struct local_super *s)
{
	const struct backend_job *job = s->job;
	struct buf text = BUF_INIT;
	enum backend_end end = BACKEND_END_EXIT;
	int64_t started = time_now_ms();
	bool stopping = false;
	struct signalfd_siginfo info;
	struct pollfd fds[3];
	struct local_cap cap = { s->log_max, 0, 0, false };
	off_t logat = LOCAL_LOG_AT;
	sigset_t set;
	volatile int failed = 0, cgfailed = 0;
	pid_t child = -1;
	siginfo_t wi;
	struct rusage ru;
	bool has_usage = false, oom = false;
	int64_t peak = -1;
	int code = 127, sig, sfd, out[2], cgfd = -1;
	struct local_cg cg = { NULL, false, { 0, -1, false }, -1 };
	const char *stop;
	size_t header;

	/* Nobody reads our memory or environment, a job of ours included. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	memset(&wi, 0, sizeof(wi));
	if (job->login != NULL)
		proc_own_out_dir(s->volume, job->out_dir, job->uid, job->gid);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	/*
	 * The job's output comes through a pipe, which we move into the
	 * .job file from LOCAL_LOG_AT on: one file a job, not two, and the
	 * job holds nothing of ours but the pipe's end.
	 */
	if (sfd >= 0 && pipe2(out, O_CLOEXEC) == 0) {
		fcntl(out[0], F_SETFL, O_NONBLOCK);
		cgfd = local_super_cgroup(s, out[1], &cg);
		local_job_env(job);
		child = local_job_spawn(job, out[1], cgfd, &failed, &cgfailed);
		close(out[1]);
	}
	if (child > 0)
		setpgid(child, child);
	/* Tests only (t0127): stopped here, the job started and our own
	 * write of the header not made, for a test to kill us then. */
	stop = getenv("ORCHESTRA_TEST_SUPER_STOP");
	if (child > 0 && stop != NULL &&
	    strtoll(stop, NULL, 10) == job->attempt)
		raise(SIGSTOP);
	buf_addf(&text, "pid %ld\npgid %ld\n", (long)getpid(),
	    (long)(child > 0 ? child : 0));
	if (pwrite(3, text.data, text.len, 0) < 0)
		_exit(1);
	header = text.len;
	buf_reset(&text);
	if (child < 0) {
		end = BACKEND_END_START;
		goto record;
	}
	if (failed != 0)
		end = BACKEND_END_START;
	if (job->timeout_ms > 0)
		alarm((unsigned)((job->timeout_ms + 999) / 1000));
	fds[0].fd = sfd;
	fds[0].events = POLLIN;
	fds[1].fd = out[0];
	fds[1].events = POLLIN;
	fds[2].fd = cgfailed == 0 ? cg.oomfd : -1;
	fds[2].events = POLLIN;
	for (;;) {
		fds[0].revents = fds[1].revents = fds[2].revents = 0;
		if (poll(fds, 3, -1) < 0)
			continue;
		if (fds[1].revents != 0 &&
		    !local_super_pump(out[0], &logat, &cap))
			fds[1].fd = -1; /* ended: poll() skips it */
		if (fds[2].revents != 0 &&
		    local_super_oom(s->cgroup_kind, &cg, child)) {
			oom = true;
			fds[2].fd = -1;
		}
		if (!(fds[0].revents & POLLIN) ||
		    read(sfd, &info, sizeof(info)) != sizeof(info))
			continue;
		sig = (int)info.ssi_signo;
		if (sig == SIGCHLD) {
			/*
			 * Seen, not reaped: until its end is recorded the job
			 * stays our zombie, and if we are killed before, it
			 * goes with its status to the launcher (our
			 * subreaper), which records it
			 * (local_launcher_orphan).  Its usage is final.
			 */
			memset(&wi, 0, sizeof(wi));
			memset(&ru, 0, sizeof(ru));
			if (local_super_waitid(child, &wi,
			        WEXITED | WNOHANG | WNOWAIT, &ru) == 0 &&
			    wi.si_pid == child) {
				has_usage = true;
				break;
			}
			continue;
		}
		if (sig == SIGALRM && stopping) {
			/* The grace period is over. */
			kill(-child, SIGKILL);
			continue;
		}
		if (stopping)
			continue;
		stopping = true;
		end =
		    sig == SIGALRM ? BACKEND_END_TIMEOUT : BACKEND_END_STOPPED;
		kill(-child, SIGTERM);
		alarm(LOCAL_GRACE_SECONDS);
	}
	/* Whatever the job left behind in its group goes with it. */
	kill(-child, SIGKILL);
	/* What it wrote before it ended; a writer that left the group is
	 * not waited for. */
	local_super_pump(out[0], &logat, &cap);
	local_cap_check(&cap, logat - LOCAL_LOG_AT, true);
	if (wi.si_code == CLD_EXITED) {
		code = wi.si_status;
	} else {
		code = 128 + wi.si_status;
		if (end == BACKEND_END_EXIT)
			end = BACKEND_END_SIGNAL;
	}
	/*
	 * Its memory cgroup says whether the kernel killed a process of it
	 * for memory (then the rest went too: memory.oom.group, or
	 * local_super_oom), and its peak: of all its processes together.
	 * A cgroup of the pool counts the kills of the jobs before too: its
	 * count must have grown since this job began.
	 */
	if (cgfd >= 0 && cgfailed == 0) {
		if ((oom ||
		        cgroup_job_oom_kills(s->cgroup_kind, cg.dir) >
		            cg.use.oom_base) &&
		    (end == BACKEND_END_EXIT || end == BACKEND_END_SIGNAL)) {
			end = BACKEND_END_OOM;
			code = 128 + SIGKILL;
		}
		peak = cg.use.peak_fd >= 0
		    ? cgroup_pool_peak(&cg.use)
		    : cgroup_job_peak(s->cgroup_kind, cg.dir);
	}
	/*
	 * A cgroup of the pool is left empty before the end is recorded:
	 * once the pilot sees the end, the next job may have it.
	 */
	if (cgfd >= 0 && cg.pooled &&
	    cgroup_job_empty(s->cgroup_kind, cg.dir) < 0)
		log_debug("cannot empty cgroup '%s'", cg.dir);
record:
	buf_addf(&text, "exit %d\nend %d\nstarted %lld\nended %lld\n", code,
	    (int)end, (long long)started, (long long)time_now_ms());
	if (has_usage)
		local_super_usage(&text, &ru, peak);
	buf_adds(&text, "done\n");
	/*
	 * The record counts only once complete ("done"), and is read as an
	 * end only once our lock is free.  No fsync: after a power loss a
	 * torn record reads as a lost job, which is queued again.
	 */
	if (pwrite(3, text.data, text.len, (off_t)header) < 0)
		_exit(1);
	if (child > 0)
		waitpid(child, NULL, 0);
	/*
	 * Whatever is left in its own cgroup goes, and the cgroup with it;
	 * the pool's stays, for the next job (its lock, descriptor 4, goes
	 * with us).  Closing the eventfd undoes its registration.
	 */
	if (cg.oomfd >= 0)
		close(cg.oomfd);
	if (cg.use.peak_fd >= 0)
		close(cg.use.peak_fd);
	if (cgfd >= 0) {
		close(cgfd);
		if (!cg.pooled)
			cgroup_job_remove(s->cgroup_kind, cg.dir);
	}
	/*
	 * The pool's lock before the .job file: its last close tells the
	 * pilot of our end, and the pilot may then claim the cgroup at once
	 * (the exit would close descriptor 3 first).
	 */
	if (cg.pooled)
		close(4);
	/*
	 * Our end told (the .job file's last close), a spare for a later
	 * start: on no job's path, not even our own job's end's.
	 */
	close(3);
	local_spare_make(s->spares);
	_exit(0);
}

int
local_super_fork(const struct local_super *s, int fd, int poolfd, pid_t *out,
    struct buf *err)
{
	pid_t pid;
	int null, high, poolhigh = -1;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return err_set(err, ERR_UNAVAILABLE, "fork: %s",
		    strerror(errno));
	if (pid > 0) {
		if (out != NULL)
			*out = pid;
		return 0;
	}
	/* Away from the pilot: own session, none of its fds. */
	setsid();
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Both out of the way first: either may be 3 or 4. */
	high = fcntl(fd, F_DUPFD_CLOEXEC, 5);
	if (poolfd >= 0)
		poolhigh = fcntl(poolfd, F_DUPFD_CLOEXEC, 5);
	dup2(high, 3);
	fcntl(3, F_SETFD, FD_CLOEXEC);
	if (poolhigh >= 0) {
		dup2(poolhigh, 4);
		fcntl(4, F_SETFD, FD_CLOEXEC);
	} else {
		close(4);
	}
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	closefrom(5);
	local_supervise(s);
}

/* ---- the launcher's requests ------------------------------------------ */

/*
 * A request: eleven integers (job id, attempt, uid, gid, GPU index,
 * timeout, whether there is a login, the number of groups, the bound on
 * the log, the memory, the kind of memory cgroup), the groups,
 * then the strings, each ended by a NUL, in the order of
 * local_super_encode.
 */
#define LOCAL_REQ_INTS 11
#define LOCAL_REQ_STRINGS 10
#define LOCAL_REQ_MAX_GROUPS 4096

static void
local_super_add_int(struct buf *out, int64_t v)
{
	buf_add(out, &v, sizeof(v));
}

static void
local_super_add_str(struct buf *out, const char *s)
{
	buf_add(out, s ? s : "", strlen(s ? s : "") + 1);
}

void
local_super_encode(const struct local_super *s, struct buf *out)
{
	const struct backend_job *j = s->job;
	size_t i;

	local_super_add_int(out, j->job_id);
	local_super_add_int(out, j->attempt);
	local_super_add_int(out, j->uid);
	local_super_add_int(out, j->gid);
	local_super_add_int(out, j->gpu_index);
	local_super_add_int(out, j->timeout_ms);
	local_super_add_int(out, j->login != NULL);
	local_super_add_int(out, (int64_t)j->ngroups);
	local_super_add_int(out, s->log_max);
	local_super_add_int(out, j->memory);
	local_super_add_int(out, (int64_t)s->cgroup_kind);
	for (i = 0; i < j->ngroups; i++)
		local_super_add_int(out, j->groups[i]);
	local_super_add_str(out, j->command);
	local_super_add_str(out, j->login);
	local_super_add_str(out, j->home);
	local_super_add_str(out, j->out_dir);
	local_super_add_str(out, j->task);
	local_super_add_str(out, j->node);
	local_super_add_str(out, s->volume);
	local_super_add_str(out, s->cgroup);
	local_super_add_str(out, s->pool);
	local_super_add_str(out, s->spares);
}

int
local_super_decode(const char *msg, size_t len, struct backend_job *job,
    struct local_super *s, int64_t **groups)
{
	const char *str[LOCAL_REQ_STRINGS], *p, *end = msg + len, *nul;
	int64_t v[LOCAL_REQ_INTS];
	size_t i, n;

	*groups = NULL;
	if (len < sizeof(v))
		return ERR_INVALID;
	memcpy(v, msg, sizeof(v));
	p = msg + sizeof(v);
	if (v[7] < 0 || v[7] > LOCAL_REQ_MAX_GROUPS ||
	    (size_t)(end - p) < (size_t)v[7] * sizeof(int64_t))
		return ERR_INVALID;
	n = (size_t)v[7];
	*groups = xcalloc(n + 1, sizeof(**groups));
	if (n > 0)
		memcpy(*groups, p, n * sizeof(int64_t));
	p += n * sizeof(int64_t);
	for (i = 0; i < LOCAL_REQ_STRINGS; i++) {
		nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		if (nul == NULL) {
			free(*groups);
			*groups = NULL;
			return ERR_INVALID;
		}
		str[i] = p;
		p = nul + 1;
	}
	memset(job, 0, sizeof(*job));
	job->job_id = v[0];
	job->attempt = v[1];
	job->uid = v[2];
	job->gid = v[3];
	job->gpu_index = (int)v[4];
	job->timeout_ms = v[5];
	job->ngroups = n;
	job->groups = *groups;
	job->command = str[0];
	job->login = v[6] ? str[1] : NULL;
	job->home = str[2];
	job->out_dir = str[3];
	job->task = str[4];
	job->node = str[5];
	job->image = "";
	job->memory = v[9] > 0 ? v[9] : 0;
	s->job = job;
	s->volume = str[6];
	s->log_max = v[8] > 0 ? v[8] : 0;
	s->cgroup_kind = v[10] == CGROUP_V2 || v[10] == CGROUP_V1
	    ? (enum cgroup_kind)v[10]
	    : CGROUP_NONE;
	s->cgroup = str[7];
	s->pool = str[8];
	s->spares = str[9];
	return 0;
}

/* ---- the launcher ----------------------------------------------------- */

/*
 * One request and its descriptors, the .job file's (`fd`) and the pool's
 * lock (`poolfd`, -1 with none); the length, 0 at the end, or -1.
 */
static ssize_t
local_launcher_recv(int sock, char *msg, size_t cap, int *fd, int *poolfd)
{
	char control[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { msg, cap };
	struct msghdr mh;
	struct cmsghdr *c;
	int fds[2];
	size_t nfds;
	ssize_t n;

	*fd = -1;
	*poolfd = -1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control;
	mh.msg_controllen = sizeof(control);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (c = CMSG_FIRSTHDR(&mh); n > 0 && c != NULL;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds > 2)
			nfds = 2;
		memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
		if (nfds >= 1)
			*fd = fds[0];
		if (nfds == 2)
			*poolfd = fds[1];
	}
	if (n > 0 && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -1;
	return n;
}

/*
 * The attempt of `fd` could not start: say so in its file, as a
 * supervisor whose job cannot start does (pid 0: no supervisor).
 */
static void
local_launcher_unstarted(int fd)
{
	struct buf text = BUF_INIT;
	int64_t now = time_now_ms();

	buf_addf(&text,
	    "pid 0\npgid 0\nexit 127\nend %d\nstarted %lld\nended %lld\n"
	    "done\n",
	    (int)BACKEND_END_START, (long long)now, (long long)now);
	if (pwrite(fd, text.data, text.len, 0) < 0)
		log_warn("cannot record a start that failed: %s",
		    strerror(errno));
	buf_release(&text);
}

/*
 * A supervisor the launcher forked, with its own reference to the .job
 * file (one open file: the supervisor's lock is ours too, so the job
 * stays running to the pilot until we have looked at how it ended).
 */
struct local_orphan_sup {
	pid_t pid;
	int fd;
	int64_t started;
	enum cgroup_kind cgroup_kind; /* its job's memory cgroup, or none */
	char *cgroup;
	/*
	 * The cgroup of the pool it was given, or NULL, and its lock, held
	 * here too until we have looked at how the job ended, so that no
	 * other job takes the cgroup before.
	 */
	char *pool;
	int poolfd;
};

/* Children we reaped that were no supervisor of ours: jobs whose
 * supervisor died, adopted (we are their subreaper). */
#define LOCAL_ADOPTED_MAX 256
struct local_adopted {
	pid_t pid;
	int status;
	struct rusage ru;
};

struct local_launcher {
	struct local_orphan_sup *sup;
	size_t nsup, capsup;
	struct local_adopted adopted[LOCAL_ADOPTED_MAX];
	size_t nadopted; /* a ring: the latest LOCAL_ADOPTED_MAX */
};

/* The status and usage of adopted `pid` if we reaped it already; else
 * -1. */
static int
local_launcher_adopted(struct local_launcher *l, pid_t pid, int *status,
    struct rusage *ru)
{
	size_t i,
	    n = l->nadopted < LOCAL_ADOPTED_MAX ? l->nadopted
	                                        : LOCAL_ADOPTED_MAX;

	for (i = 0; i < n; i++) {
		if (l->adopted[i].pid == pid) {
			*status = l->adopted[i].status;
			*ru = l->adopted[i].ru;
			l->adopted[i].pid = 0;
			return 0;
		}
	}
	return -1;
}

/*
 * Supervisor `s` ended.  With the end of its job recorded, nothing to
 * do.  Else it was killed: its job, if it was started, is our child now
 * (the kernel gives orphans to their subreaper).  The job's group is
 * killed, and the job's own status says which came first: ended by our
 * SIGKILL it was still running (lost: the pilot queues it again); ended
 * otherwise, its command had finished, and that end is recorded here,
 * so the job never runs a second time (issue 17).  A SIGKILL not ours
 * that its memory cgroup counts as an OOM kill is an end too: out of
 * memory, as its supervisor would have said (the reaper removes the
 * cgroup, or empties the pool's).  Of the pool's cgroup, only the kills
 * since the supervisor readied it count, and its peak only where the
 * file says the job's (LOCAL_POOL_AT).  True where its supervisor had
 * recorded the end itself.
 */
static bool
local_launcher_orphan(struct local_launcher *l, struct local_orphan_sup *s)
{
	struct buf text = BUF_INIT;
	char head[512];
	long pid = 0, pgid = 0;
	struct rusage ru;
	siginfo_t wi;
	ssize_t n;
	int status = 0, header = 0;
	bool killed_here = false, oom = false, peak_own = true;
	enum backend_end end;
	int64_t peak = -1, oom_base = 0;
	const char *cgroup = s->cgroup;
	int code;

	n = pread(s->fd, head, sizeof(head) - 1, 0);
	if (n <= 0)
		return false;
	head[n] = '\0';
	if (strstr(head, "\ndone\n") != NULL)
		return true; /* recorded (the log is further on: LOCAL_LOG_AT) */
	if (sscanf(head, "pid %ld\npgid %ld\n%n", &pid, &pgid, &header) < 2 ||
	    pgid <= 1 || header <= 0)
		return false; /* never started a job */
	memset(&ru, 0, sizeof(ru));
	if (local_launcher_adopted(l, (pid_t)pgid, &status, &ru) < 0) {
		memset(&wi, 0, sizeof(wi));
		if (waitid(P_PID, (id_t)pgid, &wi,
		        WEXITED | WNOHANG | WNOWAIT) < 0)
			return false; /* not ours: lost */
		if (wi.si_pid == 0) {
			kill(-(pid_t)pgid, SIGKILL); /* still running */
			killed_here = true;
		}
		if (wait4((pid_t)pgid, &status, 0, &ru) != (pid_t)pgid)
			return false;
	}
	kill(-(pid_t)pgid, SIGKILL); /* what it left behind */
	/* Its memory cgroup's word, as its supervisor would have read it. */
	if (s->pool != NULL &&
	    local_pool_read(s->fd, &oom_base, &peak_own) == 0)
		cgroup = s->pool;
	if (s->cgroup_kind != CGROUP_NONE) {
		oom = !killed_here &&
		    cgroup_job_oom_kills(s->cgroup_kind, cgroup) > oom_base;
		if (peak_own)
			peak = cgroup_job_peak(s->cgroup_kind, cgroup);
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !oom)
		return false; /* ours, or killed anyway: lost */
	if (oom) {
		code = 128 + SIGKILL;
		end = BACKEND_END_OOM;
	} else if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		end = BACKEND_END_EXIT;
	} else {
		code = 128 + WTERMSIG(status);
		end = BACKEND_END_SIGNAL;
	}
	buf_addf(&text, "exit %d\nend %d\nstarted %lld\nended %lld\n", code,
	    (int)end, (long long)s->started, (long long)time_now_ms());
	local_super_usage(&text, &ru, peak);
	buf_adds(&text, "done\n");
	if (pwrite(s->fd, text.data, text.len, (off_t)header) < 0)
		log_warn("cannot record job pid=%ld's end: %s", pgid,
		    strerror(errno));
	else
		log_warn("supervisor pid=%ld died after its job ended: "
		         "the job's end recorded by the launcher",
		    pid);
	buf_release(&text);
	return false;
}

/*
 * Supervisor `s` ended: what is left in its job's cgroup goes (a
 * supervisor killed before it did that itself), and its own cgroup with
 * it; the pool's cgroup, which it took (LOCAL_POOL_AT), stays, emptied
 * by the supervisor before it recorded the end (`recorded`), else here.
 */
static void
local_launcher_cgroup_end(struct local_orphan_sup *s, bool recorded)
{
	int64_t base;
	bool own;

	if (s->cgroup_kind == CGROUP_NONE)
		return;
	if (s->pool != NULL && local_pool_read(s->fd, &base, &own) == 0) {
		if (!recorded && cgroup_job_empty(s->cgroup_kind, s->pool) < 0)
			log_warn("launcher: cannot empty cgroup '%s'", s->pool);
		return;
	}
	if (s->cgroup != NULL)
		cgroup_job_remove(s->cgroup_kind, s->cgroup);
}

/* Reap every child that ended. */
static void
local_launcher_reap(struct local_launcher *l)
{
	size_t i;
	struct rusage ru;
	pid_t pid;
	int status;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		for (i = 0; i < l->nsup && l->sup[i].pid != pid; i++)
			;
		if (i == l->nsup) {
			l->adopted[l->nadopted++ % LOCAL_ADOPTED_MAX] =
			    (struct local_adopted){ pid, status, ru };
			continue;
		}
		local_launcher_cgroup_end(&l->sup[i],
		    local_launcher_orphan(l, &l->sup[i]));
		/* The pool's lock first: the .job file's last close tells
		 * the pilot of the end (local.c, local_poll). */
		if (l->sup[i].poolfd >= 0)
			close(l->sup[i].poolfd);
		close(l->sup[i].fd);
		free(l->sup[i].cgroup);
		free(l->sup[i].pool);
		l->sup[i] = l->sup[--l->nsup];
	}
}

int
local_launcher_main(int sock)
{
	struct local_launcher l = { 0 };
	struct buf err = BUF_INIT;
	struct local_super s;
	struct backend_job job;
	struct pollfd fds[2];
	int64_t *groups = NULL;
	size_t cap = 1 << 20, i;
	char *msg = xmalloc(cap);
	sigset_t set;
	ssize_t n;
	pid_t pid;
	int fd, poolfd, sfd;

	/* Nobody reads our memory or environment, a job of ours included. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* A killed supervisor's job comes to us, with its status. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	fds[0].fd = sock;
	fds[0].events = POLLIN;
	fds[1].fd = sfd;
	fds[1].events = POLLIN;
	for (;;) {
		fds[0].revents = fds[1].revents = 0;
		/* With the pilot gone (fds[0].fd -1, which poll() skips),
		 * only our supervisors' ends. */
		if (poll(fds, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 100) < 0 &&
		    errno != EINTR)
			break;
		if (fds[1].revents != 0) {
			struct signalfd_siginfo info;

			while (read(sfd, &info, sizeof(info)) > 0)
				;
		}
		local_launcher_reap(&l);
		if (fds[0].fd < 0) {
			if (l.nsup == 0)
				break;
			continue;
		}
		if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = local_launcher_recv(sock, msg, cap, &fd, &poolfd);
		if (n == 0 || (n < 0 && fd < 0)) {
			if (poolfd >= 0)
				close(poolfd);
			/*
			 * The pilot is gone (killed, or stopped: its jobs go
			 * on).  We stay the subreaper of our supervisors
			 * until the last one ends, so that one killed at its
			 * job's end still has that end recorded here, while
			 * no pilot runs or by a pilot started since (which
			 * has a launcher of its own).
			 */
			close(sock);
			fds[0].fd = -1;
			if (l.nsup == 0)
				break;
			continue;
		}
		buf_reset(&err);
		pid = 0;
		if (n < 0 ||
		    local_super_decode(msg, (size_t)n, &job, &s, &groups) < 0) {
			log_warn("launcher: a request it cannot read");
			local_launcher_unstarted(fd);
		} else {
			/* A cgroup of the pool only with its lock. */
			if (poolfd < 0)
				s.pool = "";
			if (*s.pool == '\0' && poolfd >= 0) {
				close(poolfd);
				poolfd = -1;
			}
			if (local_super_fork(&s, fd, poolfd, &pid, &err) < 0) {
				log_warn("launcher: job %lld: %s",
				    (long long)job.job_id, err.data);
				local_launcher_unstarted(fd);
			}
		}
		free(groups);
		groups = NULL;
		if (pid > 0) {
			if (l.nsup == l.capsup) {
				l.capsup = l.capsup ? 2 * l.capsup : 64;
				l.sup =
				    xrealloc(l.sup, l.capsup * sizeof(*l.sup));
			}
			l.sup[l.nsup++] = (struct local_orphan_sup){ pid, fd,
				time_now_ms(), s.cgroup_kind,
				s.cgroup_kind != CGROUP_NONE ? xstrdup(s.cgroup)
				                             : NULL,
				poolfd >= 0 ? xstrdup(s.pool) : NULL, poolfd };
		} else {
			close(fd);
			if (poolfd >= 0)
				close(poolfd);
		}
	}
	/* Only if poll() failed: our supervisors go on without us. */
	for (i = 0; i < l.nsup; i++) {
		close(l.sup[i].fd);
		if (l.sup[i].poolfd >= 0)
			close(l.sup[i].poolfd);
		free(l.sup[i].cgroup);
		free(l.sup[i].pool);
	}
	free(l.sup);
	if (sfd >= 0)
		close(sfd);
	free(msg);
	buf_release(&err);
	return 0;
}
