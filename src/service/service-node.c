/*
 * service-node.c - adding nodes and changing their slots (admins).
 */
#include "backend/backend.h"
#include "service/service-int.h"
#include "service/service-json.h"

static int
service_node_check_slots(const char *name, const struct node *n,
    struct buf *err)
{
	static const struct {
		const char *what;
		size_t off;
	} fields[] = {
		{ "cpu-slots", offsetof(struct node, cpu_slots) },
		{ "gpu-slots", offsetof(struct node, gpu_slots) },
		{ "max-cpu-slots", offsetof(struct node, max_cpu_slots) },
		{ "max-gpu-slots", offsetof(struct node, max_gpu_slots) },
	};
	size_t i;
	int64_t v;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		v = *(const int64_t *)((const char *)n + fields[i].off);
		if (v < 0)
			return err_set(err, ERR_INVALID,
			    "node '%s': invalid %s %lld: must be 0 or more",
			    name, fields[i].what, (long long)v);
	}
	if (n->max_gpu_slots > PLACE_MAX_GPUS)
		return err_set(err, ERR_INVALID,
		    "node '%s': invalid max-gpu-slots %lld: at most %d", name,
		    (long long)n->max_gpu_slots, PLACE_MAX_GPUS);
	if (n->memory != 0 && n->memory < CONFIG_MEMORY_MIN)
		return err_set(err, ERR_INVALID,
		    "node '%s': invalid memory %lld bytes: 0 (not known) or at "
		    "least 1M (binary units: write 64G for 64 GiB)",
		    name, (long long)n->memory);
	if (n->cpu_slots > n->max_cpu_slots)
		return err_set(err, ERR_INVALID,
		    "node '%s': cpu-slots %lld above max-cpu-slots %lld", name,
		    (long long)n->cpu_slots, (long long)n->max_cpu_slots);
	if (n->gpu_slots > n->max_gpu_slots)
		return err_set(err, ERR_INVALID,
		    "node '%s': gpu-slots %lld above max-gpu-slots %lld", name,
		    (long long)n->gpu_slots, (long long)n->max_gpu_slots);
	return 0;
}

/* Apply the options that are set; a queue name is checked. */
static int
service_node_apply(const char *name, const struct node_opts *o, struct node *n,
    struct buf *err)
{
	int ret;

	if (o->queue != NULL) {
		ret = names_check("queue name", o->queue, err);
		if (ret < 0)
			return ret;
		free(n->queue);
		n->queue = xstrdup(o->queue);
	}
	if (o->max_cpu_slots != OPT_UNSET)
		n->max_cpu_slots = o->max_cpu_slots;
	if (o->max_gpu_slots != OPT_UNSET)
		n->max_gpu_slots = o->max_gpu_slots;
	if (o->cpu_slots != OPT_UNSET)
		n->cpu_slots = o->cpu_slots;
	if (o->gpu_slots != OPT_UNSET)
		n->gpu_slots = o->gpu_slots;
	if (o->memory != OPT_UNSET)
		n->memory = o->memory;
	return service_node_check_slots(name, n, err);
}

static int
service_node_event(struct service *svc, const struct node *n, const char *what,
    struct buf *err)
{
	struct buf detail = BUF_INIT;
	struct event ev = { .kind = "node", .new_status = what };
	int ret;

	buf_addf(&detail,
	    "queue=%s cpu_slots=%lld/%lld gpu_slots=%lld/%lld "
	    "enabled=%d memory=%lld",
	    n->queue, (long long)n->cpu_slots, (long long)n->max_cpu_slots,
	    (long long)n->gpu_slots, (long long)n->max_gpu_slots,
	    n->enabled ? 1 : 0, (long long)n->memory);
	ev.node_id = n->id;
	ev.detail = detail.data;
	ret = store_event_add(svc->st, &ev, err);
	buf_release(&detail);
	return ret;
}

/*
 * The GPUs the backend reports of node `name` (SPEC: max_gpu_slots'
 * default), at most PLACE_MAX_GPUS; 0 when it reports none, does not
 * know (the local backend without nvidia-smi's word), has no such node,
 * or cannot be asked (a warning says why).
 */
static int64_t
service_node_backend_gpus(struct service *svc, const char *name)
{
	backend_node_vec nodes = VEC_INIT;
	struct backend *be = NULL;
	struct backend_node *bn;
	struct buf err = BUF_INIT;
	int64_t gpus = 0;
	int ret;

	ret = backend_open(&be, svc->cfg, &err);
	if (ret == 0)
		ret = be->ops->nodes(be, &nodes, &err);
	backend_close(be);
	if (ret < 0)
		log_warn(
		    "node %s: its GPUs are not known (%s): max_gpu_slots 0",
		    name, err.data);
	VEC_FOREACH (bn, &nodes)
		if (ret == 0 && strcmp(bn->name, name) == 0 && bn->gpus > 0)
			gpus = bn->gpus > PLACE_MAX_GPUS ? PLACE_MAX_GPUS
			                                 : bn->gpus;
	backend_node_vec_release(&nodes);
	buf_release(&err);
	return gpus;
}

int
service_node_add(struct service *svc, const char *name,
    const struct node_opts *o, struct node *out, struct buf *err)
{
	int ret;

	if (svc->remote != NULL)
		return service_remote_refuse(svc, "node add", err);
	ret = names_check("node name", name, err);
	if (ret < 0)
		return ret;
	out->name = xstrdup(name);
	out->queue = xstrdup("default");
	out->max_cpu_slots = 30;
	out->enabled = true;
	out->ready = true;
	out->reachable = true;
	out->created_ms = time_now_ms();
	ret = service_node_apply(name, o, out, err);
	if (ret < 0)
		return ret;
	/* Asked of the backend before the transaction, as node sync does. */
	if (o->max_gpu_slots == OPT_UNSET)
		out->max_gpu_slots = service_node_backend_gpus(svc, name);
	/* Unset slots default to their maximum. */
	if (o->cpu_slots == OPT_UNSET)
		out->cpu_slots = out->max_cpu_slots;
	if (o->gpu_slots == OPT_UNSET)
		out->gpu_slots = out->max_gpu_slots;
	ret = service_node_check_slots(name, out, err);
	if (ret < 0)
		return ret;
	ret = store_begin(svc->st, err);
	if (ret < 0)
		return ret;
	ret = service_require_admin(svc, err);
	if (ret < 0)
		goto out;
	/* A node the backend cannot run jobs on would get them anyway. */
	ret = backend_node_check(svc->cfg, name, err);
	if (ret < 0)
		goto out;
	ret = store_node_insert(svc->st, out, err);
	if (ret < 0)
		goto out;
	ret = service_node_event(svc, out, "added", err);
out:
	return service_end(svc, ret, err);
}

int
service_node_list(struct service *svc, const char *after, int64_t limit,
    node_vec *out, struct buf *err)
{
	int ret;

	if (svc->remote != NULL)
		return service_remote_node_list(svc, after, limit, out, err);
	if (after != NULL) {
		ret = names_check("node name", after, err);
		if (ret < 0)
			return ret;
	}
	ret = store_node_list(svc->st, after, limit, out, err);
	if (ret < 0)
		return ret;
	return store_node_add_jobs(svc->st, out->v, out->n, err);
}

int
service_node_check_set(const struct node_opts *o, bool options, struct buf *err)
{
	return service_json_opts_check_set(service_node_fields, o, options,
	    err);
}

int
service_node_set(struct service *svc, const char *name,
    const struct node_opts *o, struct node *out, struct buf *err)
{
	int ret;

	ret = service_node_check_set(o, false, err);
	if (ret < 0)
		return ret;
	if (svc->remote != NULL)
		return service_remote_node_change(svc, name, o, true, out, err);
	ret = store_begin(svc->st, err);
	if (ret < 0)
		return ret;
	ret = service_require_admin(svc, err);
	if (ret < 0)
		goto out;
	ret = store_node_get(svc->st, name, out, err);
	if (ret < 0)
		goto out;
	ret = store_node_add_jobs(svc->st, out, 1, err);
	if (ret < 0)
		goto out;
	ret = service_node_apply(name, o, out, err);
	if (ret < 0)
		goto out;
	ret = store_node_update(svc->st, out, err);
	if (ret < 0)
		goto out;
	ret = service_node_event(svc, out, "changed", err);
out:
	return service_end(svc, ret, err);
}

int
service_node_enable(struct service *svc, const char *name, bool enabled,
    struct node *out, struct buf *err)
{
	int ret;

	if (svc->remote != NULL)
		return service_remote_node_change(svc, name, NULL, enabled, out,
		    err);
	ret = store_begin(svc->st, err);
	if (ret < 0)
		return ret;
	ret = service_require_admin(svc, err);
	if (ret < 0)
		goto out;
	ret = store_node_get(svc->st, name, out, err);
	if (ret < 0)
		goto out;
	ret = store_node_add_jobs(svc->st, out, 1, err);
	if (ret < 0)
		goto out;
	if (out->enabled == enabled)
		goto out; /* already so: nothing to write */
	out->enabled = enabled;
	ret = store_node_update(svc->st, out, err);
	if (ret < 0)
		goto out;
	ret =
	    service_node_event(svc, out, enabled ? "resumed" : "drained", err);
out:
	return service_end(svc, ret, err);
}

void
node_sync_vec_release(node_sync_vec *v)
{
	struct node_sync *s;

	VEC_FOREACH (s, v)
		node_release(&s->node);
	VEC_RELEASE(v);
}

/* One node the backend reports, into the store. */
static int
service_node_sync_one(struct service *svc, const struct backend_node *bn,
    struct node_sync *out, struct buf *err)
{
	int64_t gpus = bn->gpus > PLACE_MAX_GPUS ? PLACE_MAX_GPUS : bn->gpus;
	int ret;

	ret = names_check("node name", bn->name, err);
	if (ret < 0)
		return ret;
	ret = store_node_get(svc->st, bn->name, &out->node, err);
	if (ret == ERR_NOTFOUND) {
		node_release(&out->node);
		out->node.name = xstrdup(bn->name);
		out->node.queue = xstrdup("default");
		out->node.max_cpu_slots = 30;
		out->node.cpu_slots = 30;
		if (bn->cpus >= 0 && bn->cpus < 30)
			out->node.cpu_slots = bn->cpus;
		out->node.max_gpu_slots = gpus < 0 ? 0 : gpus;
		out->node.gpu_slots = out->node.max_gpu_slots;
		out->node.enabled = true;
		out->node.ready = bn->ready;
		out->node.reachable = true;
		out->node.memory = bn->memory > 0 ? bn->memory : 0;
		out->node.created_ms = time_now_ms();
		ret = store_node_insert(svc->st, &out->node, err);
		if (ret == 0)
			ret = service_node_event(svc, &out->node, "added", err);
		out->added = true;
		return ret;
	}
	if (ret < 0)
		return ret;
	/* A memory not known yet is taken; one known is the admin's. */
	if (out->node.memory == 0 && bn->memory > 0) {
		out->node.memory = bn->memory;
		out->changed = true;
	}
	if (gpus >= 0 && gpus != out->node.max_gpu_slots) {
		out->node.max_gpu_slots = gpus;
		if (out->node.gpu_slots > gpus)
			out->node.gpu_slots = gpus;
		out->changed = true;
	}
	if (!out->changed)
		return 0;
	ret = store_node_update(svc->st, &out->node, err);
	if (ret == 0)
		ret = service_node_event(svc, &out->node, "changed", err);
	return ret;
}

int
service_node_sync(struct service *svc, node_sync_vec *out, struct buf *err)
{
	backend_node_vec nodes = VEC_INIT;
	struct backend *be = NULL;
	struct backend_node *bn;
	int ret;

	if (svc->remote != NULL)
		return service_remote_refuse(svc, "node sync", err);
	ret = service_require_admin(svc, err);
	if (ret < 0)
		return ret;
	/* Ask the backend first: no transaction is held across it. */
	ret = backend_open(&be, svc->cfg, err);
	if (ret == 0)
		ret = be->ops->nodes(be, &nodes, err);
	backend_close(be);
	if (ret < 0)
		goto out;
	ret = store_begin(svc->st, err);
	if (ret < 0)
		goto out;
	VEC_FOREACH (bn, &nodes) {
		ret = service_node_sync_one(svc, bn, VEC_ADD(out), err);
		if (ret < 0)
			break;
	}
	ret = service_end(svc, ret, err);
out:
	backend_node_vec_release(&nodes);
	return ret;
}
