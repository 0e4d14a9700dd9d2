/*
 * cmd.c - dispatch through the command table, --help, option parsing,
 * errors, human output (escaped), tables and JSON output.
 */
#include <getopt.h>

#include "cmd/cmd.h"

/* Sorted by name; a new command is a file and one line here. */
const struct cmd_entry *const cmd_table[] = {
	&cmd_doctor_entry,
	&cmd_history_entry,
	&cmd_init_entry,
	&cmd_metrics_entry,
	&cmd_node_entry,
	&cmd_pilot_entry,
	&cmd_queue_entry,
	&cmd_serve_entry,
	&cmd_status_entry,
	&cmd_task_entry,
	&cmd_user_entry,
	NULL,
};

static void
cmd_list_sub(FILE *f, const char *prefix, const struct cmd_entry *const *sub)
{
	size_t i;

	fprintf(f, "commands:\n");
	for (i = 0; sub[i] != NULL; i++)
		fprintf(f, "  %s%s%-10s %s\n", prefix, *prefix ? " " : "",
		    sub[i]->name, sub[i]->summary);
}

const struct cmd_opt cmd_opts_json[] = {
	{ "json", NULL, 'j', "print the result as JSON" },
	CMD_OPT_END,
};

/* The options column of --help: "--name ARG", this wide at most. */
#define CMD_HELP_OPT_WIDTH 26

void
cmd_help_opts(FILE *f, const struct cmd_opt *opts)
{
	struct buf b = BUF_INIT;
	int w = 0, len;
	size_t i;

	for (i = 0; opts != NULL && opts[i].name != NULL; i++) {
		len = (int)strlen(opts[i].name) + 2;
		if (opts[i].arg != NULL)
			len += 1 + (int)strlen(opts[i].arg);
		if (len > w)
			w = len;
	}
	if (w > CMD_HELP_OPT_WIDTH)
		w = CMD_HELP_OPT_WIDTH;
	if (w < 10)
		w = 10;
	fprintf(f, "options:\n");
	for (i = 0; opts != NULL && opts[i].name != NULL; i++) {
		buf_reset(&b);
		buf_addf(&b, "--%s", opts[i].name);
		if (opts[i].arg != NULL)
			buf_addf(&b, " %s", opts[i].arg);
		fprintf(f, "  %-*s  %s\n", w, b.data, opts[i].help);
	}
	fprintf(f, "  %-*s  %s\n", w, "--help", "print this help and exit");
	buf_release(&b);
}

int
cmd_help(struct cmd_ctx *ctx)
{
	const struct cmd_entry *e = ctx->entry;
	const char *p, *nl;

	printf("usage: orchestra %s\n\n%s\n\n", e->usage, e->summary);
	if (e->sub != NULL)
		cmd_list_sub(stdout, ctx->path, e->sub);
	else
		cmd_help_opts(stdout, e->opts);
	if (e->example != NULL) {
		printf("\nexample:\n");
		for (p = e->example; *p != '\0'; p = *nl ? nl + 1 : nl) {
			nl = strchrnul(p, '\n');
			printf("  %.*s\n", (int)(nl - p), p);
		}
	}
	return CMD_EXIT_OK;
}

void
cmd_printf(FILE *f, const char *fmt, ...)
{
	struct buf raw = BUF_INIT, shown = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&raw, fmt, ap);
	va_end(ap);
	buf_add_printable(&shown, raw.data, true);
	fwrite(shown.data, 1, shown.len, f);
	buf_release(&raw);
	buf_release(&shown);
}

/* One line on stderr, "orchestra: " and `msg` escaped, newlines too. */
static void
cmd_error_line(const char *prefix, const char *msg)
{
	struct buf line = BUF_INIT;

	buf_adds(&line, "orchestra: ");
	buf_add_printable(&line, prefix, false);
	buf_add_printable(&line, msg, false);
	buf_addch(&line, '\n');
	fwrite(line.data, 1, line.len, stderr);
	buf_release(&line);
}

int
cmd_fail(struct cmd_ctx *ctx, const struct buf *err)
{
	(void)ctx;
	cmd_error_line("", err->len ? err->data : "failed (no reason given)");
	return CMD_EXIT_FAIL;
}

int
cmd_usage_error(struct cmd_ctx *ctx, const char *fmt, ...)
{
	struct buf msg = BUF_INIT, prefix = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (ctx->path != NULL && *ctx->path != '\0')
		buf_addf(&prefix, "%s: ", ctx->path);
	cmd_error_line(prefix.data, msg.data);
	if (ctx->entry != NULL)
		fprintf(stderr, "usage: orchestra %s\n", ctx->entry->usage);
	buf_release(&msg);
	buf_release(&prefix);
	return CMD_EXIT_USAGE;
}

static const struct cmd_entry *
cmd_find(const struct cmd_entry *const *table, const char *name)
{
	size_t i;

	for (i = 0; table[i] != NULL; i++)
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
	return NULL;
}

/* ORCHESTRA_URL, else the config's url; NULL when neither is set. */
static const char *
cmd_remote_url(const struct cmd_ctx *ctx)
{
	const char *url = config_env(&ctx->cfg, CONFIG_URL);

	return url != NULL && *url != '\0' ? url : NULL;
}

/* A CMD_LOCAL command with a URL set: say why not, and where it is. */
static int
cmd_refuse_remote(struct cmd_ctx *ctx)
{
	struct buf where = BUF_INIT;

	config_env_where(&ctx->cfg, CONFIG_URL, &where);
	fprintf(stderr,
	    "orchestra: '%s' works on the database itself, not through "
	    "%s: unset it to run here\n",
	    ctx->path, where.data);
	buf_release(&where);
	return CMD_EXIT_FAIL;
}

int
cmd_open_store(struct cmd_ctx *ctx)
{
	struct buf err = BUF_INIT;
	const char *url = cmd_remote_url(ctx);
	int ret;

	if (!(ctx->entry->flags & CMD_NEEDS_STORE))
		BUG("command '%s' opens the store without CMD_NEEDS_STORE",
		    ctx->path);
	if (service_is_open(&ctx->svc))
		return 0;
	if (url != NULL && (ctx->entry->flags & CMD_LOCAL))
		return cmd_refuse_remote(ctx);
	if (url != NULL)
		ret = service_open_remote(&ctx->svc, &ctx->cfg, &err);
	else
		ret = service_open(&ctx->svc, &ctx->cfg, ctx->actor, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		buf_release(&err);
		return ret;
	}
	return 0;
}

int
cmd_dispatch(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *const *table = cmd_table;
	const struct cmd_entry *e = NULL;
	struct buf path = BUF_INIT;
	bool help;
	int ret;

	for (;;) {
		if (argc < 1 || argv[0][0] == '-') {
			if (e == NULL)
				BUG("dispatch with no command");
			ctx->entry = e;
			ctx->path = buf_detach(&path);
			if (argc >= 1 &&
			    (strcmp(argv[0], "--help") == 0 ||
			        strcmp(argv[0], "-h") == 0))
				return cmd_help(ctx);
			if (argc >= 1)
				return cmd_usage_error(ctx,
				    "unknown option '%s'", argv[0]);
			fprintf(stderr, "usage: orchestra %s\n", e->usage);
			cmd_list_sub(stderr, ctx->path, e->sub);
			return CMD_EXIT_USAGE;
		}
		e = cmd_find(table, argv[0]);
		if (e == NULL) {
			ctx->path = buf_detach(&path);
			ret = cmd_usage_error(ctx, "unknown command '%s'",
			    argv[0]);
			fprintf(stderr, "try 'orchestra%s%s --help'\n",
			    *ctx->path ? " " : "", ctx->path);
			return ret;
		}
		buf_addf(&path, "%s%s", path.len ? " " : "", e->name);
		if (e->sub == NULL)
			break;
		table = e->sub;
		argc--;
		argv++;
	}
	ctx->entry = e;
	ctx->path = buf_detach(&path);
	/* `orchestra CMD --help` answers whatever the config or the URL. */
	help = argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
	if (ctx->cfg_err != NULL && !(e->flags & CMD_ANY_CONFIG) && !help) {
		cmd_error_line("", ctx->cfg_err);
		return CMD_EXIT_FAIL;
	}
	if ((e->flags & CMD_LOCAL) && cmd_remote_url(ctx) != NULL && !help)
		return cmd_refuse_remote(ctx);
	return e->run(ctx, argc, argv);
}

/* The most options a command has (struct option needs a fixed array). */
#define CMD_MAX_OPTS 32

/* Print the options of `opts` that begin with "-", one a line. */
static void
cmd_complete_opts(const struct cmd_opt *opts)
{
	size_t i;

	for (i = 0; opts != NULL && opts[i].name != NULL; i++)
		printf("--%s\n", opts[i].name);
	printf("--help\n");
}

/* The option of `opts` that `word` names ("--name" or "--name=..."). */
static const struct cmd_opt *
cmd_complete_find_opt(const struct cmd_opt *opts, const char *word)
{
	size_t i, len;

	if (strncmp(word, "--", 2) != 0)
		return NULL;
	word += 2;
	len = strcspn(word, "=");
	for (i = 0; opts != NULL && opts[i].name != NULL; i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, word, len) == 0)
			return &opts[i];
	return NULL;
}

void
cmd_complete(const struct cmd_opt *global, int nwords, char **words)
{
	const struct cmd_entry *const *table = cmd_table;
	const struct cmd_entry *e = NULL;
	const struct cmd_opt *o;
	const char *cur;
	int i = 0;
	size_t k;

	if (nwords < 1)
		return;
	cur = words[nwords - 1];
	/* The global options, and the value of one that takes it. */
	while (i < nwords - 1 && words[i][0] == '-') {
		o = cmd_complete_find_opt(global, words[i]);
		i += o != NULL && o->arg != NULL && !strchr(words[i], '=') ? 2
		                                                           : 1;
	}
	if (i > nwords - 1)
		return; /* the value of a global option */
	/* The command path, down to a leaf. */
	for (; i < nwords - 1 && (e == NULL || e->sub != NULL); i++) {
		e = cmd_find(table, words[i]);
		if (e == NULL)
			return;
		if (e->sub != NULL)
			table = e->sub;
	}
	if (e == NULL || e->sub != NULL) {
		if (cur[0] == '-') {
			cmd_complete_opts(e == NULL ? global : NULL);
			return;
		}
		for (k = 0; table[k] != NULL; k++)
			printf("%s\n", table[k]->name);
		return;
	}
	/* A leaf: its options, unless the word is an option's value. */
	o = cmd_complete_find_opt(e->opts, words[nwords - 2]);
	if (o != NULL && o->arg != NULL &&
	    strchr(words[nwords - 2], '=') == NULL)
		return;
	if (cur[0] == '-')
		cmd_complete_opts(e->opts);
}

int
cmd_getopt(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_opt *opts = ctx->entry->opts;
	struct option long_opts[CMD_MAX_OPTS + 2];
	size_t i, n = 0;
	int c;

	for (i = 0; opts != NULL && opts[i].name != NULL; i++) {
		if (n == CMD_MAX_OPTS)
			BUG("command '%s' has more than %d options", ctx->path,
			    CMD_MAX_OPTS);
		long_opts[n].name = opts[i].name;
		long_opts[n].has_arg =
		    opts[i].arg != NULL ? required_argument : no_argument;
		long_opts[n].flag = NULL;
		long_opts[n].val = opts[i].val;
		n++;
	}
	long_opts[n] = (struct option){ "help", no_argument, NULL, 'h' };
	long_opts[n + 1] = (struct option){ NULL, 0, NULL, 0 };
	opterr = 0;
	c = getopt_long(argc, argv, "h", long_opts, NULL);
	if (c == '?' || c == ':') {
		if (optopt != 0 && optopt != '?')
			cmd_usage_error(ctx, "option '--%s' needs a value",
			    argv[optind - 1] + 2);
		else
			cmd_usage_error(ctx, "unknown option '%s'",
			    argv[optind - 1]);
		return '?';
	}
	return c;
}

int
cmd_optind(void)
{
	return optind;
}

const char *
cmd_optarg(void)
{
	return optarg;
}

int
cmd_args(struct cmd_ctx *ctx, int argc, char **argv, int want, const char *what)
{
	int have = argc - cmd_optind();

	if (have == want)
		return -1;
	if (have < want)
		return cmd_usage_error(ctx, "missing %s", what);
	if (want == 0)
		return cmd_usage_error(ctx, "unexpected argument '%s'",
		    argv[cmd_optind()]);
	return cmd_usage_error(ctx, "too many arguments");
}

int
cmd_json_only(struct cmd_ctx *ctx, int argc, char **argv, bool *json)
{
	int c;

	if (ctx->entry->opts != cmd_opts_json)
		BUG("command '%s' parses --json alone but its options differ",
		    ctx->path);
	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		if (c == 'h')
			return cmd_help(ctx);
		if (c != 'j')
			return CMD_EXIT_USAGE;
		*json = true;
	}
	return -1;
}

int
cmd_parse_int(struct cmd_ctx *ctx, const char *opt, const char *arg,
    int64_t *out)
{
	if (util_parse_int64(arg, INT64_MIN / 2, INT64_MAX / 2, out) < 0 &&
	    (arg[0] != '-' ||
	        util_parse_int64(arg + 1, 0, INT64_MAX / 2, out) < 0)) {
		cmd_usage_error(ctx, "invalid %s '%s': expected a whole number",
		    opt, arg);
		return -1;
	}
	if (arg[0] == '-' && *out > 0)
		*out = -*out;
	return 0;
}

/* Parse `arg` with `parse` (a util parser); usage error on failure. */
static int
cmd_parse_with(struct cmd_ctx *ctx, const char *opt, const char *arg,
    int64_t *out, int (*parse)(const char *, int64_t *, struct buf *))
{
	struct buf err = BUF_INIT;

	if (parse(arg, out, &err) < 0) {
		cmd_usage_error(ctx, "%s: %s", opt, err.data);
		buf_release(&err);
		return -1;
	}
	return 0;
}

int
cmd_parse_size(struct cmd_ctx *ctx, const char *opt, const char *arg,
    int64_t *out)
{
	return cmd_parse_with(ctx, opt, arg, out, size_parse);
}

int
cmd_parse_duration(struct cmd_ctx *ctx, const char *opt, const char *arg,
    int64_t *out_ms)
{
	return cmd_parse_with(ctx, opt, arg, out_ms, time_parse_duration);
}

int
cmd_parse_limit(struct cmd_ctx *ctx, int64_t min, int64_t *out)
{
	if (cmd_parse_int(ctx, "--limit", cmd_optarg(), out) < 0)
		return -1;
	if (*out < min) {
		cmd_usage_error(ctx,
		    "invalid --limit %lld: expected %lld or more",
		    (long long)*out, (long long)min);
		return -1;
	}
	return 0;
}

void
cmd_table_init(struct cmd_table *t, size_t ncols, const char *const *hdr)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	for (i = 0; i < ncols; i++)
		VEC_PUSH(&t->cells, xstrdup(hdr[i]));
}

/* Add one cell; fmt is one value, kept escaped (its width is shown). */
void
cmd_table_addf(struct cmd_table *t, const char *fmt, ...)
{
	struct buf raw = BUF_INIT, shown = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&raw, fmt, ap);
	va_end(ap);
	buf_add_printable(&shown, raw.data, false);
	VEC_PUSH(&t->cells, buf_detach(&shown));
	buf_release(&raw);
}

void
cmd_table_add_memory(struct cmd_table *t, int64_t peak, int64_t limit)
{
	struct buf b = BUF_INIT;

	if (peak < 0 && limit <= 0) {
		cmd_table_addf(t, "-");
		return;
	}
	if (peak >= 0)
		size_format(&b, peak);
	else
		buf_adds(&b, "-");
	buf_adds(&b, " / ");
	if (limit > 0)
		size_format(&b, limit);
	else
		buf_adds(&b, "-");
	cmd_table_addf(t, "%s", b.data);
	buf_release(&b);
}

void
cmd_table_add_exit(struct cmd_table *t, int64_t exit_code,
    const char *end_reason)
{
	if (exit_code >= 0 && end_reason != NULL &&
	    strcmp(end_reason, "exit") != 0)
		cmd_table_addf(t, "%lld (%s)", (long long)exit_code,
		    end_reason);
	else if (exit_code >= 0)
		cmd_table_addf(t, "%lld", (long long)exit_code);
	else if (end_reason != NULL)
		cmd_table_addf(t, "- (%s)", end_reason);
	else
		cmd_table_addf(t, "-");
}

void
cmd_table_add_cpu(struct cmd_table *t, int64_t cpu_ms)
{
	if (cpu_ms < 0)
		cmd_table_addf(t, "-");
	else
		cmd_table_addf(t, "%lld.%02lld s", (long long)(cpu_ms / 1000),
		    (long long)(cpu_ms % 1000 / 10));
}

/*
 * The width of a cell on the terminal: its characters, as a cell is
 * well-formed UTF-8 (cmd_table_addf escaped the rest), each counted one
 * column wide.  NEEDSWORK: wide (East Asian) and combining characters.
 */
static size_t
cmd_table_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void
cmd_table_print(struct cmd_table *t, FILE *f)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));
	size_t i, len;

	for (i = 0; i < t->cells.n; i++) {
		len = cmd_table_width(t->cells.v[i]);
		if (len > w[i % t->ncols])
			w[i % t->ncols] = len;
	}
	for (i = 0; i < t->cells.n; i++) {
		size_t col = i % t->ncols;

		if (col == t->ncols - 1) {
			fprintf(f, "%s\n", t->cells.v[i]);
			continue;
		}
		len = cmd_table_width(t->cells.v[i]);
		fprintf(f, "%s%*s  ", t->cells.v[i], (int)(w[col] - len), "");
	}
	free(w);
}

void
cmd_table_release(struct cmd_table *t)
{
	size_t i;

	for (i = 0; i < t->cells.n; i++)
		free(t->cells.v[i]);
	VEC_RELEASE(&t->cells);
}

void
cmd_print_json(json_t *v)
{
	json_dumpf(v, stdout,
	    JSON_INDENT(2) | JSON_ENSURE_ASCII | SERVICE_JSON_DUMP_REAL);
	fputc('\n', stdout);
	json_decref(v);
}

/* One CSV field (RFC 4180): quoted, its quotes doubled, when it holds a
 * comma, a quote or a line end. */
static void
cmd_csv_field(struct buf *line, const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_adds(line, s);
		return;
	}
	buf_addch(line, '"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			buf_addch(line, '"');
		buf_addch(line, *p);
	}
	buf_addch(line, '"');
}

void
cmd_print_csv(const struct service_field *fields, json_t *rows)
{
	const struct service_field *f;
	struct buf line = BUF_INIT;
	json_t *row, *v;
	bool first;
	char *text;
	size_t i;

	for (f = fields; f->name != NULL; f++) {
		if (f->flags & SERVICE_FIELD_INTERNAL)
			continue;
		if (line.len > 0)
			buf_addch(&line, ',');
		cmd_csv_field(&line, f->name);
	}
	buf_adds(&line, "\r\n");
	json_array_foreach(rows, i, row)
	{
		first = true;
		for (f = fields; f->name != NULL; f++) {
			if (f->flags & SERVICE_FIELD_INTERNAL)
				continue;
			if (!first)
				buf_addch(&line, ',');
			first = false;
			v = json_object_get(row, f->name);
			if (json_is_string(v)) {
				cmd_csv_field(&line, json_string_value(v));
			} else if (v != NULL && !json_is_null(v)) {
				text = json_dumps(v,
				    JSON_ENCODE_ANY | SERVICE_JSON_DUMP_REAL);
				cmd_csv_field(&line, text != NULL ? text : "");
				free(text);
			}
		}
		buf_adds(&line, "\r\n");
	}
	fwrite(line.data, 1, line.len, stdout);
	buf_release(&line);
	json_decref(rows);
}
