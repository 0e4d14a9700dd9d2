/*
 * backend.c - the registry of execution backends, by name.
 */
#include "backend/backend.h"

static const struct backend_ops *const backend_table[] = {
	&backend_local_ops,
	&backend_kube_ops,
};

static const struct backend_ops *
backend_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(backend_table) / sizeof(backend_table[0]); i++)
		if (strcmp(backend_table[i]->name, name) == 0)
			return backend_table[i];
	return NULL;
}

static int
backend_unknown(const struct config *cfg, struct buf *err)
{
	size_t i;

	err_set(err, ERR_INVALID,
	    "unknown backend '%s' (this build has:", cfg->backend);
	for (i = 0; i < sizeof(backend_table) / sizeof(backend_table[0]); i++)
		buf_addf(err, " %s", backend_table[i]->name);
	buf_addch(err, ')');
	return ERR_INVALID;
}

int
backend_open(struct backend **out, const struct config *cfg, struct buf *err)
{
	const struct backend_ops *ops = backend_find(cfg->backend);

	*out = NULL;
	if (ops == NULL)
		return backend_unknown(cfg, err);
	return ops->open(out, cfg, err);
}

int
backend_node_check(const struct config *cfg, const char *name, struct buf *err)
{
	const struct backend_ops *ops = backend_find(cfg->backend);

	if (ops == NULL)
		return backend_unknown(cfg, err);
	if (ops->node_check == NULL)
		return 0;
	return ops->node_check(cfg, name, err);
}

int
backend_mounts(const struct config *cfg, const char *username, bool *limited,
    backend_path_vec *out, struct buf *err)
{
	const struct backend_ops *ops = backend_find(cfg->backend);

	*limited = false;
	if (ops == NULL)
		return backend_unknown(cfg, err);
	if (ops->mounts == NULL)
		return 0;
	*limited = true;
	return ops->mounts(cfg, username, out, err);
}

void
backend_close(struct backend *be)
{
	if (be != NULL)
		be->ops->close(be);
}

void
backend_node_vec_release(backend_node_vec *v)
{
	struct backend_node *n;

	VEC_FOREACH (n, v)
		free(n->name);
	VEC_RELEASE(v);
}

void
backend_path_vec_release(backend_path_vec *v)
{
	char **p;

	VEC_FOREACH (p, v)
		free(*p);
	VEC_RELEASE(v);
}

void
backend_job_set_account(struct backend_job *job, const struct proc_account *a)
{
	job->login = a->login;
	job->uid = a->uid;
	job->gid = a->gid;
	job->home = a->home;
	job->groups = a->groups;
	job->ngroups = a->ngroups;
}
