/*
 * cycle.c - the decision of one pilot cycle: the task state machine over
 * the tasks where something happened, then the fill of free slots in
 * priority order.  Its cost follows what changed and the slots to fill,
 * not the number of jobs waiting (docs/internals/scheduling.md).
 */
#include <pwd.h>
#include <unistd.h>

#include "pilot/pilot.h"
#include "util/proc.h"

static void
cycle_place_nodes(struct cycle_plan *p)
{
	size_t i;

	p->place = xcalloc(p->nodes.n + 1, sizeof(*p->place));
	for (i = 0; i < p->nodes.n; i++) {
		const struct node *n = &p->nodes.v[i];
		struct place_node *pn = &p->place[i];

		pn->id = n->id;
		pn->name = n->name;
		pn->queue = n->queue;
		pn->cpu_slots = n->cpu_slots;
		pn->gpu_slots = n->gpu_slots;
		pn->cpu_used = n->cpu_used;
		pn->gpu_used = n->gpu_used;
		pn->enabled = n->enabled;
		pn->healthy = n->ready && !n->memory_pressure &&
		    !n->disk_pressure;
	}
}

/* One pool per queue and kind that has a free slot. */
static int
cycle_fill(struct store *st, const struct prio_rule *rule,
    struct cycle_plan *p, struct buf *err)
{
	sched_stream_vec streams = VEC_INIT;
	struct store_sched_ctx ctx = { st, NULL, false };
	struct sched_source src = { store_sched_fetch, &ctx };
	struct sched_pool pool;
	size_t i, j;
	int gpu, ret = 0, seen;

	for (i = 0; i < p->nodes.n && ret == 0; i++) {
		/* Each queue once: at its first node. */
		seen = 0;
		for (j = 0; j < i; j++)
			if (strcmp(p->nodes.v[j].queue, p->nodes.v[i].queue) ==
			    0)
				seen = 1;
		if (seen)
			continue;
		for (gpu = 0; gpu <= 1 && ret == 0; gpu++) {
			if (place_free_in_queue(p->place, p->nodes.n,
				p->nodes.v[i].queue, gpu) == 0)
				continue;
			streams.n = 0;
			ret = store_sched_streams(st, p->nodes.v[i].queue, gpu,
			    &streams, err);
			if (ret < 0 || streams.n == 0)
				continue;
			ctx.queue = p->nodes.v[i].queue;
			ctx.gpu = gpu;
			pool.queue = p->nodes.v[i].queue;
			pool.gpu = gpu;
			pool.streams = streams.v;
			pool.nstreams = streams.n;
			ret = sched_decide(rule, p->place, p->nodes.n, &pool, 1,
			    &src, &p->launches, err);
		}
	}
	VEC_RELEASE(&streams);
	return ret;
}

int
cycle_plan_make(struct store *st, const struct prio_rule *rule,
    bool with_tasks, struct cycle_plan *out, struct buf *err)
{
	task_state_vec dirty = VEC_INIT;
	struct task_state_row *r;
	struct cycle_task *ct;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (with_tasks)
		ret = store_task_dirty(st, &dirty, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH(r, &dirty)
	{
		ct = VEC_ADD(&out->tasks);
		ct->id = r->id;
		ct->view = r->view;
		task_step(&ct->view, &ct->plan);
	}
	ret = store_sched_nodes(st, &out->nodes, err);
	if (ret < 0)
		goto out;
	cycle_place_nodes(out);
	ret = cycle_fill(st, rule, out, err);
out:
	VEC_RELEASE(&dirty);
	return ret;
}

void
cycle_plan_release(struct cycle_plan *p)
{
	VEC_RELEASE(&p->tasks);
	node_vec_release(&p->nodes);
	free(p->place);
	p->place = NULL;
	VEC_RELEASE(&p->launches);
}

/* ---- carrying a cycle out (the pilot) --------------------------------- */

/* 1. Node health from the backend. */
static int
cycle_health(struct pilot *p, struct cycle_stats *stats, struct buf *err)
{
	backend_node_vec nodes = VEC_INIT;
	struct backend_node *n;
	bool changed;
	int ret;

	ret = p->be->ops->nodes(p->be, &nodes, err);
	if (ret < 0) {
		p->stats.backend_errors[PILOT_BE_NODES]++;
		p->stats.pending = true;
		/* The cycle goes on with the health last known. */
		log_warn("node health: %s", err->data);
		buf_reset(err);
		ret = 0;
		goto out;
	}
	if (nodes.n == 0)
		goto out;
	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH(n, &nodes)
	{
		ret = store_node_set_health(p->st, n->name, n->ready,
		    n->memory_pressure, n->disk_pressure, &changed, err);
		if (ret < 0)
			break;
		if (changed) {
			stats->nodes_changed++;
			log_warn("node %s is now %s", n->name,
			    n->ready && !n->memory_pressure &&
				    !n->disk_pressure ?
				"healthy" :
				"unhealthy");
		}
	}
	if (ret < 0)
		store_rollback(p->st);
	else
		ret = store_commit(p->st, err);
out:
	backend_node_vec_release(&nodes);
	return ret;
}

/*
 * 2a. Retention: mark the ended tasks whose period is over (step 2
 * removes them), and queue the warnings that are due, each with the mark
 * that says it was queued, in one transaction.
 */
static int
cycle_retention(struct pilot *p, struct buf *err)
{
	retention_due_vec due = VEC_INIT;
	struct retention_due *r;
	int64_t now = time_now_ms(), n = 0, to;
	const char *kind;
	bool done;
	int ret;

	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	ret = store_retention_mark(p->st, now, &n, err);
	if (ret < 0) {
		store_rollback(p->st);
		goto out;
	}
	ret = store_commit(p->st, err);
	if (ret < 0)
		goto out;
	if (n > 0)
		log_info("retention: %lld task(s) to remove", (long long)n);
	ret = store_retention_due(p->st, now, &due, err);
	VEC_FOREACH(r, &due)
	{
		if (ret < 0)
			break;
		if (!retention_warning(r->ended_ms, r->period_ms, r->warned,
			now, &kind, &to))
			continue;
		ret = store_begin(p->st, err);
		if (ret < 0)
			break;
		ret = store_retention_warn(p->st, r->task_id, r->warned, to,
		    kind, now, &done, err);
		if (ret < 0) {
			store_rollback(p->st);
			break;
		}
		ret = store_commit(p->st, err);
		if (ret == 0 && done)
			log_info("task %lld: %s warning", (long long)r->task_id,
			    kind);
	}
out:
	VEC_RELEASE(&due);
	return ret;
}

/* After a task was removed: its jobs' files, and its outputs if asked. */
static void
cycle_forget(struct pilot *p, const job_ref_vec *removed,
    const char *remove_dir)
{
	struct buf err = BUF_INIT;
	struct backend_ref ref;
	const struct job_ref *r;

	VEC_FOREACH(r, removed)
	{
		ref.job_id = r->job_id;
		ref.attempt = r->attempt;
		if (p->be->ops->purge(p->be, &ref, &err) < 0)
			log_warn("%s", err.data);
	}
	if (remove_dir != NULL && proc_remove_tree(remove_dir, &err) < 0)
		log_warn("%s", err.data);
	buf_release(&err);
}

/* 2. Signals and the state machine, over the dirty tasks, to a fixpoint. */
static int
cycle_tasks(struct pilot *p, struct cycle_stats *stats, struct buf *err)
{
	task_state_vec dirty = VEC_INIT;
	job_ref_vec removed = VEC_INIT;
	struct task_state_row *r;
	struct task_plan plan;
	char *remove_dir;
	int round, ret = 0;
	bool any;

	for (round = 0; round < 8; round++) {
		dirty.n = 0;
		ret = store_task_dirty(p->st, &dirty, err);
		if (ret < 0 || dirty.n == 0)
			break;
		any = false;
		VEC_FOREACH(r, &dirty)
		{
			task_step(&r->view, &plan);
			ret = store_begin(p->st, err);
			if (ret < 0)
				goto out;
			removed.n = 0;
			ret = store_task_apply(p->st, r->id, r->view.status,
			    r->view.signal, &plan, &removed, &remove_dir, err);
			if (ret == ERR_CONFLICT) {
				/* Changed under us: next round sees it. */
				store_rollback(p->st);
				any = true;
				continue;
			}
			if (ret == 0)
				ret = store_commit(p->st, err);
			else
				store_rollback(p->st);
			if (ret < 0)
				goto out;
			if (plan.next != r->view.status || plan.nmoves > 0 ||
			    plan.consume_signal || plan.remove) {
				any = true;
				stats->tasks_changed++;
				log_info("task %lld: %s -> %s (%s)",
				    (long long)r->id,
				    task_status_name(r->view.status),
				    task_status_name(plan.next), plan.reason);
			}
			if (plan.remove)
				cycle_forget(p, &removed, remove_dir);
			free(remove_dir);
		}
		if (!any)
			break;
	}
out:
	VEC_RELEASE(&dirty);
	VEC_RELEASE(&removed);
	return ret;
}

/*
 * The owner's account: the one of the user's name, else the pilot's own
 * (so a job never runs as an account nobody chose).  `pw` and `pwbuf`
 * hold the strings `bj` borrows.
 */
static void
cycle_backend_account(const struct job_launch *l, struct backend_job *bj,
    struct passwd *pw, char *pwbuf, size_t pwbuf_size)
{
	struct passwd *found = NULL;

	/* NEEDSWORK: the lead's account resolution replaces this */
	if (getpwnam_r(l->username, pw, pwbuf, pwbuf_size, &found) == 0 &&
	    found != NULL) {
		bj->login = found->pw_name;
		bj->uid = (int64_t)found->pw_uid;
		bj->gid = (int64_t)found->pw_gid;
		bj->home = found->pw_dir;
		return;
	}
	bj->login = NULL;
	bj->uid = (int64_t)getuid();
	bj->gid = (int64_t)getgid();
	bj->home = NULL;
}

static void
cycle_backend_job(const struct job_launch *l, struct backend_job *bj,
    struct passwd *pw, char *pwbuf, size_t pwbuf_size)
{
	bj->job_id = l->job_id;
	bj->attempt = l->attempt;
	bj->task = l->task;
	bj->username = l->username;
	bj->command = l->command;
	bj->image = l->image ? l->image : "";
	bj->out_dir = l->out_dir;
	bj->node = l->node;
	bj->gpu_index = (int)l->gpu_index;
	bj->timeout_ms = l->timeout_ms;
	cycle_backend_account(l, bj, pw, pwbuf, pwbuf_size);
}

/*
 * Start one placed job: 0, ERR_UNAVAILABLE when the backend could not be
 * asked now (the job stays placed and is started again by a later poll:
 * a sick API server is no job's failure), or another ERR_* when it
 * refused the job.
 */
static int
cycle_start_one(struct pilot *p, const struct job_launch *l)
{
	struct backend_job bj;
	struct passwd pw;
	char pwbuf[4096];
	struct buf why = BUF_INIT;
	int ret;

	/* One that could not be asked is enough: the rest wait too. */
	if (p->be_unavailable)
		return ERR_UNAVAILABLE;
	cycle_backend_job(l, &bj, &pw, pwbuf, sizeof(pwbuf));
	ret = p->be->ops->start(p->be, &bj, &why);
	if (ret < 0) {
		p->stats.backend_errors[PILOT_BE_START]++;
		p->stats.pending = true;
	}
	if (ret < 0)
		log_warn("job %lld: cannot start%s: %s", (long long)l->job_id,
		    ret == ERR_UNAVAILABLE ? " now" : "", why.data);
	if (ret == ERR_UNAVAILABLE)
		p->be_unavailable = true;
	buf_release(&why);
	return ret;
}

/* Start placed jobs; record which started and requeue the refused. */
static int
cycle_start(struct pilot *p, struct job_launch *ls, size_t n,
    struct cycle_stats *stats, struct buf *err)
{
	int *rc = xcalloc(n + 1, sizeof(*rc));
	int64_t now;
	size_t i;
	int ret;

	for (i = 0; i < n; i++)
		rc[i] = cycle_start_one(p, &ls[i]);
	now = time_now_ms();
	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	for (i = 0; i < n && ret == 0; i++) {
		if (rc[i] == 0) {
			ret = store_job_started(p->st, ls[i].job_id,
			    ls[i].attempt, now, err);
			stats->launched++;
		} else if (rc[i] != ERR_UNAVAILABLE) {
			ret = store_job_lost(p->st, ls[i].job_id, ls[i].attempt,
			    PILOT_MAX_LOST, "the backend refused to start it",
			    err);
			stats->requeued++;
		}
	}
	if (ret < 0)
		store_rollback(p->st);
	else
		ret = store_commit(p->st, err);
out:
	free(rc);
	return ret;
}

/* 3 and 4. Priorities and placement; launches. */
static int
cycle_launch(struct pilot *p, struct cycle_stats *stats, struct buf *err)
{
	VEC(struct job_launch) ls = VEC_INIT;
	struct cycle_plan plan;
	struct sched_launch *l;
	struct job_launch *jl;
	int ret;

	/* The state machine ran in step 2: placement only. */
	ret = cycle_plan_make(p->st, p->rule, false, &plan, err);
	if (ret < 0 || plan.launches.n == 0)
		goto out;
	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH(l, &plan.launches)
	{
		jl = VEC_ADD(&ls);
		ret = store_job_place(p->st, l->job_id,
		    plan.nodes.v[l->node].id, l->gpu_index, l->priority, jl,
		    err);
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		store_rollback(p->st);
		goto out;
	}
	ret = store_commit(p->st, err);
	if (ret < 0)
		goto out;
	ret = cycle_start(p, ls.v, ls.n, stats, err);
out:
	VEC_FOREACH(jl, &ls)
	job_launch_release(jl);
	VEC_RELEASE(&ls);
	cycle_plan_release(&plan);
	return ret;
}

static const char *
cycle_end_reason(enum backend_end end)
{
	switch (end) {
	case BACKEND_END_EXIT:
		return "exit";
	case BACKEND_END_SIGNAL:
		return "signal";
	case BACKEND_END_STOPPED:
		return "stopped";
	case BACKEND_END_TIMEOUT:
		return "timeout";
	case BACKEND_END_START:
		return "could not start";
	}
	return "exit";
}

/* What poll found of one job, and what the cycle did about it. */
struct cycle_seen {
	struct job_held held;
	struct backend_status st;
	struct buf tail;    /* an ended job's log tail */
	int start_rc;       /* UNKNOWN and pending: what start() said now */
};

/*
 * Effects first, outside any transaction: read the tails of ended jobs,
 * stop the jobs asked to stop, start the placed jobs a pilot died before
 * starting.  The store is only read here.
 */
static int
cycle_effects(struct pilot *p, struct cycle_seen *s, struct buf *err)
{
	struct backend_ref ref = { s->held.job_id, s->held.attempt };
	struct job_launch l = { 0 };
	struct buf why = BUF_INIT;
	int ret = 0;

	switch (s->st.state) {
	case BACKEND_ENDED:
		s->tail.cap_limit = 4096;
		if (p->be->ops->logs(p->be, &ref, 4096, &s->tail, &why) < 0) {
			p->stats.backend_errors[PILOT_BE_LOGS]++;
			p->stats.pending = true;
			log_warn("job %lld: %s", (long long)ref.job_id,
			    why.data);
		}
		break;
	case BACKEND_RUNNING:
		if (s->held.status == JOB_KILL &&
		    p->be->ops->stop(p->be, &ref, &why) < 0)
			log_debug("job %lld: %s", (long long)ref.job_id,
			    why.data);
		break;
	case BACKEND_UNKNOWN:
		if (s->held.status != JOB_PENDING)
			break;
		/* Placed, and the pilot stopped before starting it. */
		ret = store_job_launch_get(p->st, ref.job_id, &l, err);
		if (ret < 0)
			break;
		s->start_rc = cycle_start_one(p, &l);
		break;
	case BACKEND_LOST:
		break;
	}
	job_launch_release(&l);
	buf_release(&why);
	return ret;
}

/* Record one job's news; inside the poll's transaction. */
static int
cycle_record(struct pilot *p, const struct cycle_seen *s,
    struct cycle_stats *stats, struct buf *err)
{
	const struct job_held *h = &s->held;
	enum job_status to;

	switch (s->st.state) {
	case BACKEND_ENDED:
		if (h->status == JOB_KILL || s->st.end == BACKEND_END_STOPPED)
			to = JOB_KILLED;
		else if (s->st.end == BACKEND_END_EXIT && s->st.exit_code == 0)
			to = JOB_DONE;
		else
			to = JOB_FAILED;
		stats->ended++;
		return store_job_ended(p->st, h->job_id, h->attempt, to,
		    s->st.exit_code, s->st.started_ms, s->st.ended_ms,
		    s->tail.data, cycle_end_reason(s->st.end), err);
	case BACKEND_RUNNING:
		if (h->status != JOB_PENDING)
			return 0;
		return store_job_started(p->st, h->job_id, h->attempt,
		    time_now_ms(), err);
	case BACKEND_UNKNOWN:
		if (h->status == JOB_PENDING && s->start_rc == 0) {
			stats->launched++;
			return store_job_started(p->st, h->job_id, h->attempt,
			    time_now_ms(), err);
		}
		if (h->status == JOB_PENDING && s->start_rc == ERR_UNAVAILABLE)
			return 0; /* placed still: the next poll tries again */
		stats->requeued++;
		return store_job_lost(p->st, h->job_id, h->attempt,
		    PILOT_MAX_LOST,
		    h->status == JOB_PENDING ?
			"the backend refused to start it" :
			"the backend lost it",
		    err);
	case BACKEND_LOST:
		stats->requeued++;
		return store_job_lost(p->st, h->job_id, h->attempt,
		    PILOT_MAX_LOST, "the backend lost it", err);
	}
	return 0;
}

/* 5. Ask the backend about every job holding a slot; record what ended. */
static int
cycle_poll(struct pilot *p, struct cycle_stats *stats, struct buf *err)
{
	job_held_vec held = VEC_INIT;
	backend_status_vec sts = VEC_INIT;
	VEC(struct backend_ref) refs = VEC_INIT;
	VEC(struct cycle_seen) seen = VEC_INIT;
	struct cycle_seen *s;
	struct backend_ref *r;
	struct buf ignored = BUF_INIT;
	size_t i;
	int ret;

	ret = store_job_held(p->st, &held, err);
	if (ret < 0 || held.n == 0)
		goto out;
	for (i = 0; i < held.n; i++) {
		r = VEC_ADD(&refs);
		r->job_id = held.v[i].job_id;
		r->attempt = held.v[i].attempt;
	}
	ret = p->be->ops->poll(p->be, refs.v, refs.n, &sts, err);
	if (ret < 0) {
		p->stats.backend_errors[PILOT_BE_POLL]++;
		p->stats.pending = true;
		goto out;
	}
	if (sts.n != held.n)
		BUG("backend answered %zu of %zu polls", sts.n, held.n);
	for (i = 0; i < held.n && ret == 0; i++) {
		s = VEC_ADD(&seen);
		s->held = held.v[i];
		s->st = sts.v[i];
		buf_init(&s->tail);
		ret = cycle_effects(p, s, err);
	}
	if (ret < 0)
		goto out;
	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH(s, &seen)
	{
		ret = cycle_record(p, s, stats, err);
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		store_rollback(p->st);
		goto out;
	}
	ret = store_commit(p->st, err);
	if (ret < 0)
		goto out;
	/* Only once the ends are recorded may the backend forget them. */
	VEC_FOREACH(s, &seen)
	{
		if (s->st.state == BACKEND_ENDED || s->st.state == BACKEND_LOST)
			p->be->ops->release(p->be, &s->st.ref, &ignored);
	}
out:
	VEC_FOREACH(s, &seen)
	buf_release(&s->tail);
	VEC_RELEASE(&seen);
	VEC_RELEASE(&held);
	VEC_RELEASE(&sts);
	VEC_RELEASE(&refs);
	buf_release(&ignored);
	return ret;
}

int64_t
cycle_usage_due_ms(const struct pilot *p)
{
	int64_t every, left;

	if (p->usage_ms == 0)
		return 0;
	every = p->usage_every_ms > 0 ? p->usage_every_ms :
					PILOT_USAGE_EVERY_MS;
	left = p->usage_ms + every - time_mono_ns() / 1000000;
	return left > 0 ? left : 0;
}

/*
 * 5. The usage history: at the first cycle, then at most once per
 * `usage_every_ms`, the jobs per user, in one small transaction.
 */
static int
cycle_usage(struct pilot *p, struct buf *err)
{
	int64_t n;
	int ret;

	if (cycle_usage_due_ms(p) > 0)
		return 0;
	ret = store_begin(p->st, err);
	if (ret < 0)
		return ret;
	ret = store_usage_sample(p->st, time_now_ms(), PILOT_USAGE_KEEP_MS, &n,
	    err);
	if (ret < 0) {
		store_rollback(p->st);
		return ret;
	}
	ret = store_commit(p->st, err);
	if (ret < 0)
		return ret;
	p->usage_ms = time_mono_ns() / 1000000;
	log_debug("usage: %lld row(s)", (long long)n);
	return 0;
}

/*
 * The steps that write mail rows (health, retention, tasks) commit them
 * before they return: hand them to the mail thread at once, so a mail
 * goes out while the cycle goes on, not after it.
 */
static void
cycle_mail_kick(struct pilot *p)
{
	if (store_mail_queued(p->st))
		mailer_kick(p->mailer, true);
}

int
cycle_run(struct pilot *p, struct cycle_stats *stats, struct buf *err)
{
	int64_t start = time_mono_ns(), mail_start;
	struct outbox_limits lim;
	int ret;

	memset(stats, 0, sizeof(*stats));
	p->be_unavailable = false;
	ret = cycle_health(p, stats, err);
	cycle_mail_kick(p);
	if (ret == 0)
		ret = cycle_retention(p, err);
	cycle_mail_kick(p);
	if (ret == 0)
		ret = cycle_tasks(p, stats, err);
	cycle_mail_kick(p);
	if (ret == 0)
		ret = cycle_launch(p, stats, err);
	if (ret == 0)
		ret = cycle_poll(p, stats, err);
	if (ret == 0)
		ret = cycle_usage(p, err);
	stats->mail.wait_ms = -1;
	mail_start = time_mono_ns();
	lim.budget_ms = OUTBOX_IDLE_MS;
	if (stats->launched || stats->ended || stats->requeued ||
	    stats->tasks_changed || stats->nodes_changed) {
		lim.budget_ms = (mail_start - start) / 1000000;
		if (lim.budget_ms < OUTBOX_MIN_MS)
			lim.budget_ms = OUTBOX_MIN_MS;
	}
	lim.cut = pilot_has_work;
	lim.arg = p;
	if (ret == 0 && p->outbox != NULL && p->mailer == NULL)
		ret = outbox_drain(p->outbox, p->st, &lim, &stats->mail, err);
	stats->mail_ns = time_mono_ns() - mail_start;
	stats->ns = time_mono_ns() - start;
	return ret;
}
