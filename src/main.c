/*
 * main.c - global options, then the command table (cmd/cmd.c).
 */
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"

static const char main_usage[] =
    "usage: orchestra [--user U] [--version] [--help] COMMAND [ARGS]\n";

/* The options before the command: --help and the completion read them. */
static const struct cmd_opt main_opts[] = {
	{ "user", "U", 'u', "act as user U (else $ORCHESTRA_USER, else you)" },
	{ "version", NULL, 'V', "print the version and exit" },
	{ "complete", "WORD...", 'c',
	    "print what the last WORD may become, one a line (for the shell)" },
	CMD_OPT_END,
};

static void
main_help(FILE *f)
{
	size_t i;

	fputs(main_usage, f);
	fputs("\ncommands:\n", f);
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-8s %s\n", cmd_table[i]->name,
		    cmd_table[i]->summary);
	fputs("\n", f);
	cmd_help_opts(f, main_opts);
	fputs("\nexample:\n  orchestra task submit wc --inputs 'data/*.txt' "
	      "--exec 'wc -w < %IN > %OUT/out.%JOB'\n",
	    f);
	fputs("\nEvery command takes --help.  The database is $ORCHESTRA_DB, "
	      "else\n$ORCHESTRA_HOME/orchestra.db "
	      "(~/.local/share/orchestra/orchestra.db).\n",
	    f);
}

/* --user, else ORCHESTRA_USER, else the login name. */
static const char *
main_actor(const char *opt)
{
	const char *env = getenv("ORCHESTRA_USER");
	struct passwd *pw;

	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	pw = getpwuid(geteuid());
	if (pw != NULL)
		return pw->pw_name;
	return "root";
}

int
main(int argc, char **argv)
{
	struct cmd_ctx ctx = { 0 };
	struct buf err = BUF_INIT;
	const char *user = NULL;
	int i, ret;

	log_set_process("orchestra");
	/*
	 * What Orchestra makes is its account's alone (the database, its
	 * WAL, lock files, job records), whatever the umask; the few shared
	 * places get their modes explicitly.  And no other process of this
	 * account, a job included, reads our memory or environment (the
	 * database password, the SMTP password).
	 */
	umask(077);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (argc >= 2 && strcmp(argv[1], "--complete") == 0) {
		cmd_complete(main_opts, argc - 2, argv + 2);
		return CMD_EXIT_OK;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			main_help(stdout);
			return CMD_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("orchestra %s\n", ORCHESTRA_VERSION);
			return CMD_EXIT_OK;
		} else if (strcmp(argv[i], "--user") == 0) {
			if (i + 1 == argc) {
				fprintf(stderr,
				    "orchestra: option '--user' "
				    "needs a value\n%s",
				    main_usage);
				return CMD_EXIT_USAGE;
			}
			user = argv[++i];
		} else if (strncmp(argv[i], "--user=", 7) == 0) {
			user = argv[i] + 7;
		} else {
			cmd_printf(stderr, "orchestra: unknown option '%s'\n%s",
			    argv[i], main_usage);
			return CMD_EXIT_USAGE;
		}
	}
	if (i == argc) {
		main_help(stderr);
		return CMD_EXIT_USAGE;
	}
	/* A command that runs without settings (doctor) says why itself;
	 * cmd_dispatch() stops the others. */
	if (config_load(&ctx.cfg, &err) < 0)
		ctx.cfg_err = buf_detach(&err);
	ctx.actor = main_actor(user);
	ret = cmd_dispatch(&ctx, argc - i, argv + i);
	service_close(&ctx.svc);
	config_release(&ctx.cfg);
	free(ctx.cfg_err);
	free(ctx.path);
	return ret;
}
