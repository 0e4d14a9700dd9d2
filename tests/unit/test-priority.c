/* libs: orch_core */
/*
 * test-priority.c - the priority rules' values, and the merge of users'
 * queues: the order (interleaving users, test jobs, ties), laziness (a
 * source that counts what it is asked for), errors, and sched_decide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

/*
 * An in-memory source.  Each stream's jobs are generated: job j belongs
 * to task task0 + j / per_task (submitted at sub0 + j / per_task) with
 * index j % per_task, and has id id0 + j.
 */
struct mem_stream {
	int64_t njobs;
	int64_t per_task;
	int64_t task0;
	int64_t sub0;
	int64_t id0;
	int64_t account;
	int64_t nfetch; /* fetch calls for this stream */
	int64_t nread;  /* jobs handed out */
	int64_t memory; /* what each of its jobs asks */
};

struct mem_source {
	int64_t nfetch;
	int64_t nread;
	int64_t fail_at; /* fail the fail_at-th fetch (1-based), 0 never */
};

static struct sched_job
mem_job(const struct mem_stream *ms, int64_t j)
{
	struct sched_job job = { 0 };

	job.id = ms->id0 + j;
	job.task_id = ms->task0 + j / ms->per_task;
	job.submitted_ms = ms->sub0 + j / ms->per_task;
	job.idx = (int32_t)(j % ms->per_task);
	job.account_id = ms->account;
	job.memory = ms->memory;
	return job;
}

static int
mem_fetch(void *ctx, const struct sched_stream *s,
    const struct sched_job *after, size_t limit, sched_job_vec *out,
    struct buf *err)
{
	struct mem_source *src = ctx;
	struct mem_stream *ms = s->cookie;
	struct sched_job prev;
	int64_t j = 0;
	size_t n;

	src->nfetch++;
	ms->nfetch++;
	if (src->fail_at != 0 && src->nfetch == src->fail_at)
		return err_set(err, ERR_UNAVAILABLE, "database went away");
	if (after != NULL) {
		/* The keyset is the last job handed out, exactly. */
		j = after->id - ms->id0 + 1;
		assert_true(j >= 1 && j <= ms->njobs);
		assert_int_equal(j, ms->nread);
		prev = mem_job(ms, j - 1);
		assert_int_equal(after->task_id, prev.task_id);
		assert_int_equal(after->idx, prev.idx);
		assert_int_equal(after->submitted_ms, prev.submitted_ms);
	} else {
		assert_int_equal(ms->nread, 0);
	}
	for (n = 0; n < limit && j < ms->njobs; n++, j++)
		VEC_PUSH(out, mem_job(ms, j));
	src->nread += (int64_t)n;
	ms->nread += (int64_t)n;
	return 0;
}

static void
test_rule_values(void **state)
{
	struct prio_user u = { .max_priority = 1000, .running = 0 };
	struct prio_user x = { .max_priority = 1002, .running = 0 };
	struct prio_user y = { .max_priority = 1000, .running = 0 };
	int64_t k, r;

	(void)state;
	assert_true(prio_lcg.priority(&u, 0) == 1000.0);
	assert_true(prio_lcg.priority(&u, 1) == 999.8);
	/* (R + n) / 5 is not an integer division. */
	assert_true(prio_lcg.priority(&u, 4) == 999.2);
	assert_true(prio_lcg.priority(&u, 5) == 999.0);
	u.running = 3;
	assert_true(prio_lcg.priority(&u, 2) == 999.0);
	assert_true(prio_lcg.priority(&u, 0) == 999.4);
	/* R and n count alike: a running job weighs what a waiting one does. */
	for (r = 0; r < 50; r++) {
		u.running = r;
		for (k = 0; k < 50; k++) {
			struct prio_user w = { 1000, r + k };

			assert_true(prio_lcg.priority(&u, k) ==
			    prio_lcg.priority(&w, 0));
			assert_true(prio_lcg.priority(&u, k) >
			    prio_lcg.priority(&u, k + 1));
		}
	}
	/* Exactly: (max + d, k + 5d) ties (max, k). */
	for (k = 0; k < 5000; k++)
		assert_true(
		    prio_lcg.priority(&x, k + 10) == prio_lcg.priority(&y, k));
	u.running = 40;
	assert_true(prio_lcg.test_priority(&u) == 1000.0);
	assert_true(prio_lcg.test_priority(&x) == 1002.0);
	u.max_priority = -7;
	assert_true(prio_lcg.priority(&u, 0) == -15.0);

	assert_true(prio_fifo.priority(&u, 0) == 0.0);
	assert_true(prio_fifo.priority(&x, 12345) == 0.0);
	assert_true(prio_fifo.test_priority(&x) == 0.0);

	assert_ptr_equal(prio_rule_find("lcg"), &prio_lcg);
	assert_ptr_equal(prio_rule_find("fifo"), &prio_fifo);
	assert_null(prio_rule_find("LCG"));
	assert_null(prio_rule_find(""));
	assert_null(prio_rule_find("lcg "));
	assert_string_equal(prio_lcg.name, "lcg");
	assert_string_equal(prio_fifo.name, "fifo");
}

/* Take every job of the merge; returns how many, ids in `ids`. */
static size_t
take(const struct prio_rule *rule, const struct sched_stream *streams, size_t n,
    struct mem_source *src, int64_t *ids, double *prios, size_t max)
{
	struct sched_source source = { mem_fetch, src };
	struct sched_merge *m = sched_merge_new(rule, streams, n, &source);
	struct buf err = BUF_INIT;
	struct sched_job job;
	size_t got = 0;
	int r;

	while (got < max) {
		r = sched_merge_next(m, &job, &err);
		assert_true(r >= 0);
		if (r == 0)
			break;
		ids[got] = job.id;
		if (prios != NULL)
			prios[got] = job.priority;
		got++;
	}
	sched_merge_free(m);
	buf_release(&err);
	return got;
}

static void
test_merge_interleaves_users(void **state)
{
	/* A queued 5, B 3, C 1; A submitted first. */
	struct mem_stream a = { 5, 5, 10, 1, 100, 1, 0, 0, 0 };
	struct mem_stream b = { 3, 3, 20, 2, 200, 2, 0, 0, 0 };
	struct mem_stream c = { 1, 1, 30, 3, 300, 3, 0, 0, 0 };
	struct sched_stream s[3] = {
		{ 3, { 1000, 0 }, false, &c, NULL, 0 },
		{ 1, { 1000, 0 }, false, &a, NULL, 0 },
		{ 2, { 1000, 0 }, false, &b, NULL, 0 },
	};
	static const int64_t want[] = { 100, 200, 300, 101, 201, 102, 202, 103,
		104 };
	static const double want_prio[] = { 1000, 1000, 1000, 999.8, 999.8,
		999.6, 999.6, 999.4, 999.2 };
	struct mem_source src = { 0 };
	int64_t ids[16];
	double prios[16];
	size_t i, n;

	(void)state;
	n = take(&prio_lcg, s, 3, &src, ids, prios, 16);
	assert_int_equal(n, 9);
	for (i = 0; i < n; i++) {
		assert_int_equal(ids[i], want[i]);
		assert_true(prios[i] == want_prio[i]);
	}
}

static void
test_merge_running_counts(void **state)
{
	/* A holds 2 slots already: B's first two go before A's first. */
	struct mem_stream a = { 3, 3, 10, 1, 100, 1, 0, 0, 0 };
	struct mem_stream b = { 3, 3, 20, 2, 200, 2, 0, 0, 0 };
	struct sched_stream s[2] = {
		{ 1, { 1000, 2 }, false, &a, NULL, 0 },
		{ 2, { 1000, 0 }, false, &b, NULL, 0 },
	};
	/* B0 1000, B1 999.8, then A0 and B2 at 999.6: A submitted first. */
	static const int64_t want[] = { 200, 201, 100, 202, 101, 102 };
	struct mem_source src = { 0 };
	int64_t ids[8];
	size_t i;

	(void)state;
	assert_int_equal(take(&prio_lcg, s, 2, &src, ids, NULL, 8), 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(ids[i], want[i]);
}

static void
test_merge_test_jobs(void **state)
{
	/* B is busy; A's test jobs, submitted last, still go first. */
	struct mem_stream at = { 2, 1, 50, 50, 500, 1, 0, 0, 0 };
	struct mem_stream an = { 3, 3, 10, 1, 100, 1, 0, 0, 0 };
	struct mem_stream bn = { 3, 3, 20, 2, 200, 2, 0, 0, 0 };
	struct sched_stream s[3] = {
		{ 1, { 1000, 10 }, false, &an, NULL, 0 },
		{ 2, { 1000, 5 }, false, &bn, NULL, 0 },
		{ 1, { 1000, 10 }, true, &at, NULL, 0 },
	};
	/* Tests 1000, 1000; B 999, 998.8, 998.6; A 998, 997.8, 997.6. */
	static const int64_t want[] = { 500, 501, 200, 201, 202, 100, 101,
		102 };
	struct mem_source src = { 0 };
	int64_t ids[8];
	double prios[8];
	size_t i;

	(void)state;
	assert_int_equal(take(&prio_lcg, s, 3, &src, ids, prios, 8), 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(ids[i], want[i]);
	assert_true(prios[0] == 1000.0 && prios[1] == 1000.0);
	assert_true(prios[2] == 999.0);
	/* A test job does not count in its user's n. */
	assert_true(prios[5] == 998.0);
}

static void
test_merge_other_pools(void **state)
{
	/*
	 * A's tasks 10 and 11 here, submitted at 1 and 2, and A's tasks of
	 * other pools: 5 (at 0, 1 job), before both, and 50 (at 1, 4 jobs),
	 * after task 10 (the same time, a higher id) and before task 11.  B
	 * has no other.  A's test stream is given the same, and ignores it.
	 */
	struct mem_stream a = { 6, 3, 10, 1, 100, 1, 0, 0, 0 };
	struct mem_stream at = { 1, 1, 60, 5, 600, 1, 0, 0, 0 };
	struct mem_stream b = { 3, 3, 20, 1, 200, 2, 0, 0, 0 };
	static const struct sched_before other[] = { { 0, 5, 1 },
		{ 1, 50, 4 } };
	struct sched_stream s[3] = {
		{ 1, { 1000, 0 }, false, &a, other, 2 },
		{ 1, { 1000, 0 }, true, &at, other, 2 },
		{ 2, { 1000, 0 }, false, &b, NULL, 0 },
	};
	/* A's n: 1, 2, 3 in task 10; 3 + 1 + 4 = 8, 9, 10 in task 11. */
	static const int64_t want[] = { 200, 600, 100, 201, 101, 202, 102, 103,
		104, 105 };
	static const double want_prio[] = { 1000, 1000, 999.8, 999.8, 999.6,
		999.6, 999.4, 998.4, 998.2, 998.0 };
	struct mem_source src = { 0 };
	int64_t ids[16];
	double prios[16];
	size_t i;

	(void)state;
	assert_int_equal(take(&prio_lcg, s, 3, &src, ids, prios, 16), 10);
	for (i = 0; i < 10; i++) {
		assert_int_equal(ids[i], want[i]);
		assert_true(prios[i] == want_prio[i]);
	}
}

static void
test_merge_ties(void **state)
{
	/*
	 * A's tasks 7 and 8 are submitted at 5 and 6, B's tasks 3 and 4 at
	 * 6 and 7: the submit time comes before the task id, the task id
	 * breaks a tie of submit times, then the index.
	 */
	struct mem_stream a = { 4, 2, 7, 5, 100, 1, 0, 0, 0 };
	struct mem_stream b = { 4, 2, 3, 6, 200, 2, 0, 0, 0 };
	struct sched_stream s[2] = {
		{ 1, { 1000, 0 }, false, &a, NULL, 0 },
		{ 2, { 1000, 0 }, false, &b, NULL, 0 },
	};
	static const int64_t want_fifo[] = { 100, 101, 200, 201, 102, 103, 202,
		203 };
	static const int64_t want_lcg[] = { 100, 200, 101, 201, 102, 202, 103,
		203 };
	struct mem_source src = { 0 };
	int64_t ids[8];
	size_t i;

	(void)state;
	assert_int_equal(take(&prio_fifo, s, 2, &src, ids, NULL, 8), 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(ids[i], want_fifo[i]);
	a.nread = b.nread = 0;
	assert_int_equal(take(&prio_lcg, s, 2, &src, ids, NULL, 8), 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(ids[i], want_lcg[i]);
}

/* Compare with a sort of every job by the documented key. */
struct ref_job {
	struct sched_job job;
	double prio;
};

static int
ref_cmp(const void *pa, const void *pb)
{
	const struct ref_job *a = pa, *b = pb;

	if (a->prio != b->prio)
		return a->prio > b->prio ? -1 : 1;
	if (a->job.submitted_ms != b->job.submitted_ms)
		return a->job.submitted_ms < b->job.submitted_ms ? -1 : 1;
	if (a->job.task_id != b->job.task_id)
		return a->job.task_id < b->job.task_id ? -1 : 1;
	if (a->job.idx != b->job.idx)
		return a->job.idx < b->job.idx ? -1 : 1;
	return a->job.account_id < b->job.account_id ? -1 : 1;
}

static int
before_cmp(const void *pa, const void *pb)
{
	const struct sched_before *a = pa, *b = pb;

	if (a->submitted_ms != b->submitted_ms)
		return a->submitted_ms < b->submitted_ms ? -1 : 1;
	return a->task_id < b->task_id ? -1 : a->task_id > b->task_id;
}

/* The jobs of `b` ahead of `job`: those of the tasks before its task. */
static int64_t
before_ahead(const struct sched_before *b, size_t nb,
    const struct sched_job *job)
{
	int64_t ahead = 0;
	size_t i;

	for (i = 0; i < nb; i++)
		if (b[i].submitted_ms < job->submitted_ms ||
		    (b[i].submitted_ms == job->submitted_ms &&
		        b[i].task_id < job->task_id))
			ahead += b[i].njobs;
	return ahead;
}

static void
test_merge_matches_sort(void **state)
{
	enum { NS = 40, NB = 6 };
	struct mem_stream ms[NS];
	struct sched_stream s[NS];
	struct sched_before before[NS][NB];
	struct mem_source src = { 0 };
	struct ref_job *ref;
	int64_t *ids, total = 0, k;
	uint32_t seed = 12345;
	size_t i, j, n, at = 0;

	(void)state;
	for (i = 0; i < NS; i++) {
		seed = seed * 1103515245u + 12345u;
		memset(&ms[i], 0, sizeof(ms[i]));
		ms[i].njobs = (seed >> 8) % 300;
		ms[i].per_task = 1 + (seed >> 4) % 7;
		ms[i].task0 = (int64_t)i * 1000;
		ms[i].sub0 = (seed >> 12) % 50;
		ms[i].id0 = (int64_t)i * 100000;
		ms[i].account = (int64_t)(i / 2);
		s[i].account_id = ms[i].account;
		s[i].user.max_priority = 990 + (seed >> 16) % 20;
		s[i].user.running = (seed >> 20) % 40;
		s[i].is_test = i % 2 == 1 && (seed >> 24) % 2 == 0;
		s[i].cookie = &ms[i];
		/* The user's tasks of other pools, some of them. */
		s[i].nbefore = (seed >> 26) % NB;
		for (j = 0; j < s[i].nbefore; j++) {
			seed = seed * 1103515245u + 12345u;
			before[i][j].submitted_ms = (seed >> 8) % 100;
			before[i][j].task_id = 500 + (seed >> 16) % 100000;
			before[i][j].njobs = (seed >> 4) % 60;
		}
		qsort(before[i], s[i].nbefore, sizeof(before[i][0]),
		    before_cmp);
		s[i].before = before[i];
		total += ms[i].njobs;
	}
	ref = xcalloc((size_t)total + 1, sizeof(*ref));
	ids = xcalloc((size_t)total + 1, sizeof(*ids));
	for (i = 0; i < NS; i++) {
		for (k = 0; k < ms[i].njobs; k++) {
			ref[at].job = mem_job(&ms[i], k);
			ref[at].prio = s[i].is_test
			    ? prio_lcg.test_priority(&s[i].user)
			    : prio_lcg.priority(&s[i].user,
			          k +
			              before_ahead(s[i].before, s[i].nbefore,
			                  &ref[at].job));
			at++;
		}
	}
	qsort(ref, (size_t)total, sizeof(*ref), ref_cmp);
	n = take(&prio_lcg, s, NS, &src, ids, NULL, (size_t)total + 1);
	assert_int_equal(n, total);
	for (i = 0; i < n; i++)
		assert_int_equal(ids[i], ref[i].job.id);
	free(ref);
	free(ids);
}

static void
test_merge_is_lazy(void **state)
{
	struct mem_stream big = { 1000000, 10, 1, 1, 0, 1, 0, 0, 0 };
	struct mem_stream other = { 1000000, 10, 1, 1, 5000000, 2, 0, 0, 0 };
	struct sched_stream s[2] = {
		{ 1, { 1000, 0 }, false, &big, NULL, 0 },
		{ 2, { 1000, 0 }, false, &other, NULL, 0 },
	};
	struct mem_source src = { 0 };
	int64_t ids[4000];
	size_t i;

	(void)state;
	/* Ten jobs: one small batch from each stream. */
	assert_int_equal(take(&prio_lcg, s, 2, &src, ids, NULL, 10), 10);
	assert_int_equal(src.nfetch, 2);
	assert_true(src.nread <= 2 * 64);
	for (i = 0; i < 10; i++)
		assert_int_equal(ids[i] % 5000000, (int64_t)(i / 2));

	/* Exactly one batch: the next is not read before it is needed. */
	memset(&src, 0, sizeof(src));
	big.nread = big.nfetch = 0;
	assert_int_equal(take(&prio_lcg, s, 1, &src, ids, NULL, 64), 64);
	assert_int_equal(big.nfetch, 1);
	assert_int_equal(big.nread, 64);

	/*
	 * 4000 jobs, 2000 a stream: batches double, 64+128+...+1024 = 1984,
	 * and a stream whose batch is used up is read again (2048 more).
	 */
	memset(&src, 0, sizeof(src));
	big.nread = other.nread = big.nfetch = other.nfetch = 0;
	assert_int_equal(big.nread, 0);
	assert_int_equal(take(&prio_lcg, s, 2, &src, ids, NULL, 4000), 4000);
	assert_int_equal(big.nfetch, 6);
	assert_int_equal(other.nfetch, 6);
	assert_int_equal(big.nread, 1984 + 2048);
	assert_true(big.nread < 2 * 2000 + 64);
	assert_true(src.nread < 1000000 / 100);

	/* Batches stop doubling at 4096. */
	memset(&src, 0, sizeof(src));
	big.nread = big.nfetch = 0;
	{
		struct sched_source source = { mem_fetch, &src };
		struct sched_merge *m =
		    sched_merge_new(&prio_lcg, s, 1, &source);
		struct buf err = BUF_INIT;
		struct sched_job job;

		for (i = 0; i < 30000; i++)
			assert_int_equal(sched_merge_next(m, &job, &err), 1);
		/* 64..4096 (7 batches, 8128 jobs), then 4096 each: 12224,
		 * 16320, 20416, 24512, 28608, 32704. */
		assert_int_equal(big.nfetch, 13);
		assert_int_equal(big.nread, 32704);
		sched_merge_free(m);
		buf_release(&err);
	}
}

static void
test_merge_exact_batches_and_empty(void **state)
{
	/* A stream of exactly 64 jobs: a second fetch finds nothing. */
	struct mem_stream a = { 64, 1, 1, 1, 0, 1, 0, 0, 0 };
	struct mem_stream e = { 0, 1, 1, 1, 1000, 2, 0, 0, 0 };
	struct sched_stream s[2] = {
		{ 2, { 1000, 0 }, false, &e, NULL, 0 },
		{ 1, { 1000, 0 }, false, &a, NULL, 0 },
	};
	struct mem_source src = { 0 };
	int64_t ids[100];
	size_t i;

	(void)state;
	assert_int_equal(take(&prio_lcg, s, 2, &src, ids, NULL, 100), 64);
	for (i = 0; i < 64; i++)
		assert_int_equal(ids[i], (int64_t)i);
	assert_int_equal(a.nfetch, 2);
	assert_int_equal(e.nfetch, 1);
	/* No streams at all. */
	assert_int_equal(take(&prio_lcg, s, 0, &src, ids, NULL, 100), 0);
}

static void
test_merge_error(void **state)
{
	struct mem_stream a = { 100, 1, 1, 1, 0, 1, 0, 0, 0 };
	struct sched_stream s[1] = { { 1, { 1000, 0 }, false, &a, NULL, 0 } };
	struct mem_source src = { .fail_at = 2 };
	struct sched_source source = { mem_fetch, &src };
	struct sched_merge *m = sched_merge_new(&prio_lcg, s, 1, &source);
	struct buf err = BUF_INIT;
	struct sched_job job;
	int i;

	(void)state;
	/* The first batch (64) comes; the second read fails. */
	for (i = 0; i < 64; i++)
		assert_int_equal(sched_merge_next(m, &job, &err), 1);
	assert_int_equal(sched_merge_next(m, &job, &err), ERR_UNAVAILABLE);
	assert_string_equal(err.data, "database went away");
	assert_true(sched_merge_next(m, &job, &err) < 0);
	sched_merge_free(m);
	buf_release(&err);
}

static struct place_node
mk_node(const char *name, const char *queue, int64_t cpu, int64_t gpu)
{
	struct place_node n = { 0 };

	n.name = name;
	n.queue = queue;
	n.cpu_slots = cpu;
	n.gpu_slots = gpu;
	n.enabled = true;
	n.healthy = true;
	return n;
}

static void
test_decide(void **state)
{
	struct mem_stream a = { 10, 10, 1, 1, 100, 1, 0, 0, 0 };
	struct mem_stream b = { 10, 10, 2, 2, 200, 2, 0, 0, 0 };
	struct mem_stream g = { 10, 10, 3, 3, 300, 1, 0, 0, 0 };
	struct mem_stream q = { 10, 10, 4, 4, 400, 1, 0, 0, 0 };
	struct sched_stream cpu_streams[2] = {
		{ 1, { 1000, 1 }, false, &a, NULL, 0 },
		{ 2, { 1000, 0 }, false, &b, NULL, 0 },
	};
	struct sched_stream gpu_streams[1] = { { 1, { 1000, 0 }, false, &g,
	    NULL, 0 } };
	struct sched_stream full_streams[1] = { { 1, { 1000, 0 }, false, &q,
	    NULL, 0 } };
	struct sched_pool pools[3] = {
		{ "default", false, cpu_streams, 2, 0 },
		{ "gpu", true, gpu_streams, 1, 0 },
		{ "full", false, full_streams, 1, 0 },
	};
	struct place_node nodes[3];
	struct mem_source src = { 0 };
	struct sched_source source = { mem_fetch, &src };
	sched_launch_vec out = VEC_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	nodes[0] = mk_node("n1", "default", 2, 0);
	nodes[1] = mk_node("n2", "gpu", 1, 2);
	nodes[1].gpu_used = 0x1;
	nodes[2] = mk_node("n3", "full", 1, 0);
	nodes[2].cpu_used = 1;
	assert_int_equal(
	    sched_decide(&prio_lcg, nodes, 3, pools, 3, &source, &out, &err),
	    0);
	assert_int_equal(out.n, 3);
	/* B (R 0) first, then A0 and B1 tie at 999.8: A submitted first. */
	assert_int_equal(out.v[0].job_id, 200);
	assert_int_equal(out.v[0].account_id, 2);
	assert_int_equal(out.v[0].task_id, 2);
	assert_int_equal(out.v[0].node, 0);
	assert_int_equal(out.v[0].gpu_index, -1);
	assert_true(out.v[0].priority == 1000.0);
	assert_int_equal(out.v[1].job_id, 100);
	assert_true(out.v[1].priority == 999.8);
	assert_int_equal(out.v[2].job_id, 300);
	assert_int_equal(out.v[2].node, 1);
	assert_int_equal(out.v[2].gpu_index, 1);
	assert_int_equal(nodes[0].cpu_used, 2);
	assert_int_equal(nodes[1].gpu_used, 0x3);
	/* A GPU pool takes no CPU slot; a full queue is not even read. */
	assert_int_equal(nodes[1].cpu_used, 0);
	assert_int_equal(q.nfetch, 0);

	/* Nothing free: nothing launched, nothing read. */
	src.nfetch = 0;
	assert_int_equal(
	    sched_decide(&prio_lcg, nodes, 3, pools, 3, &source, &out, &err),
	    0);
	assert_int_equal(out.n, 3);
	assert_int_equal(src.nfetch, 0);

	/* A failing source fails the decision. */
	nodes[0].cpu_slots = 3;
	src.fail_at = 1;
	a.nread = b.nread = 0;
	assert_int_equal(
	    sched_decide(&prio_lcg, nodes, 3, pools, 3, &source, &out, &err),
	    ERR_UNAVAILABLE);
	VEC_RELEASE(&out);
	buf_release(&err);
}

#define GIB ((int64_t)1 << 30)

/*
 * 4 slots and 4 GiB: of A's jobs asking 3 GiB one goes, the next waits
 * though slots are free, and B's 1 GiB job behind it fits and goes; the
 * skipped look no further than SCHED_SKIP_MAX jobs.
 */
static void
test_decide_memory(void **state)
{
	struct mem_stream a = { 1000, 1000, 1, 1, 100, 1, 0, 0, 3 * GIB };
	struct mem_stream b = { 1, 1, 2, 2, 5000, 2, 0, 0, GIB };
	struct sched_stream streams[2] = {
		{ 1, { 1000, 0 }, false, &a, NULL, 0 },
		{ 2, { 990, 0 }, false, &b, NULL, 0 },
	};
	struct sched_pool pool = { "default", false, streams, 2, 0 };
	struct place_node nodes[1];
	struct mem_source src = { 0 };
	struct sched_source source = { mem_fetch, &src };
	sched_launch_vec out = VEC_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	nodes[0] = mk_node("n1", "default", 4, 0);
	nodes[0].memory = 4 * GIB;
	assert_int_equal(
	    sched_decide(&prio_lcg, nodes, 1, &pool, 1, &source, &out, &err),
	    0);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.v[0].job_id, 100);
	assert_int_equal(out.v[0].memory, 3 * GIB);
	assert_int_equal(out.v[1].job_id, 5000);
	assert_int_equal(out.v[1].memory, GIB);
	assert_int_equal(nodes[0].cpu_used, 2);
	assert_int_equal(nodes[0].memory_used, 4 * GIB);
	/* A's 999 others were not all read: the skips are bounded. */
	assert_true(a.nread <= SCHED_SKIP_MAX + 1 + 4096);
	/* No memory asked, none known: the slots alone, as before. */
	nodes[0] = mk_node("n1", "default", 4, 0);
	a.memory = 0;
	a.nread = b.nread = 0;
	a.nfetch = b.nfetch = 0;
	out.n = 0;
	assert_int_equal(
	    sched_decide(&prio_lcg, nodes, 1, &pool, 1, &source, &out, &err),
	    0);
	assert_int_equal(out.n, 4);
	assert_int_equal(out.v[0].memory, 0);
	VEC_RELEASE(&out);
	buf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_values),
		cmocka_unit_test(test_merge_interleaves_users),
		cmocka_unit_test(test_merge_running_counts),
		cmocka_unit_test(test_merge_test_jobs),
		cmocka_unit_test(test_merge_other_pools),
		cmocka_unit_test(test_merge_ties),
		cmocka_unit_test(test_merge_matches_sort),
		cmocka_unit_test(test_merge_is_lazy),
		cmocka_unit_test(test_merge_exact_batches_and_empty),
		cmocka_unit_test(test_merge_error),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_decide_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
