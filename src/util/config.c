/*
 * config.c - defaults, then the INI file, then the environment.
 */
#include <errno.h>
#include <ini.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/config.h"

#define CONFIG_DEFAULT_FILE "/etc/orchestra/orchestra.conf"

struct config_key {
	const char *key;
	const char *env;
	size_t offset; /* of a char * in struct config, or a duration: */
};
#define CONFIG_RETENTION SIZE_MAX
#define CONFIG_GIVE_UP (SIZE_MAX - 1)
#define CONFIG_ALARM (SIZE_MAX - 2)
#define CONFIG_LOG_MAX (SIZE_MAX - 3)
#define CONFIG_HISTORY (SIZE_MAX - 4)
#define CONFIG_DEFAULT_MEMORY (SIZE_MAX - 5)
#define CONFIG_NRAW 6 /* the values parsed once all are read */

static const struct config_key config_keys[] = {
	{ "home", "ORCHESTRA_HOME", offsetof(struct config, home) },
	{ "db", "ORCHESTRA_DB", offsetof(struct config, db_url) },
	{ "volume", "ORCHESTRA_VOLUME", offsetof(struct config, volume) },
	{ "backend", "ORCHESTRA_BACKEND", offsetof(struct config, backend) },
	{ "listen", "ORCHESTRA_LISTEN", offsetof(struct config, listen) },
	{ "priority_rule", "ORCHESTRA_PRIORITY_RULE",
	    offsetof(struct config, priority_rule) },
	{ "job_template", "ORCHESTRA_JOB_TEMPLATE",
	    offsetof(struct config, job_template) },
	{ "smtp_url", "ORCHESTRA_SMTP_URL", offsetof(struct config, smtp_url) },
	{ "smtp_ca", "ORCHESTRA_SMTP_CA", offsetof(struct config, smtp_ca) },
	{ "mail_from", "ORCHESTRA_MAIL_FROM",
	    offsetof(struct config, mail_from) },
	{ "retention", "ORCHESTRA_RETENTION", CONFIG_RETENTION },
	{ "mail_give_up", "ORCHESTRA_MAIL_GIVE_UP", CONFIG_GIVE_UP },
	{ "mail_alarm", "ORCHESTRA_MAIL_ALARM", CONFIG_ALARM },
	{ "log_max", "ORCHESTRA_LOG_MAX", CONFIG_LOG_MAX },
	{ "history_retention", "ORCHESTRA_HISTORY_RETENTION", CONFIG_HISTORY },
	{ "default_memory", "ORCHESTRA_DEFAULT_MEMORY", CONFIG_DEFAULT_MEMORY },
};
#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* enum config_env's keys and variables. */
static const struct config_env_key {
	const char *key;
	const char *env;
} config_env_keys[CONFIG_NENV] = {
	[CONFIG_URL] = { "url", "ORCHESTRA_URL" },
	[CONFIG_TOKEN] = { "token", "ORCHESTRA_TOKEN" },
	[CONFIG_TOKEN_FILE] = { "token_file", "ORCHESTRA_TOKEN_FILE" },
	[CONFIG_CA_FILE] = { "ca_file", "ORCHESTRA_CA_FILE" },
	[CONFIG_USAGE_EVERY] = { "usage_every", "ORCHESTRA_USAGE_EVERY" },
	[CONFIG_KUBECONFIG] = { "kubeconfig", "KUBECONFIG" },
	[CONFIG_KUBE_CONTEXT] = { "kube_context", "ORCHESTRA_KUBE_CONTEXT" },
	[CONFIG_KUBE_TIMEOUT] = { "kube_timeout", "ORCHESTRA_KUBE_TIMEOUT" },
	[CONFIG_KUBE_QPS] = { "kube_qps", "ORCHESTRA_KUBE_QPS" },
	[CONFIG_KUBE_BURST] = { "kube_burst", "ORCHESTRA_KUBE_BURST" },
	[CONFIG_KUBE_PULL_WAIT] = { "kube_pull_wait",
	    "ORCHESTRA_KUBE_PULL_WAIT" },
	[CONFIG_KUBE_CREATE_HOLD] = { "kube_create_hold",
	    "ORCHESTRA_KUBE_CREATE_HOLD" },
	[CONFIG_KUBE_JOB_TTL] = { "kube_job_ttl", "ORCHESTRA_KUBE_JOB_TTL" },
};

struct config_parse {
	struct config *cfg;
	struct buf *err;
	/* retention, mail_give_up, mail_alarm, log_max, history_retention,
	 * default_memory */
	char *durations[CONFIG_NRAW];
	int failed;
};

static void
config_set(struct config *cfg, const struct config_key *k, const char *value,
    char **durations)
{
	char **slot;

	if (k->offset >= CONFIG_DEFAULT_MEMORY) {
		slot = &durations[SIZE_MAX - k->offset];
		free(*slot);
		*slot = xstrdup(value);
		return;
	}
	slot = (char **)((char *)cfg + k->offset);
	free(*slot);
	*slot = xstrdup(value);
}

/* A value of enum config_env from the file, the token wiped first. */
static void
config_free_value(struct config *cfg, size_t which)
{
	char *v = cfg->file_env[which];

	if (v != NULL && which == CONFIG_TOKEN)
		util_wipe(v, strlen(v));
	free(v);
	cfg->file_env[which] = NULL;
}

static int
config_ini_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_parse *p = user;
	size_t i;

	if (p->failed)
		return 0;
	if (strcmp(section, "orchestra") != 0) {
		err_set(p->err, ERR_INVALID,
		    "config '%s': unknown section [%s]", p->cfg->conf_path,
		    section);
		p->failed = 1;
		return 0;
	}
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].key, name) == 0) {
			config_set(p->cfg, &config_keys[i], value,
			    p->durations);
			return 1;
		}
	}
	for (i = 0; i < CONFIG_NENV; i++) {
		if (strcmp(config_env_keys[i].key, name) == 0) {
			config_free_value(p->cfg, i);
			p->cfg->file_env[i] = xstrdup(value);
			return 1;
		}
	}
	err_set(p->err, ERR_INVALID, "config '%s': unknown key '%s'",
	    p->cfg->conf_path, name);
	p->failed = 1;
	return 0;
}

static char *
config_default_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	struct buf b = BUF_INIT;

	if (home == NULL || *home == '\0') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : "/tmp";
	}
	buf_addf(&b, "%s/.local/share/orchestra", home);
	return buf_detach(&b);
}

/*
 * A size in bytes: digits, then K, M or G (powers of 1024) or nothing;
 * 0 is no bound, else at least CONFIG_LOG_MAX_MIN (a head and a tail
 * worth keeping).
 */
static int
config_parse_log_max(const char *s, int64_t *out, struct buf *err)
{
	int64_t n = 0, mul = 1;
	size_t i, len = strlen(s);

	if (len > 0) {
		switch (s[len - 1]) {
		case 'K':
		case 'k':
			mul = (int64_t)1 << 10;
			break;
		case 'M':
		case 'm':
			mul = (int64_t)1 << 20;
			break;
		case 'G':
		case 'g':
			mul = (int64_t)1 << 30;
			break;
		}
		if (mul > 1)
			len--;
	}
	if (len == 0 || len > 12)
		goto bad;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		n = n * 10 + (s[i] - '0');
	}
	if (n > INT64_MAX / mul)
		goto bad;
	n *= mul;
	if (n != 0 && n < CONFIG_LOG_MAX_MIN)
		goto bad;
	*out = n;
	return 0;
bad:
	return err_set(err, ERR_INVALID,
	    "invalid log_max '%s': a size such as 100M, 0 (no bound) or "
	    "at least 16K",
	    s);
}

/* orchestra@HOST, HOST this machine's name if it is a plain host name. */
static char *
config_default_from(void)
{
	struct buf b = BUF_INIT, ignored = BUF_INIT;
	char host[256];

	buf_adds(&b, "orchestra@localhost");
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		buf_reset(&b);
		buf_addf(&b, "orchestra@%s", host);
		if (address_check(b.data, "mail_from", &ignored) < 0) {
			buf_reset(&b);
			buf_adds(&b, "orchestra@localhost");
		}
	}
	buf_release(&ignored);
	return buf_detach(&b);
}

/*
 * A file that holds a token is refused when other accounts may read or
 * write it, as the token file is (service-remote.c): the token is a
 * password.
 */
static int
config_check_secret(const struct config *cfg, const struct stat *sb,
    struct buf *err)
{
	if (cfg->file_env[CONFIG_TOKEN] == NULL)
		return 0;
	if (sb->st_mode & 077)
		return err_set(err, ERR_INVALID,
		    "config '%s' holds a token and is open to other accounts "
		    "(mode %04o): run 'chmod 600 %s', or name a token_file",
		    cfg->conf_path, (unsigned)(sb->st_mode & 07777),
		    cfg->conf_path);
	return 0;
}

const char *
config_env(const struct config *cfg, enum config_env which)
{
	const char *v = getenv(config_env_keys[which].env);

	if (v != NULL && *v != '\0')
		return v;
	return cfg->file_env[which];
}

void
config_env_where(const struct config *cfg, enum config_env which,
    struct buf *out)
{
	const char *v = getenv(config_env_keys[which].env);

	if ((v == NULL || *v == '\0') && cfg->file_env[which] != NULL)
		buf_addf(out, "%s (config '%s')", config_env_keys[which].key,
		    cfg->conf_path);
	else
		buf_adds(out, config_env_keys[which].env);
}

int
config_load(struct config *cfg, struct buf *err)
{
	struct config_parse p = { cfg, err, { NULL }, 0 };
	const char *path = getenv("ORCHESTRA_CONF"), *v;
	struct buf b = BUF_INIT;
	struct stat sb;
	FILE *f;
	size_t i;
	int rc, ret = ERR_INVALID;

	memset(cfg, 0, sizeof(*cfg));
	if (path == NULL && stat(CONFIG_DEFAULT_FILE, &sb) == 0)
		path = CONFIG_DEFAULT_FILE;
	if (path != NULL && *path != '\0') {
		cfg->conf_path = xstrdup(path);
		/* The mode checked is the one of the file read. */
		f = fopen(path, "re");
		if (f == NULL || fstat(fileno(f), &sb) < 0) {
			if (f != NULL)
				fclose(f);
			err_set(err, ERR_INVALID, "config '%s': cannot read it",
			    path);
			goto out;
		}
		rc = ini_parse_file(f, config_ini_handler, &p);
		fclose(f);
		if (p.failed)
			goto out;
		if (rc < 0) {
			err_set(err, ERR_INVALID, "config '%s': cannot read it",
			    path);
			goto out;
		}
		if (rc > 0) {
			err_set(err, ERR_INVALID,
			    "config '%s': line %d: syntax", path, rc);
			goto out;
		}
		if (config_check_secret(cfg, &sb, err) < 0)
			goto out;
	}
	for (i = 0; i < CONFIG_NKEYS; i++) {
		v = getenv(config_keys[i].env);
		if (v != NULL && *v != '\0')
			config_set(cfg, &config_keys[i], v, p.durations);
	}
	if (cfg->home == NULL)
		cfg->home = config_default_home();
	if (cfg->db_url == NULL) {
		buf_addf(&b, "%s/orchestra.db", cfg->home);
		cfg->db_url = buf_detach(&b);
	}
	if (cfg->volume == NULL) {
		buf_addf(&b, "%s/volume", cfg->home);
		cfg->volume = buf_detach(&b);
	}
	if (cfg->backend == NULL)
		cfg->backend = xstrdup("local");
	if (cfg->listen == NULL)
		cfg->listen = xstrdup("127.0.0.1:8080");
	if (cfg->priority_rule == NULL)
		cfg->priority_rule = xstrdup("lcg");
	cfg->retention_ms = 10LL * 86400000;
	if (p.durations[0] != NULL &&
	    time_parse_duration(p.durations[0], &cfg->retention_ms, err) < 0) {
		buf_adds(err, " (retention)");
		goto out;
	}
	cfg->mail_give_up_ms = 2LL * 86400000;
	if (p.durations[1] != NULL &&
	    time_parse_duration(p.durations[1], &cfg->mail_give_up_ms, err) <
	        0) {
		buf_adds(err, " (mail_give_up)");
		goto out;
	}
	cfg->mail_alarm_ms = 10LL * 60000;
	if (p.durations[2] != NULL &&
	    time_parse_duration(p.durations[2], &cfg->mail_alarm_ms, err) < 0) {
		buf_adds(err, " (mail_alarm)");
		goto out;
	}
	cfg->history_retention_ms = CONFIG_HISTORY_DEFAULT_MS;
	if (p.durations[4] != NULL &&
	    time_parse_duration(p.durations[4], &cfg->history_retention_ms,
	        err) < 0) {
		buf_adds(err, " (history_retention)");
		goto out;
	}
	cfg->log_max = CONFIG_LOG_MAX_DEFAULT;
	if (p.durations[3] != NULL &&
	    config_parse_log_max(p.durations[3], &cfg->log_max, err) < 0)
		goto out;
	if (p.durations[5] != NULL &&
	    (size_parse(p.durations[5], &cfg->default_memory, err) < 0 ||
	        (cfg->default_memory > 0 &&
	            cfg->default_memory < CONFIG_MEMORY_MIN))) {
		buf_reset(err);
		err_set(err, ERR_INVALID,
		    "invalid default_memory '%s': a size such as 4G (binary "
		    "units, as Slurm's --mem), at least 1M, or 0 (none)",
		    p.durations[5]);
		goto out;
	}
	if (cfg->mail_from == NULL)
		cfg->mail_from = config_default_from();
	if (address_check(cfg->mail_from, "mail_from", err) < 0)
		goto out;
	ret = 0;
out:
	for (i = 0; i < CONFIG_NRAW; i++)
		free(p.durations[i]);
	if (ret < 0)
		config_release(cfg);
	return ret;
}

void
config_release(struct config *cfg)
{
	size_t i;

	free(cfg->home);
	free(cfg->db_url);
	free(cfg->volume);
	free(cfg->backend);
	free(cfg->listen);
	free(cfg->priority_rule);
	free(cfg->job_template);
	free(cfg->smtp_url);
	free(cfg->mail_from);
	free(cfg->smtp_ca);
	free(cfg->conf_path);
	for (i = 0; i < CONFIG_NENV; i++)
		config_free_value(cfg, i);
	memset(cfg, 0, sizeof(*cfg));
}
