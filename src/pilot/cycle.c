/*
 * cycle.c - one pilot cycle.  The decision (cycle_plan_make()): the task
 * state machine over the tasks where something happened, then the fill
 * of free slots in priority order; its cost follows what changed and the
 * slots to fill, not the number of jobs waiting
 * (docs/internals/scheduling.md).  Carrying it out (cycle_run()): the
 * steps below, numbered in the order they run, each with the step of
 * SPEC.md's "The pilot cycle" it does (docs/internals/pilot.md).
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "pilot/pilot-int.h"
#include "util/proc.h"

typedef VEC(int64_t) cycle_id_vec;

/* Drop the streams of the users whose jobs are to wait. */
static void
cycle_drop_held(sched_stream_vec *streams, cycle_held_fn *held, void *arg)
{
	size_t i, n = 0;

	if (held == NULL)
		return;
	for (i = 0; i < streams->n; i++)
		if (!held(arg, streams->v[i].account_id))
			streams->v[n++] = streams->v[i];
	streams->n = n;
}

/* One pool per queue and kind that has a free slot. */
static int
cycle_fill(struct store *st, const struct prio_rule *rule,
    int64_t default_memory, cycle_held_fn *held, void *held_arg,
    struct cycle_plan *p, struct buf *err)
{
	sched_stream_vec streams = VEC_INIT;
	sched_before_vec before = VEC_INIT;
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
			ret = store_sched_streams(st, p->nodes.v[i].queue, gpu,
			    &streams, &before, err);
			cycle_drop_held(&streams, held, held_arg);
			if (ret < 0 || streams.n == 0)
				continue;
			ctx.queue = p->nodes.v[i].queue;
			ctx.gpu = gpu;
			pool.queue = p->nodes.v[i].queue;
			pool.gpu = gpu;
			pool.streams = streams.v;
			pool.nstreams = streams.n;
			pool.default_memory = default_memory;
			ret = sched_decide(rule, p->place, p->nodes.n, &pool, 1,
			    &src, &p->launches, err);
		}
	}
	VEC_RELEASE(&streams);
	VEC_RELEASE(&before);
	return ret;
}

int
cycle_plan_make(struct store *st, const struct prio_rule *rule,
    int64_t default_memory, bool with_tasks, cycle_held_fn *held,
    void *held_arg, struct cycle_plan *out, struct buf *err)
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
	VEC_FOREACH (r, &dirty) {
		ct = VEC_ADD(&out->tasks);
		ct->id = r->id;
		ct->view = r->view;
		task_step(&ct->view, &ct->plan);
	}
	ret = store_sched_nodes(st, &out->nodes, err);
	if (ret < 0)
		goto out;
	out->place = xcalloc(out->nodes.n + 1, sizeof(*out->place));
	node_vec_place(&out->nodes, out->place);
	ret = cycle_fill(st, rule, default_memory, held, held_arg, out, err);
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

/*
 * The health last reported for node `n` (p->health), updated to `n`'s;
 * true when it changed (a node not seen before: when it is unhealthy, or
 * the database says it changed).
 */
static bool
cycle_health_keep(struct pilot *p, const struct backend_node *n, bool stored)
{
	struct backend_node *k;
	bool was,
	    now = place_healthy(n->ready, n->memory_pressure, n->disk_pressure);

	VEC_FOREACH (k, &p->health) {
		if (strcmp(k->name, n->name) != 0)
			continue;
		was = place_healthy(k->ready, k->memory_pressure,
		    k->disk_pressure);
		k->ready = n->ready;
		k->memory_pressure = n->memory_pressure;
		k->disk_pressure = n->disk_pressure;
		k->memory = n->memory;
		return was != now;
	}
	k = VEC_ADD(&p->health);
	*k = *n;
	k->name = xstrdup(n->name);
	return stored || !now;
}

/*
 * Part of step 1, for a backend whose nodes() names every node it can
 * run jobs on (backend_ops.nodes_all): a node of the table it did not
 * name (another host's, on the local backend) is marked unreachable, so
 * that no job claims a node it did not run on.  Only the nodes not
 * marked yet are read: once marked, a node costs the cycle nothing.
 */
static int
cycle_unreachable(struct pilot *p, const backend_node_vec *seen,
    struct cycle_stats *stats, struct buf *err)
{
	store_str_vec names = VEC_INIT;
	bool found, changed;
	size_t i, j;
	int ret;

	ret = store_node_reachable(p->st, &names, err);
	for (i = 0; i < names.n && ret == 0; i++) {
		found = false;
		for (j = 0; j < seen->n && !found; j++)
			found = strcmp(names.v[i], seen->v[j].name) == 0;
		if (found)
			continue;
		ret = store_node_set_unreachable(p->st, names.v[i], &changed,
		    err);
		if (ret == 0 && changed) {
			stats->nodes_changed++;
			log_warn("node %s is unreachable: the %s backend does "
			         "not run jobs on it, it gets none",
			    names.v[i], p->be->ops->name);
		}
	}
	for (i = 0; i < names.n; i++)
		free(names.v[i]);
	VEC_RELEASE(&names);
	return ret;
}

/* Less than `every_ms` since `at_ns` (monotonic; 0: never)? */
static bool
cycle_recent(int64_t at_ns, int64_t every_ms)
{
	return at_ns != 0 && time_mono_ns() - at_ns < every_ms * 1000000LL;
}

/*
 * May step 1 leave the database as it is?  When each node is as the last
 * write left it (p->health), that write is less than
 * PILOT_HEALTH_EVERY_MS old, and every node the table has reachable is
 * one the backend named (store_node_reachable: a node added since, by
 * SQL say, is marked unreachable now, not a second later).  One
 * statement, where the write takes five (a transaction).
 */
static bool
cycle_health_same(struct pilot *p, const backend_node_vec *nodes)
{
	store_str_vec names = VEC_INIT;
	struct buf ignored = BUF_INIT;
	const struct backend_node *n, *k;
	bool same = !p->health_unsaved &&
	    cycle_recent(p->health_ns, PILOT_HEALTH_EVERY_MS) &&
	    nodes->n == p->health.n;
	size_t i, j;

	for (i = 0; i < nodes->n && same; i++) {
		n = &nodes->v[i];
		k = NULL;
		for (j = 0; j < p->health.n && k == NULL; j++)
			if (strcmp(p->health.v[j].name, n->name) == 0)
				k = &p->health.v[j];
		same = k != NULL && k->ready == n->ready &&
		    k->memory_pressure == n->memory_pressure &&
		    k->disk_pressure == n->disk_pressure &&
		    k->memory == n->memory;
	}
	if (same && p->be->ops->nodes_all) {
		same = store_node_reachable(p->st, &names, &ignored) == 0;
		for (i = 0; i < names.n && same; i++) {
			same = false;
			for (j = 0; j < nodes->n && !same; j++)
				same = strcmp(names.v[i], nodes->v[j].name) == 0;
		}
		for (i = 0; i < names.n; i++)
			free(names.v[i]);
		VEC_RELEASE(&names);
	}
	buf_release(&ignored);
	return same;
}

/*
 * Step 1 (SPEC 1): node health from the backend.  Kept by the pilot as
 * well as written, so a change is logged once whatever the database
 * does.  When the database cannot take it for want of space (a full
 * disk, likely what this step found), the cycle goes on to record what
 * it can, launches nothing, and the write is tried again each cycle;
 * any other failure ends the cycle.
 */
static int
cycle_health(struct pilot *p, struct cycle_stats *stats, struct buf *err)
{
	backend_node_vec nodes = VEC_INIT;
	struct backend_node *n;
	struct buf why = BUF_INIT;
	bool changed, *stored = NULL;
	size_t i;
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
	if (nodes.n == 0 || cycle_health_same(p, &nodes))
		goto out;
	stored = xcalloc(nodes.n, sizeof(*stored));
	ret = store_begin(p->st, &why);
	for (i = 0; i < nodes.n && ret == 0; i++)
		ret = store_node_set_health(p->st, nodes.v[i].name,
		    nodes.v[i].ready, nodes.v[i].memory_pressure,
		    nodes.v[i].disk_pressure, nodes.v[i].memory, &stored[i],
		    &why);
	if (ret == 0 && p->be->ops->nodes_all)
		ret = cycle_unreachable(p, &nodes, stats, &why);
	ret = store_end(p->st, ret, &why);
	for (i = 0; i < nodes.n; i++) {
		n = &nodes.v[i];
		if (ret == 0 && stored[i])
			stats->nodes_changed++;
		changed = cycle_health_keep(p, n, ret == 0 && stored[i]);
		if (changed)
			log_warn("node %s is now %s%s", n->name,
			    place_health_name(place_healthy(n->ready,
			        n->memory_pressure, n->disk_pressure)),
			    n->disk_pressure ? " (disk pressure)" : "");
	}
	/* A database down or malformed ends the cycle, as any step's. */
	if (ret < 0 && !store_full(p->st)) {
		buf_reset(err);
		buf_add(err, why.data, why.len);
		goto out;
	}
	if (ret < 0 && !p->health_unsaved)
		log_warn("cannot record the nodes' health: %s; kept, and "
		         "written once the database can be",
		    why.data);
	else if (ret == 0 && p->health_unsaved)
		log_info("the nodes' health is recorded again");
	p->health_unsaved = ret < 0;
	if (ret == 0)
		p->health_ns = time_mono_ns();
	/* Out of space: not the cycle's end, the steps after it may yet
	 * record ends. */
	ret = 0;
out:
	backend_node_vec_release(&nodes);
	buf_release(&why);
	free(stored);
	return ret;
}

/*
 * Step 2: retention.  Mark the ended tasks whose period is over (step 3
 * removes them), and queue the warnings that are due, each with the mark
 * that says it was queued, in one transaction.  At most once a second
 * (PILOT_RETENTION_EVERY_MS), whatever the cycles.
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

	if (cycle_recent(p->retention_ns, PILOT_RETENTION_EVERY_MS))
		return 0;
	p->retention_ns = time_mono_ns();
	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	ret = store_retention_mark(p->st, now, &n, err);
	ret = store_end(p->st, ret, err);
	if (ret < 0)
		goto out;
	if (n > 0)
		log_info("retention: %lld task(s) to remove", (long long)n);
	ret = store_retention_due(p->st, now, &due, err);
	VEC_FOREACH (r, &due) {
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
		ret = store_end(p->st, ret, err);
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

	VEC_FOREACH (r, removed) {
		ref.job_id = r->job_id;
		ref.attempt = r->attempt;
		if (p->be->ops->purge(p->be, &ref, &err) < 0)
			log_warn("%s", err.data);
	}
	if (remove_dir != NULL && proc_remove_tree(remove_dir, &err) < 0)
		log_warn("%s", err.data);
	buf_release(&err);
}

static int
cycle_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The jobs of task `id` submitted --inputs-of a task that is done now:
 * one per regular file of that task's output directory, by name, as
 * `task submit --inputs DIR` makes them; their number in `*njobs` (0:
 * none, or the directory cannot be read, logged: the task breaks).
 */
static int
cycle_inputs_of(struct pilot *p, int64_t id, int64_t *njobs, struct buf *err)
{
	VEC(char *) files = VEC_INIT;
	struct store_job_inserter *ins = NULL;
	struct expand_values v = { 0 };
	struct task t = { 0 };
	struct buf path = BUF_INIT, cmd = BUF_INIT;
	struct dirent *de;
	struct stat sb;
	char *dir = NULL;
	DIR *d = NULL;
	size_t i;
	int ret;

	*njobs = 0;
	ret = store_task_get_id(p->st, id, &t, err);
	if (ret == 0)
		ret = store_task_inputs_dir(p->st, id, &dir, err);
	if (ret < 0)
		goto out;
	d = opendir(dir);
	if (d == NULL)
		log_warn("task %lld: cannot list the inputs in %s: %s",
		    (long long)id, dir, strerror(errno));
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
			continue;
		buf_reset(&path);
		buf_addf(&path, "%s/%s", dir, de->d_name);
		if (stat(path.data, &sb) == 0 && S_ISREG(sb.st_mode))
			VEC_PUSH(&files, buf_detach(&path));
	}
	if (files.n > 0)
		qsort(files.v, files.n, sizeof(*files.v), cycle_cmp_str);
	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	ret = store_job_insert_begin(p->st, &t, &ins, err);
	v.has_inputs = true;
	v.out = t.out_dir;
	v.data = t.data_path;
	for (i = 0; ret == 0 && i < files.n; i++) {
		buf_reset(&cmd);
		expand_job(t.command, &v, files.v[i], (int64_t)i, &cmd);
		ret = store_job_insert_add(ins, (int64_t)i, files.v[i],
		    cmd.data, err);
	}
	if (ret == 0)
		ret = store_job_insert_finish(ins, err);
	store_job_insert_end(ins);
	if (ret == 0)
		ret = store_task_set_njobs(p->st, id, (int64_t)files.n, err);
	ret = store_end(p->st, ret, err);
	if (ret == 0)
		*njobs = (int64_t)files.n;
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < files.n; i++)
		free(files.v[i]);
	VEC_RELEASE(&files);
	task_release(&t);
	free(dir);
	buf_release(&path);
	buf_release(&cmd);
	return ret;
}

/* The plan's chunk of the task's jobs (a move with a limit), or NULL. */
static const struct job_move *
cycle_plan_chunk(const struct task_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->nmoves; i++)
		if (plan->moves[i].limit > 0)
			return &plan->moves[i];
	return NULL;
}

/* Did the plan queue a chunk of the task's jobs? */
static bool
cycle_plan_queues_chunk(const struct task_plan *plan)
{
	return cycle_plan_chunk(plan) != NULL;
}

/*
 * After a chunk's transaction took `took_ns`: the next chunk, sized by
 * it when the chunk was whole (a task's last, smaller chunk tells
 * nothing of a whole one's time).
 */
static void
cycle_chunk_timed(struct pilot *p, const struct task_plan *plan,
    int64_t took_ns)
{
	const struct job_move *mv = cycle_plan_chunk(plan);

	if (mv != NULL)
		log_debug("chunk: up to %lld jobs in %.1f ms",
		    (long long)mv->limit, (double)took_ns / 1e6);
	if (p->queue_chunk > 0 || mv == NULL || !store_task_chunk_whole(p->st))
		return;
	p->chunk = task_chunk_next(mv->limit, took_ns / 1000);
}

/* Is `id` among the `ids`? */
static bool
cycle_ids_have(const cycle_id_vec *ids, int64_t id)
{
	size_t i;

	for (i = 0; i < ids->n; i++)
		if (ids->v[i] == id)
			return true;
	return false;
}

/*
 * Step 3 (SPEC 2): signals and the state machine, over the dirty tasks,
 * to a fixpoint, but for the queueing of a task's jobs: one chunk of a
 * task a cycle (at most TASK_QUEUE_CHUNK, sized by the time the last one
 * took: task_chunk_next), so that no cycle writes a large task's every
 * job.  A task that queued a chunk is not stepped again
 * this cycle; it stays dirty, and its progress (tasks_changed) makes the
 * pilot run the next cycle at once, which queues its next chunk.
 */
static int
cycle_tasks(struct pilot *p, struct cycle_stats *stats, struct buf *err)
{
	task_state_vec dirty = VEC_INIT;
	job_ref_vec removed = VEC_INIT;
	cycle_id_vec chunked = VEC_INIT;
	struct task_state_row *r;
	struct task_plan plan;
	char *remove_dir;
	int64_t njobs, began;
	int round, ret = 0;
	bool any, queued;

	for (round = 0; round < 8; round++) {
		dirty.n = 0;
		ret = store_task_dirty(p->st, &dirty, err);
		if (ret < 0 || dirty.n == 0)
			break;
		any = false;
		VEC_FOREACH (r, &dirty) {
			if (cycle_ids_have(&chunked, r->id))
				continue;
			if (r->view.status == TASK_REGISTERED &&
			    r->view.inputs_pending && !r->view.waits &&
			    r->view.signal == SIGNAL_NONE) {
				ret = cycle_inputs_of(p, r->id, &njobs, err);
				if (ret < 0)
					goto out;
				r->view.njobs[JOB_REGISTERED] = njobs > 0;
			}
			r->view.queue_chunk =
			    p->queue_chunk > 0 ? p->queue_chunk : p->chunk;
			task_step(&r->view, &plan);
			began = time_mono_ns();
			ret = store_begin(p->st, err);
			if (ret < 0)
				goto out;
			removed.n = 0;
			ret = store_task_apply(p->st, r, &plan, &removed,
			    &remove_dir, err);
			if (ret == ERR_CONFLICT) {
				/* Changed under us: next round sees it. */
				store_rollback(p->st);
				any = true;
				continue;
			}
			ret = store_end(p->st, ret, err);
			if (ret < 0)
				goto out;
			/*
			 * Another round reads the dirty tasks again for what
			 * this step changed, but for a task that queued a
			 * chunk: it is not stepped again this cycle.
			 */
			queued = cycle_plan_queues_chunk(&plan);
			if (plan.next != r->view.status || plan.nmoves > 0 ||
			    plan.consume_signal || plan.remove) {
				any = any || !queued;
				stats->tasks_changed++;
				log_info("task %lld: %s -> %s (%s)",
				    (long long)r->id,
				    task_status_name(r->view.status),
				    task_status_name(plan.next), plan.reason);
			}
			if (queued) {
				VEC_PUSH(&chunked, r->id);
				cycle_chunk_timed(p, &plan,
				    time_mono_ns() - began);
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
	VEC_RELEASE(&chunked);
	return ret;
}

/* ---- whose jobs the pilot can run: users' Unix accounts ------------- */

void
pilot_account_vec_release(pilot_account_vec *v)
{
	struct pilot_account *a;

	VEC_FOREACH (a, v) {
		free(a->username);
		free(a->why);
		free(a->stored);
		proc_account_release(&a->acct);
	}
	VEC_RELEASE(v);
}

/*
 * The account of user `id` as this cycle found it: the store's row, then
 * the backend's word on its Unix account, once a cycle.  NULL when the
 * row cannot be read (`err` says why).
 */
static struct pilot_account *
cycle_account(struct pilot *p, int64_t id, struct buf *err)
{
	struct account row = { 0 };
	struct pilot_account *pa;
	struct buf why = BUF_INIT;

	VEC_FOREACH (pa, &p->accounts)
		if (pa->id == id)
			return pa;
	if (store_account_get_id(p->st, id, &row, err) < 0) {
		account_release(&row);
		return NULL;
	}
	pa = VEC_ADD(&p->accounts);
	memset(pa, 0, sizeof(*pa));
	pa->id = id;
	pa->username = row.username;
	row.username = NULL;
	pa->stored = row.hold;
	row.hold = NULL;
	if (p->be->ops->account == NULL) {
		/* A backend with no accounts: the job keeps the pilot's. */
		pa->ret = proc_account_get(row.unix_user, &pa->acct, &why);
		if (pa->ret < 0)
			pa->acct.uid = pa->acct.gid = -1;
		pa->ret = 0;
	} else {
		pa->ret = p->be->ops->account(p->be, pa->username,
		    row.unix_user, &pa->acct, &why);
	}
	if (pa->ret == ERR_DENIED)
		pa->why = buf_detach(&why);
	else if (pa->ret < 0)
		log_warn("user %s: %s", pa->username, why.data);
	buf_release(&why);
	account_release(&row);
	return pa;
}

static bool
cycle_held(void *arg, int64_t account_id)
{
	struct pilot *p = arg;
	struct pilot_account *pa;
	struct buf err = BUF_INIT;

	pa = cycle_account(p, account_id, &err);
	if (pa == NULL)
		log_warn("%s", err.data);
	buf_release(&err);
	return pa == NULL || pa->ret < 0;
}

/*
 * Record what changed of the holds this cycle found (account.hold, with
 * an event), in the caller's transaction; users held before are looked
 * at again, so a hold goes once the account is there.
 */
static int
cycle_holds(struct pilot *p, struct buf *err)
{
	struct pilot_account *pa;
	bool changed;
	size_t i;
	int ret = 0;

	for (i = 0; i < p->accounts.n && ret == 0; i++) {
		pa = &p->accounts.v[i];
		if (pa->ret == ERR_UNAVAILABLE ||
		    (pa->why == NULL && pa->stored == NULL) ||
		    (pa->why != NULL && pa->stored != NULL &&
		        strcmp(pa->why, pa->stored) == 0))
			continue;
		ret = store_account_set_hold(p->st, pa->id, pa->why, &changed,
		    err);
		if (ret == 0 && changed && pa->why != NULL)
			log_warn("%s: the user's jobs wait", pa->why);
		else if (ret == 0 && changed)
			log_info("user %s: its jobs can run again",
			    pa->username);
	}
	return ret;
}

/* Are there holds to write (so the cycle writes, even with no launch)? */
static bool
cycle_holds_changed(const struct pilot *p)
{
	const struct pilot_account *pa;

	VEC_FOREACH (pa, &p->accounts) {
		if (pa->ret == ERR_UNAVAILABLE)
			continue;
		if ((pa->why == NULL) != (pa->stored == NULL) ||
		    (pa->why != NULL && strcmp(pa->why, pa->stored) != 0))
			return true;
	}
	return false;
}

static void
cycle_backend_job(const struct job_launch *l, struct backend_job *bj)
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
	bj->memory = l->memory;
}

/*
 * Start one placed job: 0, ERR_UNAVAILABLE when the backend could not be
 * asked now or this cycle's time for starts is spent (the job stays
 * placed and is started by a later poll: a sick API server is no job's
 * failure), or another ERR_* when it refused the job.
 */
static int
cycle_start_one(struct pilot *p, const struct job_launch *l)
{
	struct pilot_account *pa;
	struct backend_job bj;
	struct buf why = BUF_INIT;
	int64_t now = time_mono_ns();
	int ret;

	/* One that could not be asked is enough: the rest wait too. */
	if (p->be_unavailable)
		return ERR_UNAVAILABLE;
	/* The first start of a cycle sets its budget: one start at least. */
	if (p->start_until_ns == 0)
		p->start_until_ns = now + PILOT_START_BUDGET_MS * 1000000LL;
	else if (now >= p->start_until_ns) {
		p->starts_cut = true;
		return ERR_UNAVAILABLE;
	}
	pa = cycle_account(p, l->account_id, &why);
	if (pa == NULL || pa->ret < 0) {
		/* Placed before its account went: it waits for it again. */
		ret = pa == NULL ? ERR_UNAVAILABLE : pa->ret;
		log_warn("job %lld: cannot start: %s", (long long)l->job_id,
		    pa == NULL    ? why.data
		        : pa->why ? pa->why
		                  : "no account");
		buf_release(&why);
		return ret;
	}
	cycle_backend_job(l, &bj);
	backend_job_set_account(&bj, &pa->acct);
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

/* What start() said, in core's terms. */
static enum job_start
cycle_start_word(int rc)
{
	if (rc == 0)
		return JOB_START_OK;
	if (rc == ERR_UNAVAILABLE)
		return JOB_START_UNAVAILABLE;
	return JOB_START_REFUSED;
}

/* What job_step()'s plan does, counted for the cycle's log. */
static void
cycle_count(const struct job_plan *plan, struct cycle_stats *stats)
{
	if (plan->launched)
		stats->launched++;
	if (plan->ended)
		stats->ended++;
	if (plan->lost)
		stats->requeued++;
}

/*
 * Record job_step()'s plan for one attempt, in the caller's transaction.
 * `bs` and `tail` are the backend's word on an end (NULL when it ended
 * none).
 */
static int
cycle_apply(struct pilot *p, int64_t job_id, int64_t attempt,
    const struct job_plan *plan, const struct backend_status *bs,
    const char *tail, struct cycle_stats *stats, struct buf *err)
{
	struct job_usage usage = { -1, -1 };

	cycle_count(plan, stats);
	switch (plan->action) {
	case JOB_ACT_NONE:
		return 0;
	case JOB_ACT_START:
		return store_job_started(p->st, job_id, attempt, time_now_ms(),
		    err);
	case JOB_ACT_END:
		if (!plan->ended || bs == NULL)
			return store_job_ended(p->st, job_id, attempt, plan->to,
			    -1, 0, time_now_ms(), NULL, plan->reason, NULL,
			    err);
		if (bs->has_usage)
			usage =
			    (struct job_usage){ bs->peak_memory, bs->cpu_ms };
		return store_job_ended(p->st, job_id, attempt, plan->to,
		    bs->exit_code, bs->started_ms, bs->ended_ms, tail,
		    plan->reason, &usage, err);
	case JOB_ACT_REQUEUE:
		return store_job_requeue(p->st, job_id, attempt, plan->reason,
		    err);
	}
	return 0;
}

/* Start placed jobs; record which started and requeue the refused. */
static int
cycle_start(struct pilot *p, struct job_launch *ls, size_t n,
    struct cycle_stats *stats, struct buf *err)
{
	enum job_start *start = xcalloc(n + 1, sizeof(*start));
	int64_t *ids = xcalloc(n + 1, sizeof(*ids));
	int64_t *attempts = xcalloc(n + 1, sizeof(*attempts));
	struct job_news news = { .status = JOB_PENDING,
		.max_lost = PILOT_MAX_LOST,
		.seen = JOB_SEEN_UNKNOWN };
	struct job_plan plan;
	size_t i, k = 0;
	int ret;

	for (i = 0; i < n; i++)
		start[i] = cycle_start_word(cycle_start_one(p, &ls[i]));
	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	/* The starts together (one round trip on PostgreSQL), the rest. */
	for (i = 0; i < n && ret == 0; i++) {
		news.lost = ls[i].lost;
		news.start = start[i];
		job_step(&news, &plan);
		if (plan.action != JOB_ACT_START) {
			ret = cycle_apply(p, ls[i].job_id, ls[i].attempt,
			    &plan, NULL, NULL, stats, err);
			continue;
		}
		cycle_count(&plan, stats);
		ids[k] = ls[i].job_id;
		attempts[k++] = ls[i].attempt;
	}
	if (ret == 0 && k > 0)
		ret = store_job_started_all(p->st, ids, attempts, k,
		    time_now_ms(), err);
	ret = store_end(p->st, ret, err);
out:
	free(start);
	free(ids);
	free(attempts);
	return ret;
}

/* Step 4 (SPEC 3 and 4): priorities and placement; launches. */
static int
cycle_launch(struct pilot *p, struct cycle_stats *stats, struct buf *err)
{
	VEC(struct job_launch) ls = VEC_INIT;
	account_vec held = VEC_INIT;
	struct job_place *places;
	struct cycle_plan plan;
	struct sched_launch *l;
	struct job_launch *jl;
	struct account *a;
	int ret;

	/* Who was held: looked at again, whether or not they wait. */
	ret = store_account_held(p->st, &held, err);
	VEC_FOREACH (a, &held) {
		if (ret == 0 && cycle_account(p, a->id, err) == NULL)
			ret = -1;
	}
	account_vec_release(&held);
	if (ret < 0)
		return ret;
	/*
	 * Health the database has not taken (its disk is full) may be what
	 * placement would need, and a launch could not be recorded either.
	 */
	if (p->health_unsaved)
		return 0;
	/* The state machine ran in step 3: placement only. */
	ret = cycle_plan_make(p->st, p->rule, p->cfg->default_memory, false,
	    cycle_held, p, &plan, err);
	if (ret < 0 || (plan.launches.n == 0 && !cycle_holds_changed(p)))
		goto out;
	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	ret = cycle_holds(p, err);
	places = xcalloc(plan.launches.n + 1, sizeof(*places));
	VEC_FOREACH (l, &plan.launches) {
		places[ls.n] = (struct job_place){ l->job_id,
			plan.nodes.v[l->node].id, l->gpu_index, l->priority,
			l->memory };
		VEC_ADD(&ls);
	}
	if (ret == 0)
		ret = store_job_place_all(p->st, places, ls.n, ls.v, err);
	free(places);
	ret = store_end(p->st, ret, err);
	if (ret < 0 || ls.n == 0)
		goto out;
	ret = cycle_start(p, ls.v, ls.n, stats, err);
out:
	VEC_FOREACH (jl, &ls)
		job_launch_release(jl);
	VEC_RELEASE(&ls);
	cycle_plan_release(&plan);
	return ret;
}

/* The backend's word in core's terms. */
static const enum job_seen cycle_seen_word[] = {
	[BACKEND_UNKNOWN] = JOB_SEEN_UNKNOWN,
	[BACKEND_RUNNING] = JOB_SEEN_RUNNING,
	[BACKEND_ENDED] = JOB_SEEN_ENDED,
	[BACKEND_LOST] = JOB_SEEN_LOST,
};
static const enum job_end cycle_end_word[] = {
	[BACKEND_END_EXIT] = JOB_END_EXIT,
	[BACKEND_END_SIGNAL] = JOB_END_SIGNAL,
	[BACKEND_END_STOPPED] = JOB_END_STOPPED,
	[BACKEND_END_TIMEOUT] = JOB_END_TIMEOUT,
	[BACKEND_END_START] = JOB_END_START,
	[BACKEND_END_OOM] = JOB_END_OOM,
};

/*
 * May this cycle stop one more job?  The first stop sets the budget: one
 * stop at least; past it the rest wait for the next cycle (stops_cut).
 */
static bool
cycle_stop_due(struct pilot *p)
{
	int64_t now = time_mono_ns();

	if (p->stop_until_ns == 0)
		p->stop_until_ns = now + PILOT_STOP_BUDGET_MS * 1000000LL;
	else if (now >= p->stop_until_ns) {
		p->stops_cut = true;
		return false;
	}
	return true;
}

/* What poll found of one job, and what the cycle did about it. */
struct cycle_seen {
	struct job_held held;
	struct backend_status st;
	struct buf tail;      /* an ended job's log tail */
	bool owed;            /* its tail to be read later (cycle_tails) */
	enum job_start start; /* UNKNOWN and pending: what start() said now */
	struct job_plan plan; /* job_step()'s, once the effects are done */
};

/*
 * Effects first, outside any transaction: read the tails of ended jobs,
 * stop the jobs asked to stop, start the placed jobs a pilot died before
 * starting.  The store is only read here.
 */
static int
cycle_effects(struct pilot *p, struct cycle_seen *s, struct cycle_stats *stats,
    struct buf *err)
{
	struct backend_ref ref = { s->held.job_id, s->held.attempt };
	struct job_launch l = { 0 };
	struct buf why = BUF_INIT;
	int ret = 0;

	switch (s->st.state) {
	case BACKEND_ENDED:
		if (p->be->ops->spare != NULL) {
			/* A log costs a request: read after, within the spare.
			 */
			s->owed = true;
			break;
		}
		s->tail.cap_limit = 4096;
		if (p->be->ops->logs(p->be, &ref, 4096, &s->tail, &why) < 0) {
			p->stats.backend_errors[PILOT_BE_LOGS]++;
			p->stats.pending = true;
			log_warn("job %lld: %s", (long long)ref.job_id,
			    why.data);
		}
		break;
	case BACKEND_RUNNING:
		if (s->held.status != JOB_KILL || !cycle_stop_due(p))
			break;
		stats->stopped++;
		if (p->be->ops->stop(p->be, &ref, &why) < 0)
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
		s->start = cycle_start_word(cycle_start_one(p, &l));
		break;
	case BACKEND_LOST:
		break;
	}
	job_launch_release(&l);
	buf_release(&why);
	return ret;
}

/* job_step()'s plan for what was seen of a job. */
static void
cycle_seen_plan(const struct cycle_seen *s, struct job_plan *plan)
{
	struct job_news news = {
		.status = s->held.status,
		.lost = s->held.lost,
		.max_lost = PILOT_MAX_LOST,
		.seen = cycle_seen_word[s->st.state],
		.start = s->start,
		.end = cycle_end_word[s->st.end],
		.exit_code = s->st.exit_code,
	};

	job_step(&news, plan);
}

/* Record one job's news (its plan); inside the poll's transaction. */
static int
cycle_record(struct pilot *p, const struct cycle_seen *s,
    struct cycle_stats *stats, struct buf *err)
{
	return cycle_apply(p, s->held.job_id, s->held.attempt, &s->plan,
	    &s->st, s->tail.data, stats, err);
}

/*
 * The current state of the jobs whose ends and requeues are recorded
 * next, read together (one round trip on PostgreSQL, not one a job).
 */
static int
cycle_read_ahead(struct pilot *p, const struct cycle_seen *seen, size_t n,
    struct buf *err)
{
	int64_t *ids = xcalloc(n + 1, sizeof(*ids));
	int64_t *attempts = xcalloc(n + 1, sizeof(*attempts));
	size_t i, k = 0;
	int ret;

	for (i = 0; i < n; i++) {
		if (seen[i].plan.action != JOB_ACT_END &&
		    seen[i].plan.action != JOB_ACT_REQUEUE)
			continue;
		ids[k] = seen[i].held.job_id;
		attempts[k++] = seen[i].held.attempt;
	}
	ret = store_job_now_read_ahead(p->st, ids, attempts, k, err);
	free(ids);
	free(attempts);
	return ret;
}

/*
 * Step 5 (SPEC 5): ask the backend about every job holding a slot; record
 * what ended.
 */
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
		s->owed = false;
		buf_init(&s->tail);
		ret = cycle_effects(p, s, stats, err);
	}
	if (ret < 0)
		goto out;
	VEC_FOREACH (s, &seen)
		cycle_seen_plan(s, &s->plan);
	ret = store_begin(p->st, err);
	if (ret < 0)
		goto out;
	ret = cycle_read_ahead(p, seen.v, seen.n, err);
	VEC_FOREACH (s, &seen) {
		if (ret < 0)
			break;
		ret = cycle_record(p, s, stats, err);
	}
	ret = store_end(p->st, ret, err);
	if (ret < 0)
		goto out;
	/* Only once the ends are recorded may the backend forget them. */
	VEC_FOREACH (s, &seen) {
		if (s->owed)
			VEC_PUSH(&p->owed, s->st.ref);
		else if (s->st.state == BACKEND_ENDED ||
		    s->st.state == BACKEND_LOST)
			p->be->ops->release(p->be, &s->st.ref, &ignored);
	}
out:
	VEC_FOREACH (s, &seen)
		buf_release(&s->tail);
	VEC_RELEASE(&seen);
	VEC_RELEASE(&held);
	VEC_RELEASE(&sts);
	VEC_RELEASE(&refs);
	buf_release(&ignored);
	return ret;
}

/*
 * Step 5b: the tails owed (cycle_effects), in a cycle that started no job
 * (the starts come first: the rate left over), as many as the backend's
 * spare allows: read, kept in one transaction, then the jobs released.  One
 * that cannot be read now waits for a later cycle; its Job and its log
 * stay until then, so `task logs` reads it from the backend meanwhile.
 */
static int
cycle_tails(struct pilot *p, struct buf *err)
{
	struct buf *tails = NULL, why = BUF_INIT, ignored = BUF_INIT;
	bool *read = NULL;
	size_t i, n, kept;
	int spare, ret = 0;

	if (p->owed.n == 0)
		return 0;
	spare = p->be->ops->spare(p->be);
	n = p->owed.n < (size_t)spare ? p->owed.n : (size_t)spare;
	if (n == 0)
		return 0;
	tails = xcalloc(n, sizeof(*tails));
	read = xcalloc(n, sizeof(*read));
	for (i = 0; i < n; i++) {
		buf_init(&tails[i]);
		tails[i].cap_limit = 4096;
		buf_reset(&why);
		read[i] = p->be->ops->logs(p->be, &p->owed.v[i], 4096,
		              &tails[i], &why) == 0;
		if (!read[i]) {
			p->stats.backend_errors[PILOT_BE_LOGS]++;
			log_warn("job %lld: %s", (long long)p->owed.v[i].job_id,
			    why.data);
		}
	}
	ret = store_begin(p->st, err);
	for (i = 0; i < n && ret == 0; i++)
		if (read[i] && tails[i].len > 0)
			ret = store_job_set_tail(p->st, p->owed.v[i].job_id,
			    p->owed.v[i].attempt, tails[i].data, err);
	ret = store_end(p->st, ret, err);
	if (ret < 0)
		goto out;
	/* Kept: the backend may forget them; the unread stay owed. */
	kept = 0;
	for (i = 0; i < p->owed.n; i++) {
		if (i < n && read[i])
			p->be->ops->release(p->be, &p->owed.v[i], &ignored);
		else
			p->owed.v[kept++] = p->owed.v[i];
	}
	p->owed.n = kept;
out:
	for (i = 0; i < n; i++)
		buf_release(&tails[i]);
	free(tails);
	free(read);
	buf_release(&why);
	buf_release(&ignored);
	return ret;
}

int64_t
cycle_usage_due_ms(const struct pilot *p)
{
	int64_t every, left;

	if (p->usage_ms == 0)
		return 0;
	every =
	    p->usage_every_ms > 0 ? p->usage_every_ms : PILOT_USAGE_EVERY_MS;
	left = p->usage_ms + every - time_mono_ns() / 1000000;
	return left > 0 ? left : 0;
}

/*
 * Step 6 (SPEC 6): the usage history.  At the first cycle, then at most
 * once per `usage_every_ms`, the jobs per user, in one small transaction
 * that also forgets the accounting of runs older than a year.
 */
static int
cycle_usage(struct pilot *p, struct buf *err)
{
	int64_t n, old = 0;
	int ret;

	if (cycle_usage_due_ms(p) > 0)
		return 0;
	ret = store_begin(p->st, err);
	if (ret < 0)
		return ret;
	ret = store_usage_sample(p->st, time_now_ms(), PILOT_USAGE_KEEP_MS, &n,
	    err);
	if (ret == 0 && p->cfg->history_retention_ms > 0)
		ret = store_history_prune(p->st,
		    time_now_ms() - p->cfg->history_retention_ms, &old, err);
	ret = store_end(p->st, ret, err);
	if (ret < 0)
		return ret;
	p->usage_ms = time_mono_ns() / 1000000;
	log_debug("usage: %lld row(s); history: %lld run(s) forgotten",
	    (long long)n, (long long)old);
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

/*
 * The steps in order: 1 health, 2 retention, 3 tasks, 4 placement and
 * launches, 5 poll, 6 usage, then 7 (SPEC 6, with mail on and no mail
 * thread) the bounded drain of the outbox.  The first that fails ends
 * the cycle; what the earlier ones committed stays.
 */
int
cycle_run(struct pilot *p, struct cycle_stats *stats, struct buf *err)
{
	int64_t start = time_mono_ns(), mail_start, t;
	struct outbox_limits lim;
	int ret;

	memset(stats, 0, sizeof(*stats));
	p->be_unavailable = false;
	p->start_until_ns = 0;
	p->starts_cut = false;
	p->stop_until_ns = 0;
	p->stops_cut = false;
	pilot_account_vec_release(&p->accounts);
	ret = cycle_health(p, stats, err);
	cycle_mail_kick(p);
	if (ret == 0)
		ret = cycle_retention(p, err);
	cycle_mail_kick(p);
	t = time_mono_ns();
	if (ret == 0)
		ret = cycle_tasks(p, stats, err);
	stats->tasks_ns = time_mono_ns() - t;
	cycle_mail_kick(p);
	t = time_mono_ns();
	if (ret == 0)
		ret = cycle_launch(p, stats, err);
	stats->launch_ns = time_mono_ns() - t;
	t = time_mono_ns();
	if (ret == 0)
		ret = cycle_poll(p, stats, err);
	stats->poll_ns = time_mono_ns() - t;
	/* Tails wait while jobs are being started, unless too many wait. */
	if (ret == 0 &&
	    ((stats->launched == 0 && !p->starts_cut) ||
	        p->owed.n > PILOT_OWED_MAX))
		ret = cycle_tails(p, err);
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
