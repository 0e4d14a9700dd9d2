-- 0013-node-notify.sqlite.sql - a change to a node's slots, queue or
-- drain made with SQL (an admin's UPDATE in the sqlite3 shell) wakes the
-- pilot as `orchestra node set` does, instead of waiting for its period:
-- the triggers move notify_seq (0008) in the writer's transaction.  Only
-- the columns an admin sets: the pilot's own writes to node (health,
-- counts) wake no one.
CREATE TRIGGER node_notify_insert AFTER INSERT ON node
BEGIN
	UPDATE notify_seq SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER node_notify_update AFTER UPDATE OF queue, cpu_slots,
    gpu_slots, max_cpu_slots, max_gpu_slots, enabled ON node
BEGIN
	UPDATE notify_seq SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER node_notify_delete AFTER DELETE ON node
BEGIN
	UPDATE notify_seq SET n = n + 1 WHERE id = 1;
END;
