-- 0018-node-memory.postgresql.sql - placement by memory (issue 19).
--
-- node.memory: the node's memory in bytes, 0 when not known (then its
-- memory limits nothing).  `init` writes the local machine's MemTotal,
-- `node sync` a Kubernetes node's status.allocatable.memory, the pilot
-- fills a node still at 0 from what its backend reports (once: a statement
-- of its own, run only then), and an admin sets it like the slots (`node
-- set N --memory 64G`, or SQL: the trigger of 0013 wakes the pilot on a
-- change of memory too).
--
-- task.memory: what each of its jobs asks (`task submit --memory 4G`), 0
-- for the default (the setting default_memory, else the node's memory
-- divided by its CPU and GPU slots).
--
-- job.memory: what the job was placed with, resolved on its node at
-- placement; a node's free memory is its memory less the sum of this over
-- the jobs holding a slot there (pending, running, kill).
ALTER TABLE node ADD COLUMN memory BIGINT NOT NULL DEFAULT 0
    CHECK (memory >= 0);
ALTER TABLE task ADD COLUMN memory BIGINT NOT NULL DEFAULT 0
    CHECK (memory >= 0);
ALTER TABLE job ADD COLUMN memory BIGINT NOT NULL DEFAULT 0;
DROP TRIGGER node_notify_update ON node;
CREATE TRIGGER node_notify_update AFTER UPDATE OF queue, cpu_slots,
    gpu_slots, max_cpu_slots, max_gpu_slots, enabled, memory ON node
    FOR EACH STATEMENT EXECUTE FUNCTION node_notify();
