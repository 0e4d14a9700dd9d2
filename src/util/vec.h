/*
 * vec.h - one set of macros for growable arrays.
 *
 *	VEC(struct job) jobs = VEC_INIT;
 *	VEC_PUSH(&jobs, job);
 *	VEC_FOREACH(j, &jobs) ...;
 *	VEC_RELEASE(&jobs);
 */
#ifndef ORCHESTRA_VEC_H
#define ORCHESTRA_VEC_H

#include "util/util.h"

#define VEC(type)                                                              \
	struct {                                                               \
		type *v;                                                       \
		size_t n;                                                      \
		size_t alloc;                                                  \
	}
#define VEC_INIT                                                               \
	{                                                                      \
		NULL, 0, 0                                                     \
	}
#define VEC_GROW(vec, need)                                                    \
	((vec)->v = xgrow((vec)->v, sizeof(*(vec)->v), (need), &(vec)->alloc))
#define VEC_PUSH(vec, item)                                                    \
	do {                                                                   \
		VEC_GROW((vec), (vec)->n + 1);                                 \
		(vec)->v[(vec)->n++] = (item);                                 \
	} while (0)
/* Append one zeroed element and return a pointer to it. */
#define VEC_ADD(vec)                                                           \
	(VEC_GROW((vec), (vec)->n + 1),                                        \
	    memset(&(vec)->v[(vec)->n], 0, sizeof(*(vec)->v)),                 \
	    &(vec)->v[(vec)->n++])
#define VEC_FOREACH(it, vec)                                                   \
	for ((it) = (vec)->v; (it) != NULL && (it) < (vec)->v + (vec)->n;      \
	     (it)++)
#define VEC_RELEASE(vec)                                                       \
	do {                                                                   \
		free((vec)->v);                                                \
		(vec)->v = NULL;                                               \
		(vec)->n = 0;                                                  \
		(vec)->alloc = 0;                                              \
	} while (0)

#endif
