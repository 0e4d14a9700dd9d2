/*
 * config.h - settings: a default that works on one machine, a key in the
 * INI file ($ORCHESTRA_CONF, else /etc/orchestra/orchestra.conf, section
 * [orchestra]), and an environment variable that overrides the file.
 */
#ifndef ORCHESTRA_CONFIG_H
#define ORCHESTRA_CONFIG_H

#include "util/util.h"

/* The default and the least bound on a job's log (log_max). */
#define CONFIG_LOG_MAX_DEFAULT ((int64_t)100 << 20)
/* history_retention: a year, a leap year's too (migration 0014 calls it
 * PILOT_HISTORY_KEEP_MS, its name before it was a setting). */
#define CONFIG_HISTORY_DEFAULT_MS (366 * 86400000LL)
#define CONFIG_LOG_MAX_MIN ((int64_t)16 << 10)
/* The least memory a job may ask or a node have: 1 MiB (a bare number is
 * bytes; Slurm's --mem=4000 means megabytes, so 4000 is refused). */
#define CONFIG_MEMORY_MIN ((int64_t)1 << 20)

/*
 * The settings read where they are used, each by config_env(): its
 * environment variable, else its key in the file, else NULL.  Their
 * values are checked by their readers.
 */
enum config_env {
	CONFIG_URL,              /* ORCHESTRA_URL, key url */
	CONFIG_TOKEN,            /* ORCHESTRA_TOKEN, key token (a file 0600) */
	CONFIG_TOKEN_FILE,       /* ORCHESTRA_TOKEN_FILE, key token_file */
	CONFIG_CA_FILE,          /* ORCHESTRA_CA_FILE, key ca_file */
	CONFIG_USAGE_EVERY,      /* ORCHESTRA_USAGE_EVERY, key usage_every */
	CONFIG_KUBECONFIG,       /* KUBECONFIG, key kubeconfig */
	CONFIG_KUBE_CONTEXT,     /* ORCHESTRA_KUBE_CONTEXT, key kube_context */
	CONFIG_KUBE_TIMEOUT,     /* ORCHESTRA_KUBE_TIMEOUT, key kube_timeout */
	CONFIG_KUBE_QPS,         /* ORCHESTRA_KUBE_QPS, key kube_qps */
	CONFIG_KUBE_BURST,       /* ORCHESTRA_KUBE_BURST, key kube_burst */
	CONFIG_KUBE_PULL_WAIT,   /* ORCHESTRA_KUBE_PULL_WAIT, kube_pull_wait */
	CONFIG_KUBE_CREATE_HOLD, /* ORCHESTRA_KUBE_CREATE_HOLD,
	                            kube_create_hold */
	CONFIG_KUBE_JOB_TTL,     /* ORCHESTRA_KUBE_JOB_TTL, kube_job_ttl */
	CONFIG_NENV
};

struct config {
	char *home;           /* ORCHESTRA_HOME, key home */
	char *db_url;         /* ORCHESTRA_DB, key db */
	char *volume;         /* ORCHESTRA_VOLUME, key volume */
	char *backend;        /* ORCHESTRA_BACKEND, key backend */
	char *listen;         /* ORCHESTRA_LISTEN, key listen */
	char *priority_rule;  /* ORCHESTRA_PRIORITY_RULE, key priority_rule */
	char *job_template;   /* ORCHESTRA_JOB_TEMPLATE, key job_template;
	                         NULL: the one built in */
	int64_t retention_ms; /* ORCHESTRA_RETENTION, key retention */
	char *smtp_url;       /* ORCHESTRA_SMTP_URL, key smtp_url; NULL: mail
	                         off (nothing is queued) */
	char *smtp_ca;        /* ORCHESTRA_SMTP_CA, key smtp_ca: CA file that
	                         checks the SMTP server's certificate; NULL:
	                         the system's */
	char *mail_from;      /* ORCHESTRA_MAIL_FROM, key mail_from; checked
	                         by address_check(); default orchestra@HOST */
	int64_t mail_give_up_ms; /* ORCHESTRA_MAIL_GIVE_UP, key mail_give_up:
	                            how long a mail is retried; default 2d */
	int64_t mail_alarm_ms;   /* ORCHESTRA_MAIL_ALARM, key mail_alarm: the
	                            admins are mailed when the pilot's cycles
	                            have failed this long; default 10m */
	int64_t log_max;         /* ORCHESTRA_LOG_MAX, key log_max: the most
	                            of a job's log kept (its head and its
	                            tail); 0: no bound; default 100M */
	int64_t default_memory;  /* ORCHESTRA_DEFAULT_MEMORY, key
	                            default_memory: what a job of a task
	                            without --memory asks; 0 (the default):
	                            its node's memory divided by its slots */
	char *conf_path;         /* the file read, NULL if none */
	/* ORCHESTRA_HISTORY_RETENTION, key history_retention: how long the
	 * pilot keeps a run in job_history after its end; 0: forever;
	 * default CONFIG_HISTORY_DEFAULT_MS */
	int64_t history_retention_ms;
	char *file_env[CONFIG_NENV]; /* the file's values of enum config_env */
};

/*
 * Fill `cfg` from defaults, the file and the environment.  A missing
 * default file is fine; a named file that is missing, a malformed line,
 * an unknown key or a bad value is ERR_INVALID.  Caller releases with
 * config_release().
 */
int config_load(struct config *cfg, struct buf *err);
void config_release(struct config *cfg);
/* Setting `which`: its environment variable if set and not empty, else
 * the file's key, else NULL. */
const char *config_env(const struct config *cfg, enum config_env which);
/* Where config_env() found it, for a message: "ORCHESTRA_URL", or "url
 * (config '/etc/orchestra/orchestra.conf')"; "ORCHESTRA_URL" if unset. */
void config_env_where(const struct config *cfg, enum config_env which,
    struct buf *out);

#endif
