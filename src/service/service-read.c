/*
 * service-read.c - reading a submit's inputs: a directory (its regular
 * files), a glob, @LISTFILE (one path per line) or one file; bounded,
 * and, for the API, with the submitter's rights.
 *
 * Bounds, everywhere: SERVICE_READ_TIME_MS of wall time, at most
 * SERVICE_READ_INPUTS_MAX inputs and SERVICE_READ_ENTRIES_MAX directory
 * entries looked at, a list file and the inputs' paths together of at
 * most SERVICE_READ_BYTES_MAX bytes.  A list file is opened without
 * blocking and must be a regular file: a FIFO, a device or a socket is
 * refused by name.
 *
 * As a submitter (service_read_inputs() with a login): the reading is
 * done by a child process, which writes its result back over a pipe in
 * frames (buf_add_frame): "0" and then one frame per input, or the
 * error code and then the message.  When this process is root, the
 * child first takes the account (proc_account_become: its groups, gid
 * and uid, each checked, then no_new_privs), so the kernel judges
 * every path.  When it is not, it cannot take another account: the
 * child keeps its rights, and every path it opens, lists or looks at is
 * also judged against the account's ids by the modes of the path and of
 * each directory above it (core/access.c; ACLs are not seen, so they
 * may only refuse more).  The account is looked up in the parent
 * (proc_account_get): the parent has other threads, and the child of a
 * threaded process should take no lock another thread may have held.  The
 * parent kills the child once the time is up, a little after the child's own
 * deadline.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service/service-int.h"
#include "util/proc.h"

/* The child's own deadline is checked once per this many entries. */
#define SERVICE_READ_CHECK_EVERY 256
/* The parent waits this much longer than the child's deadline. */
#define SERVICE_READ_GRACE_MS 1000

struct service_read {
	const char *spec;
	const char *login; /* for messages; NULL in this process's name */
	int64_t deadline_ms;
	size_t nentries; /* directory entries looked at */
	size_t nbytes;   /* of the inputs' paths */
	/* Judge every path against `id` (serve not root), or not. */
	bool check;
	struct access_ident id;
	input_vec *out;
	int ret; /* the first failure, 0 while none */
	struct buf *err;
};

/* The reading glob() is doing: its hooks take no argument of ours. */
static _Thread_local struct service_read *service_read_glob_of;

void
input_vec_release(input_vec *v)
{
	char **s;

	VEC_FOREACH (s, v)
		free(*s);
	VEC_RELEASE(v);
}

static int
service_read_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Refuse the reading with `why` (the first refusal stands). */
static int
service_read_fail(struct service_read *rd, const char *why)
{
	if (rd->ret < 0)
		return rd->ret;
	if (rd->login != NULL)
		rd->ret = err_set(rd->err, ERR_INVALID,
		    "cannot read inputs '%s' as %s: %s", rd->spec, rd->login,
		    why);
	else
		rd->ret = err_set(rd->err, ERR_INVALID,
		    "cannot read inputs '%s': %s", rd->spec, why);
	return rd->ret;
}

/* Within the time, the count of entries and of inputs?  Else refuse. */
static int
service_read_bounds(struct service_read *rd)
{
	char why[128];

	if (rd->ret < 0)
		return rd->ret;
	if (rd->out->n > SERVICE_READ_INPUTS_MAX) {
		snprintf(why, sizeof(why), "more than %d inputs",
		    SERVICE_READ_INPUTS_MAX);
		return service_read_fail(rd, why);
	}
	if (rd->nentries > SERVICE_READ_ENTRIES_MAX) {
		snprintf(why, sizeof(why),
		    "more than %d directory entries to look at",
		    SERVICE_READ_ENTRIES_MAX);
		return service_read_fail(rd, why);
	}
	if (rd->nbytes > SERVICE_READ_BYTES_MAX) {
		snprintf(why, sizeof(why), "the inputs' paths exceed %d MiB",
		    SERVICE_READ_BYTES_MAX >> 20);
		return service_read_fail(rd, why);
	}
	if (time_now_ms() > rd->deadline_ms) {
		snprintf(why, sizeof(why), "took longer than %d s",
		    SERVICE_READ_TIME_MS / 1000);
		return service_read_fail(rd, why);
	}
	return 0;
}

/* Add an input (takes `path`). */
static int
service_read_add(struct service_read *rd, char *path)
{
	rd->nbytes += strlen(path) + 1;
	VEC_PUSH(rd->out, path);
	if (rd->out->n % SERVICE_READ_CHECK_EVERY == 0 ||
	    rd->out->n > SERVICE_READ_INPUTS_MAX ||
	    rd->nbytes > SERVICE_READ_BYTES_MAX)
		return service_read_bounds(rd);
	return 0;
}

/* `path` made absolute against the working directory. */
static char *
service_read_absolute(const char *path)
{
	char cwd[PATH_MAX];
	struct buf b = BUF_INIT;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	buf_addf(&b, "%s/%s", cwd, path);
	return buf_detach(&b);
}

/*
 * Checking for an account we are not (rd->check): may it have `want` of
 * `path`, and search every directory above it?  0, or -1 with errno set,
 * as the call it stands in front of would fail.
 */
static int
service_read_may(struct service_read *rd, const char *path, unsigned int want)
{
	struct stat sb;
	char *abs, *p;
	int ret = -1;

	if (!rd->check)
		return 0;
	/* The path resolved, so that a link cannot lead around a check. */
	abs = realpath(path, NULL);
	if (abs == NULL)
		abs = service_read_absolute(path);
	if (stat("/", &sb) < 0)
		goto out;
	if (!access_mode_allows(&rd->id, sb.st_mode, sb.st_uid, sb.st_gid,
	        ACCESS_SEARCH))
		goto denied;
	for (p = strchr(abs + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (stat(abs, &sb) < 0)
			goto out;
		if (!access_mode_allows(&rd->id, sb.st_mode, sb.st_uid,
		        sb.st_gid, ACCESS_SEARCH))
			goto denied;
		*p = '/';
	}
	if (stat(abs, &sb) < 0)
		goto out;
	if (!access_mode_allows(&rd->id, sb.st_mode, sb.st_uid, sb.st_gid,
	        want))
		goto denied;
	ret = 0;
	goto out;
denied:
	errno = EACCES;
out:
	free(abs);
	return ret;
}

static int
service_read_stat(struct service_read *rd, const char *path, struct stat *sb)
{
	if (service_read_may(rd, path, 0) < 0)
		return -1;
	return stat(path, sb);
}

/* What a special file is called in a refusal, or NULL for another. */
static const char *
service_read_special(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "it is a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "it is a device";
	if (S_ISSOCK(mode))
		return "it is a socket";
	return NULL;
}

static int
service_read_dir(struct service_read *rd)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	struct stat sb;
	char *dir = NULL;
	DIR *d = NULL;

	if (service_read_may(rd, rd->spec, ACCESS_READ | ACCESS_SEARCH) == 0)
		d = opendir(rd->spec);
	if (d == NULL)
		return service_read_fail(rd, strerror(errno));
	dir = service_read_absolute(rd->spec);
	while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	while (rd->ret == 0 && (de = readdir(d)) != NULL) {
		if (++rd->nentries % SERVICE_READ_CHECK_EVERY == 0 &&
		    service_read_bounds(rd) < 0)
			break;
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' ||
		        (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		buf_reset(&path);
		buf_addf(&path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
		    de->d_name);
		if (service_read_stat(rd, path.data, &sb) == 0 &&
		    S_ISREG(sb.st_mode))
			service_read_add(rd, xstrdup(path.data));
	}
	closedir(d);
	free(dir);
	buf_release(&path);
	if (rd->ret == 0 && rd->out->n == 0)
		rd->ret = err_set(rd->err, ERR_INVALID,
		    "no inputs: directory '%s' holds no regular file",
		    rd->spec);
	return rd->ret;
}

/*
 * glob()'s hooks (GLOB_ALTDIRFUNC): they count the entries, watch the
 * time and judge each directory for the account; once the reading
 * failed, every directory fails to open, so glob() ends soon.
 */
static void *
service_read_glob_opendir(const char *path)
{
	struct service_read *rd = service_read_glob_of;

	if (rd->ret < 0) {
		errno = EACCES;
		return NULL;
	}
	if (service_read_may(rd, path, ACCESS_READ | ACCESS_SEARCH) < 0)
		return NULL;
	return opendir(path);
}

static struct dirent *
service_read_glob_readdir(void *d)
{
	struct service_read *rd = service_read_glob_of;

	if (rd->ret < 0)
		return NULL;
	if (++rd->nentries % SERVICE_READ_CHECK_EVERY == 0 &&
	    service_read_bounds(rd) < 0)
		return NULL;
	return readdir(d);
}

static void
service_read_glob_closedir(void *d)
{
	closedir(d);
}

static int
service_read_glob_stat(const char *path, struct stat *sb)
{
	return service_read_stat(service_read_glob_of, path, sb);
}

static int
service_read_glob_lstat(const char *path, struct stat *sb)
{
	if (service_read_may(service_read_glob_of, path, 0) < 0)
		return -1;
	return lstat(path, sb);
}

static int
service_read_glob(struct service_read *rd)
{
	glob_t g = { 0 };
	struct stat sb;
	size_t i;
	int rc;

	g.gl_opendir = service_read_glob_opendir;
	g.gl_readdir = service_read_glob_readdir;
	g.gl_closedir = service_read_glob_closedir;
	g.gl_stat = service_read_glob_stat;
	g.gl_lstat = service_read_glob_lstat;
	service_read_glob_of = rd;
	rc = glob(rd->spec, GLOB_NOSORT | GLOB_ALTDIRFUNC, NULL, &g);
	service_read_glob_of = NULL;
	if (rd->ret == 0 && rc != 0 && rc != GLOB_NOMATCH)
		service_read_fail(rd, "cannot read the directories it names");
	for (i = 0; rd->ret == 0 && rc == 0 && i < g.gl_pathc; i++)
		if (service_read_stat(rd, g.gl_pathv[i], &sb) == 0 &&
		    S_ISREG(sb.st_mode))
			service_read_add(rd,
			    service_read_absolute(g.gl_pathv[i]));
	globfree(&g);
	if (rd->ret == 0 && rd->out->n == 0)
		rd->ret = err_set(rd->err, ERR_INVALID,
		    "no inputs: '%s' matches no regular file", rd->spec);
	return rd->ret;
}

/* The whole list file, at most SERVICE_READ_BYTES_MAX bytes of it. */
static int
service_read_list_text(struct service_read *rd, struct buf *text)
{
	const char *special;
	char chunk[65536], why[64];
	struct stat sb;
	ssize_t n;
	int fd = -1;

	if (service_read_may(rd, rd->spec + 1, ACCESS_READ) == 0)
		fd = open(rd->spec + 1,
		    O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return service_read_fail(rd, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		service_read_fail(rd, strerror(errno));
		goto out;
	}
	special = service_read_special(sb.st_mode);
	if (special != NULL || !S_ISREG(sb.st_mode)) {
		service_read_fail(rd,
		    special ? special : "it is no regular file");
		goto out;
	}
	snprintf(why, sizeof(why), "the list file exceeds %d MiB",
	    SERVICE_READ_BYTES_MAX >> 20);
	if (sb.st_size > SERVICE_READ_BYTES_MAX) {
		service_read_fail(rd, why);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			service_read_fail(rd, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		buf_add(text, chunk, (size_t)n);
		if (text->len > SERVICE_READ_BYTES_MAX) {
			service_read_fail(rd, why); /* it grew meanwhile */
			break;
		}
		if (service_read_bounds(rd) < 0)
			break;
	}
out:
	close(fd);
	return rd->ret;
}

/*
 * "@FILE": one path per line, blank lines skipped; a relative path is
 * taken relative to the list file's directory.
 */
static int
service_read_list(struct service_read *rd)
{
	struct buf text = BUF_INIT, path = BUF_INIT;
	char *list, *slash, *line, *end;
	int64_t lineno = 0;
	size_t n;

	if (service_read_list_text(rd, &text) < 0)
		goto out;
	list = service_read_absolute(rd->spec + 1);
	slash = strrchr(list, '/');
	if (slash == NULL) { /* no working directory: leave them relative */
		free(list);
		list = xstrdup(".");
	} else {
		slash[slash == list ? 1 : 0] = '\0'; /* its directory */
	}
	for (line = text.data; rd->ret == 0 && line < text.data + text.len;
	     line = end + 1) {
		end = memchr(line, '\n', (size_t)(text.data + text.len - line));
		if (end == NULL)
			end = text.data + text.len;
		lineno++;
		n = (size_t)(end - line);
		while (n > 0 && (line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		if (memchr(line, '\0', n) != NULL || n > PATH_MAX) {
			rd->ret = err_set(rd->err, ERR_INVALID,
			    "inputs '%s': line %lld is not a path", rd->spec,
			    (long long)lineno);
			break;
		}
		buf_reset(&path);
		if (line[0] != '/')
			buf_addf(&path, "%s%s", list,
			    strcmp(list, "/") == 0 ? "" : "/");
		buf_add(&path, line, n);
		service_read_add(rd, xstrdup(path.data));
	}
	free(list);
	if (rd->ret == 0 && rd->out->n == 0)
		rd->ret = err_set(rd->err, ERR_INVALID,
		    "no inputs: list '%s' names no path", rd->spec + 1);
out:
	buf_release(&text);
	buf_release(&path);
	return rd->ret;
}

/* Read `rd->spec` in this process, as it may. */
static int
service_read_here(struct service_read *rd)
{
	const char *special;
	struct stat sb;
	int ret;

	if (rd->spec[0] == '\0') {
		rd->ret = err_set(rd->err, ERR_INVALID,
		    "no inputs: --inputs is empty");
		return rd->ret;
	}
	if (rd->spec[0] == '@')
		ret = service_read_list(rd);
	else if (service_read_stat(rd, rd->spec, &sb) == 0) {
		special = service_read_special(sb.st_mode);
		if (S_ISDIR(sb.st_mode))
			ret = service_read_dir(rd);
		else if (S_ISREG(sb.st_mode))
			ret = service_read_add(rd,
			    service_read_absolute(rd->spec));
		else
			ret = service_read_fail(rd,
			    special ? special : "it is no regular file");
	} else if (strpbrk(rd->spec, "*?[") != NULL)
		ret = service_read_glob(rd);
	else if (errno != ENOENT && errno != ENOTDIR)
		ret = service_read_fail(rd, strerror(errno));
	else
		ret = err_set(rd->err, ERR_INVALID,
		    "no inputs: '%s' is no directory, file or glob", rd->spec);
	if (ret == 0 && rd->spec[0] != '@')
		qsort(rd->out->v, rd->out->n, sizeof(*rd->out->v),
		    service_read_cmp);
	rd->ret = ret;
	return ret;
}

/* The child: read, write the frames to `fd`, and end. */
static _Noreturn void
service_read_child(struct service_read *rd, const struct proc_account *acct,
    int fd)
{
	struct buf why = BUF_INIT;
	struct buf reply = BUF_INIT;
	char code[16];
	size_t i, off = 0;
	ssize_t n;

	/* Nothing of the server's (sockets, the store) stays open here. */
	if (fd != 3) {
		dup2(fd, 3);
		fd = 3;
	}
	close_range(4, ~0U, 0);
	/* As root, the kernel judges every path as the account's. */
	if (geteuid() == 0) {
		rd->check = false;
		if (proc_account_become(acct, &why) < 0)
			service_read_fail(rd, why.data);
	}
	if (rd->ret == 0)
		service_read_here(rd);
	snprintf(code, sizeof(code), "%d", rd->ret);
	buf_add_frame(&reply, code, strlen(code));
	if (rd->ret < 0)
		buf_add_frame(&reply, rd->err->data, rd->err->len);
	for (i = 0; rd->ret == 0 && i < rd->out->n; i++)
		buf_add_frame(&reply, rd->out->v[i], strlen(rd->out->v[i]));
	while (off < reply.len) {
		n = write(fd, reply.data + off, reply.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	_exit(0);
}

/* The child's frames back into `out`, or its refusal into `err`. */
static int
service_read_parse(struct service_read *rd, const struct buf *reply)
{
	const char *rec;
	char text[16];
	size_t pos = 0, len;
	int64_t code;
	int r;

	if (buf_next_frame(reply->data, reply->len, &pos, &rec, &len) != 1)
		return service_read_fail(rd,
		    "the reader ended without an answer");
	snprintf(text, sizeof(text), "%.*s", (int)(len < 15 ? len : 15), rec);
	if (util_parse_int64(text, ERR_UNAVAILABLE, 0, &code) < 0)
		return service_read_fail(rd, "the reader's answer is garbled");
	if (code < 0) {
		if (buf_next_frame(reply->data, reply->len, &pos, &rec, &len) !=
		    1)
			return service_read_fail(rd,
			    "the reader's answer is garbled");
		buf_reset(rd->err);
		buf_add(rd->err, rec, len);
		return rd->ret = (int)code;
	}
	while ((r = buf_next_frame(reply->data, reply->len, &pos, &rec,
	            &len)) == 1)
		VEC_PUSH(rd->out, xstrndup(rec, len));
	if (r < 0)
		return service_read_fail(rd, "the reader's answer is garbled");
	return 0;
}

/* Collect what the child writes to `fd` until it closes it or time's up. */
static int
service_read_collect(struct service_read *rd, int fd, pid_t pid)
{
	struct buf reply = BUF_INIT;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char chunk[65536], why[64];
	int64_t left;
	ssize_t n;
	int status;
	bool done = false;

	/* Frames of at most the inputs allowed, with room for the heads. */
	reply.cap_limit = SERVICE_READ_BYTES_MAX +
	    (size_t)(SERVICE_READ_INPUTS_MAX + 2) * 5 + 65536;
	while (!done) {
		left = rd->deadline_ms + SERVICE_READ_GRACE_MS - time_now_ms();
		if (left <= 0) {
			snprintf(why, sizeof(why), "took longer than %d s",
			    SERVICE_READ_TIME_MS / 1000);
			service_read_fail(rd, why);
			break;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			service_read_fail(rd, strerror(errno));
			break;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			done = true;
		else
			buf_add(&reply, chunk, (size_t)n);
		if (reply.truncated) {
			service_read_fail(rd,
			    "the reader's answer is too long");
			break;
		}
	}
	kill(pid, SIGKILL); /* gone already, or out of time */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rd->ret == 0)
		service_read_parse(rd, &reply);
	buf_release(&reply);
	return rd->ret;
}

int
service_read_inputs(const char *spec, const char *login, input_vec *out,
    struct buf *err)
{
	struct service_read rd = { 0 };
	struct buf why = BUF_INIT;
	struct proc_account acct;
	uint32_t *ids;
	int fds[2], ret;
	size_t i;
	pid_t pid;

	rd.spec = spec;
	rd.login = login;
	rd.deadline_ms = time_now_ms() + SERVICE_READ_TIME_MS;
	rd.out = out;
	rd.err = err;
	if (login == NULL) {
		ret = service_read_here(&rd);
		if (ret < 0)
			input_vec_release(out);
		return ret;
	}
	/* Looked up here: a child of a threaded process takes no lock. */
	ret = proc_account_get(login, &acct, &why);
	if (ret < 0) {
		ret = service_read_fail(&rd, why.data);
		buf_release(&why);
		return ret;
	}
	ids = xcalloc(acct.ngroups + 1, sizeof(*ids));
	for (i = 0; i < acct.ngroups; i++)
		ids[i] = (uint32_t)acct.groups[i];
	rd.id.uid = (uint32_t)acct.uid;
	rd.id.gid = (uint32_t)acct.gid;
	rd.id.groups = ids;
	rd.id.ngroups = acct.ngroups;
	rd.check = true; /* unless the child takes the account */
	if (pipe2(fds, O_CLOEXEC) < 0) {
		ret = err_set(err, ERR_UNAVAILABLE,
		    "cannot read inputs: pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		ret = err_set(err, ERR_UNAVAILABLE,
		    "cannot read inputs: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		service_read_child(&rd, &acct, fds[1]);
	}
	close(fds[1]);
	service_read_collect(&rd, fds[0], pid);
	close(fds[0]);
	ret = rd.ret;
out:
	if (ret < 0)
		input_vec_release(out);
	free(ids);
	proc_account_release(&acct);
	return ret;
}
