-- 0013-node-notify.postgresql.sql - a change to a node's slots, queue or
-- drain made with SQL (an admin's UPDATE in psql) wakes the pilot as
-- `orchestra node set` does, instead of waiting for its period: the
-- same NOTIFY the service sends (db-pg.c), at the writer's commit.  Only
-- the columns an admin sets: the pilot's own writes to node (health,
-- counts) wake no one.  One call per statement, however many rows.
CREATE FUNCTION node_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('orchestra', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER node_notify_insert AFTER INSERT ON node
    FOR EACH STATEMENT EXECUTE FUNCTION node_notify();
CREATE TRIGGER node_notify_update AFTER UPDATE OF queue, cpu_slots,
    gpu_slots, max_cpu_slots, max_gpu_slots, enabled ON node
    FOR EACH STATEMENT EXECUTE FUNCTION node_notify();
CREATE TRIGGER node_notify_delete AFTER DELETE ON node
    FOR EACH STATEMENT EXECUTE FUNCTION node_notify();
