/*
 * sched.c - the merge of users' waiting jobs in priority order, and one
 * cycle's decision: which waiting jobs go into which free slots.
 *
 * The merge is a binary heap of streams keyed by each stream's next job.
 * A stream's jobs come in (submitted_ms, task_id, idx) order; its k-th job
 * (k = how many it has yielded) has priority rule->priority(user, n), n =
 * k + the user's waiting jobs of other pools ahead of it (the stream's
 * `before`), or rule->test_priority(user) in a stream of test jobs.  Jobs are
 * read from the source lazily, a batch at a time, batches doubling from
 * SCHED_BATCH_MIN to SCHED_BATCH_MAX, so taking K jobs out of U streams
 * costs O(K log U) and reads little more than it takes.  A stream whose
 * source returns fewer jobs than asked for is not read again.
 */
#include "core/core.h"

#define SCHED_BATCH_MIN 64
#define SCHED_BATCH_MAX 4096

struct sched_merge_stream {
	struct sched_stream s;
	sched_job_vec batch; /* the jobs read and not yet yielded, from pos */
	size_t pos;
	size_t limit;   /* size of the next batch */
	bool exhausted; /* the source has no more after this batch */
	bool has_last;
	struct sched_job last; /* the last job read, the keyset for the next */
	int64_t k;             /* jobs yielded so far */
	size_t nbefore_seen;   /* s.before[] passed so far */
	int64_t ahead;         /* their jobs: ahead of the job at pos */
	double prio;           /* priority of the job at pos */
};

struct sched_merge {
	const struct prio_rule *rule;
	struct sched_source src;
	struct sched_merge_stream *streams;
	size_t nstreams;
	size_t *heap; /* indices into streams */
	size_t nheap;
	size_t refill; /* a stream whose batch ran out, to read next time */
	bool has_refill;
	bool started;
	int error; /* a failed read leaves the merge unusable */
};

static int
sched_merge_cmp64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/*
 * The user's waiting jobs of other pools ahead of the job at pos: those of
 * the tasks before its task.  Jobs come in order, so the tasks passed stay
 * passed.
 */
static int64_t
sched_merge_ahead(struct sched_merge_stream *ms)
{
	const struct sched_job *j = &ms->batch.v[ms->pos];
	const struct sched_before *b;
	int c;

	while (ms->nbefore_seen < ms->s.nbefore) {
		b = &ms->s.before[ms->nbefore_seen];
		c = sched_merge_cmp64(b->submitted_ms, j->submitted_ms);
		if (c == 0)
			c = sched_merge_cmp64(b->task_id, j->task_id);
		if (c >= 0)
			break;
		ms->ahead += b->njobs;
		ms->nbefore_seen++;
	}
	return ms->ahead;
}

static void
sched_merge_set_prio(struct sched_merge *m, struct sched_merge_stream *ms)
{
	if (ms->s.is_test)
		ms->prio = m->rule->test_priority(&ms->s.user);
	else
		ms->prio = m->rule->priority(&ms->s.user,
		    ms->k + sched_merge_ahead(ms));
}

/* Does the head of stream a come before the head of stream b? */
static bool
sched_merge_before(const struct sched_merge *m, size_t a, size_t b)
{
	const struct sched_merge_stream *sa = &m->streams[a];
	const struct sched_merge_stream *sb = &m->streams[b];
	const struct sched_job *ja = &sa->batch.v[sa->pos];
	const struct sched_job *jb = &sb->batch.v[sb->pos];
	int c;

	if (sa->prio != sb->prio)
		return sa->prio > sb->prio;
	c = sched_merge_cmp64(ja->submitted_ms, jb->submitted_ms);
	if (c == 0)
		c = sched_merge_cmp64(ja->task_id, jb->task_id);
	if (c == 0)
		c = sched_merge_cmp64(ja->idx, jb->idx);
	if (c == 0)
		c = sched_merge_cmp64(ja->account_id, jb->account_id);
	if (c == 0)
		c = sched_merge_cmp64(ja->id, jb->id);
	if (c == 0)
		c = sched_merge_cmp64((int64_t)a, (int64_t)b);
	return c < 0;
}

static void
sched_merge_swap(struct sched_merge *m, size_t i, size_t j)
{
	size_t t = m->heap[i];

	m->heap[i] = m->heap[j];
	m->heap[j] = t;
}

static void
sched_merge_up(struct sched_merge *m, size_t i)
{
	size_t parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!sched_merge_before(m, m->heap[i], m->heap[parent]))
			break;
		sched_merge_swap(m, i, parent);
		i = parent;
	}
}

static void
sched_merge_down(struct sched_merge *m, size_t i)
{
	size_t l, r, best;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		best = i;
		if (l < m->nheap &&
		    sched_merge_before(m, m->heap[l], m->heap[best]))
			best = l;
		if (r < m->nheap &&
		    sched_merge_before(m, m->heap[r], m->heap[best]))
			best = r;
		if (best == i)
			break;
		sched_merge_swap(m, i, best);
		i = best;
	}
}

/* Read the next batch of a stream into its (consumed) buffer. */
static int
sched_merge_fetch(struct sched_merge *m, struct sched_merge_stream *ms,
    struct buf *err)
{
	int r;

	ms->batch.n = 0;
	ms->pos = 0;
	if (ms->exhausted)
		return 0;
	r = m->src.fetch(m->src.ctx, &ms->s, ms->has_last ? &ms->last : NULL,
	    ms->limit, &ms->batch, err);
	if (r < 0)
		return r;
	if (ms->batch.n < ms->limit)
		ms->exhausted = true;
	if (ms->batch.n > 0) {
		ms->last = ms->batch.v[ms->batch.n - 1];
		ms->has_last = true;
	}
	if (ms->limit < SCHED_BATCH_MAX)
		ms->limit *= 2;
	return 0;
}

struct sched_merge *
sched_merge_new(const struct prio_rule *rule,
    const struct sched_stream *streams, size_t nstreams,
    const struct sched_source *src)
{
	struct sched_merge *m = xcalloc(1, sizeof(*m));
	size_t i;

	m->rule = rule;
	m->src = *src;
	m->nstreams = nstreams;
	m->streams = xcalloc(nstreams == 0 ? 1 : nstreams, sizeof(*m->streams));
	m->heap = xcalloc(nstreams == 0 ? 1 : nstreams, sizeof(*m->heap));
	for (i = 0; i < nstreams; i++) {
		m->streams[i].s = streams[i];
		m->streams[i].limit = SCHED_BATCH_MIN;
	}
	return m;
}

/* Put a stream back in the heap, if it has a job. */
static void
sched_merge_push(struct sched_merge *m, size_t i)
{
	struct sched_merge_stream *ms = &m->streams[i];

	if (ms->pos == ms->batch.n)
		return;
	sched_merge_set_prio(m, ms);
	m->heap[m->nheap++] = i;
	sched_merge_up(m, m->nheap - 1);
}

/* First call: read each stream's first batch and build the heap. */
static int
sched_merge_start(struct sched_merge *m, struct buf *err)
{
	struct sched_merge_stream *ms;
	size_t i;
	int r;

	m->started = true;
	for (i = 0; i < m->nstreams; i++) {
		ms = &m->streams[i];
		r = sched_merge_fetch(m, ms, err);
		if (r < 0)
			return r;
		sched_merge_push(m, i);
	}
	return 0;
}

/*
 * A stream whose batch runs out leaves the heap; it is read again at the
 * next call, not at once, so a caller that stops taking jobs causes no
 * read it does not need.
 */
int
sched_merge_next(struct sched_merge *m, struct sched_job *out, struct buf *err)
{
	struct sched_merge_stream *ms;
	size_t top;
	int r;

	if (m->error < 0)
		return err_set(err, m->error,
		    "reading the waiting jobs failed earlier");
	if (!m->started) {
		r = sched_merge_start(m, err);
		if (r < 0)
			goto fail;
	}
	if (m->has_refill) {
		m->has_refill = false;
		r = sched_merge_fetch(m, &m->streams[m->refill], err);
		if (r < 0)
			goto fail;
		sched_merge_push(m, m->refill);
	}
	if (m->nheap == 0)
		return 0;
	top = m->heap[0];
	ms = &m->streams[top];
	*out = ms->batch.v[ms->pos];
	out->priority = ms->prio;
	ms->pos++;
	ms->k++;
	if (ms->pos == ms->batch.n) {
		m->heap[0] = m->heap[--m->nheap];
		if (!ms->exhausted) {
			m->refill = top;
			m->has_refill = true;
		}
	} else {
		sched_merge_set_prio(m, ms);
	}
	sched_merge_down(m, 0);
	return 1;
fail:
	m->error = r;
	return r;
}

void
sched_merge_free(struct sched_merge *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nstreams; i++)
		VEC_RELEASE(&m->streams[i].batch);
	free(m->streams);
	free(m->heap);
	free(m);
}

/* Fill one pool's free slots; launches are appended to `out`. */
static int
sched_decide_pool(const struct prio_rule *rule, struct place_node *nodes,
    size_t nnodes, const struct sched_pool *pool,
    const struct sched_source *src, sched_launch_vec *out, struct buf *err)
{
	struct sched_merge *m;
	struct sched_launch *l;
	struct sched_job job;
	struct place_ask ask = { .gpu = pool->gpu,
		.default_memory = pool->default_memory };
	int64_t nfree, memory, nskipped = 0;
	int r = 0, node, gpu_index;

	nfree = place_free_in_queue(nodes, nnodes, pool->queue, pool->gpu);
	if (nfree <= 0 || pool->nstreams == 0)
		return 0;
	m = sched_merge_new(rule, pool->streams, pool->nstreams, src);
	while (nfree > 0 && nskipped < SCHED_SKIP_MAX) {
		r = sched_merge_next(m, &job, err);
		if (r <= 0)
			break;
		ask.memory = job.memory;
		node = place_pick(nodes, nnodes, pool->queue, &ask, &gpu_index,
		    &memory);
		if (node < 0) {
			/* No node with a free slot has its memory free. */
			nskipped++;
			continue;
		}
		/* A slot taken may leave the queue none with memory free. */
		nfree =
		    place_free_in_queue(nodes, nnodes, pool->queue, pool->gpu);
		l = VEC_ADD(out);
		l->job_id = job.id;
		l->task_id = job.task_id;
		l->account_id = job.account_id;
		l->node = (size_t)node;
		l->gpu_index = gpu_index;
		l->memory = memory;
		l->priority = job.priority;
	}
	sched_merge_free(m);
	return r < 0 ? r : 0;
}

int
sched_decide(const struct prio_rule *rule, struct place_node *nodes,
    size_t nnodes, const struct sched_pool *pools, size_t npools,
    const struct sched_source *src, sched_launch_vec *out, struct buf *err)
{
	size_t i;
	int r;

	for (i = 0; i < npools; i++) {
		r = sched_decide_pool(rule, nodes, nnodes, &pools[i], src, out,
		    err);
		if (r < 0)
			return r;
	}
	return 0;
}
