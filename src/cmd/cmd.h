/*
 * cmd.h - the command line: one table of commands, one file per group.
 *
 * Only this layer prints and picks exit codes: 0 success, 1 the request
 * was refused or failed (one line on stderr says why), 2 a usage error.
 */
#ifndef ORCHESTRA_CMD_H
#define ORCHESTRA_CMD_H

#include <jansson.h>

#include "service/service-json.h"
#include "service/service.h"
#include "util/config.h"

#define CMD_EXIT_OK 0
#define CMD_EXIT_FAIL 1
#define CMD_EXIT_USAGE 2

/* run() opens the database (cmd_open_store) once its options parsed. */
#define CMD_NEEDS_STORE 0x1
/*
 * The database itself, never the API: refused when ORCHESTRA_URL is set
 * (init, pilot).  The others reach the API instead (service_open_remote).
 */
#define CMD_LOCAL 0x2
/*
 * Runs even when the settings could not be read (doctor, which reports
 * it): ctx->cfg_err says why, ctx->cfg is empty.  Any other command
 * stops there with that message.
 */
#define CMD_ANY_CONFIG 0x4

struct cmd_entry;

/*
 * One option of a command.  An entry's table of them is all there is:
 * cmd_getopt() parses with it, --help lists it, and the shell completion
 * (orchestra --complete, deploy/bash-completion/orchestra) offers it, so
 * the three cannot differ.  --help itself is implicit.
 */
struct cmd_opt {
	const char *name; /* the long name, without "--" */
	const char *arg;  /* the value's name in --help ("CMD"), NULL: a flag */
	int val;          /* what cmd_getopt() returns for it */
	const char *help; /* one line */
};
#define CMD_OPT_END                                                            \
	{                                                                      \
		NULL, NULL, 0, NULL                                            \
	}
/* The table of commands whose only option is --json. */
extern const struct cmd_opt cmd_opts_json[];

struct cmd_ctx {
	struct config cfg;
	char *cfg_err;      /* why the settings could not be read, or NULL */
	struct service svc; /* opened by cmd_open_store(): trusted, direct;
	                     * or remote, as the token's user */
	const char *actor;  /* --user, else ORCHESTRA_USER, else login name */
	const struct cmd_entry *entry; /* the command being run */
	char *path;                    /* "task submit", for messages */
};

struct cmd_entry {
	const char *name;
	const char *usage;   /* after "orchestra ", as in the man page */
	const char *summary; /* one line for listings */
	int flags;
	int (*run)(struct cmd_ctx *ctx, int argc, char **argv);
	const struct cmd_entry *const *sub; /* NULL-terminated, or NULL */
	const struct cmd_opt *opts; /* ended by CMD_OPT_END; NULL: none */
	const char *example;        /* for --help: lines, each a command */
};

extern const struct cmd_entry *const cmd_table[];

/* Run argv (after the global options) through the table. */
int cmd_dispatch(struct cmd_ctx *ctx, int argc, char **argv);

/*
 * Human output goes through here and the tables: a value from a user (a
 * name, an input, a command, a server's message) may hold control
 * characters, which are printed escaped ("\x1b", buf_add_printable) so
 * that they cannot drive the terminal.  Newlines are kept, for the format's
 * own.  --json output (cmd_print_json) is exact, and `task logs` prints a
 * job's output as it is.
 */
void cmd_printf(FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "orchestra: <err>" (escaped, one line) and return CMD_EXIT_FAIL. */
int cmd_fail(struct cmd_ctx *ctx, const struct buf *err);
/* Print "orchestra: <path>: <message>" and the usage; CMD_EXIT_USAGE. */
int cmd_usage_error(struct cmd_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * Print the usage, the summary, the subcommands or options (one line
 * each) and the example of the running entry; CMD_EXIT_OK.
 */
int cmd_help(struct cmd_ctx *ctx);

/*
 * `orchestra --complete WORD...`: the words typed after "orchestra", the
 * last the one being completed (maybe empty); print the commands,
 * subcommands or options it may be, one a line, for the shell to filter.
 * Nothing when a file name or an option's value is due.  `global` are
 * the options before the command (main.c's).
 */
void cmd_complete(const struct cmd_opt *global, int nwords, char **words);
/* The "options:" section of --help for `opts` (and --help). */
void cmd_help_opts(FILE *f, const struct cmd_opt *opts);

/*
 * Option parsing over getopt_long, with the running entry's options and
 * --help ('h').  Returns the option's val, -1 at the end, or '?' after
 * printing a usage error (the caller returns CMD_EXIT_USAGE).
 */
int cmd_getopt(struct cmd_ctx *ctx, int argc, char **argv);
/* optind after cmd_getopt() returned -1. */
int cmd_optind(void);
const char *cmd_optarg(void);
/*
 * After the options: exactly `want` (0 or 1) arguments, the one named
 * `what` in the message ("task NAME").  -1 to go on, else the exit code
 * of the usage error printed.
 */
int cmd_args(struct cmd_ctx *ctx, int argc, char **argv, int want,
    const char *what);
/* Parse the options of an entry whose table is cmd_opts_json; -1 to go
 * on, or the exit code. */
int cmd_json_only(struct cmd_ctx *ctx, int argc, char **argv, bool *json);
/* Parse a whole number option value; usage error message on failure. */
int cmd_parse_int(struct cmd_ctx *ctx, const char *opt, const char *arg,
    int64_t *out);
/* Parse a size (size_parse(): "4G") into bytes; usage error on failure. */
int cmd_parse_size(struct cmd_ctx *ctx, const char *opt, const char *arg,
    int64_t *out);
/* Parse a duration (time_parse_duration(): "90s", "2h"); usage error on
 * failure. */
int cmd_parse_duration(struct cmd_ctx *ctx, const char *opt, const char *arg,
    int64_t *out_ms);
/* --limit's value into `out`, `min` or more; usage error message else. */
int cmd_parse_limit(struct cmd_ctx *ctx, int64_t min, int64_t *out);

/*
 * Open the store, after options are parsed (a usage error is 2 even with
 * no database); 0, or CMD_EXIT_FAIL after printing why.  With
 * ORCHESTRA_URL set, open the HTTP API instead (no database), or refuse
 * a CMD_LOCAL command.
 */
int cmd_open_store(struct cmd_ctx *ctx);

/* Plain-text tables: columns sized to their widest cell, each cell
 * escaped as by cmd_printf, newlines too. */
struct cmd_table {
	size_t ncols;
	VEC(char *) cells; /* row-major, the header first */
};
void cmd_table_init(struct cmd_table *t, size_t ncols, const char *const *hdr);
void cmd_table_addf(struct cmd_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cmd_table_print(struct cmd_table *t, FILE *f);
void cmd_table_release(struct cmd_table *t);
/*
 * A job's memory as one cell: the peak it used beside the memory it was
 * placed with, "68.2 MiB / 1 GiB", each "-" where not known (peak < 0)
 * or none (limit <= 0); "-" for both.
 */
void cmd_table_add_memory(struct cmd_table *t, int64_t peak, int64_t limit);
/*
 * How a job's run ended as one cell: its exit code, followed by why in
 * parentheses where that is not a plain exit, "137 (out of memory)";
 * "- (the backend lost it)" with no exit code (< 0); "-" with neither.
 */
void cmd_table_add_exit(struct cmd_table *t, int64_t exit_code,
    const char *end_reason);
/* CPU time in ms as one cell, seconds to the hundredth ("0.52 s"); "-"
 * where not known (< 0). */
void cmd_table_add_cpu(struct cmd_table *t, int64_t cpu_ms);

/* Print a JSON value (takes the reference) and a newline. */
void cmd_print_json(json_t *v);
/*
 * Print the JSON records of the array `rows` (takes the reference) as
 * CSV (RFC 4180: CRLF line ends, a field with a comma, quote or line end
 * quoted): a header line of the JSON keys of `fields` but the internal
 * ones, then a line per record; null is an empty field.
 */
void cmd_print_csv(const struct service_field *fields, json_t *rows);

extern const struct cmd_entry cmd_doctor_entry;
extern const struct cmd_entry cmd_history_entry;
extern const struct cmd_entry cmd_init_entry;
extern const struct cmd_entry cmd_metrics_entry;
extern const struct cmd_entry cmd_node_entry;
extern const struct cmd_entry cmd_pilot_entry;
extern const struct cmd_entry cmd_queue_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_task_entry;
extern const struct cmd_entry cmd_user_entry;

#endif
