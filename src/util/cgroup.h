/*
 * cgroup.h - the memory cgroup a pilot may put its jobs in (issue 19),
 * found at run time: a delegated cgroup v2 with the memory controller,
 * else the cgroup v1 memory controller; and one cgroup a job attempt
 * under it, which holds the job to its memory, counts its peak and says
 * whether the kernel killed a process of it for memory.
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

/* How many processes of it the kernel killed for its memory (0 none). */
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

#endif
