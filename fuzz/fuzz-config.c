/* libs: orch_util */
/*
 * fuzz-config.c - config_load() on any file: the input is written to a
 * temporary file that ORCHESTRA_CONF names.  Every other ORCHESTRA_*
 * variable is cleared first, so the file alone decides.  A load either
 * fills every setting or fails with a message and leaves nothing behind.
 */
#include <unistd.h>

#include "util/config.h"
#include "fuzz.h"

extern char **environ;

/* Clear ORCHESTRA_* from the environment, once. */
static void
fuzz_config_clean_env(void)
{
	static bool done;
	struct buf name = BUF_INIT;
	bool found = true;
	char **e;

	if (done)
		return;
	done = true;
	while (found) {
		found = false;
		for (e = environ; *e != NULL; e++) {
			if (strncmp(*e, "ORCHESTRA_", 10) != 0)
				continue;
			buf_reset(&name);
			buf_add(&name, *e, strcspn(*e, "="));
			unsetenv(name.data);
			found = true;
			break; /* environ changed under us */
		}
	}
	buf_release(&name);
}

/* Write the input to a new temporary file; its path, or NULL. */
static char *
fuzz_config_write(const uint8_t *data, size_t size)
{
	const char *dir = getenv("TMPDIR");
	struct buf path = BUF_INIT;
	ssize_t n;
	size_t done = 0;
	int fd;

	buf_addf(&path, "%s/fuzz-config-XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp");
	fd = mkstemp(path.data);
	if (fd < 0)
		BUG("mkstemp '%s' failed", path.data);
	while (done < size) {
		n = write(fd, data + done, size - done);
		if (n <= 0)
			BUG("cannot write '%s'", path.data);
		done += (size_t)n;
	}
	close(fd);
	return buf_detach(&path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct config cfg;
	char *path;
	int r;

	fuzz_config_clean_env();
	path = fuzz_config_write(data, size);
	setenv("ORCHESTRA_CONF", path, 1);
	r = config_load(&cfg, &err);
	if (r == 0) {
		FUZZ_CHECK(cfg.home != NULL && cfg.db_url != NULL);
		FUZZ_CHECK(cfg.volume != NULL && cfg.backend != NULL);
		FUZZ_CHECK(cfg.listen != NULL && cfg.priority_rule != NULL);
		FUZZ_CHECK(cfg.conf_path != NULL);
		FUZZ_CHECK(strcmp(cfg.conf_path, path) == 0);
		FUZZ_CHECK(cfg.retention_ms >= 0);
	} else {
		FUZZ_CHECK(r == ERR_INVALID);
		FUZZ_CHECK(err.len > 0 && strlen(err.data) == err.len);
		/* Released on failure: nothing to free, nothing dangling. */
		FUZZ_CHECK(cfg.home == NULL && cfg.conf_path == NULL);
	}
	config_release(&cfg);
	config_release(&cfg); /* a second release is harmless */
	unsetenv("ORCHESTRA_CONF");
	unlink(path);
	free(path);
	buf_release(&err);
	return 0;
}
