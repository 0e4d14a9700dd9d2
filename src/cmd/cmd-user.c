/*
 * cmd-user.c - `orchestra user add|list|passwd|revoke|set|show|token|tokens`.
 */
#include <termios.h>
#include <unistd.h>

#include "cmd/cmd.h"

static void
cmd_user_print(const struct account *a)
{
	struct buf t = BUF_INIT;

	time_format_ms(&t, a->created_ms);
	cmd_printf(stdout,
	    "username:     %s\nemail:        %s\nmail:         %s\n"
	    "max_priority: %lld\nrole:         %s\nunix_user:    %s\n"
	    "created:      %s\n",
	    a->username, *a->email ? a->email : "-", a->mail_off ? "off" : "on",
	    (long long)a->max_priority, a->role, a->unix_user, t.data);
	if (a->hold != NULL)
		cmd_printf(stdout, "jobs wait:    %s\n", a->hold);
	buf_release(&t);
}

static const struct cmd_opt cmd_user_add_opts[] = {
	{ "email", "E", 'e', "the address mail goes to" },
	{ "priority", "N", 'p', "the user's max_priority (default 1000)" },
	{ "admin", NULL, 'a', "make the user an admin" },
	{ "mail", "on|off", 'm',
	    "mail the user when a task ends (default on)" },
	{ "unix-user", "LOGIN", 'u',
	    "the account the jobs run as (default: NAME)" },
	{ "kubernetes", NULL, 'k', "make the user's namespace and claim too" },
	{ "nfs-server", "HOST", 'N', "the NFS server of the user's volume" },
	{ "nfs-path", "PATH", 'P', "the NFS export of the user's volume" },
	{ "json", NULL, 'j', "print the user as JSON" },
	CMD_OPT_END,
};
static const struct cmd_opt cmd_user_set_opts[] = {
	{ "email", "E", 'e', "the address mail goes to" },
	{ "priority", "N", 'p', "the user's max_priority" },
	{ "role", "R", 'r', "user or admin" },
	{ "mail", "on|off", 'm', "mail the user when a task ends" },
	{ "unix-user", "LOGIN", 'u', "the account the jobs run as" },
	{ "json", NULL, 'j', "print the user as JSON" },
	CMD_OPT_END,
};

/*
 * Shared by add and set (each entry's table has its own options): parse
 * options into `o`; returns -1 to go on.
 */
static int
cmd_user_opts(struct cmd_ctx *ctx, int argc, char **argv, struct user_opts *o,
    bool *json)
{
	struct buf err = BUF_INIT;
	int c, ret;

	memset(o, 0, sizeof(*o));
	o->max_priority = OPT_UNSET;
	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(ctx);
		case 'e':
			o->email = cmd_optarg();
			break;
		case 'm':
			o->mail = cmd_optarg();
			break;
		case 'u':
			o->unix_user = cmd_optarg();
			break;
		case 'p':
			if (cmd_parse_int(ctx, "--priority", cmd_optarg(),
			        &o->max_priority) < 0)
				return CMD_EXIT_USAGE;
			break;
		case 'a':
			o->role = "admin";
			break;
		case 'r':
			o->role = cmd_optarg();
			break;
		case 'k':
			o->kubernetes = true;
			break;
		case 'N':
			o->nfs_server = cmd_optarg();
			break;
		case 'P':
			o->nfs_path = cmd_optarg();
			break;
		case 'j':
			*json = true;
			break;
		default:
			return CMD_EXIT_USAGE;
		}
	}
	if ((o->nfs_server || o->nfs_path) && !o->kubernetes)
		return cmd_usage_error(ctx,
		    "--nfs-server and --nfs-path need --kubernetes");
	/* A word it does not take is a usage error, as a number is. */
	if (service_user_check_words(o, &err) < 0) {
		ret = cmd_usage_error(ctx, "%s", err.data);
		buf_release(&err);
		return ret;
	}
	ret = cmd_args(ctx, argc, argv, 1, "user NAME");
	if (ret >= 0)
		return ret;
	return -1;
}

static int
cmd_user_add_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct user_opts o;
	struct account a = { 0 };
	struct buf err = BUF_INIT;
	bool json = false;
	int ret;

	ret = cmd_user_opts(ctx, argc, argv, &o, &json);
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_user_add(&ctx->svc, argv[argc - 1], &o, &a, &err);
	if (ret < 0)
		cmd_fail(ctx, &err);
	else if (json)
		cmd_print_json(service_json_account(&a));
	else if (ret == 1)
		cmd_printf(stdout,
		    "user '%s' exists; its Kubernetes namespace is ready\n",
		    a.username);
	else
		cmd_printf(stdout, "added user '%s' (%s, priority %lld)%s\n",
		    a.username, a.role, (long long)a.max_priority,
		    o.kubernetes ? ", with its Kubernetes namespace" : "");
	account_release(&a);
	buf_release(&err);
	return ret < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

static int
cmd_user_set_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct user_opts o;
	struct account a = { 0 };
	struct buf err = BUF_INIT;
	bool json = false;
	int ret;

	ret = cmd_user_opts(ctx, argc, argv, &o, &json);
	if (ret >= 0)
		return ret;
	if (service_user_check_set(&o, true, &err) < 0) {
		ret = cmd_usage_error(ctx, "%s", err.data);
		buf_release(&err);
		return ret;
	}
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_user_set(&ctx->svc, argv[argc - 1], &o, &a, &err);
	if (ret < 0)
		ret = cmd_fail(ctx, &err);
	else if (json)
		cmd_print_json(service_json_account(&a));
	else
		cmd_user_print(&a);
	account_release(&a);
	buf_release(&err);
	return ret != 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

static int
cmd_user_list_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const hdr[] = { "USERNAME", "ROLE", "PRIORITY",
		"UNIX USER", "EMAIL" };
	account_vec v = VEC_INIT;
	struct cmd_table t;
	struct buf err = BUF_INIT;
	struct account *a;
	bool json = false;
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
	ret = service_user_list(&ctx->svc, NULL, 0, &v, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json) {
		arr = json_array();
		VEC_FOREACH (a, &v)
			json_array_append_new(arr, service_json_account(a));
		cmd_print_json(arr);
	} else {
		cmd_table_init(&t, 5, hdr);
		VEC_FOREACH (a, &v) {
			cmd_table_addf(&t, "%s", a->username);
			cmd_table_addf(&t, "%s", a->role);
			cmd_table_addf(&t, "%lld", (long long)a->max_priority);
			cmd_table_addf(&t, "%s", a->unix_user);
			cmd_table_addf(&t, "%s", *a->email ? a->email : "-");
		}
		cmd_table_print(&t, stdout);
		cmd_table_release(&t);
	}
	ret = CMD_EXIT_OK;
out:
	account_vec_release(&v);
	buf_release(&err);
	return ret;
}

static int
cmd_user_show_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct account a = { 0 };
	struct buf err = BUF_INIT;
	bool json = false;
	int ret;

	ret = cmd_json_only(ctx, argc, argv, &json);
	if (ret >= 0)
		return ret;
	ret = cmd_args(ctx, argc, argv, 1, "user NAME");
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_user_show(&ctx->svc, argv[argc - 1], &a, &err);
	if (ret < 0)
		ret = cmd_fail(ctx, &err);
	else if (json)
		cmd_print_json(service_json_account(&a));
	else
		cmd_user_print(&a);
	account_release(&a);
	buf_release(&err);
	return ret != 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

static const struct cmd_opt cmd_user_token_opts[] = {
	{ "expires", "DURATION", 'e',
	    "the token ends after this (default never)" },
	{ "json", NULL, 'j', "print the token and its secret as JSON" },
	CMD_OPT_END,
};

static int
cmd_user_token_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct token t = { 0 };
	struct buf err = BUF_INIT, secret = BUF_INIT, when = BUF_INIT;
	int64_t expires = 0;
	bool json = false;
	json_t *v;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		if (c == 'h')
			return cmd_help(ctx);
		if (c == 'j') {
			json = true;
		} else if (c == 'e') {
			if (time_parse_duration(cmd_optarg(), &expires, &err) <
			    0) {
				ret = cmd_usage_error(ctx, "--expires: %s",
				    err.data);
				buf_release(&err);
				return ret;
			}
		} else {
			return CMD_EXIT_USAGE;
		}
	}
	ret = cmd_args(ctx, argc, argv, 1, "user NAME");
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_token_issue(&ctx->svc, argv[argc - 1], expires, &t,
	    &secret, &err);
	if (ret < 0) {
		cmd_fail(ctx, &err);
	} else if (json) {
		v = service_json_token(&t);
		json_object_set_new(v, "token", json_string(secret.data));
		cmd_print_json(v);
	} else {
		time_format_ms(&when, t.expires_ms);
		printf("%s\n", secret.data); /* the secret: not copied */
		cmd_printf(stderr,
		    "token %lld for user '%s' (expires: %s); it is shown "
		    "only this once\n",
		    (long long)t.id, t.username,
		    t.expires_ms ? when.data : "never");
	}
	buf_release_secret(&secret);
	token_release(&t);
	buf_release(&when);
	buf_release(&err);
	return ret < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

static void
cmd_user_tokens_print(const token_vec *v)
{
	static const char *const hdr[] = { "ID", "CREATED", "EXPIRES",
		"LAST USED", "REVOKED" };
	int64_t times[4];
	struct cmd_table t;
	struct buf b = BUF_INIT;
	const struct token *k;
	size_t i;

	cmd_table_init(&t, 5, hdr);
	VEC_FOREACH (k, v) {
		cmd_table_addf(&t, "%lld", (long long)k->id);
		times[0] = k->created_ms;
		times[1] = k->expires_ms;
		times[2] = k->last_used_ms;
		times[3] = k->revoked_ms;
		for (i = 0; i < 4; i++) {
			buf_reset(&b);
			time_format_ms(&b, times[i]);
			cmd_table_addf(&t, "%s", b.data);
		}
	}
	cmd_table_print(&t, stdout);
	cmd_table_release(&t);
	buf_release(&b);
}

static int
cmd_user_tokens_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	token_vec v = VEC_INIT;
	struct buf err = BUF_INIT;
	struct token *k;
	bool json = false;
	json_t *arr;
	int ret;

	ret = cmd_json_only(ctx, argc, argv, &json);
	if (ret >= 0)
		return ret;
	ret = cmd_args(ctx, argc, argv, 1, "user NAME");
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_token_list(&ctx->svc, argv[argc - 1], 0, 0, &v, &err);
	if (ret < 0) {
		cmd_fail(ctx, &err);
	} else if (json) {
		arr = json_array();
		VEC_FOREACH (k, &v)
			json_array_append_new(arr, service_json_token(k));
		cmd_print_json(arr);
	} else {
		cmd_user_tokens_print(&v);
	}
	token_vec_release(&v);
	buf_release(&err);
	return ret < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

/* `revoke NAME --all`: every token, every session. */
static int
cmd_user_revoke_all(struct cmd_ctx *ctx, const char *user, bool json)
{
	struct buf err = BUF_INIT;
	int64_t ntokens, nsessions;
	int ret;

	ret = service_token_revoke_all(&ctx->svc, user, &ntokens, &nsessions,
	    &err);
	if (ret < 0)
		cmd_fail(ctx, &err);
	else if (json)
		cmd_print_json(service_json_revoked(user, ntokens, nsessions));
	else
		printf("revoked %lld token%s of user '%s'; ended %lld "
		       "session%s\n",
		    (long long)ntokens, ntokens == 1 ? "" : "s", user,
		    (long long)nsessions, nsessions == 1 ? "" : "s");
	buf_release(&err);
	return ret < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

static const struct cmd_opt cmd_user_revoke_opts[] = {
	{ "all", NULL, 'a', "every token of the user, and end their sessions" },
	{ "json", NULL, 'j', "print what was revoked as JSON" },
	CMD_OPT_END,
};

static int
cmd_user_revoke_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct token t = { 0 };
	struct buf err = BUF_INIT;
	bool all = false, json = false;
	int64_t id;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		if (c == 'h')
			return cmd_help(ctx);
		if (c == 'a')
			all = true;
		else if (c == 'j')
			json = true;
		else
			return CMD_EXIT_USAGE;
	}
	if (all) {
		ret = cmd_args(ctx, argc, argv, 1, "user NAME");
		if (ret >= 0)
			return ret;
		if (cmd_open_store(ctx) != 0)
			return CMD_EXIT_FAIL;
		return cmd_user_revoke_all(ctx, argv[argc - 1], json);
	}
	if (argc - cmd_optind() != 2)
		return cmd_usage_error(ctx,
		    argc - cmd_optind() < 2
		        ? "missing user NAME, and TOKEN_ID or --all"
		        : "too many arguments");
	if (cmd_parse_int(ctx, "TOKEN_ID", argv[argc - 1], &id) < 0)
		return CMD_EXIT_USAGE;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_token_revoke(&ctx->svc, argv[argc - 2], id, &t, &err);
	if (ret < 0)
		cmd_fail(ctx, &err);
	else if (json)
		cmd_print_json(service_json_token(&t));
	else
		cmd_printf(stdout, "revoked token %lld of user '%s'\n",
		    (long long)t.id, t.username);
	token_release(&t);
	buf_release(&err);
	return ret < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

/*
 * One line from stdin, never argv (which `ps` shows); without echo on a
 * terminal.  0, or -1 at end of input.
 */
static int
cmd_user_read_password(struct buf *out)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	int c;

	if (tty) {
		fprintf(stderr, "password: ");
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	while ((c = getchar()) != EOF && c != '\n')
		buf_addch(out, (char)c);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (out->len > 0 && out->data[out->len - 1] == '\r')
		out->data[--out->len] = '\0';
	return c == EOF && out->len == 0 ? -1 : 0;
}

static int
cmd_user_passwd_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct buf err = BUF_INIT, pw = BUF_INIT;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1)
		return c == 'h' ? cmd_help(ctx) : CMD_EXIT_USAGE;
	ret = cmd_args(ctx, argc, argv, 1, "user NAME");
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	pw.cap_limit = 4096;
	if (cmd_user_read_password(&pw) < 0) {
		err_set(&err, ERR_INVALID, "no password on standard input");
		ret = ERR_INVALID;
	} else {
		ret = service_user_passwd(&ctx->svc, argv[argc - 1], pw.data,
		    &err);
	}
	if (ret < 0)
		cmd_fail(ctx, &err);
	else
		cmd_printf(stdout, "password of user '%s' set\n",
		    argv[argc - 1]);
	buf_release_secret(&pw);
	buf_release(&err);
	return ret < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

static const struct cmd_entry cmd_user_add_entry = {
	.name = "add",
	.usage =
	    "user add NAME [--email E] [--priority N] [--admin] "
	    "[--mail on|off] [--unix-user LOGIN] [--kubernetes [--nfs-server HOST --nfs-path PATH]] [--json]",
	.summary = "add a user (admins)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_user_add_run,
	.opts = cmd_user_add_opts,
	.example =
	    "orchestra user add alice --email alice@lab.example.org --unix-user alice",
};
static const struct cmd_entry cmd_user_list_entry = {
	.name = "list",
	.usage = "user list [--json]",
	.summary = "list users",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_user_list_run,
	.opts = cmd_opts_json,
	.example = "orchestra user list",
};
static const struct cmd_entry cmd_user_set_entry = {
	.name = "set",
	.usage = "user set NAME [--email E] [--priority N] [--role R] "
	         "[--mail on|off] [--unix-user LOGIN] [--json]",
	.summary = "change a user's email, priority, role, mail or Unix "
	           "account (admins)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_user_set_run,
	.opts = cmd_user_set_opts,
	.example = "orchestra user set alice --priority 2000",
};
static const struct cmd_entry cmd_user_show_entry = {
	.name = "show",
	.usage = "user show NAME [--json]",
	.summary = "show one user",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_user_show_run,
	.opts = cmd_opts_json,
	.example = "orchestra user show alice",
};
static const struct cmd_entry cmd_user_passwd_entry = {
	.name = "passwd",
	.usage = "user passwd NAME",
	.summary = "set a user's password, read from standard input",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_user_passwd_run,
	.example = "orchestra user passwd alice",
};
static const struct cmd_entry cmd_user_revoke_entry = {
	.name = "revoke",
	.usage = "user revoke NAME TOKEN_ID|--all [--json]",
	.summary = "revoke one of a user's API tokens, or all and their "
	           "sessions, at once",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_user_revoke_run,
	.opts = cmd_user_revoke_opts,
	.example = "orchestra user revoke alice 3\n"
	           "orchestra user revoke alice --all",
};
static const struct cmd_entry cmd_user_token_entry = {
	.name = "token",
	.usage = "user token NAME [--expires DURATION] [--json]",
	.summary = "issue an API token and print it, once",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_user_token_run,
	.opts = cmd_user_token_opts,
	.example = "orchestra user token alice --expires 90d",
};
static const struct cmd_entry cmd_user_tokens_entry = {
	.name = "tokens",
	.usage = "user tokens NAME [--json]",
	.summary = "list a user's API tokens (never their secrets)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_user_tokens_run,
	.opts = cmd_opts_json,
	.example = "orchestra user tokens alice",
};
static const struct cmd_entry *const cmd_user_sub[] = {
	&cmd_user_add_entry,
	&cmd_user_list_entry,
	&cmd_user_passwd_entry,
	&cmd_user_revoke_entry,
	&cmd_user_set_entry,
	&cmd_user_show_entry,
	&cmd_user_token_entry,
	&cmd_user_tokens_entry,
	NULL,
};
const struct cmd_entry cmd_user_entry = {
	.name = "user",
	.usage = "user add|list|passwd|revoke|set|show|token|tokens ...",
	.summary = "manage users",
	.sub = cmd_user_sub,
	.example = "orchestra user add alice --email alice@lab.example.org",
};
