/*
 * proc.h - running a helper program directly (execvp, no shell).
 */
#ifndef ORCHESTRA_PROC_H
#define ORCHESTRA_PROC_H

#include "util/util.h"

/*
 * Run argv (argv[0] looked up in PATH, stdin and stderr /dev/null) and
 * append at most `cap` bytes of its stdout to `out`; *status is the
 * waitpid() status.  ERR_NOTFOUND when the program does not exist.
 */
int proc_capture(const char *const *argv, size_t cap, struct buf *out,
    int *status, struct buf *err);

/* A Unix account, as the password and group databases give it. */
struct proc_account {
	char *login;
	int64_t uid, gid;
	char *home;
	int64_t *groups; /* the supplementary groups, gid included */
	size_t ngroups;
};
void proc_account_release(struct proc_account *a);
/*
 * Look up `login` (NSS: call it before a fork, never in the child of a
 * threaded process).  ERR_NOTFOUND when there is no such account.
 */
int proc_account_get(const char *login, struct proc_account *out,
    struct buf *err);
/*
 * Become account `a` for good, in a child about to exec: its groups, gid
 * and uid (each checked), and no new privileges ever (no setuid binary
 * gives them back).  HOME, USER and LOGNAME are set to the account's.
 * Only system calls after the lookup, so it is safe after a fork.  A
 * process that is not root can only "become" itself: ERR_DENIED else.
 */
int proc_account_become(const struct proc_account *a, struct buf *err);
/*
 * proc_account_become() without the environment: system calls only, no
 * allocation, so it is safe in the child of a vfork().  0, or ERR_DENIED
 * with `why` (a static string) and `sys` (errno, or 0) saying why.
 */
int proc_account_switch(const struct proc_account *a, const char **why,
    int *sys);

/*
 * Give the directories of `path` below `root` (<root>/<user>/<task>) that
 * root owns, as Orchestra made them, to `uid`:`gid`, <root>/<user> with
 * mode 0700.  Only as root, for an account that is not root.  No link is
 * followed (O_NOFOLLOW at each step), so a link a user planted leads
 * nowhere.  Best effort: a job that cannot write its output says so.
 */
void proc_own_out_dir(const char *root, const char *path, int64_t uid,
    int64_t gid);

/* This machine's host name made a valid node name; caller frees. */
char *proc_node_name(void);

/*
 * This machine's memory from /proc/meminfo, in bytes: MemTotal into
 * *total, MemAvailable into *avail; -1 for one that cannot be read.
 */
void proc_meminfo(int64_t *total, int64_t *avail);

/*
 * rm -rf `path` (not following symlinks); a missing path is fine.  As
 * root, a tree another account owns is removed by a child with that
 * account's uid and gid, never with root's rights.
 */
int proc_remove_tree(const char *path, struct buf *err);

#endif
