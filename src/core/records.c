/*
 * records.c - freeing the records of records.h, and a node as placement
 * sees it.
 */
#include "core/records.h"

void
account_release(struct account *a)
{
	free(a->username);
	free(a->email);
	free(a->role);
	free(a->unix_user);
	free(a->hold);
	memset(a, 0, sizeof(*a));
}

void
account_vec_release(account_vec *v)
{
	struct account *a;

	VEC_FOREACH (a, v)
		account_release(a);
	VEC_RELEASE(v);
}

void
token_release(struct token *t)
{
	free(t->username);
	free(t->hash);
	memset(t, 0, sizeof(*t));
}

void
token_vec_release(token_vec *v)
{
	struct token *t;

	VEC_FOREACH (t, v)
		token_release(t);
	VEC_RELEASE(v);
}

void
node_release(struct node *n)
{
	struct node_job *j;

	VEC_FOREACH (j, &n->jobs) {
		free(j->username);
		free(j->task);
	}
	VEC_RELEASE(&n->jobs);
	free(n->name);
	free(n->queue);
	memset(n, 0, sizeof(*n));
}

void
node_vec_release(node_vec *v)
{
	struct node *n;

	VEC_FOREACH (n, v)
		node_release(n);
	VEC_RELEASE(v);
}

void
node_vec_place(const node_vec *v, struct place_node *out)
{
	const struct node *n;
	size_t i;

	for (i = 0; i < v->n; i++) {
		n = &v->v[i];
		out[i].id = n->id;
		out[i].name = n->name;
		out[i].queue = n->queue;
		out[i].cpu_slots = n->cpu_slots;
		out[i].gpu_slots = n->gpu_slots;
		out[i].cpu_used = n->cpu_used;
		out[i].gpu_used = n->gpu_used;
		out[i].memory = n->memory;
		out[i].memory_used = n->memory_used;
		out[i].enabled = n->enabled;
		out[i].healthy = place_healthy(n->ready, n->memory_pressure,
		    n->disk_pressure);
	}
}

void
task_release(struct task *t)
{
	free(t->username);
	free(t->name);
	free(t->queue);
	free(t->image);
	free(t->command);
	free(t->inputs);
	free(t->data_path);
	free(t->out_dir);
	free(t->after);
	free(t->after_any);
	free(t->inputs_of);
	free(t->why);
	memset(t, 0, sizeof(*t));
}

void
task_vec_release(task_vec *v)
{
	struct task *t;

	VEC_FOREACH (t, v)
		task_release(t);
	VEC_RELEASE(v);
}

void
job_release(struct job *j)
{
	free(j->input);
	free(j->command);
	free(j->node);
	free(j->handle);
	free(j->end_reason);
	free(j->log_tail);
	memset(j, 0, sizeof(*j));
}

void
job_vec_release(job_vec *v)
{
	struct job *j;

	VEC_FOREACH (j, v)
		job_release(j);
	VEC_RELEASE(v);
}

void
usage_row_vec_release(usage_row_vec *v)
{
	struct usage_row *u;

	VEC_FOREACH (u, v)
		free(u->username);
	VEC_RELEASE(v);
}

static const char *const history_by_names[] = {
	[HISTORY_BY_USER] = "user",
	[HISTORY_BY_QUEUE] = "queue",
	[HISTORY_BY_NODE] = "node",
};

const char *
history_by_name(enum history_by by)
{
	if ((size_t)by >=
	    sizeof(history_by_names) / sizeof(history_by_names[0]))
		BUG("history_by %d", (int)by);
	return history_by_names[by];
}

int
history_by_parse(const char *s, enum history_by *out, struct buf *err)
{
	size_t i;

	for (i = 0; i < sizeof(history_by_names) / sizeof(history_by_names[0]);
	     i++) {
		if (strcmp(s, history_by_names[i]) == 0) {
			*out = (enum history_by)i;
			return 0;
		}
	}
	return err_set(err, ERR_INVALID,
	    "invalid by '%s': expected user, queue or node", s);
}

void
history_total_vec_release(history_total_vec *v)
{
	struct history_total *h;

	VEC_FOREACH (h, v)
		free(h->group);
	VEC_RELEASE(v);
}

void
history_run_vec_release(history_run_vec *v)
{
	struct history_run *h;

	VEC_FOREACH (h, v) {
		free(h->username);
		free(h->task);
		free(h->queue);
		free(h->node);
		free(h->end_reason);
	}
	VEC_RELEASE(v);
}
