/*
 * pilot-int.h - what the pilot's own files share: the pilot's state
 * (struct pilot), its loop (pilot.c) and one cycle (cycle.c).  The
 * command line sees only pilot.h.
 */
#ifndef ORCHESTRA_PILOT_INT_H
#define ORCHESTRA_PILOT_INT_H

#include "backend/backend.h"
#include "notify/notify.h"
#include "pilot/cycle.h"
#include "pilot/pilot.h"
#include "store/store.h"
#include "util/config.h"

/* Launches of one run that may fail on the infrastructure before the job
 * is failed. */
#define PILOT_MAX_LOST 3
/*
 * How long one cycle may spend starting jobs.  The jobs placed past it
 * stay placed and the next cycle's poll starts them, so a big launch on
 * a rate-limited backend (Kubernetes: 50 requests a second) is spread
 * over cycles that also record ends and see submits.
 */
#define PILOT_START_BUDGET_MS 750
/*
 * The same for stopping the jobs of a kill (Kubernetes: a request each):
 * the jobs past it are stopped by the next cycles, which the pilot runs
 * at once.
 */
#define PILOT_STOP_BUDGET_MS 750
/* With tails owed (cycle_tails), the pilot looks again this soon. */
#define PILOT_OWED_AGAIN_MS 200
/* Past this many tails owed, they are read even while jobs start. */
#define PILOT_OWED_MAX 1000

/* Backend operations whose failures the metrics count. */
enum pilot_be_op {
	PILOT_BE_NODES,
	PILOT_BE_START,
	PILOT_BE_POLL,
	PILOT_BE_LOGS,
	PILOT_BE_NOPS
};
extern const char *const pilot_be_op_names[PILOT_BE_NOPS];

/*
 * Measures of the pilot's own, kept here until written to the store's
 * cumulative `stat` rows (pilot_stats_flush): one small transaction every
 * few seconds while busy, and before the pilot sleeps or stops, so a cycle
 * costs no write of its own; a failed write keeps them for the next one.
 */
struct pilot_stats {
	int64_t cycle_count[STAT_MAX_BOUNDS + 1]; /* by bucket; last: +Inf */
	int64_t cycle_sum_us[STAT_MAX_BOUNDS + 1];
	int64_t backend_errors[PILOT_BE_NOPS];
	int64_t cycle_failures;
	bool pending;
	int64_t flushed_ms; /* monotonic, of the last write */
};

/*
 * A user's Unix account as this cycle found it (cycle.c): looked up once a
 * cycle, so an account made or removed counts from the next cycle on.
 */
struct pilot_account {
	int64_t id;
	char *username;
	int ret;      /* 0: its jobs can run; ERR_DENIED: they wait (why);
	               * ERR_UNAVAILABLE: cannot tell now, they wait */
	char *why;    /* ERR_DENIED: why; else NULL */
	char *stored; /* the hold the store had (account.hold) */
	struct proc_account acct;
};
typedef VEC(struct pilot_account) pilot_account_vec;
void pilot_account_vec_release(pilot_account_vec *v);

struct pilot {
	struct store *st;
	struct backend *be;
	const struct config *cfg;
	const struct prio_rule *rule;
	/* The backend could not be reached this cycle: start no more. */
	bool be_unavailable;
	/* This cycle's starts stop at this time (monotonic ns; 0: no start
	 * yet), PILOT_START_BUDGET_MS after its first start. */
	int64_t start_until_ns;
	/* This cycle's budget left placed jobs unstarted. */
	bool starts_cut;
	/* The same for the stops of jobs asked to stop (PILOT_STOP_BUDGET_MS). */
	int64_t stop_until_ns;
	bool stops_cut;
	struct pilot_stats stats;
	/* Its heartbeat, written with the measures (pilot_beat table). */
	struct pilot_beat beat;
	/* The outbox's sender; NULL while mail is off (pilot_run sets it). */
	struct outbox *outbox;
	/* The mail thread that drains the outbox beside the cycles; NULL
	 * with --once (the cycle drains, bounded) or mail off. */
	struct mailer *mailer;
	/* The alarm to the admins when cycles keep failing (pilot.c). */
	store_str_vec admins; /* their addresses, read while cycles work */
	int64_t admins_ms;    /* when they were read */
	int64_t failing_ms;   /* the first failure of the streak; 0: none */
	bool alarmed;         /* the admins were told of this streak */
	/* The usage history (cycle.c): how often a sample is taken
	 * (PILOT_USAGE_EVERY_MS unless set), and when the last one was. */
	int64_t usage_every_ms;
	int64_t usage_ms;           /* monotonic ms; 0: none yet */
	/* When retention last ran (monotonic ns; 0: not yet): at most once
	 * each PILOT_RETENTION_EVERY_MS (cycle.c, step 2). */
	int64_t retention_ns;
	pilot_account_vec accounts; /* this cycle's, by need (cycle.c) */
	/* Ended jobs whose end is recorded without its log's tail, to read
	 * and then release (the backend's spare op; cycle_tails). */
	backend_ref_vec owed;
	/*
	 * The nodes' health as the backend last reported it, whether or
	 * not the database took it (a full disk refuses every write): a
	 * change is logged once, and written once the database can be
	 * (cycle.c, step 1).  health_unsaved: the last write failed, and
	 * no job is launched until one works.
	 */
	backend_node_vec health;
	bool health_unsaved;
	/* When it was last written (monotonic ns; 0: not yet): unchanged,
	 * it is written again after PILOT_HEALTH_EVERY_MS (cycle.c). */
	int64_t health_ns;
	/* Cycles fail for want of space: said once, until one works. */
	bool full;
	/* Jobs a task queues a cycle, fixed; 0: sized by `chunk`.  Tests
	 * only set it (ORCHESTRA_TEST_QUEUE_CHUNK). */
	int64_t queue_chunk;
	/* The next chunk, sized by the time the last took (task_chunk_next;
	 * TASK_QUEUE_CHUNK_FIRST before any). */
	int64_t chunk;
};

/* Sample the running and waiting jobs per user at most this often, and
 * keep the samples this long (table `usage`, the dashboard's chart). */
#define PILOT_USAGE_EVERY_MS 60000
/* Retention's periods are days: its step need not run in each of the
 * cycles a burst of wake-ups makes (each costs 4 statements). */
#define PILOT_RETENTION_EVERY_MS 1000
/* The nodes' health, unchanged, is written again after this long (its
 * time, node.last_seen_ms, says the pilot still sees them): a burst of
 * wake-ups does not write it in each cycle. */
#define PILOT_HEALTH_EVERY_MS 1000
#define PILOT_USAGE_KEEP_MS (8 * 86400000LL)
/* The accounting of a run (job_history) is kept for the setting
 * history_retention after its end (util/config.h). */

/* What one cycle did, for the log and the loop. */
struct cycle_stats {
	int64_t tasks_changed;
	int64_t launched;
	int64_t ended;
	int64_t requeued;
	int64_t nodes_changed;
	int64_t stopped; /* jobs asked to stop, stop() called */
	struct outbox_stats mail; /* the drain at the cycle's end */
	int64_t ns;               /* the whole cycle took */
	int64_t mail_ns;          /* of which the drain */
	/* Of which the steps (--verbose): tasks, launches, the jobs' news. */
	int64_t tasks_ns, launch_ns, poll_ns;
};

/*
 * Run one cycle (cycle.c), in this order: node health, retention, signals
 * and the task state machine, priorities, placement and launches, ends,
 * the usage sample, then (with mail on and no mail thread: --once) the
 * bounded drain of the outbox.  Each step is a transaction and can be
 * repeated.  Returns 0 or ERR_*; a failed step leaves the database as it
 * was before that step.
 */
int cycle_run(struct pilot *p, struct cycle_stats *stats, struct buf *err);

/* Milliseconds until the next usage sample is due; 0: now. */
int64_t cycle_usage_due_ms(const struct pilot *p);

/*
 * Has the pilot something to do now (a job ended, another process
 * committed, a stop was asked for)?  Looks without waiting; the mail
 * drain asks it between mails (`p` is a struct pilot *).  What it
 * consumes is no loss: the pilot runs a cycle next.
 */
bool pilot_has_work(void *p);

/*
 * Take the one-pilot lock and run cycles until SIGTERM or SIGINT (the
 * cycle in flight finishes; jobs keep running), or one cycle with `once`.
 * Wakes at once on a change in the database or a job's end.
 */
int pilot_run(struct pilot *p, const struct pilot_opts *o, struct buf *err);

#endif
