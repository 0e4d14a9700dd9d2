/*
 * place.c - placement of jobs into the free slots of a queue's nodes.
 *
 * A node that is drained (not enabled) or unhealthy offers no slot.  Slots
 * lowered below what is in use give no free slot and take nothing away:
 * used counts are never changed here except to take a slot.  A job goes
 * only where the memory it asks is free too: the node's memory less the
 * memory of the jobs holding its slots (a node whose memory is not known,
 * 0, is not limited by it).
 */
#include "core/core.h"

bool
place_healthy(bool ready, bool memory_pressure, bool disk_pressure)
{
	return ready && !memory_pressure && !disk_pressure;
}

const char *
place_health_name(bool healthy)
{
	return healthy ? "healthy" : "unhealthy";
}

int64_t
place_free_cpu(const struct place_node *n)
{
	if (!n->enabled || !n->healthy)
		return 0;
	if (n->cpu_used >= n->cpu_slots)
		return 0;
	return n->cpu_slots - n->cpu_used;
}

/* Device indices below min(gpu_slots, PLACE_MAX_GPUS). */
static int
place_gpu_limit(const struct place_node *n)
{
	if (n->gpu_slots <= 0)
		return 0;
	if (n->gpu_slots > PLACE_MAX_GPUS)
		return PLACE_MAX_GPUS;
	return (int)n->gpu_slots;
}

int64_t
place_free_gpu(const struct place_node *n)
{
	int64_t nfree = 0, held;
	int i, limit;

	if (!n->enabled || !n->healthy)
		return 0;
	limit = place_gpu_limit(n);
	for (i = 0; i < limit; i++)
		if ((n->gpu_used & ((uint64_t)1 << i)) == 0)
			nfree++;
	/*
	 * gpu_slots lowered below the devices held (some above it): no new
	 * job until fewer are held than it says (SPEC), however many
	 * indices below it are free.
	 */
	held = __builtin_popcountll(n->gpu_used);
	if (held >= n->gpu_slots)
		return 0;
	return nfree < n->gpu_slots - held ? nfree : n->gpu_slots - held;
}

static int64_t
place_free(const struct place_node *n, bool gpu)
{
	return gpu ? place_free_gpu(n) : place_free_cpu(n);
}

int64_t
place_job_memory(const struct place_node *n, const struct place_ask *ask)
{
	int64_t slots = n->cpu_slots + n->gpu_slots;

	if (ask->memory > 0)
		return ask->memory;
	if (ask->default_memory > 0)
		return ask->default_memory;
	if (n->memory <= 0 || slots <= 0)
		return 0;
	return n->memory / slots;
}

int64_t
place_free_memory(const struct place_node *n)
{
	if (n->memory <= 0)
		return INT64_MAX;
	if (n->memory_used >= n->memory)
		return 0;
	return n->memory - n->memory_used;
}

static bool
place_memory_fits(const struct place_node *n, const struct place_ask *ask)
{
	return place_job_memory(n, ask) <= place_free_memory(n);
}

int
place_pick(struct place_node *nodes, size_t nnodes, const char *queue,
    const struct place_ask *ask, int *gpu_index, int64_t *memory)
{
	struct place_node *n;
	int64_t best_free = 0, nfree;
	size_t i;
	int best = -1, limit, d;

	if (gpu_index != NULL)
		*gpu_index = -1;
	if (memory != NULL)
		*memory = 0;
	for (i = 0; i < nnodes; i++) {
		n = &nodes[i];
		if (strcmp(n->queue, queue) != 0)
			continue;
		nfree = place_free(n, ask->gpu);
		if (nfree <= 0 || !place_memory_fits(n, ask))
			continue;
		if (best == -1 || nfree > best_free ||
		    (nfree == best_free &&
		        strcmp(n->name, nodes[best].name) < 0)) {
			best = (int)i;
			best_free = nfree;
		}
	}
	if (best == -1)
		return -1;
	n = &nodes[best];
	n->memory_used += place_job_memory(n, ask);
	if (memory != NULL)
		*memory = place_job_memory(n, ask);
	if (!ask->gpu) {
		n->cpu_used++;
		return best;
	}
	limit = place_gpu_limit(n);
	for (d = 0; d < limit; d++) {
		if ((n->gpu_used & ((uint64_t)1 << d)) == 0)
			break;
	}
	if (d == limit)
		BUG("node '%s' has free GPU slots but no free device", n->name);
	n->gpu_used |= (uint64_t)1 << d;
	if (gpu_index != NULL)
		*gpu_index = d;
	return best;
}

int
place_memory_why(const struct place_node *nodes, size_t nnodes,
    const char *queue, const struct place_ask *ask, struct buf *why)
{
	const struct place_node *n, *largest = NULL;
	size_t i;

	for (i = 0; i < nnodes; i++) {
		n = &nodes[i];
		if (strcmp(n->queue, queue) != 0 ||
		    place_free(n, ask->gpu) <= 0)
			continue;
		if (place_memory_fits(n, ask))
			return 0;
		if (largest == NULL ||
		    place_free_memory(n) > place_free_memory(largest))
			largest = n;
	}
	if (largest == NULL)
		return 0;
	buf_adds(why, "waits for ");
	size_format(why, place_job_memory(largest, ask));
	buf_addf(why, " free on a node of queue '%s'; the largest has ", queue);
	size_format(why, place_free_memory(largest));
	return 1;
}

int64_t
place_free_in_queue(const struct place_node *nodes, size_t nnodes,
    const char *queue, bool gpu)
{
	int64_t total = 0;
	size_t i;

	for (i = 0; i < nnodes; i++)
		if (strcmp(nodes[i].queue, queue) == 0)
			total += place_free(&nodes[i], gpu);
	return total;
}
