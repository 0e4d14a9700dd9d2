/*
 * hash.c - the password checks of sign-ins, in processes of their own.
 *
 * An argon2id check (libsodium's crypto_pwhash_str_verify) maps 64 MiB
 * with MAP_POPULATE and unmaps it after, ~80 ms.  Done on a thread of
 * serve, each map and unmap takes the process's memory map lock for
 * writing and the populate holds it for reading while it zeroes 64 MiB:
 * meanwhile every page fault of every request worker waits.  Under a
 * flood of wrong passwords that made GET /api/v1/me's 99th percentile
 * 80-300 ms where GET /healthz posters made it 21 ms (issue 14).  So
 * the checks run in WEB_HASH_MAX processes forked at start, before any
 * thread, with nothing open but their socket (no store, no listening
 * socket), at niceness WEB_HASH_NICE, not dumpable, killed with serve.
 *
 * A request is one SOCK_SEQPACKET message: the hash's length (2 bytes),
 * the hash (none: the unknown user's dummy), then the password; the
 * answer is the check's result, an int.  A checker that has died is not
 * used again; with none left a sign-in by password gets 503.
 * NEEDSWORK: a dead checker is not started again (forking a threaded
 * serve would need an exec of our own program).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "web/web-int.h"

/* The niceness of the checkers: below the request workers. */
#define WEB_HASH_NICE 10
/* A hash's text is far shorter (crypto_pwhash_STRBYTES, 128). */
#define WEB_HASH_TEXT_MAX 255
/* Longer than any password `user passwd` takes (1,024). */
#define WEB_HASH_PASSWORD_MAX 4096
#define WEB_HASH_MSG_MAX (2 + WEB_HASH_TEXT_MAX + WEB_HASH_PASSWORD_MAX)
/* A check takes ~80 ms; a checker silent this long is taken as dead. */
#define WEB_HASH_ANSWER_MS 30000

static _Noreturn void
web_hash_child(int fd)
{
	static char msg[WEB_HASH_MSG_MAX + 1];
	char hash[WEB_HASH_TEXT_MAX + 1];
	struct buf err = BUF_INIT;
	sigset_t none;
	ssize_t n;
	size_t hlen;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_IGN); /* serve's terminal's ^C is serve's */
	(void)setpriority(PRIO_PROCESS, 0, WEB_HASH_NICE);
	if (fd != 3) {
		dup2(fd, 3);
		close(fd);
	}
	closefrom(4);
	for (;;) {
		n = recv(3, msg, WEB_HASH_MSG_MAX, 0);
		if (n <= 0)
			_exit(0); /* serve is gone */
		ret = ERR_DENIED;
		hlen = n >= 2
		    ? (size_t)(unsigned char)msg[0] << 8 | (unsigned char)msg[1]
		    : SIZE_MAX;
		if (hlen <= WEB_HASH_TEXT_MAX && hlen + 2 <= (size_t)n) {
			memcpy(hash, msg + 2, hlen);
			hash[hlen] = '\0';
			msg[n] = '\0';
			/* A NUL in the password: what it says is cut there. */
			ret = service_auth_password_verify(
			    hlen > 0 ? hash : NULL, msg + 2 + hlen, &err);
			buf_reset(&err);
		}
		util_wipe(msg, sizeof(msg));
		if (send(3, &ret, sizeof(ret), MSG_NOSIGNAL) != sizeof(ret))
			_exit(0);
	}
}

int
web_hash_start(struct web_server *ws, struct buf *err)
{
	int sv[2], i;
	pid_t pid;

	pthread_mutex_init(&ws->hash_lock, NULL);
	for (i = 0; i < WEB_HASH_MAX; i++) {
		ws->hash_fd[i] = -1;
		ws->hash_pid[i] = -1;
	}
	for (i = 0; i < WEB_HASH_MAX; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) <
		    0)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot make a password checker: socketpair: %s",
			    strerror(errno));
		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			close(sv[0]);
			close(sv[1]);
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot make a password checker: fork: %s",
			    strerror(errno));
		}
		if (pid == 0) {
			close(sv[0]);
			web_hash_child(sv[1]);
		}
		close(sv[1]);
		ws->hash_fd[i] = sv[0];
		ws->hash_pid[i] = pid;
	}
	return 0;
}

void
web_hash_stop(struct web_server *ws)
{
	int i;

	for (i = 0; i < WEB_HASH_MAX; i++) {
		if (ws->hash_fd[i] >= 0)
			close(ws->hash_fd[i]); /* its recv() sees the end */
		ws->hash_fd[i] = -1;
	}
	for (i = 0; i < WEB_HASH_MAX; i++) {
		if (ws->hash_pid[i] > 0)
			while (waitpid(ws->hash_pid[i], NULL, 0) < 0 &&
			    errno == EINTR)
				;
		ws->hash_pid[i] = -1;
	}
	pthread_mutex_destroy(&ws->hash_lock);
}

/* A free checker, taken; -1 if none is left alive. */
static int
web_hash_take(struct web_server *ws)
{
	int i, found = -1;

	pthread_mutex_lock(&ws->hash_lock);
	for (i = 0; i < WEB_HASH_MAX && found < 0; i++) {
		if (ws->hash_fd[i] >= 0 && !ws->hash_busy[i]) {
			ws->hash_busy[i] = true;
			found = i;
		}
	}
	pthread_mutex_unlock(&ws->hash_lock);
	return found;
}

static void
web_hash_give(struct web_server *ws, int i, bool dead)
{
	pthread_mutex_lock(&ws->hash_lock);
	ws->hash_busy[i] = false;
	if (dead) {
		/* Its pid stays, for web_hash_stop()'s wait. */
		kill(ws->hash_pid[i], SIGKILL);
		close(ws->hash_fd[i]);
		ws->hash_fd[i] = -1;
	}
	pthread_mutex_unlock(&ws->hash_lock);
}

int
web_hash_check(struct web_server *ws, const char *hash, const char *password,
    struct buf *err)
{
	static const char gone[] = "password checks are unavailable on this "
	                           "server; sign in with a token";
	size_t hlen = hash != NULL ? strlen(hash) : 0;
	size_t plen = strlen(password);
	struct pollfd pfd;
	struct buf msg = BUF_INIT;
	int i, ret, answer = 0;
	ssize_t n;

	if (hlen > WEB_HASH_TEXT_MAX || plen > WEB_HASH_PASSWORD_MAX)
		return err_set(err, ERR_DENIED, "wrong user name or password");
	i = web_hash_take(ws);
	if (i < 0)
		return err_set(err, ERR_UNAVAILABLE, gone);
	buf_addch(&msg, (char)(hlen >> 8));
	buf_addch(&msg, (char)(hlen & 0xff));
	buf_add(&msg, hash != NULL ? hash : "", hlen);
	buf_add(&msg, password, plen);
	n = send(ws->hash_fd[i], msg.data, msg.len, MSG_NOSIGNAL);
	buf_release_secret(&msg);
	ret = n == (ssize_t)(2 + hlen + plen) ? 0 : -1;
	if (ret == 0) {
		pfd.fd = ws->hash_fd[i];
		pfd.events = POLLIN;
		while ((n = poll(&pfd, 1, WEB_HASH_ANSWER_MS)) < 0 &&
		    errno == EINTR)
			;
		if (n != 1 ||
		    recv(ws->hash_fd[i], &answer, sizeof(answer), 0) !=
		        sizeof(answer))
			ret = -1;
	}
	if (ret < 0) {
		log_error("password checker pid=%ld is gone",
		    (long)ws->hash_pid[i]);
		web_hash_give(ws, i, true);
		return err_set(err, ERR_UNAVAILABLE, gone);
	}
	web_hash_give(ws, i, false);
	if (answer == ERR_DENIED)
		return err_set(err, ERR_DENIED, "wrong user name or password");
	if (answer != 0)
		return err_set(err, ERR_UNAVAILABLE,
		    "the password could not be checked");
	return 0;
}
