/* libs: orch_core */
/*
 * test-place.c - free slots and placement: GPU device indices, the node
 * with the most free slots, drained and unhealthy nodes, other queues,
 * slots lowered below what is in use; memory: what a job asks by
 * default, nodes without it free passed over, why a job waits for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

static struct place_node
node(const char *name, const char *queue, int64_t cpu, int64_t gpu)
{
	struct place_node n = { 0 };

	n.name = name;
	n.queue = queue;
	n.cpu_slots = cpu;
	n.gpu_slots = gpu;
	n.enabled = true;
	n.healthy = true;
	return n;
}

/* A job that asks no memory of its own, with no site default. */
static int
pick(struct place_node *nodes, size_t nnodes, const char *queue, bool gpu,
    int *gpu_index)
{
	struct place_ask ask = { .gpu = gpu };

	return place_pick(nodes, nnodes, queue, &ask, gpu_index, NULL);
}

static void
test_gpu_distinct_devices(void **state)
{
	struct place_node nodes[1];
	int gi, i, seen = 0;

	(void)state;
	nodes[0] = node("g1", "default", 4, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pick(nodes, 1, "default", true, &gi), 0);
		/* Lowest free index first, each one once. */
		assert_int_equal(gi, i);
		assert_false(seen & (1 << gi));
		seen |= 1 << gi;
	}
	assert_int_equal(place_free_gpu(&nodes[0]), 0);
	assert_int_equal(pick(nodes, 1, "default", true, &gi), -1);
	assert_int_equal(gi, -1);
	/* GPU jobs take no CPU slot. */
	assert_int_equal(nodes[0].cpu_used, 0);
	assert_int_equal(nodes[0].gpu_used, 0xf);
}

static void
test_gpu_lowest_free_index(void **state)
{
	struct place_node nodes[1];
	int gi;

	(void)state;
	nodes[0] = node("g1", "default", 0, 8);
	nodes[0].gpu_used = 0x0b; /* 0, 1, 3 held */
	assert_int_equal(place_free_gpu(&nodes[0]), 5);
	assert_int_equal(pick(nodes, 1, "default", true, &gi), 0);
	assert_int_equal(gi, 2);
	assert_int_equal(pick(nodes, 1, "default", true, &gi), 0);
	assert_int_equal(gi, 4);
	assert_int_equal(nodes[0].gpu_used, 0x1f);
}

static void
test_gpu_most_free_node(void **state)
{
	struct place_node nodes[3];
	int gi;

	(void)state;
	nodes[0] = node("b", "default", 0, 2);
	nodes[1] = node("a", "default", 0, 4);
	nodes[1].gpu_used = 0x3; /* 2 free, ties with b: a by name */
	nodes[2] = node("c", "default", 0, 1);
	assert_int_equal(pick(nodes, 3, "default", true, &gi), 1);
	assert_int_equal(gi, 2);
	/* Now b has 2, a 1, c 1. */
	assert_int_equal(pick(nodes, 3, "default", true, &gi), 0);
	assert_int_equal(gi, 0);
	/* a 1, b 1, c 1: by name. */
	assert_int_equal(pick(nodes, 3, "default", true, &gi), 1);
	assert_int_equal(gi, 3);
	assert_int_equal(pick(nodes, 3, "default", true, &gi), 0);
	assert_int_equal(gi, 1);
	assert_int_equal(pick(nodes, 3, "default", true, &gi), 2);
	assert_int_equal(gi, 0);
	assert_int_equal(pick(nodes, 3, "default", true, &gi), -1);
	assert_int_equal(place_free_in_queue(nodes, 3, "default", true), 0);
}

static void
test_cpu_most_free_ties_by_name(void **state)
{
	struct place_node nodes[3];
	int gi, i, counts[3] = { 0 };

	(void)state;
	nodes[0] = node("n2", "default", 4, 0);
	nodes[1] = node("n1", "default", 4, 0);
	nodes[2] = node("n3", "default", 6, 0);
	nodes[2].cpu_used = 1; /* 5 free */
	/* n3 has the most. */
	assert_int_equal(pick(nodes, 3, "default", false, &gi), 2);
	assert_int_equal(gi, -1);
	/* All three have 4 free: n1 by name, then n2, then n3. */
	assert_int_equal(pick(nodes, 3, "default", false, &gi), 1);
	assert_int_equal(pick(nodes, 3, "default", false, &gi), 0);
	assert_int_equal(pick(nodes, 3, "default", false, &gi), 2);
	assert_int_equal(place_free_in_queue(nodes, 3, "default", false), 9);
	for (i = 0; i < 9; i++)
		counts[pick(nodes, 3, "default", false, &gi)]++;
	assert_int_equal(counts[0], 3);
	assert_int_equal(counts[1], 3);
	assert_int_equal(counts[2], 3);
	assert_int_equal(pick(nodes, 3, "default", false, &gi), -1);
	assert_int_equal(nodes[0].cpu_used, 4);
	assert_int_equal(nodes[1].cpu_used, 4);
	assert_int_equal(nodes[2].cpu_used, 6);
	/* CPU jobs take no GPU. */
	assert_int_equal(nodes[2].gpu_used, 0);
}

static void
test_unusable_nodes(void **state)
{
	struct place_node nodes[4];
	int gi;

	(void)state;
	nodes[0] = node("drained", "default", 10, 2);
	nodes[0].enabled = false;
	nodes[1] = node("sick", "default", 10, 2);
	nodes[1].healthy = false;
	nodes[2] = node("other", "gpuq", 10, 2);
	nodes[3] = node("small", "default", 1, 1);
	assert_int_equal(place_free_cpu(&nodes[0]), 0);
	assert_int_equal(place_free_gpu(&nodes[0]), 0);
	assert_int_equal(place_free_cpu(&nodes[1]), 0);
	assert_int_equal(place_free_gpu(&nodes[1]), 0);
	assert_int_equal(place_free_in_queue(nodes, 4, "default", false), 1);
	assert_int_equal(place_free_in_queue(nodes, 4, "default", true), 1);
	assert_int_equal(place_free_in_queue(nodes, 4, "gpuq", true), 2);
	assert_int_equal(place_free_in_queue(nodes, 4, "none", false), 0);
	assert_int_equal(pick(nodes, 4, "default", false, &gi), 3);
	assert_int_equal(pick(nodes, 4, "default", false, &gi), -1);
	assert_int_equal(pick(nodes, 4, "default", true, &gi), 3);
	assert_int_equal(gi, 0);
	assert_int_equal(pick(nodes, 4, "default", true, &gi), -1);
	assert_int_equal(pick(nodes, 4, "gpuq", false, &gi), 2);
	/* Nothing was taken on the drained and sick nodes. */
	assert_int_equal(nodes[0].cpu_used, 0);
	assert_int_equal(nodes[0].gpu_used, 0);
	assert_int_equal(nodes[1].cpu_used, 0);
	assert_int_equal(nodes[1].gpu_used, 0);
}

static void
test_slots_lowered_below_use(void **state)
{
	struct place_node nodes[2];
	int gi;

	(void)state;
	nodes[0] = node("a", "default", 2, 2);
	nodes[0].cpu_used = 5;
	nodes[0].gpu_used = 0x30; /* devices 4 and 5 held, above gpu_slots */
	nodes[1] = node("b", "default", 1, 0);
	assert_int_equal(place_free_cpu(&nodes[0]), 0);
	/*
	 * Devices 0 and 1 are free, but two GPU jobs run: none goes there
	 * until fewer than 2 run (SPEC: lowering slots stops nothing, and
	 * no new job goes there until it is below the new number).
	 */
	assert_int_equal(place_free_gpu(&nodes[0]), 0);
	assert_int_equal(pick(nodes, 2, "default", true, &gi), -1);
	nodes[0].gpu_used = 0x20; /* the job on device 4 ended */
	assert_int_equal(place_free_gpu(&nodes[0]), 1);
	assert_int_equal(pick(nodes, 2, "default", true, &gi), 0);
	assert_int_equal(gi, 0);
	assert_int_equal(nodes[0].gpu_used, 0x21);
	assert_int_equal(pick(nodes, 2, "default", true, &gi), -1);
	nodes[0].gpu_used = 0x30;
	assert_int_equal(pick(nodes, 2, "default", false, &gi), 1);
	assert_int_equal(pick(nodes, 2, "default", false, &gi), -1);
	assert_int_equal(nodes[0].cpu_used, 5);
	assert_int_equal(nodes[0].cpu_slots, 2);

	/* gpu_slots lowered to 1 while device 1 and 4 are held. */
	nodes[0].gpu_slots = 1;
	nodes[0].gpu_used = 0x12;
	assert_int_equal(place_free_gpu(&nodes[0]), 0);
	assert_int_equal(pick(nodes, 2, "default", true, &gi), -1);
	/* Both ended but the one on device 4: still one held, not below 1. */
	nodes[0].gpu_used = 0x10;
	assert_int_equal(place_free_gpu(&nodes[0]), 0);
	nodes[0].gpu_used = 0x02; /* device 1 is above the new number too */
	assert_int_equal(place_free_gpu(&nodes[0]), 0);
	nodes[0].gpu_used = 0;
	assert_int_equal(place_free_gpu(&nodes[0]), 1);
	assert_int_equal(pick(nodes, 2, "default", true, &gi), 0);
	assert_int_equal(gi, 0);
	assert_int_equal(pick(nodes, 2, "default", true, &gi), -1);
	nodes[0].gpu_used = 0x13;
	nodes[0].gpu_slots = 0;
	assert_int_equal(place_free_gpu(&nodes[0]), 0);
	assert_int_equal(nodes[0].gpu_used, 0x13);
	/* Negative slots are no slots. */
	nodes[1].cpu_slots = -3;
	nodes[1].gpu_slots = -1;
	assert_int_equal(place_free_cpu(&nodes[1]), 0);
	assert_int_equal(place_free_gpu(&nodes[1]), 0);
}

static void
test_gpu_64_devices(void **state)
{
	struct place_node nodes[1];
	int gi, i;

	(void)state;
	nodes[0] = node("big", "default", 0, 100);
	assert_int_equal(place_free_gpu(&nodes[0]), PLACE_MAX_GPUS);
	for (i = 0; i < PLACE_MAX_GPUS; i++) {
		assert_int_equal(pick(nodes, 1, "default", true, &gi), 0);
		assert_int_equal(gi, i);
	}
	assert_int_equal(nodes[0].gpu_used, UINT64_MAX);
	assert_int_equal(pick(nodes, 1, "default", true, &gi), -1);
}

/* Healthy: ready and under no pressure; any one flag makes it unhealthy. */
static void
test_healthy(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_int_equal(place_healthy(i & 1, i & 2, i & 4), i == 1);
	assert_string_equal(place_health_name(true), "healthy");
	assert_string_equal(place_health_name(false), "unhealthy");
}

#define GIB ((int64_t)1 << 30)

/* The default: --memory, else the site's, else memory / (CPU + GPU slots). */
static void
test_memory_default(void **state)
{
	struct place_node n = node("a", "default", 6, 2);
	struct place_ask ask = { 0 };

	(void)state;
	assert_int_equal(place_job_memory(&n, &ask), 0); /* memory unknown */
	assert_int_equal(place_free_memory(&n), INT64_MAX);
	n.memory = 16 * GIB;
	assert_int_equal(place_job_memory(&n, &ask), 2 * GIB);
	ask.default_memory = 3 * GIB;
	assert_int_equal(place_job_memory(&n, &ask), 3 * GIB);
	ask.memory = 5 * GIB;
	assert_int_equal(place_job_memory(&n, &ask), 5 * GIB);
	n.cpu_slots = 0;
	n.gpu_slots = 0;
	ask.memory = 0;
	ask.default_memory = 0;
	assert_int_equal(place_job_memory(&n, &ask), 0);
	n.memory_used = 20 * GIB; /* slots or memory lowered below use */
	assert_int_equal(place_free_memory(&n), 0);
}

/*
 * 4 slots and 4 GiB: jobs asking 3 GiB go one at a time though slots are
 * free; a 1 GiB job still fits beside one; the memory comes back.
 */
static void
test_memory_limits_placement(void **state)
{
	struct place_node nodes[1];
	struct place_ask ask = { .memory = 3 * GIB };
	int64_t mem = -1;
	int gi;

	(void)state;
	nodes[0] = node("a", "default", 4, 0);
	nodes[0].memory = 4 * GIB;
	assert_int_equal(place_pick(nodes, 1, "default", &ask, &gi, &mem), 0);
	assert_int_equal(mem, 3 * GIB);
	assert_int_equal(nodes[0].memory_used, 3 * GIB);
	assert_int_equal(place_pick(nodes, 1, "default", &ask, &gi, &mem), -1);
	assert_int_equal(mem, 0);
	assert_int_equal(nodes[0].cpu_used, 1);
	ask.memory = GIB;
	assert_int_equal(place_pick(nodes, 1, "default", &ask, &gi, &mem), 0);
	assert_int_equal(place_pick(nodes, 1, "default", &ask, &gi, &mem), -1);
	assert_int_equal(place_free_cpu(&nodes[0]), 2);
	/* Unknown memory limits nothing. */
	nodes[0].memory = 0;
	ask.memory = 100 * GIB;
	assert_int_equal(place_pick(nodes, 1, "default", &ask, &gi, &mem), 0);
	assert_int_equal(mem, 100 * GIB);
}

/* The node with the most free slots that has the memory; else none. */
static void
test_memory_picks_node_that_fits(void **state)
{
	struct place_node nodes[2];
	struct place_ask ask = { .memory = 8 * GIB, .gpu = true };
	int64_t mem;
	int gi;

	(void)state;
	nodes[0] = node("big", "default", 4, 4);
	nodes[0].memory = 64 * GIB;
	nodes[1] = node("small", "default", 8, 8);
	nodes[1].memory = 4 * GIB;
	assert_int_equal(place_pick(nodes, 2, "default", &ask, &gi, &mem), 0);
	assert_int_equal(gi, 0);
	/* Defaults: each node's memory / its 16 or 8 slots. */
	ask.memory = 0;
	ask.gpu = false;
	assert_int_equal(place_pick(nodes, 2, "default", &ask, &gi, &mem), 1);
	assert_int_equal(mem, GIB / 4);
	assert_int_equal(place_pick(nodes, 2, "default", &ask, &gi, &mem), 1);
}

static void
test_memory_why(void **state)
{
	struct place_node nodes[3];
	struct place_ask ask = { .memory = 16 * GIB };
	struct buf why = BUF_INIT;

	(void)state;
	nodes[0] = node("a", "default", 4, 0);
	nodes[0].memory = 12 * GIB;
	nodes[1] = node("b", "default", 4, 0);
	nodes[1].memory = 32 * GIB;
	nodes[1].memory_used = 24 * GIB;
	nodes[2] = node("c", "other", 4, 0);
	nodes[2].memory = 64 * GIB;
	assert_int_equal(place_memory_why(nodes, 3, "default", &ask, &why), 1);
	assert_string_equal(why.data,
	    "waits for 16 GiB free on a node of queue 'default'; the largest "
	    "has 12 GiB");
	/* No node with a free slot: the slots are why. */
	buf_reset(&why);
	nodes[1].memory_used = 0;
	nodes[1].cpu_used = 4;
	nodes[0].cpu_used = 4;
	assert_int_equal(place_memory_why(nodes, 3, "default", &ask, &why), 0);
	nodes[0].cpu_used = 0;
	nodes[1].cpu_used = 0;
	assert_int_equal(place_memory_why(nodes, 3, "default", &ask, &why), 0);
	assert_int_equal(why.len, 0);
	/* Fractions, rounded down. */
	ask.memory = GIB + GIB / 2;
	nodes[0].memory_used = 12 * GIB - 1400 * ((int64_t)1 << 20);
	nodes[1].memory = 0;
	nodes[1].enabled = false;
	assert_int_equal(place_memory_why(nodes, 3, "default", &ask, &why), 1);
	assert_string_equal(why.data,
	    "waits for 1.5 GiB free on a node of queue 'default'; the largest "
	    "has 1.3 GiB");
	buf_release(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpu_distinct_devices),
		cmocka_unit_test(test_gpu_lowest_free_index),
		cmocka_unit_test(test_gpu_most_free_node),
		cmocka_unit_test(test_cpu_most_free_ties_by_name),
		cmocka_unit_test(test_unusable_nodes),
		cmocka_unit_test(test_slots_lowered_below_use),
		cmocka_unit_test(test_gpu_64_devices),
		cmocka_unit_test(test_healthy),
		cmocka_unit_test(test_memory_default),
		cmocka_unit_test(test_memory_limits_placement),
		cmocka_unit_test(test_memory_picks_node_that_fits),
		cmocka_unit_test(test_memory_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
