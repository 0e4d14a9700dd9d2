/*
 * service-metrics.c - the state of the database in the Prometheus text
 * exposition format (version 0.0.4), for `orchestra metrics` (node_exporter's
 * textfile collector) and the `/metrics` of `orchestra serve`.
 *
 * The exposer is a process of its own beside the pilot; it shares only the
 * database.  So every number here is read from the database at the scrape:
 * gauges are counts of rows as they are now; counters and histograms are
 * the cumulative rows of table `stat` (store-stats.c), added to by the pilot
 * in the transaction that records what it observed (a job's wait at its
 * start, its run time at its end, its own cycles and backend errors).  They
 * are not recomputed from the job table, which forgets: a removed task
 * takes its jobs, a retry overwrites their times, and a histogram that went
 * down would read as a restart.  Names are `orchestra_` and base units;
 * `_total` only on counters; labels are bounded names (state, queue, node,
 * user, kind), never ids.  What only the serving process knows (HTTP
 * requests by route, authentication errors) it adds itself.
 */
#include "service/service-int.h"

/* One sample line being written: name, then labels, then the value. */
struct metrics_line {
	struct buf *out;
	bool labels;
};

static void
service_metrics_head(struct buf *out, const char *name, const char *type,
    const char *help)
{
	buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
service_metrics_begin(struct metrics_line *l, struct buf *out, const char *name)
{
	l->out = out;
	l->labels = false;
	buf_adds(out, name);
}

/* A label, its value escaped: backslash, double quote and newline. */
static void
service_metrics_label(struct metrics_line *l, const char *key,
    const char *value)
{
	const char *p;

	buf_addf(l->out, "%c%s=\"", l->labels ? ',' : '{', key);
	l->labels = true;
	for (p = value; *p != '\0'; p++) {
		if (*p == '\\')
			buf_adds(l->out, "\\\\");
		else if (*p == '"')
			buf_adds(l->out, "\\\"");
		else if (*p == '\n')
			buf_adds(l->out, "\\n");
		else
			buf_addch(l->out, *p);
	}
	buf_addch(l->out, '"');
}

static void
service_metrics_end(struct metrics_line *l, const char *value)
{
	buf_addf(l->out, "%s %s\n", l->labels ? "}" : "", value);
}

static void
service_metrics_end_int(struct metrics_line *l, int64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	service_metrics_end(l, num);
}

/* Microseconds as seconds, with no trailing zeros ("0.0025", "3600"). */
static void
service_metrics_fmt_us(char *num, size_t size, int64_t us)
{
	int64_t mag = us < 0 ? -us : us;
	size_t n;

	snprintf(num, size, "%s%lld.%06lld", us < 0 ? "-" : "",
	    (long long)(mag / 1000000), (long long)(mag % 1000000));
	n = strlen(num);
	while (num[n - 1] == '0')
		num[--n] = '\0';
	if (num[n - 1] == '.')
		num[--n] = '\0';
}

static void
service_metrics_end_us(struct metrics_line *l, int64_t us)
{
	char num[48];

	service_metrics_fmt_us(num, sizeof(num), us);
	service_metrics_end(l, num);
}

/* ---- names ------------------------------------------------------------ */

typedef VEC(char *) metrics_name_vec;

static int
service_metrics_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
service_metrics_name_add(metrics_name_vec *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->v[i], name) == 0)
			return;
	VEC_PUSH(v, xstrdup(name));
}

static void
service_metrics_names_release(metrics_name_vec *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	VEC_RELEASE(v);
}

static int64_t
service_metrics_count(const metric_count_vec *v, const char *key1,
    const char *key2)
{
	const struct metric_count *c;

	VEC_FOREACH (c, v) {
		if (strcmp(c->key1, key1) != 0)
			continue;
		if (key2 != NULL &&
		    (c->key2 == NULL || strcmp(c->key2, key2) != 0))
			continue;
		return c->n;
	}
	return 0;
}

/* ---- jobs, tasks, users ----------------------------------------------- */

/* Every state of every queue known (nodes', tasks', jobs'), zeros too. */
static int
service_metrics_jobs(struct service *svc, struct buf *out,
    metrics_name_vec *queues, struct buf *err)
{
	metric_count_vec jobs = VEC_INIT;
	struct metrics_line l;
	struct metric_count *c;
	size_t i;
	int ret, s;

	ret = store_metrics_jobs(svc->st, &jobs, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH (c, &jobs)
		service_metrics_name_add(queues,
		    c->key2 != NULL ? c->key2 : "");
	qsort(queues->v, queues->n, sizeof(*queues->v), service_metrics_cmp);
	service_metrics_head(out, "orchestra_jobs", "gauge",
	    "Jobs in the database by state and queue.");
	for (i = 0; i < queues->n; i++) {
		for (s = 0; s < JOB_NSTATUS; s++) {
			service_metrics_begin(&l, out, "orchestra_jobs");
			service_metrics_label(&l, "state", job_status_name(s));
			service_metrics_label(&l, "queue", queues->v[i]);
			service_metrics_end_int(&l,
			    service_metrics_count(&jobs, job_status_name(s),
			        queues->v[i]));
		}
	}
out:
	metric_count_vec_release(&jobs);
	return ret;
}

static int
service_metrics_tasks(struct service *svc, struct buf *out, struct buf *err)
{
	metric_count_vec tasks = VEC_INIT;
	struct metrics_line l;
	int ret, s;

	ret = store_metrics_tasks(svc->st, &tasks, err);
	if (ret < 0)
		goto out;
	service_metrics_head(out, "orchestra_tasks", "gauge",
	    "Tasks in the database by state.");
	for (s = 0; s < TASK_NSTATUS; s++) {
		if (s == TASK_REMOVED)
			continue; /* a removed task has no row */
		service_metrics_begin(&l, out, "orchestra_tasks");
		service_metrics_label(&l, "state", task_status_name(s));
		service_metrics_end_int(&l,
		    service_metrics_count(&tasks, task_status_name(s), NULL));
	}
out:
	metric_count_vec_release(&tasks);
	return ret;
}

/* The age of each queue's oldest queued job; 0 where none waits. */
static int
service_metrics_oldest(struct service *svc, struct buf *out,
    const metrics_name_vec *queues, int64_t now_ms, struct buf *err)
{
	struct metrics_line l;
	int64_t first, age;
	size_t i;
	int ret;

	service_metrics_head(out, "orchestra_oldest_waiting_job_age_seconds",
	    "gauge",
	    "Time since the longest-waiting queued (assigned) job of the "
	    "queue was queued; 0 when none waits.");
	for (i = 0; i < queues->n; i++) {
		ret = store_metrics_oldest_queued(svc->st, queues->v[i], &first,
		    err);
		if (ret < 0)
			return ret;
		age = first > 0 && now_ms > first ? now_ms - first : 0;
		service_metrics_begin(&l, out,
		    "orchestra_oldest_waiting_job_age_seconds");
		service_metrics_label(&l, "queue", queues->v[i]);
		service_metrics_end_us(&l, age * 1000);
	}
	return 0;
}

/* Per user: jobs holding a slot, and jobs not yet ended that wait. */
static int
service_metrics_users(struct service *svc, struct buf *out, struct buf *err)
{
	static const char *const running[] = { "pending", "running", "kill" };
	static const char *const waiting[] = { "registered", "assigned" };
	metric_count_vec counts = VEC_INIT;
	account_vec accounts = VEC_INIT;
	struct metrics_line l;
	struct account *a;
	int64_t n;
	size_t i;
	int ret;

	ret = store_account_list(svc->st, NULL, 0, &accounts, err);
	if (ret < 0)
		goto out;
	ret = store_metrics_user_jobs(svc->st, &counts, err);
	if (ret < 0)
		goto out;
	service_metrics_head(out, "orchestra_user_jobs", "gauge",
	    "Jobs per user: running (holding a slot: pending, running, "
	    "kill) and waiting (registered or assigned).");
	VEC_FOREACH (a, &accounts) {
		n = 0;
		for (i = 0; i < sizeof(running) / sizeof(*running); i++)
			n += service_metrics_count(&counts, a->username,
			    running[i]);
		service_metrics_begin(&l, out, "orchestra_user_jobs");
		service_metrics_label(&l, "user", a->username);
		service_metrics_label(&l, "state", "running");
		service_metrics_end_int(&l, n);
		n = 0;
		for (i = 0; i < sizeof(waiting) / sizeof(*waiting); i++)
			n += service_metrics_count(&counts, a->username,
			    waiting[i]);
		service_metrics_begin(&l, out, "orchestra_user_jobs");
		service_metrics_label(&l, "user", a->username);
		service_metrics_label(&l, "state", "waiting");
		service_metrics_end_int(&l, n);
	}
out:
	metric_count_vec_release(&counts);
	account_vec_release(&accounts);
	return ret;
}

/* ---- nodes ------------------------------------------------------------ */

static void
service_metrics_node_gauge(struct buf *out, const char *name,
    const struct node *n, int64_t v)
{
	struct metrics_line l;

	service_metrics_begin(&l, out, name);
	service_metrics_label(&l, "node", n->name);
	service_metrics_end_int(&l, v);
}

static void
service_metrics_slots(struct buf *out, const struct node *n, const char *kind,
    int64_t used, int64_t enabled, int64_t max)
{
	const char *states[] = { "used", "enabled", "max" };
	int64_t values[] = { used, enabled, max };
	struct metrics_line l;
	size_t i;

	for (i = 0; i < 3; i++) {
		service_metrics_begin(&l, out, "orchestra_slots");
		service_metrics_label(&l, "node", n->name);
		service_metrics_label(&l, "kind", kind);
		service_metrics_label(&l, "state", states[i]);
		service_metrics_end_int(&l, values[i]);
	}
}

static int
service_metrics_nodes(struct service *svc, struct buf *out,
    metrics_name_vec *queues, struct buf *err)
{
	static const char *const conds[] = { "ready", "memory_pressure",
		"disk_pressure" };
	node_vec nodes = VEC_INIT;
	struct metrics_line l;
	struct node *n;
	bool cv[3];
	size_t i;
	int ret;

	ret = store_node_list(svc->st, NULL, 0, &nodes, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH (n, &nodes)
		service_metrics_name_add(queues, n->queue);

	service_metrics_head(out, "orchestra_slots", "gauge",
	    "Slots of a node by kind (cpu, gpu): used by jobs, enabled (set "
	    "by an admin; a drained node offers none) and max (the bound).");
	VEC_FOREACH (n, &nodes) {
		service_metrics_slots(out, n, "cpu", n->cpu_used, n->cpu_slots,
		    n->max_cpu_slots);
		service_metrics_slots(out, n, "gpu",
		    __builtin_popcountll(n->gpu_used), n->gpu_slots,
		    n->max_gpu_slots);
	}
	service_metrics_head(out, "orchestra_node_info", "gauge",
	    "1 for each node, with the queue it serves.");
	VEC_FOREACH (n, &nodes) {
		service_metrics_begin(&l, out, "orchestra_node_info");
		service_metrics_label(&l, "node", n->name);
		service_metrics_label(&l, "queue", n->queue);
		service_metrics_end_int(&l, 1);
	}
	service_metrics_head(out, "orchestra_node_enabled", "gauge",
	    "1 unless an admin drained the node.");
	VEC_FOREACH (n, &nodes)
		service_metrics_node_gauge(out, "orchestra_node_enabled", n,
		    n->enabled);
	service_metrics_head(out, "orchestra_node_healthy", "gauge",
	    "1 when the node is ready and under no memory or disk pressure "
	    "(it may get new jobs), as the backend last reported.");
	VEC_FOREACH (n, &nodes)
		service_metrics_node_gauge(out, "orchestra_node_healthy", n,
		    place_healthy(n->ready, n->memory_pressure,
		        n->disk_pressure));
	service_metrics_head(out, "orchestra_node_condition", "gauge",
	    "The node's conditions as the backend last reported them (1 "
	    "true, 0 false).");
	VEC_FOREACH (n, &nodes) {
		cv[0] = n->ready;
		cv[1] = n->memory_pressure;
		cv[2] = n->disk_pressure;
		for (i = 0; i < 3; i++) {
			service_metrics_begin(&l, out,
			    "orchestra_node_condition");
			service_metrics_label(&l, "node", n->name);
			service_metrics_label(&l, "condition", conds[i]);
			service_metrics_end_int(&l, cv[i]);
		}
	}
	service_metrics_head(out, "orchestra_node_last_seen_timestamp_seconds",
	    "gauge",
	    "When the backend last reported the node (Unix time); absent "
	    "for a node never seen.");
	VEC_FOREACH (n, &nodes) {
		if (n->last_seen_ms <= 0)
			continue;
		service_metrics_begin(&l, out,
		    "orchestra_node_last_seen_timestamp_seconds");
		service_metrics_label(&l, "node", n->name);
		service_metrics_end_us(&l, n->last_seen_ms * 1000);
	}
	service_metrics_head(out, "orchestra_node_jobs_ended_total", "counter",
	    "Jobs that ended on the node: completed (exit 0) or failed.");
	VEC_FOREACH (n, &nodes) {
		service_metrics_begin(&l, out,
		    "orchestra_node_jobs_ended_total");
		service_metrics_label(&l, "node", n->name);
		service_metrics_label(&l, "result", "completed");
		service_metrics_end_int(&l, n->completed);
		service_metrics_begin(&l, out,
		    "orchestra_node_jobs_ended_total");
		service_metrics_label(&l, "node", n->name);
		service_metrics_label(&l, "result", "failed");
		service_metrics_end_int(&l, n->failed);
	}
out:
	node_vec_release(&nodes);
	return ret;
}

/* ---- cumulative measures (table stat) --------------------------------- */

static void
service_metrics_histogram(struct buf *out, const stat_row_vec *rows,
    enum stat_hist h, const char *name, const char *help)
{
	const struct stat_hist_def *d = &stat_hists[h];
	int64_t counts[STAT_MAX_BOUNDS + 1] = { 0 };
	int64_t sum_us = 0, cum = 0;
	const struct stat_row *r;
	struct metrics_line l;
	struct buf metric = BUF_INIT;
	char le[48];
	size_t i;

	if (d->nbounds > STAT_MAX_BOUNDS)
		BUG("histogram %s has %zu bounds", d->name, d->nbounds);
	VEC_FOREACH (r, rows) {
		if (strcmp(r->name, d->name) != 0)
			continue;
		/* A bound no longer in the code counts in the next one up. */
		for (i = 0; i < d->nbounds; i++)
			if (r->le_us >= 0 && r->le_us <= d->bounds_us[i])
				break;
		counts[i] += r->count;
		sum_us += r->sum_us;
	}
	service_metrics_head(out, name, "histogram", help);
	buf_addf(&metric, "%s_bucket", name);
	for (i = 0; i <= d->nbounds; i++) {
		cum += counts[i];
		service_metrics_begin(&l, out, metric.data);
		if (i < d->nbounds)
			service_metrics_fmt_us(le, sizeof(le), d->bounds_us[i]);
		service_metrics_label(&l, "le", i < d->nbounds ? le : "+Inf");
		service_metrics_end_int(&l, cum);
	}
	buf_reset(&metric);
	buf_addf(&metric, "%s_sum", name);
	service_metrics_begin(&l, out, metric.data);
	service_metrics_end_us(&l, sum_us);
	buf_reset(&metric);
	buf_addf(&metric, "%s_count", name);
	service_metrics_begin(&l, out, metric.data);
	service_metrics_end_int(&l, cum);
	buf_release(&metric);
}

/* A counter from `stat` rows, one sample per label in `labels` (zeros
 * too) and any other label found; `label_key` NULL for an unlabelled one. */
static void
service_metrics_counter(struct buf *out, const stat_row_vec *rows,
    const char *stat, const char *name, const char *label_key,
    const char *const *labels, size_t nlabels, const char *help)
{
	metrics_name_vec seen = VEC_INIT;
	const struct stat_row *r;
	struct metrics_line l;
	int64_t n;
	size_t i;

	for (i = 0; i < nlabels; i++)
		service_metrics_name_add(&seen, labels[i]);
	VEC_FOREACH (r, rows)
		if (strcmp(r->name, stat) == 0)
			service_metrics_name_add(&seen, r->label);
	if (label_key == NULL && seen.n == 0)
		service_metrics_name_add(&seen, "");
	service_metrics_head(out, name, "counter", help);
	for (i = 0; i < seen.n; i++) {
		n = 0;
		VEC_FOREACH (r, rows)
			if (strcmp(r->name, stat) == 0 &&
			    strcmp(r->label, seen.v[i]) == 0)
				n += r->count;
		service_metrics_begin(&l, out, name);
		if (label_key != NULL)
			service_metrics_label(&l, label_key, seen.v[i]);
		service_metrics_end_int(&l, n);
	}
	service_metrics_names_release(&seen);
}

static int
service_metrics_stats(struct service *svc, struct buf *out, struct buf *err)
{
	static const char *const ops[] = { "nodes", "start", "poll", "logs" };
	stat_row_vec rows = VEC_INIT;
	int ret;

	ret = store_stat_list(svc->st, &rows, err);
	if (ret < 0)
		goto out;
	service_metrics_histogram(out, &rows, STAT_JOB_WAIT,
	    "orchestra_job_wait_seconds",
	    "Time from a job's queueing to its start, observed by the pilot "
	    "at each start (cumulative since the database had metrics).");
	service_metrics_histogram(out, &rows, STAT_JOB_RUN,
	    "orchestra_job_run_seconds",
	    "Time from a job's start to its end (done, failed or killed), "
	    "observed by the pilot at each end (cumulative).");
	service_metrics_histogram(out, &rows, STAT_PILOT_CYCLE,
	    "orchestra_pilot_cycle_duration_seconds",
	    "Duration of the pilot's successful cycles (written by the pilot "
	    "every few seconds and before it sleeps).");
	service_metrics_counter(out, &rows, STAT_CYCLE_FAILURES,
	    "orchestra_pilot_cycle_failures_total", NULL, NULL, 0,
	    "Pilot cycles that failed (database or backend unavailable) and "
	    "were retried.");
	service_metrics_counter(out, &rows, STAT_BACKEND_ERRORS,
	    "orchestra_pilot_backend_errors_total", "operation", ops,
	    sizeof(ops) / sizeof(*ops),
	    "Calls of the pilot to its execution backend that failed, by "
	    "operation.");
out:
	stat_row_vec_release(&rows);
	return ret;
}

int
service_metrics(struct service *svc, struct buf *out, struct buf *err)
{
	metrics_name_vec queues = VEC_INIT;
	store_str_vec known = VEC_INIT;
	struct buf b = BUF_INIT;
	int64_t now_ms = time_now_ms();
	size_t i;
	int ret;

	if (svc->remote != NULL)
		return service_remote_refuse(svc, "metrics (read /metrics)",
		    err);
	/* Queues that nodes serve or unfinished tasks use, and any a job
	 * still names, each with every job state, so series do not come
	 * and go with the work. */
	ret = store_queue_names(svc->st, &known, err);
	if (ret < 0)
		goto out;
	for (i = 0; i < known.n; i++)
		service_metrics_name_add(&queues, known.v[i]);
	ret = service_metrics_nodes(svc, &b, &queues, err);
	if (ret == 0)
		ret = service_metrics_jobs(svc, &b, &queues, err);
	if (ret == 0)
		ret = service_metrics_oldest(svc, &b, &queues, now_ms, err);
	if (ret == 0)
		ret = service_metrics_tasks(svc, &b, err);
	if (ret == 0)
		ret = service_metrics_users(svc, &b, err);
	if (ret == 0)
		ret = service_metrics_stats(svc, &b, err);
	if (ret == 0)
		buf_add(out, b.data, b.len);
out:
	for (i = 0; i < known.n; i++)
		free(known.v[i]);
	VEC_RELEASE(&known);
	service_metrics_names_release(&queues);
	buf_release(&b);
	return ret;
}
