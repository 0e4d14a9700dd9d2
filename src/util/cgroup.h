/*
 * cgroup.h - the memory cgroup a pilot may put its jobs in (issue 19),
 * found at run time: a delegated cgroup v2 with the memory controller,
 * else the cgroup v1 memory controller; and one cgroup a job attempt
 * under it (of its own, or of a pool, used by one job after another),
 * which holds the job to its memory, counts its peak and says whether the
 * kernel killed a process of it for memory.
 *
 * cgroup v2: the pilot's own cgroup (/proc/self/cgroup, "0::/path") is
 * the one delegated to it (systemd's Delegate=yes), with "memory" in its
 * cgroup.controllers and its cgroup.subtree_control writable.  A cgroup
 * of v2 with children holds no process of its own, so cgroup_prepare()
 * moves the pilot (and whatever else is there: a launcher of an earlier
 * pilot and its supervisors) into the leaf CGROUP_PILOT_LEAF before it
 * enables the controller for the children; a pilot found in that leaf
 * already (restarted) uses its parent.  Jobs get memory.max, no swap,
 * and memory.oom.group, so that the kernel kills a job whole.
 *
 * cgroup v1: the pilot's memory cgroup, where it can make children.  Jobs
 * get memory.limit_in_bytes (and memory.memsw.limit_in_bytes: no swap);
 * v1 has no oom.group, so the supervisor is told of an OOM kill by an
 * eventfd (cgroup_job_oom_watch) and kills the rest of the job itself.
 *
 * The job's functions take the kind and the job cgroup's directory, so
 * that the supervisor needs nothing else; none allocates but the ones
 * that take a `struct buf`.
 */
#ifndef ORCHESTRA_CGROUP_H
#define ORCHESTRA_CGROUP_H

#include <sys/types.h>

#include "util/util.h"

enum cgroup_kind {
	CGROUP_NONE,
	CGROUP_V2,
	CGROUP_V1,
};

/* The leaf of the delegated cgroup (v2) the pilot moves itself into. */
#define CGROUP_PILOT_LEAF "orchestra-pilot"

/* What cgroup_find() found; `dir` owned (cgroup_release). */
struct cgroup {
	enum cgroup_kind kind;
	char *dir; /* where job cgroups are made; NULL with CGROUP_NONE */
};

/* "v2", "v1" (for messages). */
const char *cgroup_kind_name(enum cgroup_kind kind);

/* ---- pure: text in, text out (tests/unit/test-cgroup.c) ---------------- */

/*
 * The path of the process's cgroup of `kind` in `proc_cgroup` (the text
 * of /proc/PID/cgroup): v2's "0::/path", v1's line naming the memory
 * controller.  0 and the path in `out`, or ERR_NOTFOUND.
 */
int cgroup_self_path(const char *proc_cgroup, enum cgroup_kind kind,
    struct buf *out);

/*
 * Where cgroup `path` of `kind` is in this file system, from `mountinfo`
 * (the text of /proc/PID/mountinfo): the mount point of the cgroup2 file
 * system, or of the cgroup one with the memory controller, and `path`
 * below the mount's root.  0 and the directory in `out`, or ERR_NOTFOUND
 * (no such mount, or `path` outside its root).
 */
int cgroup_mount_dir(const char *mountinfo, enum cgroup_kind kind,
    const char *path, struct buf *out);

/*
 * The number N of the line "key N" in `text` (memory.events,
 * memory.oom_control, memory.stat); -1 when there is none.
 */
int64_t cgroup_count(const char *text, const char *key);

/* Is `word` one of the words of `list` (cgroup.controllers)? */
bool cgroup_has_word(const char *list, const char *word);

/*
 * The number a one-value file holds (memory.peak, memory.current,
 * memory.usage_in_bytes, ...): its decimal digits, then nothing but a
 * newline; -1 for anything else ("max", "", a sign).
 */
int64_t cgroup_value(const char *text);

/*
 * How many processes the kernel killed for a cgroup's memory, from the
 * text of its memory.events (v2: oom_kill, else oom_group_kill) or of its
 * memory.oom_control (v1: oom_kill); 0 when it says none or nothing.
 */
int64_t cgroup_oom_count(enum cgroup_kind kind, const char *text);

/* ---- this machine ----------------------------------------------------- */

/*
 * The memory cgroup process `pid` (0: this one) may put jobs in: v2, else
 * v1.  0 and `out` filled, or ERR_NOTFOUND with one line in `why` saying
 * what is missing (`out` is CGROUP_NONE then).  Changes nothing.
 */
int cgroup_find(pid_t pid, struct cgroup *out, struct buf *why);

/*
 * Make `cg` ready for job cgroups: on v2, move every process of it into
 * its leaf CGROUP_PILOT_LEAF and enable the memory controller for its
 * children.  0, or ERR_UNAVAILABLE with `err`.
 */
int cgroup_prepare(struct cgroup *cg, struct buf *err);

void cgroup_release(struct cgroup *cg);

/*
 * Make the job cgroup `dir` of `kind` (an existing one is taken as it is)
 * and hold it to `limit` bytes of memory (none when `limit` <= 0).  0, or
 * ERR_UNAVAILABLE with `err` (then nothing is left of it).
 */
int cgroup_job_make(enum cgroup_kind kind, const char *dir, int64_t limit,
    struct buf *err);

/*
 * The file a process writes "0" into to enter the cgroup, opened for
 * writing (close-on-exec), or -1: on v1 `tasks`, which moves the writing
 * thread alone (the job's process, one thread before its exec) and takes
 * no global lock; `cgroup.procs` moves a whole thread group under the
 * kernel's cgroup_threadgroup_rwsem, whose write side waits out an RCU
 * grace period: 10-12 ms a job start here, against 0.05 ms (kernel 6.18).
 * On v2 it is cgroup.procs (NEEDSWORK: clone3(CLONE_INTO_CGROUP) would
 * make no move at all).
 */
int cgroup_job_procs_fd(enum cgroup_kind kind, const char *dir);

/*
 * v1: an eventfd that becomes readable when the cgroup's memory runs out
 * (memory.oom_control through cgroup.event_control); -1 on v2 or when it
 * cannot be had.
 */
int cgroup_job_oom_watch(enum cgroup_kind kind, const char *dir);

/*
 * How many processes of it the kernel killed for its memory (0 none),
 * ever: in a pooled cgroup, earlier jobs' too (cgroup_use's oom_base).
 */
int64_t cgroup_job_oom_kills(enum cgroup_kind kind, const char *dir);

/* Its peak memory in bytes (v2 memory.peak, v1 memory.max_usage_in_bytes),
 * or -1 where the kernel keeps none. */
int64_t cgroup_job_peak(enum cgroup_kind kind, const char *dir);

/* SIGKILL every process in it. */
void cgroup_job_kill(enum cgroup_kind kind, const char *dir);

/*
 * Kill what is left in it and remove it, waiting a little (at most about
 * a second) for the killed to go.  0 (gone, or there was none), or -1.
 */
int cgroup_job_remove(enum cgroup_kind kind, const char *dir);

/*
 * Kill what is left in it and wait until it holds no process, at most
 * about a second.  0 (empty, or there is no such cgroup), or -1.
 */
int cgroup_job_empty(enum cgroup_kind kind, const char *dir);

/* ---- a pool of job cgroups, one job after another ---------------------- */

/*
 * Making and removing a cgroup for each job cost the kernel more than
 * anything else a job start does (issue 18: about 8% of the time of a
 * burst of short jobs, and contention between supervisors on the parent
 * directory), so the local backend keeps a pool of them (local.c), and a
 * job takes one that an earlier job used.  What the earlier job left must
 * not count as the new one's: its processes are killed, its OOM kills
 * counted before (oom_base), its peak reset, and a cgroup that still has
 * more than CGROUP_POOL_LEFT_MAX bytes charged to it (pages the kernel
 * cannot take back without swap: a file left in /dev/shm; or page cache)
 * is retired: removed (the kernel charges what it held to the parent)
 * and made afresh under the same name.  A short job leaves 0.1-0.7 MiB
 * (kernel objects and page cache; cgroup v1, kernel 6.18, measured on 30
 * jobs of `sh -c 'ls /tmp'` in one cgroup).
 */
#define CGROUP_POOL_LEFT_MAX (1 << 20)

/* What cgroup_pool_take() found; the caller closes `peak_fd`. */
struct cgroup_use {
	int64_t oom_base; /* OOM kills counted in it before this job */
	/*
	 * v2 on a kernel that resets memory.peak (6.12): the descriptor it
	 * was reset through, the only one that reads this job's peak; -1
	 * where memory.peak or memory.max_usage_in_bytes, read anew, is the
	 * job's (v1, reset for all; or a cgroup made afresh).
	 */
	int peak_fd;
	bool fresh; /* made now (or retired and made again) */
};

/*
 * Make the pooled cgroup `dir` ready for a new job held to `limit` bytes
 * (none when `limit` <= 0): made if missing; else emptied
 * (cgroup_job_empty), retired if it holds more than CGROUP_POOL_LEFT_MAX
 * or its peak cannot be reset (cgroup v2 before kernel 6.12: then made
 * afresh for each job, as a cgroup of the job's own would be); then its
 * limit written, its peak reset and its count of OOM kills noted.  0 and
 * `use`, or ERR_UNAVAILABLE with `err` (the caller takes a cgroup of the
 * job's own instead).
 */
int cgroup_pool_take(enum cgroup_kind kind, const char *dir, int64_t limit,
    struct cgroup_use *use, struct buf *err);

/* The peak, in bytes, read through `use->peak_fd`; -1 if it cannot be. */
int64_t cgroup_pool_peak(const struct cgroup_use *use);

#endif
