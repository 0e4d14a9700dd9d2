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

/* This machine's host name made a valid node name; caller frees. */
char *proc_node_name(void);

/* rm -rf `path` (not following symlinks); a missing path is fine. */
int proc_remove_tree(const char *path, struct buf *err);

#endif
