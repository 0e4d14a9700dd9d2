/*
 * local-int.h - the local backend's own: the supervisor of one job
 * attempt (local-super.c), which local.c starts either through the
 * launcher, a small program of its own that forks supervisors for the
 * pilot (orchestra-launch, local-launch.c), or by forking itself.
 */
#ifndef ORCHESTRA_LOCAL_INT_H
#define ORCHESTRA_LOCAL_INT_H

#include "backend/backend.h"
#include "util/cgroup.h"

/* Between SIGTERM and SIGKILL when a job is stopped or times out. */
#define LOCAL_GRACE_SECONDS 5

/* Where the job's log begins in its .job file (the record is before). */
#define LOCAL_LOG_AT 4096

/*
 * A job's log is bounded by log_max (orchestra.conf(5)): past it, the
 * supervisor keeps its first half (the head) and about its last half
 * (the tail), and frees the file's blocks in between (a hole punched in
 * it), so positions in the log stay those of the job's output.  What
 * was cut, as positions in the log, is the line "cut FROM TO" at
 * LOCAL_CUT_AT in the .job file (after the record), written before the
 * hole is punched; readers show a marker line in its place.  The hole
 * lags one step behind the line (LOCAL_CUT_STEP of the tail), so that a
 * reader that read the line a moment ago reads no zeros.
 */
#define LOCAL_CUT_AT 2048
#define LOCAL_CUT_STEP 4 /* a cut every quarter of the tail's size */

/*
 * A supervisor that took a cgroup of the pool (`pool` in struct
 * local_super) says so at LOCAL_POOL_AT in its .job file, before its job
 * starts: "pool BASE PEAK\n", BASE the OOM kills the cgroup counted
 * before (struct cgroup_use), PEAK 1 where its peak file read anew is
 * this job's (0: v2, reset through the supervisor's descriptor alone).
 * The launcher reads it when it records the end of a job whose
 * supervisor was killed (local_launcher_orphan).
 */
#define LOCAL_POOL_AT 3072

/* What a supervisor needs; strings borrowed. */
struct local_super {
	const struct backend_job *job;
	const char *volume;
	int64_t log_max; /* 0: no bound */
	/*
	 * The job's memory cgroup (util/cgroup.h), which the supervisor
	 * limits to job->memory, puts the job in and reads; CGROUP_NONE (and
	 * "") where the memory is not enforced.  `pool`, where not "", is
	 * the cgroup of the pool (local.c) the pilot claimed for the job,
	 * its lock the supervisor's descriptor 4, held until it exits:
	 * readied for the job (cgroup_pool_take) and emptied after it, never
	 * removed.  Else, or where that cannot be readied, `cgroup` is the
	 * attempt's own, which the supervisor makes and removes.
	 */
	enum cgroup_kind cgroup_kind;
	const char *cgroup;
	const char *pool;
	/*
	 * Where the supervisor, once its job's end is told, leaves one
	 * spare .job file for a later start (local.c, local_spare_take); ""
	 * for none.
	 */
	const char *spares;
};

/*
 * The line at LOCAL_POOL_AT of the .job file `fd`: 0, the base and
 * whether the peak file is the job's; -1 where there is none (the job's
 * cgroup was its own).
 */
int local_pool_read(int fd, int64_t *oom_base, bool *peak_own);

/*
 * Read the cut of the .job file `fd`: 0 and the positions (in the log)
 * where it starts and ends, both 0 when nothing was cut.
 */
void local_cut_read(int fd, int64_t *from, int64_t *to);

/*
 * Fork the supervisor of `s`, which takes `fd` (the attempt's .job file,
 * locked) as its descriptor 3 and `poolfd` (the lock of s->pool, or -1)
 * as its descriptor 4, leaves our session and runs the job.  0, and its
 * pid in `*out` (if not NULL), or ERR_UNAVAILABLE when it cannot fork
 * (`fd` and `poolfd` are the caller's still, as they are anyway).
 */
int local_super_fork(const struct local_super *s, int fd, int poolfd,
    pid_t *out, struct buf *err);

/*
 * The launcher's request for `s`, appended to `out`; and its parsing:
 * 0 and `job`, `s` pointing into `msg` (and into `*groups`, which the
 * caller frees), or ERR_INVALID when `msg` is not a whole request.
 */
void local_super_encode(const struct local_super *s, struct buf *out);
int local_super_decode(const char *msg, size_t len, struct backend_job *job,
    struct local_super *s, int64_t **groups);

/*
 * The launcher's loop on `sock` (a SOCK_SEQPACKET socket): each request
 * comes with the .job descriptor (and the pool's lock, if any); fork its
 * supervisor (or, when it cannot,
 * write into the file that the attempt could not start).  Returns at the
 * end of the socket (the pilot is gone), once the requests sent before
 * it are done.
 */
int local_launcher_main(int sock);

#endif
