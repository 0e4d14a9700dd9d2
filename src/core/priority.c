/*
 * priority.c - the priority rules: a table of named rules, each giving the
 * priority of a user's n-th waiting job and of a test job.
 *
 * lcg, after PanDA's LCG rule: max_priority - (R + n) / 5, where R is the
 * number of the user's jobs holding a slot (of any pool) and n the job's
 * place among all the user's waiting jobs (core/sched.c).  It is computed
 * as (5 * max_priority - (R + n)) / 5 in floating point: the numerator is
 * an exact integer (below 2^53), and one correctly rounded division keeps
 * the order of the numerators, so equal standings give equal priorities
 * and, say, (1002, k + 10) ties (1000, k) exactly.
 */
#include "core/core.h"

static double
prio_lcg_priority(const struct prio_user *u, int64_t n)
{
	double num =
	    5.0 * (double)u->max_priority - ((double)u->running + (double)n);

	return num / 5.0;
}

static double
prio_lcg_test_priority(const struct prio_user *u)
{
	return (double)u->max_priority;
}

const struct prio_rule prio_lcg = {
	.name = "lcg",
	.priority = prio_lcg_priority,
	.test_priority = prio_lcg_test_priority,
};

static double
prio_fifo_priority(const struct prio_user *u, int64_t n)
{
	(void)u;
	(void)n;
	return 0.0;
}

static double
prio_fifo_test_priority(const struct prio_user *u)
{
	(void)u;
	return 0.0;
}

const struct prio_rule prio_fifo = {
	.name = "fifo",
	.priority = prio_fifo_priority,
	.test_priority = prio_fifo_test_priority,
};

static const struct prio_rule *const prio_rules[] = { &prio_lcg, &prio_fifo };

const struct prio_rule *
prio_rule_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(prio_rules) / sizeof(prio_rules[0]); i++)
		if (strcmp(prio_rules[i]->name, name) == 0)
			return prio_rules[i];
	return NULL;
}
