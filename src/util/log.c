/*
 * log.c - one line per event on stderr: UTC time, level, process, message.
 */
#include <time.h>
#include <unistd.h>

#include "util/util.h"

enum log_level log_threshold = LOG_INFO;
static const char *log_process = "orchestra";

void
log_set_process(const char *name)
{
	log_process = name;
}

void
log_write(enum log_level level, const char *func, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	struct buf line = BUF_INIT;
	va_list ap;

	time_format_ms(&line, time_now_ms());
	buf_addf(&line, " %s %s[%ld]: ", names[level], log_process,
	    (long)getpid());
	if (level == LOG_DEBUG)
		buf_addf(&line, "%s: ", func);
	va_start(ap, fmt);
	buf_vaddf(&line, fmt, ap);
	va_end(ap);
	buf_addch(&line, '\n');
	fputs(line.data, stderr);
	buf_release(&line);
}
