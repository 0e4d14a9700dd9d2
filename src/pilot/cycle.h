/*
 * cycle.h - one cycle of the pilot (SPEC.md "The pilot cycle").
 *
 * This header holds the decision half: read a snapshot from the store
 * and let core decide the task transitions and the launches (also used
 * by bench/bench-orchestra.c).  Carrying the plan out (store writes,
 * backend calls) is cycle_run(), in pilot-int.h.
 */
#ifndef ORCHESTRA_CYCLE_H
#define ORCHESTRA_CYCLE_H

#include "core/core.h"
#include "store/store.h"

struct cycle_task {
	int64_t id;
	struct task_view view;
	struct task_plan plan;
};

struct cycle_plan {
	VEC(struct cycle_task) tasks; /* dirty tasks and their next step */
	node_vec nodes;               /* the snapshot of nodes */
	struct place_node *place;     /* nodes as placement sees them */
	sched_launch_vec launches;    /* jobs to start: job, node, device */
};

/* Are the jobs of user `account_id` to wait (the pilot cannot run them)? */
typedef bool cycle_held_fn(void *arg, int64_t account_id);

/*
 * Decide one cycle from the store's current state with priority `rule`:
 * the next step of every dirty task (when `with_tasks`) and the launches,
 * none of them a job of a user `held` says to hold (NULL: none held), a
 * job of a task without --memory asking `default_memory` (0: its node's
 * memory divided by its slots).
 * Reads only (no transaction is needed; each read is consistent on its
 * own).  Caller releases `out` with cycle_plan_release(), also on failure.
 */
int cycle_plan_make(struct store *st, const struct prio_rule *rule,
    int64_t default_memory, bool with_tasks, cycle_held_fn *held,
    void *held_arg, struct cycle_plan *out, struct buf *err);
void cycle_plan_release(struct cycle_plan *p);

#endif
