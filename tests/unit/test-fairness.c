/* libs: orch_core */
/*
 * test-fairness.c - a deterministic discrete-event simulation of the
 * scheduler: sched_decide() over an in-memory source fills 30 CPU slots
 * of one node with jobs that each last exactly one time unit.
 *
 * Time is counted in ticks of 1/30 unit.  The slots start staggered: slot
 * s is first free at tick s, so one slot frees at every tick and every
 * decision fills one slot, with R = the user's jobs running now.  That is
 * the hardest case for fairness: a rule that looked only at the queue
 * would hand out one slot at a time by queue length or submit order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

#define FS_SLOTS 30
#define FS_TICKS_PER_JOB 30 /* a job lasts 1.0 = 30 ticks */
#define FS_MAX_USERS 4
#define FS_ID_STRIDE 1000000

struct fs_user {
	int64_t account;
	int64_t max_priority;
	struct sched_job *jobs; /* in (submitted_ms, task_id, idx) order */
	int64_t njobs;
	int64_t next;     /* jobs[next..] wait */
	int64_t running;  /* R */
	int64_t *nstarts; /* per job: how many times it started */
	int64_t *start_tick;
};

struct fs_slot {
	int user; /* -1: free; -2: not yet available (staggered start) */
	int64_t job;
	int64_t end;
};

struct fs_sim {
	const struct prio_rule *rule;
	struct fs_user users[FS_MAX_USERS];
	int nusers;
	struct fs_slot slots[FS_SLOTS];
	struct place_node node;
	int64_t tick;
	int64_t nfetch;
	int64_t launch_order; /* launches so far */
	int64_t *order;       /* per launch: user * FS_ID_STRIDE + job */
	int64_t norder_alloc;
};

static int
fs_fetch(void *ctx, const struct sched_stream *s, const struct sched_job *after,
    size_t limit, sched_job_vec *out, struct buf *err)
{
	struct fs_sim *sim = ctx;
	struct fs_user *u = s->cookie;
	int64_t j = u->next;
	size_t n;

	(void)err;
	sim->nfetch++;
	if (after != NULL) {
		j = after->id % FS_ID_STRIDE + 1;
		assert_true(j > u->next);
	}
	for (n = 0; n < limit && j < u->njobs; n++, j++)
		VEC_PUSH(out, u->jobs[j]);
	return 0;
}

/*
 * A user with `ntasks` tasks of `per_task` jobs; task t is submitted at
 * sub[t] (ascending) with id task0 + t.
 */
static void
fs_add_user(struct fs_sim *sim, int64_t max_priority, int64_t ntasks,
    int64_t per_task, const int64_t *sub, int64_t task0)
{
	struct fs_user *u = &sim->users[sim->nusers];
	int64_t t, i, j = 0;

	memset(u, 0, sizeof(*u));
	u->account = sim->nusers + 1;
	u->max_priority = max_priority;
	u->njobs = ntasks * per_task;
	u->jobs = xcalloc((size_t)u->njobs + 1, sizeof(*u->jobs));
	u->nstarts = xcalloc((size_t)u->njobs + 1, sizeof(*u->nstarts));
	u->start_tick = xcalloc((size_t)u->njobs + 1, sizeof(*u->start_tick));
	for (t = 0; t < ntasks; t++) {
		for (i = 0; i < per_task; i++, j++) {
			u->jobs[j].id = u->account * FS_ID_STRIDE + j;
			u->jobs[j].task_id = task0 + t;
			u->jobs[j].account_id = u->account;
			u->jobs[j].submitted_ms = sub[t];
			u->jobs[j].idx = (int32_t)i;
			u->start_tick[j] = -1;
		}
	}
	sim->nusers++;
}

/* One task of n jobs submitted at `sub`. */
static void
fs_add_user1(struct fs_sim *sim, int64_t max_priority, int64_t n, int64_t sub)
{
	fs_add_user(sim, max_priority, 1, n, &sub, 100 + sim->nusers);
}

static void
fs_init(struct fs_sim *sim, const struct prio_rule *rule)
{
	int s;

	memset(sim, 0, sizeof(*sim));
	sim->rule = rule;
	sim->node.id = 1;
	sim->node.name = "n1";
	sim->node.queue = "default";
	sim->node.cpu_slots = FS_SLOTS;
	sim->node.cpu_used = FS_SLOTS; /* every slot not yet available */
	sim->node.enabled = true;
	sim->node.healthy = true;
	for (s = 0; s < FS_SLOTS; s++) {
		sim->slots[s].user = -2;
		sim->slots[s].end = s;
	}
}

static void
fs_release(struct fs_sim *sim)
{
	int i;

	for (i = 0; i < sim->nusers; i++) {
		free(sim->users[i].jobs);
		free(sim->users[i].nstarts);
		free(sim->users[i].start_tick);
	}
	free(sim->order);
}

static bool
fs_waits(const struct fs_user *u)
{
	return u->next < u->njobs;
}

static bool
fs_any_waits(const struct fs_sim *sim)
{
	int i;

	for (i = 0; i < sim->nusers; i++)
		if (fs_waits(&sim->users[i]))
			return true;
	return false;
}

static bool
fs_any_runs(const struct fs_sim *sim)
{
	int i;

	for (i = 0; i < sim->nusers; i++)
		if (sim->users[i].running > 0)
			return true;
	return false;
}

/*
 * One decision point: end what ends now, then let sched_decide fill the
 * free slots.  Returns false when everything has run.
 */
static bool
fs_tick(struct fs_sim *sim)
{
	struct sched_stream streams[FS_MAX_USERS];
	struct sched_source src = { fs_fetch, sim };
	struct sched_pool pool = { "default", false, streams, 0, 0 };
	sched_launch_vec out = VEC_INIT;
	struct buf err = BUF_INIT;
	struct fs_user *u;
	struct sched_launch *l;
	bool waited[FS_MAX_USERS];
	int s, i;
	int64_t j;

	for (s = 0; s < FS_SLOTS; s++) {
		if (sim->slots[s].user == -1 || sim->slots[s].end != sim->tick)
			continue;
		if (sim->slots[s].user >= 0)
			sim->users[sim->slots[s].user].running--;
		sim->slots[s].user = -1;
		sim->node.cpu_used--;
	}
	for (i = 0; i < sim->nusers; i++) {
		u = &sim->users[i];
		waited[i] = fs_waits(u);
		streams[i].account_id = u->account;
		streams[i].user.max_priority = u->max_priority;
		streams[i].user.running = u->running;
		streams[i].is_test = false;
		streams[i].cookie = u;
		streams[i].before = NULL;
		streams[i].nbefore = 0;
	}
	pool.nstreams = (size_t)sim->nusers;
	assert_int_equal(
	    sched_decide(sim->rule, &sim->node, 1, &pool, 1, &src, &out, &err),
	    0);
	VEC_FOREACH (l, &out) {
		assert_int_equal(l->node, 0);
		assert_int_equal(l->gpu_index, -1);
		i = (int)(l->account_id - 1);
		assert_true(i >= 0 && i < sim->nusers);
		u = &sim->users[i];
		/* A slot goes only to a user who was waiting. */
		assert_true(waited[i]);
		j = l->job_id % FS_ID_STRIDE;
		/* A user's jobs start in their own order. */
		assert_int_equal(j, u->next);
		u->next++;
		u->running++;
		u->nstarts[j]++;
		u->start_tick[j] = sim->tick;
		for (s = 0; s < FS_SLOTS; s++)
			if (sim->slots[s].user == -1)
				break;
		assert_true(s < FS_SLOTS);
		sim->slots[s].user = i;
		sim->slots[s].job = j;
		sim->slots[s].end = sim->tick + FS_TICKS_PER_JOB;
		if (sim->launch_order >= sim->norder_alloc) {
			sim->norder_alloc = 2 * sim->norder_alloc + 64;
			sim->order = xrealloc(sim->order,
			    (size_t)sim->norder_alloc * sizeof(*sim->order));
		}
		sim->order[sim->launch_order++] = i * FS_ID_STRIDE + j;
	}
	/* No slot idles while a job waits. */
	if (fs_any_waits(sim))
		assert_int_equal(sim->node.cpu_used, FS_SLOTS);
	for (s = 0, i = 0; s < FS_SLOTS; s++)
		if (sim->slots[s].user != -1)
			i++;
	assert_int_equal(i, sim->node.cpu_used);
	VEC_RELEASE(&out);
	buf_release(&err);
	sim->tick++;
	return fs_any_waits(sim) || fs_any_runs(sim);
}

/* Every job ran exactly once. */
static void
fs_check_all_ran_once(const struct fs_sim *sim)
{
	int i;
	int64_t j;

	for (i = 0; i < sim->nusers; i++)
		for (j = 0; j < sim->users[i].njobs; j++)
			assert_int_equal(sim->users[i].nstarts[j], 1);
}

static int64_t
fs_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t
fs_max(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/*
 * Users A, B, C with equal max_priority queue na, nb, nc jobs (one task
 * each, submitted A first, so ties never favour the small users).
 */
static void
fs_run_three(int64_t na, int64_t nb, int64_t nc)
{
	struct fs_sim sim;
	struct fs_user *a, *b, *c;
	int64_t n3 = 0, n3full = 0, n2 = 0, n2full = 0, n1full = 0;
	int guard = 0;
	bool more = true;

	fs_init(&sim, &prio_lcg);
	fs_add_user1(&sim, 1000, na, 1);
	fs_add_user1(&sim, 1000, nb, 2);
	fs_add_user1(&sim, 1000, nc, 3);
	a = &sim.users[0];
	b = &sim.users[1];
	c = &sim.users[2];
	while (more) {
		more = fs_tick(&sim);
		assert_true(++guard < 100000);
		/* All three wait: the slots are shared evenly. */
		if (fs_waits(a) && fs_waits(b) && fs_waits(c)) {
			n3++;
			assert_true(
			    fs_max(a->running, fs_max(b->running, c->running)) -
			        fs_min(a->running,
			            fs_min(b->running, c->running)) <=
			    1);
			if (sim.tick > FS_SLOTS) {
				n3full++;
				assert_in_range(a->running, 9, 11);
				assert_in_range(b->running, 9, 11);
				assert_in_range(c->running, 9, 11);
			}
		}
		/* C has nothing left to queue: A and B share what it frees. */
		if (fs_waits(a) && fs_waits(b) && !fs_waits(c)) {
			n2++;
			assert_true(fs_max(a->running, b->running) -
			        fs_min(a->running, b->running) <=
			    1);
			assert_true(
			    a->running + b->running + c->running == FS_SLOTS);
			if (c->running == 0) {
				n2full++;
				assert_in_range(a->running, 14, 16);
				assert_in_range(b->running, 14, 16);
			}
		}
		/* A alone waits: once B and C are done, A has every slot. */
		if (fs_waits(a) && !fs_waits(b) && !fs_waits(c) &&
		    b->running == 0 && c->running == 0) {
			n1full++;
			assert_int_equal(a->running, FS_SLOTS);
		}
	}
	/* Every phase happened. */
	assert_true(n3 > 0);
	assert_true(n2full > 0);
	assert_true(n1full > 0);
	print_message("queues %lld/%lld/%lld: %lld ticks, three waiting %lld "
	              "(%lld full), two %lld (%lld full), A alone %lld\n",
	    (long long)na, (long long)nb, (long long)nc, (long long)sim.tick,
	    (long long)n3, (long long)n3full, (long long)n2, (long long)n2full,
	    (long long)n1full);
	fs_check_all_ran_once(&sim);
	/* 1 unit of staggering + the work on 30 slots, and not a tick more. */
	assert_int_equal(sim.tick,
	    FS_SLOTS +
	        (na + nb + nc + FS_SLOTS - 1) / FS_SLOTS * FS_TICKS_PER_JOB);
	fs_release(&sim);
}

static void
test_three_users(void **state)
{
	(void)state;
	fs_run_three(1000, 100, 10);
}

/* With 40 jobs, C waits long enough for a full three-way share. */
static void
test_three_users_longer(void **state)
{
	(void)state;
	fs_run_three(1000, 100, 40);
}

/*
 * Higher max_priority: with lcg, user X with max_priority 1000 + d
 * competing with Y at 1000 for S slots (both with plenty waiting) holds
 * 5d more slots than Y in steady state (±1): X's priority falls to Y's
 * when R_x - R_y = 5d.  On 30 slots, d = 2 gives X 20 and Y 10; d = 0
 * gives 15 each.  Y submits first, so ties do not favour X.
 *
 * The same as a queue order (test_higher_max_priority_merge): at any one
 * decision, X's (k + 5d)-th waiting job ties Y's k-th.  It is not an order
 * of start times over the whole run: X, starting twice as many jobs per
 * unit of time, is far beyond its (k + 5d)-th job when Y starts its k-th.
 */
static void
fs_run_two(int64_t d)
{
	struct fs_sim sim;
	struct fs_user *x, *y;
	int64_t nsteady = 0;
	int guard = 0;
	bool more = true;

	fs_init(&sim, &prio_lcg);
	fs_add_user1(&sim, 1000, 600, 1);     /* Y */
	fs_add_user1(&sim, 1000 + d, 600, 2); /* X */
	y = &sim.users[0];
	x = &sim.users[1];
	while (more) {
		more = fs_tick(&sim);
		assert_true(++guard < 100000);
		if (!fs_waits(x) || !fs_waits(y))
			continue;
		assert_true(x->running + y->running <= FS_SLOTS);
		if (sim.tick <= FS_SLOTS)
			continue;
		nsteady++;
		assert_true(x->running - y->running - 5 * d <= 1 &&
		    x->running - y->running - 5 * d >= -1);
		assert_in_range(x->running, 15 + 5 * d / 2 - 1,
		    15 + 5 * d / 2 + 1);
		assert_in_range(y->running, 15 - 5 * d / 2 - 1,
		    15 - 5 * d / 2 + 1);
	}
	assert_true(nsteady > 100);
	fs_check_all_ran_once(&sim);
	fs_release(&sim);
}

static void
test_higher_max_priority(void **state)
{
	(void)state;
	fs_run_two(2);
	fs_run_two(0);
	fs_run_two(1);
}

/*
 * The merge itself, statically: with nothing running, X's (k + 5d)-th
 * waiting job has exactly the priority of Y's k-th, and the submit order
 * breaks the tie.  Returns each job's place in the merged order.
 */
static void
fs_merge_two(int64_t d, bool x_first, int64_t *pos_x, int64_t *pos_y,
    int64_t njobs)
{
	struct fs_sim sim;
	struct sched_stream s[2];
	struct sched_source src = { fs_fetch, &sim };
	struct sched_merge *m;
	struct sched_job job;
	struct buf err = BUF_INIT;
	int64_t n = 0;
	int i, xi;

	fs_init(&sim, &prio_lcg);
	if (x_first) {
		fs_add_user1(&sim, 1000 + d, njobs, 1);
		fs_add_user1(&sim, 1000, njobs, 2);
		xi = 0;
	} else {
		fs_add_user1(&sim, 1000, njobs, 1);
		fs_add_user1(&sim, 1000 + d, njobs, 2);
		xi = 1;
	}
	for (i = 0; i < 2; i++) {
		s[i].account_id = sim.users[i].account;
		s[i].user.max_priority = sim.users[i].max_priority;
		s[i].user.running = 0;
		s[i].is_test = false;
		s[i].cookie = &sim.users[i];
		s[i].before = NULL;
		s[i].nbefore = 0;
	}
	m = sched_merge_new(&prio_lcg, s, 2, &src);
	while (sched_merge_next(m, &job, &err) == 1) {
		if (job.account_id == sim.users[xi].account)
			pos_x[job.id % FS_ID_STRIDE] = n;
		else
			pos_y[job.id % FS_ID_STRIDE] = n;
		n++;
	}
	assert_int_equal(n, 2 * njobs);
	sched_merge_free(m);
	buf_release(&err);
	fs_release(&sim);
}

static void
test_higher_max_priority_merge(void **state)
{
	enum { N = 200 };
	int64_t pos_x[N], pos_y[N], k, d;

	(void)state;
	for (d = 0; d <= 3; d++) {
		/* X submitted first: X's (k+5d)-th, Y's k-th, X's next. */
		fs_merge_two(d, true, pos_x, pos_y, N);
		for (k = 0; k + 5 * d + 1 < N; k++) {
			assert_true(pos_x[k + 5 * d] < pos_y[k]);
			assert_true(pos_y[k] < pos_x[k + 5 * d + 1]);
		}
		/* X's first 5d jobs come before any of Y's. */
		assert_int_equal(pos_y[0], 5 * d + 1);
		/* Y first: Y's k-th just before X's (k+5d)-th. */
		fs_merge_two(d, false, pos_x, pos_y, N);
		for (k = 0; k + 5 * d < N; k++) {
			assert_true(pos_y[k] < pos_x[k + 5 * d]);
			if (k + 5 * d >= 1)
				assert_true(pos_x[k + 5 * d - 1] < pos_y[k]);
		}
		assert_int_equal(pos_y[0], 5 * d);
	}
}

/* fifo: jobs start in submit order, whoever submitted them. */
static void
test_fifo_submit_order(void **state)
{
	static const int64_t sub_a[] = { 1, 4, 6 };
	static const int64_t sub_b[] = { 2, 5 };
	static const int64_t sub_c[] = { 3, 7 };
	struct fs_sim sim;
	struct sched_job *prev = NULL, *cur;
	int64_t l, total;
	int guard = 0;

	(void)state;
	fs_init(&sim, &prio_fifo);
	/* Task ids against submit order: submit time must win. */
	fs_add_user(&sim, 1000, 3, 40, sub_a, 30);
	fs_add_user(&sim, 5000, 2, 40, sub_b, 20);
	fs_add_user(&sim, 1000, 2, 40, sub_c, 10);
	while (fs_tick(&sim))
		assert_true(++guard < 100000);
	total = sim.users[0].njobs + sim.users[1].njobs + sim.users[2].njobs;
	assert_int_equal(sim.launch_order, total);
	for (l = 0; l < sim.launch_order; l++) {
		cur = &sim.users[sim.order[l] / FS_ID_STRIDE]
		           .jobs[sim.order[l] % FS_ID_STRIDE];
		if (prev != NULL) {
			assert_true(prev->submitted_ms < cur->submitted_ms ||
			    (prev->submitted_ms == cur->submitted_ms &&
			        prev->idx + 1 == cur->idx));
		}
		prev = cur;
	}
	fs_check_all_ran_once(&sim);
	fs_release(&sim);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_users),
		cmocka_unit_test(test_three_users_longer),
		cmocka_unit_test(test_higher_max_priority),
		cmocka_unit_test(test_higher_max_priority_merge),
		cmocka_unit_test(test_fifo_submit_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
