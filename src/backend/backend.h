/*
 * backend.h - execution backends: a table of function pointers per
 * backend, one file each (local.c, kube.c), one row in backend.c.
 *
 * Every operation is idempotent for a (job id, attempt), which names the
 * job's handle, so a pilot killed at any instant and started again finds
 * every job it launched and never runs one twice at the same time.
 * Backends take and give plain structs and never touch the store.
 */
#ifndef ORCHESTRA_BACKEND_H
#define ORCHESTRA_BACKEND_H

#include "util/config.h"
#include "util/proc.h"
#include "util/util.h"
#include "util/vec.h"

struct backend_ops;

/* Every backend object embeds this first (checked downcast). */
struct backend {
	const struct backend_ops *ops;
};

/* What to start; strings borrowed for the call. */
struct backend_job {
	int64_t job_id;
	int64_t attempt;  /* 1, 2, … */
	const char *task; /* "user.<username>.<task>" */
	const char *username;
	const char *command;
	const char *image; /* "" for the local backend */
	const char *out_dir;
	const char *node;   /* the node the scheduler chose */
	int gpu_index;      /* -1 for a CPU job */
	int64_t timeout_ms; /* 0: none */
	int64_t memory;     /* bytes it was placed with; 0: none asked */
	/* The owner's Unix account, resolved by the pilot: */
	const char *login; /* its login name */
	int64_t uid;       /* -1: unknown */
	int64_t gid;
	const char *home;
	const int64_t *groups; /* supplementary groups, gid included */
	size_t ngroups;
};

/* A job's handle: the backend's name for (job id, attempt). */
struct backend_ref {
	int64_t job_id;
	int64_t attempt;
};
typedef VEC(struct backend_ref) backend_ref_vec;

/*
 * A job's log as a range of an open file, to be read in pieces: `length`
 * bytes from `offset` of `fd` (the caller closes it).  Where the log
 * outgrew its bound (log_max), the part between `cut_from` and `cut_to`
 * (positions in the log, from `offset`) is gone: a reader shows a line
 * saying so instead (service_task_log_open).  Both 0: nothing was cut.
 */
#define BACKEND_CUT_LINE "[orchestra: %lld bytes cut here]"
struct backend_log {
	int fd; /* -1: no log */
	int64_t offset;
	int64_t length;
	int64_t cut_from;
	int64_t cut_to;
};

enum backend_state {
	BACKEND_UNKNOWN, /* never started (start() may be called) */
	BACKEND_RUNNING, /* started, not ended */
	BACKEND_ENDED,   /* ended: exit_code, or signal */
	BACKEND_LOST,    /* started once, gone without an exit status */
};

/* Why a job ended, beside its exit code. */
enum backend_end {
	BACKEND_END_EXIT,    /* the command exited by itself */
	BACKEND_END_SIGNAL,  /* a signal ended it (not ours) */
	BACKEND_END_STOPPED, /* stop() ended it */
	BACKEND_END_TIMEOUT, /* its time limit ended it */
	BACKEND_END_START,   /* it could not start (exec failed …) */
	BACKEND_END_OOM,     /* killed at its memory limit (job.memory) */
};

struct backend_status {
	struct backend_ref ref;
	enum backend_state state;
	enum backend_end end;
	int exit_code; /* 128 + signal when a signal ended it */
	int64_t started_ms, ended_ms;
	/*
	 * What an ended job used, where the backend accounts it (has_usage;
	 * else both -1): its peak memory in bytes and its CPU time in ms
	 * (local: the kernel's, local-super.c; Kubernetes: none).
	 */
	bool has_usage;
	int64_t peak_memory, cpu_ms;
};
typedef VEC(struct backend_status) backend_status_vec;

struct backend_node {
	char *name;
	bool ready;
	bool memory_pressure;
	bool disk_pressure;
	int64_t gpus;   /* devices the backend sees; -1 unknown */
	int64_t cpus;   /* CPUs it has; -1 unknown */
	int64_t memory; /* bytes jobs may use; 0 unknown */
};
typedef VEC(struct backend_node) backend_node_vec;
void backend_node_vec_release(backend_node_vec *v);

/* Paths; each string and the array owned (backend_path_vec_release). */
typedef VEC(char *) backend_path_vec;
void backend_path_vec_release(backend_path_vec *v);

struct backend_ops {
	const char *name;
	int (*open)(struct backend **out, const struct config *cfg,
	    struct buf *err);
	void (*close)(struct backend *be);
	/*
	 * Start a job.  Starting a (job, attempt) that was already started
	 * does nothing and succeeds.  ERR_UNAVAILABLE: the backend cannot
	 * be reached now (an API server that does not answer): the job
	 * stays placed with the same attempt and the pilot starts it again
	 * at a later cycle, no lost attempt.  Any other error refuses this
	 * job: the attempt is lost, and the job is queued again, at most
	 * PILOT_MAX_LOST (3) launches in a run, then failed
	 * (docs/internals/pilot.md, "A backend that cannot be reached").
	 */
	int (*start)(struct backend *be, const struct backend_job *job,
	    struct buf *err);
	/* The state of each job in `refs`, in one call; appends to `out`. */
	int (*poll)(struct backend *be, const struct backend_ref *refs,
	    size_t nrefs, backend_status_vec *out, struct buf *err);
	/* Ask a job to stop (its whole process tree); idempotent. */
	int (*stop)(struct backend *be, const struct backend_ref *ref,
	    struct buf *err);
	/* Append at most `max` bytes from the end of the job's log. */
	int (*logs)(struct backend *be, const struct backend_ref *ref,
	    size_t max, struct buf *out, struct buf *err);
	/*
	 * Open the job's log to be read in pieces, never whole in memory:
	 * its last `max` bytes (0: all) as it stands now; out->fd is -1
	 * where there is no log.  NULL where the backend keeps no file
	 * (Kubernetes: its API gives the log, logs() reads a bounded part).
	 */
	int (*log_open)(struct backend *be, const struct backend_ref *ref,
	    size_t max, struct backend_log *out, struct buf *err);
	/*
	 * Whether the backend can run jobs on a node of this name, asked
	 * before `node add` registers one, without opening the backend:
	 * 0, or ERR_INVALID with one line saying why not.  NULL where any
	 * name may be a node (Kubernetes: the cluster's nodes come and go).
	 */
	int (*node_check)(const struct config *cfg, const char *name,
	    struct buf *err);
	/*
	 * The directories the jobs of user `username` see at the same path
	 * as the machine that submits them, asked at submit without opening
	 * the backend (no cluster is reached): 0 and their absolute paths
	 * appended to `out`, or ERR_INVALID with one line when the set-up
	 * would run jobs blind to their files (on Kubernetes: a volume root
	 * that is not absolute, a job template that cannot be read).  The
	 * first is the one %OUT lies under.  NULL where jobs see the whole
	 * file system of this machine (local).
	 */
	int (*mounts)(const struct config *cfg, const char *username,
	    backend_path_vec *out, struct buf *err);
	/* The nodes the backend runs on, with their health. */
	int (
	    *nodes)(struct backend *be, backend_node_vec *out, struct buf *err);
	/*
	 * nodes() names every node the backend can run jobs on (local: this
	 * machine), so the pilot marks a node of the table it does not name
	 * unreachable: no job goes there.  False where a node may be absent
	 * from one answer and still run jobs (Kubernetes: nodes come and go,
	 * and a pod pinned to a node that is back runs there).
	 */
	bool nodes_all;
	/*
	 * How many requests the backend can make now without slowing the
	 * starts (on Kubernetes its client's spare rate); NULL where an
	 * ended job's log and its release cost no request (local files).
	 * Where it is set, the pilot records an end without its log's tail
	 * and reads the tail later, within this spare, then releases the
	 * job: the create of a job stays the one request on its way.
	 */
	int (*spare)(struct backend *be);
	/* Forget an ended job whose end has been recorded; idempotent. */
	int (*release)(struct backend *be, const struct backend_ref *ref,
	    struct buf *err);
	/* Forget every attempt of a removed job, its logs included. */
	int (*purge)(struct backend *be, const struct backend_ref *last,
	    struct buf *err);
	/*
	 * Make what a new user needs on the backend, idempotently (NULL
	 * where there is nothing to make): on Kubernetes the user's
	 * namespace and, with `nfs_server`, the persistent volume and the
	 * claim "volume" of `nfs_path`.
	 */
	int (*prepare_user)(struct backend *be, const char *username,
	    const char *nfs_server, const char *nfs_path, struct buf *err);
	/* Every job the backend still keeps (for the pilot's start-up sweep).
	 */
	int (*handles)(struct backend *be, backend_ref_vec *out,
	    struct buf *err);
	/*
	 * A file descriptor that becomes readable when a job ends, so the
	 * pilot learns of each end as it happens; -1 if the backend has none.
	 * Call drain_events() after it polled readable: true when a job
	 * ended (other events are dropped).
	 */
	int (*event_fd)(struct backend *be);
	bool (*drain_events)(struct backend *be);
	/*
	 * The Unix account the jobs of user `username` run as, given its
	 * mapping `login`: 0 and `out` filled (caller releases), or
	 * ERR_DENIED with `why` saying what stops this backend from running
	 * them now ("user alice has no Unix account 'alice' on node vm"),
	 * or ERR_UNAVAILABLE when it cannot tell now.
	 */
	int (*account)(struct backend *be, const char *username,
	    const char *login, struct proc_account *out, struct buf *why);
};

/* Fill the owner fields of `job` from `a` (borrowed). */
void backend_job_set_account(struct backend_job *job,
    const struct proc_account *a);

/* Open the backend named `cfg->backend`; ERR_INVALID for an unknown one. */
int backend_open(struct backend **out, const struct config *cfg,
    struct buf *err);
void backend_close(struct backend *be);
/*
 * What the backend `cfg->backend` says its jobs of user `username` see
 * (its mounts op): 0 with *limited false when they see this machine's
 * whole file system, or true and `out` filled; ERR_INVALID with why.
 */
int backend_mounts(const struct config *cfg, const char *username,
    bool *limited, backend_path_vec *out, struct buf *err);
/*
 * Whether the backend `cfg->backend` can run jobs on node `name`:
 * 0, or ERR_INVALID with why (its node_check), or for an unknown backend.
 */
int backend_node_check(const struct config *cfg, const char *name,
    struct buf *err);

extern const struct backend_ops backend_local_ops;
extern const struct backend_ops backend_kube_ops;

#endif
