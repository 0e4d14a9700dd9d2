/*
 * bench-orchestra.c - the figures of issue 2, measured on a real SQLite
 * file (a program, not a test: it prints figures, it asserts nothing but
 * that the work was done).
 *
 *   bench-orchestra [--jobs N] [--users U] [--slots S] [--runs R]
 *                   [--pg ADMIN_URL]
 *
 * With --pg, the databases are made on that PostgreSQL server (through
 * ADMIN_URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres) instead
 * of SQLite files.
 *
 * 1. submit: one task of N jobs (default 10,000) through the service, as
 *    `orchestra task submit` does it: one transaction.
 * 2. decide: one cycle's decision (task state machine over the dirty
 *    tasks, priorities, placement, on the snapshot read from the store)
 *    with U users (default 100) holding 100,000 waiting jobs over S free
 *    CPU slots (default 1,000): (a) placing S jobs, (b) with nothing to
 *    change (every slot held), (c) with memory binding before the slots
 *    (1 GiB a slot, half the jobs asking 2 GiB).
 * 3. memory: peak RSS of a fresh process that opens the store and makes
 *    decision (a).
 * 4. metrics: one Prometheus exposition (service_metrics, what `orchestra
 *    metrics` and serve's /metrics print) over the decide database's
 *    jobs: one running in every slot, the rest a third each assigned,
 *    done and failed.
 *
 * Build it with the release preset for figures; the dev preset (with
 * sanitizers) runs it as a smoke test with small sizes.
 */
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pilot/cycle.h"
#include "service/service.h"
#include "store/store-int.h"

extern char **environ;

struct bench_opts {
	int64_t jobs;
	int64_t users;
	int64_t slots;
	int64_t waiting;
	int runs;
	const char *pg; /* admin URL, or NULL for SQLite */
};

static void
bench_die(const char *what, const struct buf *err)
{
	fprintf(stderr, "bench: %s: %s\n", what, err ? err->data : "");
	exit(1);
}

/* A fresh database named `name`: a file in `dir`, or on the server. */
static void
bench_db(const struct bench_opts *o, const char *dir, const char *name,
    struct buf *url)
{
	struct buf err = BUF_INIT, sql = BUF_INIT;
	struct db *db = NULL;
	const char *slash;

	buf_reset(url);
	if (o->pg == NULL) {
		buf_addf(url, "%s/%s.db", dir, name);
		return;
	}
	if (db_postgres.open(&db, o->pg, false, &err) < 0)
		bench_die("connect", &err);
	buf_addf(&sql, "DROP DATABASE IF EXISTS bench_%s", name);
	if (db_postgres.exec(db, sql.data, &err) < 0)
		bench_die(sql.data, &err);
	buf_reset(&sql);
	buf_addf(&sql, "CREATE DATABASE bench_%s", name);
	if (db_postgres.exec(db, sql.data, &err) < 0)
		bench_die(sql.data, &err);
	db_postgres.close(db);
	slash = strrchr(o->pg, '/');
	if (slash == NULL || slash < strstr(o->pg, "://") + 3)
		bench_die("--pg needs a URL ending in /DATABASE", NULL);
	buf_add(url, o->pg, (size_t)(slash - o->pg) + 1);
	buf_addf(url, "bench_%s", name);
	buf_release(&sql);
}

static double
bench_ms(int64_t t0)
{
	return (double)(time_mono_ns() - t0) / 1e6;
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
bench_report(const char *name, double *v, int n, const char *target)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	printf("%-44s min %8.2f ms  median %8.2f ms  max %8.2f ms  (%d runs; "
	       "target %s)\n",
	    name, v[0], v[n / 2], v[n - 1], n, target);
}

static void
bench_exec(struct store *st, const char *sql)
{
	struct buf err = BUF_INIT;

	if (st->drv->exec(st->db, sql, &err) < 0)
		bench_die(sql, &err);
}

static struct store *
bench_open(const char *path)
{
	struct store *st = NULL;
	struct buf err = BUF_INIT;

	if (store_open(&st, path, true, &err) < 0)
		bench_die("open", &err);
	return st;
}

static void
bench_setup_cfg(struct config *cfg, const char *dir)
{
	struct buf b = BUF_INIT;

	memset(cfg, 0, sizeof(*cfg));
	cfg->home = xstrdup(dir);
	buf_addf(&b, "%s/volume", dir);
	cfg->volume = buf_detach(&b);
	cfg->priority_rule = xstrdup("lcg");
	cfg->db_url = xstrdup("");
	cfg->backend = xstrdup("local");
	cfg->listen = xstrdup("");
}

static void
bench_add_user(struct service *svc, const char *name)
{
	struct user_opts o = { .max_priority = OPT_UNSET };
	struct account a = { 0 };
	struct buf err = BUF_INIT;

	if (service_user_add(svc, name, &o, &a, &err) < 0)
		bench_die("user add", &err);
	account_release(&a);
}

static void
bench_add_node(struct service *svc, struct config *cfg, const char *name,
    int64_t slots)
{
	struct node_opts o = NODE_OPTS_INIT;
	struct node n = { 0 };
	struct buf err = BUF_INIT;
	char *backend = cfg->backend;

	o.cpu_slots = slots;
	o.max_cpu_slots = slots;
	/* Nodes of a cluster: the local backend takes only this machine. */
	cfg->backend = (char *)"kubernetes";
	if (service_node_add(svc, name, &o, &n, &err) < 0)
		bench_die("node add", &err);
	cfg->backend = backend;
	node_release(&n);
}

static void
bench_submit(struct service *svc, const char *name, const char *listfile,
    int64_t expect)
{
	struct submit_req req = { 0 };
	struct task t = { 0 };
	struct buf err = BUF_INIT;

	req.name = name;
	req.command = "process %IN > %OUT/$(basename %IN).out";
	req.inputs = listfile;
	if (service_task_submit(svc, &req, &t, &err) < 0)
		bench_die("submit", &err);
	if (t.njobs != expect)
		bench_die("submit: wrong job count", NULL);
	task_release(&t);
}

static void
bench_write_list(const char *path, int64_t n)
{
	FILE *f = fopen(path + 1, "w");
	int64_t i;

	if (f == NULL)
		bench_die("cannot write list file", NULL);
	for (i = 0; i < n; i++)
		fprintf(f, "/data/inputs/sample-%06lld.dat\n", (long long)i);
	fclose(f);
}

/* Decide once; returns the number of launches. */
static size_t
bench_decide(struct store *st, double *ms)
{
	struct cycle_plan p;
	struct buf err = BUF_INIT;
	size_t n;
	int64_t t0 = time_mono_ns();

	if (cycle_plan_make(st, &prio_lcg, 0, true, NULL, NULL, &p, &err) < 0)
		bench_die("decide", &err);
	*ms = bench_ms(t0);
	n = p.launches.n;
	cycle_plan_release(&p);
	return n;
}

/* --decide-once DB: what a fresh pilot process holds for one decision. */
static int
bench_decide_child(const char *db)
{
	struct store *st;
	struct rusage ru;
	double ms;
	size_t n;

	st = bench_open(db);
	n = bench_decide(st, &ms);
	store_close(st);
	getrusage(RUSAGE_SELF, &ru);
	printf("%zu %.2f %ld\n", n, ms, ru.ru_maxrss);
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench_opts o = { 10000, 100, 1000, 100000, 5, NULL };
	char dir[] = "/tmp/orchestra-bench-XXXXXX";
	struct buf db = BUF_INIT, name = BUF_INIT, list = BUF_INIT;
	struct buf sql = BUF_INIT, out = BUF_INIT;
	struct config cfg;
	struct service svc = { 0 };
	struct store *st;
	double *v;
	int64_t i, per_user, nodes, slots_per_node;
	int r, status;
	pid_t pid;
	size_t n;
	int fds[2];
	char chunk[256];
	ssize_t got;

	if (argc == 3 && strcmp(argv[1], "--decide-once") == 0)
		return bench_decide_child(argv[2]);
	for (r = 1; r + 1 < argc; r += 2) {
		int64_t val;

		if (strcmp(argv[r], "--pg") == 0) {
			o.pg = argv[r + 1];
			continue;
		}
		if (util_parse_int64(argv[r + 1], 1, 10000000, &val) < 0)
			bench_die("bad number", NULL);
		if (strcmp(argv[r], "--jobs") == 0)
			o.jobs = val;
		else if (strcmp(argv[r], "--users") == 0)
			o.users = val;
		else if (strcmp(argv[r], "--slots") == 0)
			o.slots = val;
		else if (strcmp(argv[r], "--waiting") == 0)
			o.waiting = val;
		else if (strcmp(argv[r], "--runs") == 0)
			o.runs = (int)val;
		else
			bench_die("unknown option", NULL);
	}
	if (mkdtemp(dir) == NULL)
		bench_die("mkdtemp", NULL);
	bench_setup_cfg(&cfg, dir);
	v = xcalloc((size_t)o.runs, sizeof(*v));
	printf("orchestra bench: %lld-job submit; decision over %lld waiting "
	       "jobs of %lld users, %lld slots; %s\n",
	    (long long)o.jobs, (long long)o.waiting, (long long)o.users,
	    (long long)o.slots, o.pg ? "PostgreSQL" : "SQLite file");

	/* 1. submit */
	bench_db(&o, dir, "submit", &db);
	st = bench_open(db.data);
	svc = (struct service){ .st = st,
		.cfg = &cfg,
		.actor = "bench",
		.trusted = true };
	bench_add_user(&svc, "bench");
	bench_add_node(&svc, &cfg, "node", 1);
	buf_addf(&list, "@%s/inputs.txt", dir);
	bench_write_list(list.data, o.jobs);
	for (r = 0; r < o.runs; r++) {
		int64_t t0;

		buf_reset(&name);
		buf_addf(&name, "submit-%d", r);
		t0 = time_mono_ns();
		bench_submit(&svc, name.data, list.data, o.jobs);
		v[r] = bench_ms(t0);
	}
	bench_report("submit (one task, one transaction)", v, o.runs,
	    o.pg ? "<= 1 s for 10,000 jobs on PostgreSQL"
	         : "<= 300 ms for 10,000 jobs");
	store_close(st);

	/* 2. decide: users x tasks of waiting jobs, nodes of 25 slots */
	bench_db(&o, dir, "decide", &db);
	st = bench_open(db.data);
	svc.st = st;
	bench_add_user(&svc, "bench");
	slots_per_node = o.slots < 25 ? o.slots : 25;
	nodes = (o.slots + slots_per_node - 1) / slots_per_node;
	for (i = 0; i < nodes; i++) {
		buf_reset(&name);
		buf_addf(&name, "node-%03lld", (long long)i);
		bench_add_node(&svc, &cfg, name.data,
		    i == nodes - 1 ? o.slots - slots_per_node * (nodes - 1)
		                   : slots_per_node);
	}
	per_user = o.waiting / o.users;
	bench_write_list(list.data, per_user);
	for (i = 0; i < o.users; i++) {
		buf_reset(&name);
		buf_addf(&name, "user%03lld", (long long)i);
		bench_add_user(&svc, name.data);
		svc.actor = name.data;
		bench_submit(&svc, "analysis", list.data, per_user);
		svc.actor = "bench";
	}
	/* Every task running, every job queued: the state of a busy day. */
	bench_exec(st, "UPDATE task SET status = 'running', dirty = 1");
	bench_exec(st, "UPDATE job SET status = 'assigned', queued_ms = 1");
	bench_exec(st, "ANALYZE");
	for (r = 0; r < o.runs; r++) {
		n = bench_decide(st, &v[r]);
		if ((int64_t)n != o.slots)
			bench_die("decision placed the wrong number of jobs",
			    NULL);
	}
	bench_report("decide: place jobs into every free slot", v, o.runs,
	    o.pg ? "<= 50 ms on PostgreSQL" : "<= 100 ms placing 1,000 jobs");

	/* (b) every slot held, nothing dirty */
	buf_addf(&sql,
	    /* nodes were added first, in name order: ids 1, 2, … */
	    "UPDATE job SET status = 'running', node_id = (id - 1) / %lld + 1"
	    " WHERE id IN (SELECT id FROM job ORDER BY id LIMIT %lld);"
	    "UPDATE task SET dirty = 0",
	    (long long)slots_per_node, (long long)o.slots);
	bench_exec(st, sql.data);
	for (r = 0; r < o.runs; r++) {
		n = bench_decide(st, &v[r]);
		if (n != 0)
			bench_die("decision placed jobs with no free slot",
			    NULL);
	}
	bench_report("decide: nothing to change (all slots held)", v, o.runs,
	    "<= 20 ms");
	/* back to (a) for the memory figure */
	bench_exec(st,
	    "UPDATE job SET status = 'assigned', node_id = NULL;"
	    "UPDATE task SET dirty = 1");
	/*
	 * (c) memory binds before the slots: 1 GiB a slot on every node,
	 * half the users' jobs asking 2 GiB, so the nodes fill with memory
	 * to spare in slots and the decision passes over the big jobs it
	 * cannot place (at most SCHED_SKIP_MAX).
	 */
	bench_exec(st,
	    "UPDATE node SET memory = cpu_slots * 1073741824;"
	    "UPDATE task SET memory = CASE WHEN account_id % 2 = 0"
	    " THEN 2147483648 ELSE 1073741824 END");
	for (r = 0; r < o.runs; r++) {
		n = bench_decide(st, &v[r]);
		if (n == 0 || (int64_t)n > o.slots)
			bench_die("decision with memory: wrong number placed",
			    NULL);
	}
	bench_report("decide: memory binds (big jobs passed over)", v, o.runs,
	    o.pg ? "<= 50 ms on PostgreSQL" : "<= 100 ms");
	bench_exec(st,
	    "UPDATE node SET memory = 0; UPDATE task SET memory = 0");
	store_close(st);

	/* 3. memory of a fresh process making decision (a) */
	if (pipe(fds) < 0)
		bench_die("pipe", NULL);
	{
		posix_spawn_file_actions_t fa;
		char *args[] = { argv[0], "--decide-once", db.data, NULL };

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
		if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args,
		        environ) != 0)
			bench_die("spawn", NULL);
		posix_spawn_file_actions_destroy(&fa);
	}
	close(fds[1]);
	while ((got = read(fds[0], chunk, sizeof(chunk))) > 0)
		buf_add(&out, chunk, (size_t)got);
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("decide child failed", NULL);
	{
		long long launched = 0, kb = 0;
		double ms = 0;

		if (sscanf(out.data, "%lld %lf %lld", &launched, &ms, &kb) != 3)
			bench_die("decide child output", &out);
		printf("%-44s %8.1f MB peak RSS (%lld jobs placed in %.2f ms, "
		       "cold process; target <= 64 MB)\n",
		    "memory: fresh process, one decision", (double)kb / 1024.0,
		    launched, ms);
	}

	/* 4. metrics over the same jobs, in a mix of states */
	n = 0;
	st = bench_open(db.data);
	svc.st = st;
	buf_reset(&sql);
	buf_addf(&sql,
	    "UPDATE job SET status = CASE WHEN id <= %lld THEN 'running'"
	    " WHEN id %% 3 = 0 THEN 'assigned' WHEN id %% 3 = 1 THEN 'done'"
	    " ELSE 'failed' END, queued_ms = 1000 + id,"
	    " started_ms = CASE WHEN id <= %lld OR id %% 3 > 0 THEN 2000 + id"
	    " END, ended_ms = CASE WHEN id > %lld AND id %% 3 > 0 THEN"
	    " 3000 + id END, node_id = CASE WHEN id <= %lld THEN"
	    " (id - 1) / %lld + 1 END; ANALYZE",
	    (long long)o.slots, (long long)o.slots, (long long)o.slots,
	    (long long)o.slots, (long long)slots_per_node);
	bench_exec(st, sql.data);
	/* What autovacuum does in the background: index-only scans. */
	if (o.pg)
		bench_exec(st, "VACUUM ANALYZE job");
	for (r = 0; r < o.runs; r++) {
		struct buf text = BUF_INIT, err = BUF_INIT;
		int64_t t0 = time_mono_ns();

		if (service_metrics(&svc, &text, &err) < 0)
			bench_die("metrics", &err);
		v[r] = bench_ms(t0);
		if (r == 0)
			n = text.len;
		buf_release(&text);
	}
	buf_reset(&name);
	buf_addf(&name, "metrics: one exposition (%zu bytes)", n);
	bench_report(name.data, v, o.runs, "<= 100 ms for 100,000 jobs");
	store_close(st);

	{
		char *rm[] = { "rm", "-rf", "--", dir, NULL };

		if (posix_spawnp(&pid, "rm", NULL, NULL, rm, environ) == 0)
			waitpid(pid, &status, 0);
	}
	free(v);
	buf_release(&db);
	buf_release(&name);
	buf_release(&list);
	buf_release(&sql);
	buf_release(&out);
	config_release(&cfg);
	return 0;
}
