/*
 * service-queue.c - `orchestra queue`: what holds a slot, what waits, in
 * the order the scheduler will take it, and why each waiting job waits.
 *
 * The order is the scheduler's own: the merge of core/sched.c over the
 * same store reads the pilot uses, so the place shown is the place the
 * job has.
 */
#include "service/service-int.h"

/*
 * How far a task's page follows the merge for its jobs' places: past
 * this, a job waits behind "more than" this many.  Bounds what one
 * request reads (a merge of this many jobs takes tens of milliseconds).
 */
#define SERVICE_QUEUE_PLACES_MAX 100000

void
queue_row_vec_release(queue_row_vec *v)
{
	struct queue_row *r;

	VEC_FOREACH (r, v) {
		free(r->username);
		free(r->task);
		free(r->queue);
		free(r->node);
		free(r->why);
	}
	VEC_RELEASE(v);
}

/* Names of the accounts and tasks the merge yields ids of. */
struct queue_names {
	account_vec accounts;
	task_vec tasks;
};

static const struct account *
service_queue_account(struct queue_names *qn, int64_t id)
{
	struct account *a;

	VEC_FOREACH (a, &qn->accounts)
		if (a->id == id)
			return a;
	return NULL;
}

static const char *
service_queue_username(struct queue_names *qn, int64_t id)
{
	const struct account *a = service_queue_account(qn, id);

	return a != NULL ? a->username : "?";
}

/* Why the pilot holds the jobs of user `id` (NULL: it does not). */
static const char *
service_queue_hold(struct queue_names *qn, int64_t id)
{
	const struct account *a = service_queue_account(qn, id);

	return a != NULL ? a->hold : NULL;
}

static const char *
service_queue_taskname(struct service *svc, struct queue_names *qn, int64_t id,
    struct buf *err)
{
	struct task *t;
	struct task one = { 0 };

	/* Most recent first: a user's waiting jobs come task by task. */
	for (t = qn->tasks.v + qn->tasks.n; t > qn->tasks.v; t--)
		if (t[-1].id == id)
			return t[-1].name;
	if (store_task_get_id(svc->st, id, &one, err) < 0)
		return "?";
	VEC_PUSH(&qn->tasks, one);
	return qn->tasks.v[qn->tasks.n - 1].name;
}

/*
 * Why the job at `place` (1-based) of a pool waits, asking `ask` of a node;
 * place 0: unknown.
 */
static char *
service_queue_why(const struct place_node *nodes, size_t nnodes,
    const char *queue, const struct place_ask *ask, int64_t free_slots,
    int64_t place)
{
	bool gpu = ask->gpu;
	const char *kind = gpu ? "GPU" : "CPU";
	struct buf b = BUF_INIT;
	bool any = false, usable = false;
	size_t i;

	for (i = 0; i < nnodes; i++) {
		if (strcmp(nodes[i].queue, queue) != 0)
			continue;
		if ((gpu ? nodes[i].gpu_slots : nodes[i].cpu_slots) <= 0)
			continue;
		any = true;
		if (nodes[i].enabled && nodes[i].healthy)
			usable = true;
	}
	if (!any)
		buf_addf(&b, "queue '%s' has no %s slots", queue, kind);
	else if (!usable)
		buf_addf(&b,
		    "every node of queue '%s' with %s slots is drained or "
		    "unhealthy",
		    queue, kind);
	else if (place_memory_why(nodes, nnodes, queue, ask, &b) == 1)
		; /* a slot is free, its memory is not */
	else if (place == 0)
		buf_addf(&b,
		    "waits its turn for a %s slot in queue '%s' (its task "
		    "shows its place)",
		    kind, queue);
	else if (place <= free_slots)
		buf_addf(&b, "a %s slot is free: starts at the next cycle",
		    kind);
	else if (place == 1)
		buf_addf(&b, "next in line; no free %s slot in queue '%s'",
		    kind, queue);
	else
		buf_addf(&b,
		    "%lld job%s of higher priority %s ahead; no free %s slot "
		    "in queue '%s'",
		    (long long)(place - 1), place == 2 ? "" : "s",
		    place == 2 ? "is" : "are", kind, queue);
	return buf_detach(&b);
}

/* A waiting job of the pool as a row; its place and why to come. */
static struct queue_row *
service_queue_add_job(struct service *svc, struct queue_names *qn,
    const char *queue, bool gpu, const struct sched_job *j, queue_row_vec *out,
    struct buf *err)
{
	struct queue_row *r = VEC_ADD(out);

	r->username = xstrdup(service_queue_username(qn, j->account_id));
	r->task = xstrdup(service_queue_taskname(svc, qn, j->task_id, err));
	r->task_id = j->task_id;
	r->job_id = j->id;
	r->idx = j->idx;
	r->njobs = 1;
	r->queue = xstrdup(queue);
	r->gpu = gpu;
	r->status = JOB_ASSIGNED;
	r->gpu_index = -1;
	return r;
}

/*
 * The jobs of the users the pilot holds (no Unix account for them): not
 * in the scheduler's order, since they take no place in it, each with the
 * hold as why.  Their priority is left 0: none is given while held.
 */
static int
service_queue_held(struct service *svc, struct queue_names *qn,
    const char *queue, bool gpu, const struct sched_stream *held, size_t nheld,
    int64_t account_id, size_t max_rows, queue_row_vec *out, struct buf *err)
{
	struct store_sched_ctx ctx = { svc->st, queue, gpu };
	sched_job_vec jobs = VEC_INIT;
	struct sched_job *j;
	struct queue_row *r;
	size_t i, want;
	int ret = 0;

	for (i = 0; i < nheld && ret == 0 && out->n < max_rows; i++) {
		if (account_id != 0 && held[i].account_id != account_id)
			continue;
		jobs.n = 0;
		want = max_rows - out->n;
		ret = store_sched_fetch(&ctx, &held[i], NULL,
		    want > 100000 ? 100000 : want, &jobs, err);
		VEC_FOREACH (j, &jobs) {
			r = service_queue_add_job(svc, qn, queue, gpu, j, out,
			    err);
			r->why =
			    xstrdup(service_queue_hold(qn, held[i].account_id));
		}
	}
	VEC_RELEASE(&jobs);
	return ret < 0 ? ret : 0;
}

/* The waiting jobs of one pool, in the scheduler's order. */
static int
service_queue_pool(struct service *svc, const struct prio_rule *rule,
    struct place_node *pn, size_t npn, const char *queue, bool gpu,
    int64_t account_id, struct queue_names *qn, size_t max_rows,
    queue_row_vec *out, struct buf *err)
{
	struct store_sched_ctx ctx = { svc->st, queue, gpu };
	struct sched_source src = { store_sched_fetch, &ctx };
	sched_stream_vec streams = VEC_INIT, held = VEC_INIT;
	sched_before_vec before = VEC_INIT;
	struct sched_merge *m = NULL;
	struct sched_job j;
	struct queue_row *r;
	struct place_ask ask = { .gpu = gpu,
		.default_memory = svc->cfg->default_memory };
	int64_t place = 0, free_slots;
	size_t i, n = 0;
	int ret;

	ret = store_sched_streams(svc->st, queue, gpu, &streams, &before, err);
	if (ret < 0 || streams.n == 0)
		goto out;
	/* As the pilot: the users it holds take no place in the order. */
	for (i = 0; i < streams.n; i++) {
		if (service_queue_hold(qn, streams.v[i].account_id) != NULL)
			VEC_PUSH(&held, streams.v[i]);
		else
			streams.v[n++] = streams.v[i];
	}
	streams.n = n;
	free_slots = place_free_in_queue(pn, npn, queue, gpu);
	m = sched_merge_new(rule, streams.v, streams.n, &src);
	while (out->n < max_rows && (ret = sched_merge_next(m, &j, err)) == 1) {
		place++;
		if (account_id != 0 && j.account_id != account_id)
			continue;
		r = service_queue_add_job(svc, qn, queue, gpu, &j, out, err);
		r->place = place;
		r->priority = j.priority;
		ask.memory = j.memory;
		r->why =
		    service_queue_why(pn, npn, queue, &ask, free_slots, place);
	}
	if (ret >= 0)
		ret = service_queue_held(svc, qn, queue, gpu, held.v, held.n,
		    account_id, max_rows, out, err);
out:
	sched_merge_free(m);
	VEC_RELEASE(&streams);
	VEC_RELEASE(&held);
	VEC_RELEASE(&before);
	return ret;
}

static const char *
service_queue_group_why(enum task_status st)
{
	switch (st) {
	case TASK_REGISTERED:
		return "its task waits for the scheduler to start it";
	case TASK_TESTING:
		return "waits for its task's test job to succeed";
	case TASK_RUNNING:
		/*
		 * Queued in chunks (TASK_QUEUE_CHUNK), one a cycle: its jobs,
		 * or the failed jobs its retry queues again.
		 */
		return "queued at the pilot's next cycle (its task's jobs are queued in chunks)";
	case TASK_KILLING:
		return "its task is being killed";
	default:
		return "its task is not running";
	}
}

int
service_queue_after_why(struct service *svc, int64_t task_id, char **why,
    struct buf *err)
{
	store_after_vec afters = VEC_INIT;
	struct after_dep *deps = NULL;
	struct buf b = BUF_INIT;
	size_t i;
	int ret;

	*why = NULL;
	ret = store_task_afters(svc->st, task_id, &afters, err);
	if (ret < 0 || afters.n == 0)
		goto out;
	deps = xcalloc(afters.n, sizeof(*deps));
	for (i = 0; i < afters.n; i++)
		deps[i] = afters.v[i].dep;
	if (after_why(deps, afters.n, &b) == 1)
		*why = buf_detach(&b);
out:
	free(deps);
	buf_release(&b);
	store_after_vec_release(&afters);
	return ret;
}

static int
service_queue_cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static struct job_wait *
service_queue_wait_add(struct task_detail *d, int64_t job_id, int64_t place,
    char *why)
{
	struct job_wait *w = VEC_ADD(&d->waits);

	w->job_id = job_id;
	w->place = place;
	w->priority = 0;
	w->why = why;
	return w;
}

static bool
service_queue_has_wait(const struct task_detail *d, int64_t job_id)
{
	const struct job_wait *w;

	VEC_FOREACH (w, &d->waits)
		if (w->job_id == job_id)
			return true;
	return false;
}

/* d->task's jobs in its pool's merge: the first, and those in `ids`. */
static int
service_queue_task_merge(struct service *svc, struct task_detail *d,
    const struct prio_rule *rule, const account_vec *held, const int64_t *ids,
    size_t nids, struct buf *err)
{
	const struct task *t = &d->task;
	struct store_sched_ctx ctx = { svc->st, t->queue, t->gpu };
	struct sched_source src = { store_sched_fetch, &ctx };
	sched_stream_vec streams = VEC_INIT;
	sched_before_vec before = VEC_INIT;
	struct sched_merge *m = NULL;
	struct place_node *pn = NULL;
	node_vec nodes = VEC_INIT;
	const struct account *a;
	struct sched_job j;
	struct place_ask ask = { .gpu = t->gpu,
		.memory = t->memory,
		.default_memory = svc->cfg->default_memory };
	bool first = false, is_held;
	size_t i, n = 0, found = 0;
	int64_t place = 0, free_slots;
	char *why;
	int ret;

	ret = store_node_list(svc->st, NULL, 0, &nodes, err);
	if (ret < 0)
		goto out;
	pn = xcalloc(nodes.n + 1, sizeof(*pn));
	node_vec_place(&nodes, pn);
	free_slots = place_free_in_queue(pn, nodes.n, t->queue, t->gpu);
	ret = store_sched_streams(svc->st, t->queue, t->gpu, &streams, &before,
	    err);
	if (ret < 0)
		goto out;
	/* As the pilot: the users it holds take no place in the order. */
	for (i = 0; i < streams.n; i++) {
		is_held = false;
		VEC_FOREACH (a, held)
			is_held = is_held || a->id == streams.v[i].account_id;
		if (!is_held)
			streams.v[n++] = streams.v[i];
	}
	streams.n = n;
	m = sched_merge_new(rule, streams.v, streams.n, &src);
	while ((!first || found < nids) && place < SERVICE_QUEUE_PLACES_MAX &&
	    (ret = sched_merge_next(m, &j, err)) == 1) {
		place++;
		if (j.task_id != t->id)
			continue;
		why = NULL;
		if (!first) {
			why = service_queue_why(pn, nodes.n, t->queue, &ask,
			    free_slots, place);
			service_queue_wait_add(d, j.id, place, why)->priority =
			    j.priority;
			first = true;
		}
		if (bsearch(&j.id, ids, nids, sizeof(*ids),
		        service_queue_cmp_id) == NULL)
			continue;
		found++;
		if (why == NULL)
			service_queue_wait_add(d, j.id, place,
			    service_queue_why(pn, nodes.n, t->queue, &ask,
			        free_slots, place))
			    ->priority = j.priority;
	}
	if (ret < 0)
		goto out;
	ret = 0;
	if (place < SERVICE_QUEUE_PLACES_MAX)
		goto out; /* the merge ran out: the others do not wait */
	/* Past the bound: waiting, place unknown. */
	for (i = 0; i < nids; i++) {
		struct buf b = BUF_INIT;

		if (service_queue_has_wait(d, ids[i]))
			continue;
		buf_addf(&b,
		    "more than %d jobs of higher priority are ahead; no free "
		    "%s slot in queue '%s'",
		    SERVICE_QUEUE_PLACES_MAX, t->gpu ? "GPU" : "CPU", t->queue);
		service_queue_wait_add(d, ids[i], 0, buf_detach(&b));
	}
out:
	sched_merge_free(m);
	VEC_RELEASE(&streams);
	VEC_RELEASE(&before);
	free(pn);
	node_vec_release(&nodes);
	return ret;
}

int
service_queue_task_waits(struct service *svc, struct task_detail *d,
    struct buf *err)
{
	const struct prio_rule *rule = NULL;
	account_vec held = VEC_INIT;
	const struct account *a;
	const char *hold = NULL;
	int64_t *ids = NULL;
	struct job *j;
	size_t i, nids = 0;
	int ret = 0;

	if (d->counts[JOB_ASSIGNED] > 0) {
		rule = prio_rule_find(svc->cfg->priority_rule);
		if (rule == NULL)
			return err_set(err, ERR_INVALID,
			    "unknown priority rule '%s'",
			    svc->cfg->priority_rule);
		ret = store_account_held(svc->st, &held, err);
		if (ret < 0)
			goto out;
		VEC_FOREACH (a, &held)
			if (a->id == d->task.account_id)
				hold = a->hold;
		ids = xcalloc(d->jobs.n + 1, sizeof(*ids));
		VEC_FOREACH (j, &d->jobs)
			if (j->status == JOB_ASSIGNED)
				ids[nids++] = j->id;
		qsort(ids, nids, sizeof(*ids), service_queue_cmp_id);
	}
	if (hold != NULL) {
		/* Held: no place, the hold says why (service_queue_held). */
		for (i = 0; i < nids; i++)
			service_queue_wait_add(d, ids[i], 0, xstrdup(hold));
		if (nids == 0)
			service_queue_wait_add(d, -1, 0, xstrdup(hold));
	} else if (d->counts[JOB_ASSIGNED] > 0) {
		ret = service_queue_task_merge(svc, d, rule, &held, ids, nids,
		    err);
		if (ret < 0)
			goto out;
	}
	if (d->counts[JOB_REGISTERED] > 0 || d->task.requeue) {
		char *why = NULL;

		if (d->task.status == TASK_REGISTERED) {
			ret =
			    service_queue_after_why(svc, d->task.id, &why, err);
			if (ret < 0)
				goto out;
		}
		if (why == NULL)
			why = xstrdup(service_queue_group_why(d->task.status));
		service_queue_wait_add(d, 0, 0, why);
	}
out:
	free(ids);
	account_vec_release(&held);
	return ret;
}

char *
service_queue_task_why(const struct task *t, const node_vec *nodes,
    const char *hold, int64_t default_memory)
{
	struct place_ask ask = { .gpu = t->gpu,
		.memory = t->memory,
		.default_memory = default_memory };
	struct place_node *pn;
	char *why;

	if (t->counts[JOB_ASSIGNED] > 0 && hold != NULL)
		return xstrdup(hold);
	if (t->counts[JOB_ASSIGNED] > 0) {
		pn = xcalloc(nodes->n + 1, sizeof(*pn));
		node_vec_place(nodes, pn);
		why = service_queue_why(pn, nodes->n, t->queue, &ask, 0, 0);
		free(pn);
		return why;
	}
	if (t->counts[JOB_REGISTERED] > 0 || t->requeue)
		return xstrdup(service_queue_group_why(t->status));
	return NULL;
}

int
service_queue(struct service *svc, const char *queue, const char *user,
    queue_row_vec *out, struct buf *err)
{
	return service_queue_head(svc, queue, user, 0, out, err);
}

/*
 * With no pilot running nothing will start, whatever else a job waits
 * for: say so first, in the why of every waiting row from `from` on, and
 * then what else it waits for (an account's hold needs an admin even
 * once a pilot runs).
 */
static void
service_queue_pilot_why(struct service *svc, queue_row_vec *rows, size_t from)
{
	struct buf why = BUF_INIT;
	size_t i;

	if (!service_pilot_down(svc, &why))
		goto out;
	for (i = from; i < rows->n; i++)
		if (rows->v[i].why != NULL)
			rows->v[i].why =
			    service_pilot_why(&why, rows->v[i].why);
out:
	buf_release(&why);
}

char *
service_pilot_why(const struct buf *down, char *why)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s; %s", down->data, why);
	free(why);
	return buf_detach(&b);
}

int
service_queue_head(struct service *svc, const char *queue, const char *user,
    int64_t max_rows, queue_row_vec *out, struct buf *err)
{
	size_t cap = max_rows > 0 ? out->n + (size_t)max_rows : SIZE_MAX;
	const struct prio_rule *rule;
	struct queue_names qn = { VEC_INIT, VEC_INIT };
	struct account owner = { 0 };
	struct place_node *pn = NULL;
	job_brief_vec holding = VEC_INIT;
	task_group_vec groups = VEC_INIT;
	store_str_vec queues = VEC_INIT;
	node_vec nodes = VEC_INIT;
	struct job_brief *jb;
	struct task_group *g;
	struct queue_row *r;
	int64_t account_id = 0;
	size_t i, first = out->n;
	int ret, gpu;

	if (svc->remote != NULL)
		return service_remote_queue(svc, queue, user, max_rows, out,
		    err);
	rule = prio_rule_find(svc->cfg->priority_rule);
	if (rule == NULL)
		return err_set(err, ERR_INVALID, "unknown priority rule '%s'",
		    svc->cfg->priority_rule);
	if (user != NULL) {
		ret = store_account_get(svc->st, user, &owner, err);
		if (ret < 0)
			return ret;
		account_id = owner.id;
		account_release(&owner);
	}
	ret = store_account_list(svc->st, NULL, 0, &qn.accounts, err);
	if (ret < 0)
		goto out;
	ret = store_node_list(svc->st, NULL, 0, &nodes, err);
	if (ret < 0)
		goto out;
	pn = xcalloc(nodes.n + 1, sizeof(*pn));
	node_vec_place(&nodes, pn);
	ret = store_sched_holding(svc->st, &holding, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH (jb, &holding) {
		if (out->n >= cap)
			break;
		if ((queue && strcmp(jb->queue, queue) != 0) ||
		    (account_id && jb->account_id != account_id))
			continue;
		r = VEC_ADD(out);
		r->priority = jb->priority;
		r->username = xstrdup(jb->username);
		r->task = xstrdup(jb->task);
		r->task_id = jb->task_id;
		r->job_id = jb->id;
		r->idx = jb->idx;
		r->njobs = 1;
		r->queue = xstrdup(jb->queue);
		r->gpu = jb->gpu;
		r->status = jb->status;
		r->node = jb->node ? xstrdup(jb->node) : NULL;
		r->gpu_index = jb->gpu_index;
	}
	ret = store_queue_names(svc->st, &queues, err);
	if (ret < 0)
		goto out;
	for (i = 0; i < queues.n && out->n < cap; i++) {
		if (queue != NULL && strcmp(queues.v[i], queue) != 0)
			continue;
		for (gpu = 0; gpu <= 1; gpu++) {
			ret = service_queue_pool(svc, rule, pn, nodes.n,
			    queues.v[i], gpu, account_id, &qn, cap, out, err);
			if (ret < 0)
				goto out;
		}
	}
	ret = store_sched_registered(svc->st, &groups, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH (g, &groups) {
		if (out->n >= cap)
			break;
		if ((queue && strcmp(g->queue, queue) != 0) ||
		    (account_id && g->account_id != account_id))
			continue;
		r = VEC_ADD(out);
		r->username = xstrdup(g->username);
		r->task = xstrdup(g->task);
		r->task_id = g->task_id;
		r->njobs = g->njobs;
		r->queue = xstrdup(g->queue);
		r->gpu = g->gpu;
		r->status = g->status;
		r->gpu_index = -1;
		if (g->task_status == TASK_REGISTERED) {
			ret = service_queue_after_why(svc, g->task_id, &r->why,
			    err);
			if (ret < 0)
				goto out;
		}
		if (r->why == NULL)
			r->why =
			    xstrdup(service_queue_group_why(g->task_status));
	}
	service_queue_pilot_why(svc, out, first);
	ret = 0;
out:
	free(pn);
	account_vec_release(&qn.accounts);
	task_vec_release(&qn.tasks);
	job_brief_vec_release(&holding);
	task_group_vec_release(&groups);
	for (i = 0; i < queues.n; i++)
		free(queues.v[i]);
	VEC_RELEASE(&queues);
	node_vec_release(&nodes);
	return ret;
}
