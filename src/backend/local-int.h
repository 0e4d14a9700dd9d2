/*
 * local-int.h - the local backend's own: the supervisor of one job
 * attempt (local-super.c), which local.c starts either through the
 * launcher, a small program of its own that forks supervisors for the
 * pilot (orchestra-launch, local-launch.c), or by forking itself.
 */
#ifndef ORCHESTRA_LOCAL_INT_H
#define ORCHESTRA_LOCAL_INT_H

#include "backend/backend.h"

/* Between SIGTERM and SIGKILL when a job is stopped or times out. */
#define LOCAL_GRACE_SECONDS 5

/* Where the job's log begins in its .job file (the record is before). */
#define LOCAL_LOG_AT 4096

/* What a supervisor needs; strings borrowed. */
struct local_super {
	const struct backend_job *job;
	const char *volume;
};

/*
 * Fork the supervisor of `s`, which takes `fd` (the attempt's .job file,
 * locked) as its descriptor 3, leaves our session and runs the job.  0,
 * and its pid in `*out` (if not NULL), or ERR_UNAVAILABLE when it cannot
 * fork (`fd` is the caller's still).
 */
int local_super_fork(const struct local_super *s, int fd, pid_t *out,
    struct buf *err);

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
 * comes with the .job descriptor; fork its supervisor (or, when it cannot,
 * write into the file that the attempt could not start).  Returns at the
 * end of the socket (the pilot is gone), once the requests sent before
 * it are done.
 */
int local_launcher_main(int sock);

#endif
