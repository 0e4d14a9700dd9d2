-- 0017-node-reachable.sql - a node the backend cannot run jobs on (issue
-- 16).  The local backend runs every job on this machine: a node of
-- another name (added before `node add` refused one, inserted with SQL,
-- or the pilot moved to another host) would get jobs that run here while
-- they claim to run there.  The pilot marks each node its backend does
-- not report, when the backend reports every node it can reach
-- (backend_ops.nodes_all), unreachable and not ready: it gets no job,
-- `node list` and `status` say so, and the admins are mailed once, as
-- for any node that turns unhealthy.  A node reported again is reachable
-- again.  The pilot's own write: it wakes no one (0013 names the columns
-- an admin sets).
ALTER TABLE node ADD COLUMN reachable INTEGER NOT NULL DEFAULT 1
    CHECK (reachable IN (0, 1));
