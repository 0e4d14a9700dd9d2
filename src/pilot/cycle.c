/*
 * cycle.c - the decision of one pilot cycle: the task state machine over
 * the tasks where something happened, then the fill of free slots in
 * priority order.  Its cost follows what changed and the slots to fill,
 * not the number of jobs waiting (docs/internals/scheduling.md).
 */
#include "pilot/cycle.h"

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
    struct cycle_plan *out, struct buf *err)
{
	task_state_vec dirty = VEC_INIT;
	struct task_state_row *r;
	struct cycle_task *ct;
	int ret;

	memset(out, 0, sizeof(*out));
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
