/* libs: orch_service */
/*
 * test-fields.c - each record described once (service/service-json.c):
 * every member of each record struct has a row in its table; a record
 * with every field set, to values that differ between two fillings,
 * written by service_json_*() (what --json prints and the API answers)
 * and read back by service_remote_parse_*() (the remote command line), is
 * the same record, field by field, so a field the writer or the reader
 * forgets fails here; the options a request body carries go there and
 * back; "nothing to set" lists every field a change takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "service/service-int.h"
#include "service/service-json.h"

/* ---- every member has a row ------------------------------------------- */

struct test_fields_span {
	size_t offset, size;
	const char *name;
};

static int
test_fields_span_cmp(const void *a, const void *b)
{
	const struct test_fields_span *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * The rows of `tables` (NULL-ended) cover struct `what` of `size` bytes:
 * sorted by offset, each member starts where the one before ends, but
 * for the padding its alignment needs (taken from its size: 1, 4, or 8
 * for anything larger), and the last ends the struct.  A member added to
 * the struct without a row leaves a hole and fails.
 */
static void
test_fields_cover(const char *what, size_t size,
    const struct service_field *const *tables)
{
	struct test_fields_span spans[64];
	const struct service_field *f;
	size_t n = 0, i, end = 0, align;

	for (; *tables != NULL; tables++)
		for (f = *tables; f->name != NULL; f++)
			if (f->size > 0) {
				assert_true(
				    n < sizeof(spans) / sizeof(spans[0]));
				spans[n].offset = f->offset;
				spans[n].size = f->size;
				spans[n].name = f->name;
				n++;
			}
	qsort(spans, n, sizeof(spans[0]), test_fields_span_cmp);
	for (i = 0; i < n; i++) {
		align = spans[i].size >= 8 ? 8 : spans[i].size;
		end = (end + align - 1) / align * align;
		if (spans[i].offset != end)
			fail_msg("struct %s: the member before '%s' (at %zu, "
			         "expected at %zu) has no row",
			    what, spans[i].name, spans[i].offset, end);
		end = spans[i].offset + spans[i].size;
	}
	end = (end + 7) / 8 * 8;
	if (end != size)
		fail_msg("struct %s: members after the last row (%zu of %zu "
		         "bytes covered)",
		    what, end, size);
}

#define TABLES(...)                                                            \
	(const struct service_field *const[])                                  \
	{                                                                      \
		__VA_ARGS__, NULL                                              \
	}

static void
test_every_member_has_a_row(void **state)
{
	(void)state;
	test_fields_cover("account", sizeof(struct account),
	    TABLES(service_account_fields));
	test_fields_cover("token", sizeof(struct token),
	    TABLES(service_token_fields));
	test_fields_cover("task", sizeof(struct task),
	    TABLES(service_task_fields, service_task_summary_fields));
	test_fields_cover("job", sizeof(struct job),
	    TABLES(service_job_fields));
	test_fields_cover("job_wait", sizeof(struct job_wait),
	    TABLES(service_job_wait_fields));
	test_fields_cover("node", sizeof(struct node),
	    TABLES(service_node_fields));
	test_fields_cover("node_job", sizeof(struct node_job),
	    TABLES(service_node_job_fields));
	test_fields_cover("queue_row", sizeof(struct queue_row),
	    TABLES(service_queue_row_fields));
	test_fields_cover("usage_row", sizeof(struct usage_row),
	    TABLES(service_usage_row_fields));
	test_fields_cover("history_total", sizeof(struct history_total),
	    TABLES(service_history_total_fields));
	test_fields_cover("history_run", sizeof(struct history_run),
	    TABLES(service_history_run_fields));
}

/* ---- a record with every field set ------------------------------------ */

#define AT(rec, f, type) ((type *)((char *)(rec) + (f)->offset))

static void test_fields_fill(const struct service_field *table, void *rec,
    int seed);

/* The rows that are more than one member of a plain type. */
static void
test_fields_fill_custom(const struct service_field *table,
    const struct service_field *f, void *rec, int seed)
{
	struct task *t = rec;
	struct node *n = rec;
	int k;

	if (table == service_task_summary_fields &&
	    strcmp(f->name, "counts") == 0) {
		t->has_summary = true;
		for (k = 0; k < JOB_NSTATUS; k++)
			t->counts[k] = seed * 10 + k + 1;
	} else if (table == service_task_summary_fields &&
	    strcmp(f->name, "priority") == 0) {
		t->has_priority = true;
		t->priority = seed + 0.25;
	} else if (table == service_node_fields &&
	    strcmp(f->name, "gpu_used") == 0) {
		/* As many low bits as devices are held: what travels. */
		n->gpu_used = (UINT64_C(1) << (seed + 2)) - 1;
	} else if (table == service_node_fields &&
	    strcmp(f->name, "jobs") == 0) {
		for (k = 0; k <= seed; k++)
			test_fields_fill(service_node_job_fields,
			    VEC_ADD(&n->jobs), seed + k);
	} else if (table == service_node_job_fields &&
	    strcmp(f->name, "task") == 0) {
		((struct node_job *)rec)->task =
		    xstrdup(seed ? "calib" : "run");
	} else if (table == service_history_run_fields &&
	    strcmp(f->name, "task") == 0) {
		((struct history_run *)rec)->task =
		    xstrdup(seed ? "calib" : "run");
	} else if (table == service_queue_row_fields &&
	    strcmp(f->name, "index") == 0) {
		((struct queue_row *)rec)->idx = 50 + seed;
	} else {
		fail_msg("no way to fill the custom field '%s'", f->name);
	}
}

/*
 * Every field of `rec` that the JSON carries, to a value of its own that
 * differs from what fill with the other seed (0 or 1) gives it.
 */
static void
test_fields_fill(const struct service_field *table, void *rec, int seed)
{
	const struct service_field *f;
	struct buf s = BUF_INIT;
	int64_t i;

	for (f = table, i = 0; f->name != NULL; f++, i++) {
		if (f->flags & (SERVICE_FIELD_INTERNAL | SERVICE_FIELD_DERIVED))
			continue;
		switch (f->type) {
		case SERVICE_FIELD_STR:
		case SERVICE_FIELD_STR0:
			buf_reset(&s);
			buf_addf(&s, "%s-%d", f->name, seed);
			*AT(rec, f, char *) = xstrdup(s.data);
			break;
		case SERVICE_FIELD_INT:
		case SERVICE_FIELD_POS:
		case SERVICE_FIELD_NONNEG:
			*AT(rec, f, int64_t) = 1000 * (seed + 1) + i;
			break;
		case SERVICE_FIELD_BOOL:
		case SERVICE_FIELD_NOT:
			*AT(rec, f, bool) = seed != 0;
			break;
		case SERVICE_FIELD_TIME:
			/* Whole seconds: what travels. */
			*AT(rec, f, int64_t) =
			    1700000000000 + (100 * (seed + 1) + i) * 1000;
			break;
		case SERVICE_FIELD_DOUBLE:
			*AT(rec, f, double) = 100 * (seed + 1) + i + 0.5;
			break;
		case SERVICE_FIELD_TASK_STATUS:
			*AT(rec, f, enum task_status) =
			    (enum task_status)((seed + i) % TASK_NSTATUS);
			break;
		case SERVICE_FIELD_JOB_STATUS:
			*AT(rec, f, enum job_status) =
			    (enum job_status)((seed + i) % JOB_NSTATUS);
			break;
		case SERVICE_FIELD_SIGNAL:
			*AT(rec, f, enum task_signal) =
			    seed ? SIGNAL_KILL : SIGNAL_RETRY;
			break;
		case SERVICE_FIELD_CUSTOM:
			test_fields_fill_custom(table, f, rec, seed);
			break;
		}
	}
	buf_release(&s);
}

static size_t test_fields_diff(const char *what,
    const struct service_field *table, const void *a, const void *b);

static bool
test_fields_is_str(const struct service_field *table,
    const struct service_field *f)
{
	return f->type == SERVICE_FIELD_STR || f->type == SERVICE_FIELD_STR0 ||
	    ((table == service_node_job_fields ||
	         table == service_history_run_fields) &&
	        strcmp(f->name, "task") == 0);
}

/* How many members of `table` differ between `a` and `b`, each said. */
static size_t
test_fields_diff(const char *what, const struct service_field *table,
    const void *a, const void *b)
{
	const struct service_field *f;
	const struct node *na = a, *nb = b;
	const char *sa, *sb;
	size_t ndiff = 0, k;

	for (f = table; f->name != NULL; f++) {
		if (f->size == 0)
			continue;
		if (table == service_node_fields &&
		    strcmp(f->name, "jobs") == 0) {
			if (na->jobs.n != nb->jobs.n) {
				print_message("%s.jobs: %zu jobs, not %zu\n",
				    what, nb->jobs.n, na->jobs.n);
				ndiff++;
				continue;
			}
			for (k = 0; k < na->jobs.n; k++)
				ndiff += test_fields_diff("node job",
				    service_node_job_fields, &na->jobs.v[k],
				    &nb->jobs.v[k]);
		} else if (test_fields_is_str(table, f)) {
			sa = *(char *const *)((const char *)a + f->offset);
			sb = *(char *const *)((const char *)b + f->offset);
			if ((sa == NULL) != (sb == NULL) ||
			    (sa != NULL && strcmp(sa, sb) != 0)) {
				print_message("%s.%s: '%s', not '%s'\n", what,
				    f->name, sb ? sb : "(null)",
				    sa ? sa : "(null)");
				ndiff++;
			}
		} else if (memcmp((const char *)a + f->offset,
		               (const char *)b + f->offset, f->size) != 0) {
			/* Numbers, flags, statuses, counts: their bytes. */
			print_message("%s.%s differs\n", what, f->name);
			ndiff++;
		}
	}
	return ndiff;
}

static void
test_record_account(int seed)
{
	struct account a = { 0 }, b = { 0 };
	json_t *v;

	test_fields_fill(service_account_fields, &a, seed);
	v = service_json_account(&a);
	service_remote_parse_account(v, &b);
	assert_int_equal(
	    test_fields_diff("account", service_account_fields, &a, &b), 0);
	json_decref(v);
	account_release(&a);
	account_release(&b);
}

static void
test_record_token(int seed)
{
	struct token a = { 0 }, b = { 0 };
	json_t *v;

	test_fields_fill(service_token_fields, &a, seed);
	v = service_json_token(&a);
	service_remote_parse_token(v, &b);
	assert_int_equal(
	    test_fields_diff("token", service_token_fields, &a, &b), 0);
	json_decref(v);
	token_release(&a);
	token_release(&b);
}

static void
test_record_task(int seed)
{
	struct task a = { 0 }, b = { 0 };
	struct buf err = BUF_INIT;
	json_t *v;

	test_fields_fill(service_task_fields, &a, seed);
	test_fields_fill(service_task_summary_fields, &a, seed);
	v = service_json_task(&a);
	assert_int_equal(service_remote_parse_task(v, &b, &err), 0);
	/* What GET /api/v1/tasks adds: its reader is this table's. */
	assert_int_equal(
	    service_json_read(service_task_summary_fields, v, &b, &err), 0);
	assert_int_equal(test_fields_diff("task", service_task_fields, &a, &b),
	    0);
	assert_int_equal(
	    test_fields_diff("task", service_task_summary_fields, &a, &b), 0);
	json_decref(v);
	task_release(&a);
	task_release(&b);
	buf_release(&err);
}

static void
test_record_job(int seed)
{
	struct job a = { 0 }, b = { 0 };
	struct job_wait wa = { 0 }, wb = { 0 };
	struct buf err = BUF_INIT;
	json_t *v;

	test_fields_fill(service_job_fields, &a, seed);
	test_fields_fill(service_job_wait_fields, &wa, seed);
	wa.job_id = a.id;
	v = service_json_job(&a, &wa);
	assert_int_equal(service_remote_parse_job(v, &b, &wb, &err), 0);
	assert_int_equal(test_fields_diff("job", service_job_fields, &a, &b),
	    0);
	assert_int_equal(
	    test_fields_diff("job wait", service_job_wait_fields, &wa, &wb), 0);
	json_decref(v);
	job_release(&a);
	job_release(&b);
	free(wa.why);
	free(wb.why);
	buf_release(&err);
}

static void
test_record_node(int seed)
{
	node_vec both = VEC_INIT;
	struct node *a, *b;
	struct buf err = BUF_INIT;
	json_t *v;

	a = VEC_ADD(&both);
	test_fields_fill(service_node_fields, a, seed);
	v = service_json_node(a);
	b = VEC_ADD(&both);
	a = &both.v[0];
	assert_int_equal(service_remote_parse_node(v, b, &err), 0);
	assert_true(a->jobs.n > 0);
	assert_int_equal(test_fields_diff("node", service_node_fields, a, b),
	    0);
	json_decref(v);
	node_vec_release(&both);
	buf_release(&err);
}

static void
test_record_queue_row(int seed)
{
	queue_row_vec both = VEC_INIT;
	struct queue_row *a, *b;
	struct buf err = BUF_INIT;
	json_t *v;

	a = VEC_ADD(&both);
	test_fields_fill(service_queue_row_fields, a, seed);
	v = service_json_queue_row(a);
	b = VEC_ADD(&both);
	a = &both.v[0];
	assert_int_equal(service_remote_parse_queue_row(v, b, &err), 0);
	assert_int_equal(
	    test_fields_diff("queue row", service_queue_row_fields, a, b), 0);
	json_decref(v);
	queue_row_vec_release(&both);
	buf_release(&err);
}

static void
test_record_usage_row(int seed)
{
	usage_row_vec both = VEC_INIT;
	struct usage_row *a, *b;
	struct buf err = BUF_INIT;
	json_t *v;

	a = VEC_ADD(&both);
	test_fields_fill(service_usage_row_fields, a, seed);
	v = service_json_usage_row(a);
	b = VEC_ADD(&both);
	a = &both.v[0];
	assert_int_equal(
	    service_json_read(service_usage_row_fields, v, b, &err), 0);
	assert_int_equal(
	    test_fields_diff("usage row", service_usage_row_fields, a, b), 0);
	json_decref(v);
	usage_row_vec_release(&both);
	buf_release(&err);
}

/* The accounting answer, written and read back whole. */
static void
test_record_history(int seed)
{
	history_total_vec a = VEC_INIT, b = VEC_INIT;
	struct history_filter f = { .since_ms = 1000,
		.until_ms = 2000,
		.by = HISTORY_BY_NODE };
	struct buf err = BUF_INIT;
	json_t *v;

	test_fields_fill(service_history_total_fields, VEC_ADD(&a), seed);
	test_fields_fill(service_history_total_fields, VEC_ADD(&a), seed + 1);
	v = service_json_history(&f, &a);
	assert_string_equal(json_string_value(json_object_get(v, "by")),
	    "node");
	assert_int_equal(service_json_history_read(v, &b, &err), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(test_fields_diff("history total",
	                     service_history_total_fields, &a.v[0], &b.v[0]),
	    0);
	assert_int_equal(test_fields_diff("history total",
	                     service_history_total_fields, &a.v[1], &b.v[1]),
	    0);
	json_decref(v);
	history_total_vec_release(&a);
	history_total_vec_release(&b);
	buf_release(&err);
}

/* The runs of the history, written and read back whole. */
static void
test_record_history_runs(int seed)
{
	history_run_vec a = VEC_INIT, b = VEC_INIT;
	struct history_filter f = { .since_ms = 1000, .until_ms = 2000 };
	struct buf err = BUF_INIT;
	json_t *v;

	test_fields_fill(service_history_run_fields, VEC_ADD(&a), seed);
	test_fields_fill(service_history_run_fields, VEC_ADD(&a), seed + 1);
	v = service_json_history_runs(&f, &a, a.n);
	assert_int_equal(service_json_history_runs_read(v, &b, &err), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(test_fields_diff("history run",
	                     service_history_run_fields, &a.v[0], &b.v[0]),
	    0);
	assert_int_equal(test_fields_diff("history run",
	                     service_history_run_fields, &a.v[1], &b.v[1]),
	    0);
	json_decref(v);
	history_run_vec_release(&a);
	history_run_vec_release(&b);
	buf_release(&err);
}

/*
 * Two fillings whose every field differs: a field the writer or the
 * reader drops reads back as the same "none" both times, which one of
 * them is not.
 */
static void
test_records_read_back_as_written(void **state)
{
	int seed;

	(void)state;
	for (seed = 0; seed < 2; seed++) {
		test_record_account(seed);
		test_record_token(seed);
		test_record_task(seed);
		test_record_job(seed);
		test_record_node(seed);
		test_record_queue_row(seed);
		test_record_usage_row(seed);
		test_record_history(seed);
		test_record_history_runs(seed);
	}
}

/* The check itself: a reader without the "mail" row is caught. */
static void
test_a_dropped_field_is_caught(void **state)
{
	struct service_field shorter[16];
	struct account a = { 0 }, b = { 0 };
	const struct service_field *f;
	size_t n = 0, caught = 0;
	struct buf err = BUF_INIT;
	json_t *v;
	int seed;

	(void)state;
	for (f = service_account_fields; f->name != NULL; f++)
		if (strcmp(f->name, "mail") != 0)
			shorter[n++] = *f;
	memset(&shorter[n], 0, sizeof(shorter[n]));
	for (seed = 0; seed < 2; seed++) {
		test_fields_fill(service_account_fields, &a, seed);
		v = service_json_account(&a);
		assert_int_equal(service_json_read(shorter, v, &b, &err), 0);
		caught +=
		    test_fields_diff("account", service_account_fields, &a, &b);
		json_decref(v);
		account_release(&a);
		account_release(&b);
	}
	assert_int_equal(caught, 1);
	buf_release(&err);
}

/* ---- request bodies ----------------------------------------------------- */

static void
test_user_opts_there_and_back(void **state)
{
	struct user_opts o = { 0 }, back;
	json_t *v;

	(void)state;
	o.email = "bob@example.org";
	o.max_priority = 42;
	o.role = "admin";
	o.mail = "off";
	o.unix_user = "bob";
	v = service_json_opts_write(service_account_fields,
	    SERVICE_FIELD_UPDATE, &o);
	assert_int_equal(json_object_size(v), 5);
	memset(&back, 0, sizeof(back));
	service_json_opts_read(service_account_fields, SERVICE_FIELD_UPDATE, v,
	    &back);
	assert_string_equal(back.email, o.email);
	assert_int_equal(back.max_priority, 42);
	assert_string_equal(back.role, "admin");
	assert_string_equal(back.mail, "off");
	assert_string_equal(back.unix_user, "bob");
	json_decref(v);
	/* Given nothing: every member "not given". */
	v = json_object();
	service_json_opts_read(service_account_fields, SERVICE_FIELD_CREATE, v,
	    &back);
	assert_null(back.email);
	assert_int_equal(back.max_priority, OPT_UNSET);
	assert_null(back.mail);
	json_decref(v);
}

static void
test_node_opts_there_and_back(void **state)
{
	struct node_opts o = NODE_OPTS_INIT, back = NODE_OPTS_INIT;
	json_t *v;

	(void)state;
	o.queue = "gpu";
	o.cpu_slots = 1;
	o.gpu_slots = 2;
	o.max_cpu_slots = 3;
	o.max_gpu_slots = 4;
	o.memory = (int64_t)64 << 30;
	v = service_json_opts_write(service_node_fields, SERVICE_FIELD_UPDATE,
	    &o);
	assert_int_equal(json_object_size(v), 6);
	service_json_opts_read(service_node_fields, SERVICE_FIELD_UPDATE, v,
	    &back);
	assert_string_equal(back.queue, "gpu");
	assert_int_equal(back.cpu_slots, 1);
	assert_int_equal(back.gpu_slots, 2);
	assert_int_equal(back.max_cpu_slots, 3);
	assert_int_equal(back.max_gpu_slots, 4);
	assert_int_equal(back.memory, (int64_t)64 << 30);
	json_decref(v);
}

static void
test_nothing_to_set(void **state)
{
	struct service svc = { 0 };
	struct user_opts uo = { 0 };
	struct node_opts no = NODE_OPTS_INIT;
	struct account a = { 0 };
	struct node n = { 0 };
	struct buf err = BUF_INIT;

	(void)state;
	uo.max_priority = OPT_UNSET;
	assert_int_equal(service_user_check_set(&uo, false, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "nothing to set: give email, mail, max_priority, role or "
	    "unix_user");
	assert_int_equal(service_user_check_set(&uo, true, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "nothing to set: give --email, --mail, --priority, --role or "
	    "--unix-user");
	assert_int_equal(service_node_check_set(&no, false, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "nothing to set: give queue, cpu_slots, gpu_slots, max_cpu_slots, "
	    "max_gpu_slots or memory");
	assert_int_equal(service_node_check_set(&no, true, &err), ERR_INVALID);
	assert_string_equal(err.data,
	    "nothing to set: give --queue, --cpu-slots, --gpu-slots, "
	    "--max-cpu-slots, --max-gpu-slots or --memory");
	/* The service refuses it before it reaches any store. */
	assert_int_equal(service_user_set(&svc, "bob", &uo, &a, &err),
	    ERR_INVALID);
	assert_int_equal(service_node_set(&svc, "n1", &no, &n, &err),
	    ERR_INVALID);
	uo.mail = "on";
	assert_int_equal(service_user_check_set(&uo, false, &err), 0);
	no.max_gpu_slots = 0;
	assert_int_equal(service_node_check_set(&no, false, &err), 0);
	buf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_member_has_a_row),
		cmocka_unit_test(test_records_read_back_as_written),
		cmocka_unit_test(test_a_dropped_field_is_caught),
		cmocka_unit_test(test_user_opts_there_and_back),
		cmocka_unit_test(test_node_opts_there_and_back),
		cmocka_unit_test(test_nothing_to_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
