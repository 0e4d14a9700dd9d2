/*
 * cmd-node.c - `orchestra node add|list|set|drain|resume`.
 */
#include "cmd/cmd.h"

/*
 * The node's state; its health is what the last pilot cycle found, so
 * with no pilot running it is not known (`no_pilot`), but a node the
 * backend cannot run jobs on stays unreachable.
 */
static const char *
cmd_node_state(const struct node *n, bool no_pilot)
{
	if (!n->enabled)
		return "drained";
	/* Not health but what the backend is: it holds with no pilot. */
	if (!n->reachable)
		return "unreachable";
	if (no_pilot)
		return "unknown (no pilot)";
	if (!n->ready)
		return "not-ready";
	if (n->memory_pressure)
		return "memory-pressure";
	if (n->disk_pressure)
		return "disk-pressure";
	return "ready";
}

/* "3 GiB/16 GiB" in use of its memory; "-" when not known. */
static void
cmd_node_memory(struct buf *b, const struct node *n)
{
	if (n->memory == 0) {
		buf_adds(b, "-");
		return;
	}
	size_format(b, n->memory_used);
	buf_addch(b, '/');
	size_format(b, n->memory);
}

static void
cmd_node_print(struct cmd_ctx *ctx, const struct node *n)
{
	struct buf mem = BUF_INIT;

	cmd_node_memory(&mem, n);
	cmd_printf(stdout,
	    "node '%s' (queue %s, %s): cpu %lld/%lld slots (max %lld), "
	    "gpu %d/%lld slots (max %lld), memory %s\n",
	    n->name, n->queue,
	    cmd_node_state(n, service_pilot_down(&ctx->svc, NULL)),
	    (long long)n->cpu_used, (long long)n->cpu_slots,
	    (long long)n->max_cpu_slots, __builtin_popcountll(n->gpu_used),
	    (long long)n->gpu_slots, (long long)n->max_gpu_slots, mem.data);
	buf_release(&mem);
}

static int
cmd_node_finish(struct cmd_ctx *ctx, int ret, bool json, struct node *n,
    struct buf *err)
{
	if (ret < 0)
		ret = cmd_fail(ctx, err);
	else if (json)
		cmd_print_json(service_json_node(n));
	else
		cmd_node_print(ctx, n);
	node_release(n);
	buf_release(err);
	return ret != 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

static const struct cmd_opt cmd_node_slot_opts[] = {
	{ "queue", "Q", 'q', "the node's queue" },
	{ "cpu-slots", "N", 'c', "how many CPU jobs it may run at once" },
	{ "gpu-slots", "N", 'g', "how many GPU jobs it may run at once" },
	{ "max-cpu-slots", "N", 'C',
	    "the most --cpu-slots may be (default 30)" },
	{ "max-gpu-slots", "N", 'G',
	    "the most --gpu-slots may be (default: its GPUs)" },
	{ "memory", "SIZE", 'm',
	    "its memory jobs may use: 64G (G = GiB); 0: not known" },
	{ "json", NULL, 'j', "print the node as JSON" },
	CMD_OPT_END,
};

/* add and set: NAME and slot options; returns -1 to go on. */
static int
cmd_node_opts(struct cmd_ctx *ctx, int argc, char **argv, struct node_opts *o,
    bool *json)
{
	int64_t *target;
	const char *name;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(ctx);
		case 'j':
			*json = true;
			continue;
		case 'q':
			o->queue = cmd_optarg();
			continue;
		case 'm':
			if (cmd_parse_size(ctx, "--memory", cmd_optarg(),
			        &o->memory) < 0)
				return CMD_EXIT_USAGE;
			continue;
		case 'c':
			target = &o->cpu_slots;
			name = "--cpu-slots";
			break;
		case 'g':
			target = &o->gpu_slots;
			name = "--gpu-slots";
			break;
		case 'C':
			target = &o->max_cpu_slots;
			name = "--max-cpu-slots";
			break;
		case 'G':
			target = &o->max_gpu_slots;
			name = "--max-gpu-slots";
			break;
		default:
			return CMD_EXIT_USAGE;
		}
		if (cmd_parse_int(ctx, name, cmd_optarg(), target) < 0)
			return CMD_EXIT_USAGE;
	}
	ret = cmd_args(ctx, argc, argv, 1, "node NAME");
	if (ret >= 0)
		return ret;
	return -1;
}

static int
cmd_node_add_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct node_opts o = NODE_OPTS_INIT;
	struct node n = { 0 };
	struct buf err = BUF_INIT;
	bool json = false;
	int ret;

	ret = cmd_node_opts(ctx, argc, argv, &o, &json);
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_node_add(&ctx->svc, argv[argc - 1], &o, &n, &err);
	return cmd_node_finish(ctx, ret, json, &n, &err);
}

static int
cmd_node_set_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct node_opts o = NODE_OPTS_INIT;
	struct node n = { 0 };
	struct buf err = BUF_INIT;
	bool json = false;
	int ret;

	ret = cmd_node_opts(ctx, argc, argv, &o, &json);
	if (ret >= 0)
		return ret;
	if (service_node_check_set(&o, true, &err) < 0) {
		ret = cmd_usage_error(ctx, "%s", err.data);
		buf_release(&err);
		return ret;
	}
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_node_set(&ctx->svc, argv[argc - 1], &o, &n, &err);
	return cmd_node_finish(ctx, ret, json, &n, &err);
}

/* drain and resume: NAME [--json]. */
static int
cmd_node_enable(struct cmd_ctx *ctx, int argc, char **argv, bool enabled)
{
	struct node n = { 0 };
	struct buf err = BUF_INIT;
	bool json = false;
	int ret;

	ret = cmd_json_only(ctx, argc, argv, &json);
	if (ret >= 0)
		return ret;
	ret = cmd_args(ctx, argc, argv, 1, "node NAME");
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_node_enable(&ctx->svc, argv[argc - 1], enabled, &n, &err);
	return cmd_node_finish(ctx, ret, json, &n, &err);
}

static int
cmd_node_drain_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_node_enable(ctx, argc, argv, false);
}

static int
cmd_node_resume_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_node_enable(ctx, argc, argv, true);
}

static int
cmd_node_list_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const hdr[] = { "NAME", "QUEUE", "STATE", "CPU",
		"GPU", "MEMORY", "DONE", "FAILED" };
	struct buf mem = BUF_INIT;
	node_vec v = VEC_INIT;
	struct cmd_table t;
	struct buf err = BUF_INIT;
	struct node *n;
	bool json = false, no_pilot;
	json_t *arr;
	int ret;

	ret = cmd_json_only(ctx, argc, argv, &json);
	if (ret >= 0)
		return ret;
	ret = cmd_args(ctx, argc, argv, 0, NULL);
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	no_pilot = service_pilot_down(&ctx->svc, NULL);
	ret = service_node_list(&ctx->svc, NULL, 0, &v, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json) {
		arr = json_array();
		VEC_FOREACH (n, &v)
			json_array_append_new(arr, service_json_node(n));
		cmd_print_json(arr);
	} else {
		cmd_table_init(&t, 8, hdr);
		VEC_FOREACH (n, &v) {
			cmd_table_addf(&t, "%s", n->name);
			cmd_table_addf(&t, "%s", n->queue);
			cmd_table_addf(&t, "%s", cmd_node_state(n, no_pilot));
			cmd_table_addf(&t, "%lld/%lld (max %lld)",
			    (long long)n->cpu_used, (long long)n->cpu_slots,
			    (long long)n->max_cpu_slots);
			cmd_table_addf(&t, "%d/%lld (max %lld)",
			    __builtin_popcountll(n->gpu_used),
			    (long long)n->gpu_slots,
			    (long long)n->max_gpu_slots);
			buf_reset(&mem);
			cmd_node_memory(&mem, n);
			cmd_table_addf(&t, "%s", mem.data);
			cmd_table_addf(&t, "%lld", (long long)n->completed);
			cmd_table_addf(&t, "%lld", (long long)n->failed);
		}
		cmd_table_print(&t, stdout);
		cmd_table_release(&t);
	}
	ret = CMD_EXIT_OK;
out:
	node_vec_release(&v);
	buf_release(&mem);
	buf_release(&err);
	return ret;
}

static const char *
cmd_node_sync_word(const struct node_sync *s)
{
	return s->added ? "added" : s->changed ? "changed" : "unchanged";
}

static int
cmd_node_sync_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const hdr[] = { "NAME", "QUEUE", "CPU", "GPU",
		"SYNC" };
	node_sync_vec v = VEC_INIT;
	struct buf err = BUF_INIT;
	struct node_sync *s;
	struct cmd_table t;
	bool json = false;
	json_t *arr, *o;
	int ret;

	ret = cmd_json_only(ctx, argc, argv, &json);
	if (ret >= 0)
		return ret;
	ret = cmd_args(ctx, argc, argv, 0, NULL);
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_node_sync(&ctx->svc, &v, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json) {
		arr = json_array();
		VEC_FOREACH (s, &v) {
			o = service_json_node(&s->node);
			json_object_set_new(o, "sync",
			    json_string(cmd_node_sync_word(s)));
			json_array_append_new(arr, o);
		}
		cmd_print_json(arr);
	} else {
		cmd_table_init(&t, 5, hdr);
		VEC_FOREACH (s, &v) {
			cmd_table_addf(&t, "%s", s->node.name);
			cmd_table_addf(&t, "%s", s->node.queue);
			cmd_table_addf(&t, "%lld/%lld",
			    (long long)s->node.cpu_slots,
			    (long long)s->node.max_cpu_slots);
			cmd_table_addf(&t, "%lld/%lld",
			    (long long)s->node.gpu_slots,
			    (long long)s->node.max_gpu_slots);
			cmd_table_addf(&t, "%s", cmd_node_sync_word(s));
		}
		cmd_table_print(&t, stdout);
		cmd_table_release(&t);
	}
	ret = CMD_EXIT_OK;
out:
	node_sync_vec_release(&v);
	buf_release(&err);
	return ret;
}

#define CMD_NODE_SLOT_OPTS                                                     \
	"[--queue Q] [--cpu-slots N] [--gpu-slots N] [--max-cpu-slots N] "     \
	"[--max-gpu-slots N] [--memory SIZE] [--json]"

static const struct cmd_entry cmd_node_add_entry = {
	.name = "add",
	.usage = "node add NAME " CMD_NODE_SLOT_OPTS,
	.summary = "add a node; unset slots default to their maximum (admins)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_node_add_run,
	.opts = cmd_node_slot_opts,
	.example =
	    "orchestra node add gpu1 --queue gpu --max-gpu-slots 4 --gpu-slots 4",
};
static const struct cmd_entry cmd_node_drain_entry = {
	.name = "drain",
	.usage = "node drain NAME [--json]",
	.summary = "give a node no new jobs; running ones go on (admins)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_node_drain_run,
	.opts = cmd_opts_json,
	.example = "orchestra node drain gpu1",
};
static const struct cmd_entry cmd_node_list_entry = {
	.name = "list",
	.usage = "node list [--json]",
	.summary = "list nodes with their slots in use",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_node_list_run,
	.opts = cmd_opts_json,
	.example = "orchestra node list",
};
static const struct cmd_entry cmd_node_resume_entry = {
	.name = "resume",
	.usage = "node resume NAME [--json]",
	.summary = "give a drained node jobs again (admins)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_node_resume_run,
	.opts = cmd_opts_json,
	.example = "orchestra node resume gpu1",
};
static const struct cmd_entry cmd_node_set_entry = {
	.name = "set",
	.usage = "node set NAME " CMD_NODE_SLOT_OPTS,
	.summary = "change a node's queue, slots or memory, live (admins)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_node_set_run,
	.opts = cmd_node_slot_opts,
	.example = "orchestra node set $(hostname) --cpu-slots 8",
};
static const struct cmd_entry cmd_node_sync_entry = {
	.name = "sync",
	.usage = "node sync [--json]",
	.summary = "import the backend's nodes, their GPUs and memory (admins)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_node_sync_run,
	.opts = cmd_opts_json,
	.example = "ORCHESTRA_BACKEND=kubernetes orchestra node sync",
};
static const struct cmd_entry *const cmd_node_sub[] = {
	&cmd_node_add_entry,
	&cmd_node_drain_entry,
	&cmd_node_list_entry,
	&cmd_node_resume_entry,
	&cmd_node_set_entry,
	&cmd_node_sync_entry,
	NULL,
};
const struct cmd_entry cmd_node_entry = {
	.name = "node",
	.usage = "node add|drain|list|resume|set|sync ...",
	.summary = "manage nodes and their slots",
	.sub = cmd_node_sub,
	.example = "orchestra node set $(hostname) --cpu-slots 8",
};
