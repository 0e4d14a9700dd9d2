#!/usr/bin/env python3
"""test-dashboard.py BASE-URL - the dashboard in headless Chromium, run by
test-dashboard.sh (which starts serve and a pilot and sets TMP, NODE,
TOKEN, ALICE_TOKEN, PILOT_PID, PASSWORD, ARTIFACTS and
ORCHESTRA_BIN/ORCHESTRA_HOME).

Reads the rendered page (the DOM after its scripts ran); every wait has a
deadline.  Screenshots: ARTIFACTS/{desktop,phone}-{queue,task,nodes,usage}.png,
desktop-signin.png and desktop-nodes-dark.png.
"""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser  # noqa: E402

BASE = sys.argv[1]
TMP = os.environ["TMP"]
NODE = os.environ["NODE"]
ART = os.environ["ARTIFACTS"]
TASK = "tester/web1"
ROW = 'document.querySelector(\'tr[data-task="%s"]\')' % TASK


def step(msg):
    print("# " + msg, flush=True)


def headers_of(path):
    with urllib.request.urlopen(BASE + path, timeout=10) as r:
        return r.headers


def db_cpu_slots():
    db = sqlite3.connect(os.path.join(os.environ["ORCHESTRA_HOME"],
                                      "orchestra.db"), timeout=10)
    try:
        return db.execute("SELECT cpu_slots FROM node WHERE name = ?",
                          (NODE,)).fetchone()[0]
    finally:
        db.close()


def db_node_enabled():
    db = sqlite3.connect(os.path.join(os.environ["ORCHESTRA_HOME"],
                                      "orchestra.db"), timeout=10)
    try:
        return db.execute("SELECT enabled FROM node WHERE name = ?",
                          (NODE,)).fetchone()[0] != 0
    finally:
        db.close()


def shown(sel):
    """Is the element `sel` there and not hidden (itself or a parent)?"""
    return ("(() => { let e = document.querySelector(%s); if (!e) "
            "return false; for (; e; e = e.parentElement) if (e.hidden) "
            "return false; return true; })()" % json.dumps(sel))


def db_rows(sql):
    """The rows of `sql` on the test's database."""
    db = sqlite3.connect(os.path.join(os.environ["ORCHESTRA_HOME"],
                                      "orchestra.db"), timeout=10)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def db_usage_users():
    """The users with samples in table usage, sorted."""
    return [r[0] for r in db_rows(
        "SELECT DISTINCT username FROM usage ORDER BY username")]


def db_history():
    """The runs in table job_history: (user, task, index, exit code), by id."""
    return [(r[0], "user.%s.%s" % (r[0], r[1]), str(r[2]),
             "-" if r[3] is None else str(r[3])) for r in db_rows(
        "SELECT username, task, idx, exit_code FROM job_history ORDER BY id")]


def cpu_text(ms):
    """CPU time as task show and the dashboard write it: "0.81 s"."""
    return "-" if ms is None else "%d.%02d s" % (ms // 1000, ms % 1000 // 10)


# What a job used, beside the memory it was placed with: "5.1 MiB / 3.9 GiB".
USED_MEMORY = re.compile(r"^\d+(\.\d)? (KiB|MiB|GiB) / \d+(\.\d)? (MiB|GiB)$")


def db_history_states():
    return [r[0] for r in db_rows(
        "SELECT status FROM job_history ORDER BY id")]


PAGE_RUNS = """[...document.querySelectorAll('#history-runs tbody tr')].map(
    (tr) => [0, 1, 2, 10].map((i) => tr.cells[i].textContent))"""


def wait_py(cond, secs, what):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s" % (secs, what))


def status_of(sel):
    return "(document.querySelector(%s)||{dataset:{}}).dataset.status" % \
        json.dumps(sel)


def count_of(state):
    """The number printed for `state` in the task page's progress."""
    return ("(() => { const s = document.querySelector("
            "'#task-progress [data-state=%s]'); "
            "return s ? parseInt(s.textContent) : 0; })()" % state)


def sign_in(b, fill, who="tester (admin)"):
    b.js("(() => { const v = %s; for (const k in v) "
         "document.querySelector(k).value = v[k]; "
         "document.querySelector('#signin').requestSubmit(); })()"
         % json.dumps(fill))
    b.wait("document.querySelector('#who').textContent === %s" %
           json.dumps(who), 20, "signed in as " + who)


def shoot(b, name):
    path = os.path.join(ART, name + ".png")
    b.screenshot(path)
    step("screenshot " + path)


def main():
    profile = tempfile.mkdtemp(prefix="chromium-", dir=TMP)
    b = Browser(profile)
    try:
        run(b)
    finally:
        for line in b.log:
            step("page log: " + line)
        b.close()


def run(b):
    b.viewport(1366, 768)
    b.goto(BASE + "/")
    b.wait("!!document.querySelector('#signin')", 20, "the sign-in form")
    shoot(b, "desktop-signin")

    h = headers_of("/")
    assert "script-src 'self'" in h["Content-Security-Policy"], dict(h)
    assert h["Content-Type"] == "text/html; charset=utf-8", dict(h)
    assert h["ETag"] and h["Cache-Control"] == "no-cache", dict(h)
    assert headers_of("/static/app.js")["Content-Type"].startswith(
        "text/javascript"), "app.js's type"
    req = urllib.request.Request(BASE + "/static/app.js", headers={
        "If-None-Match": headers_of("/static/app.js")["ETag"]})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("app.js sent again despite its ETag")
    except urllib.error.HTTPError as e:
        assert e.code == 304, "If-None-Match: %d" % e.code
    head = urllib.request.Request(BASE + "/", method="HEAD")
    with urllib.request.urlopen(head, timeout=10) as r:
        assert r.status == 200 and r.read() == b"", "HEAD /"

    step("signing in with a password")
    sign_in(b, {"#username": "tester", "#password": os.environ["PASSWORD"]})
    assert b.js("document.cookie") == "", "the session cookie is readable"
    b.wait("!!document.querySelector('#tasks')", 20, "the queue")
    # The page's connection is one thing, the pilot another: it runs.
    b.wait("document.querySelector('#pilot').dataset.state === 'up' && "
           "!document.querySelector('#pilot').hidden", 20, "the pilot up")
    # Whatever the page shows for the task, in order, without a reload.
    b.js("""(() => {
        window.__noReload = true;
        window.__seen = [];
        const note = () => {
            const e = document.querySelector(
                'tr[data-task="%s"] .status, #task-status');
            const s = e && e.dataset.status;
            if (s && window.__seen[window.__seen.length - 1] !== s)
                window.__seen.push(s);
        };
        new MutationObserver(note).observe(document.body, {subtree: true,
            childList: true, attributes: true, characterData: true});
    })()""" % TASK)

    step("submitting a task from the command line")
    subprocess.run([os.environ["ORCHESTRA_BIN"], "task", "submit", "web1",
                    "--exec", "sh %s/job.sh %%JOB %%IN %%OUT" % TMP,
                    "--inputs", TMP + "/in"], check=True,
                   stdout=subprocess.DEVNULL)
    b.wait("!!" + ROW, 20, "the task's row in the queue")
    b.wait(status_of('tr[data-task="%s"] .status' % TASK) + " === 'testing'",
           20, "the task testing")
    why = b.wait(ROW + ".querySelector('.why').textContent", 20,
                 "why the task waits, in the queue")
    step("queue says the task waits: " + why)
    # "testing" holds from the submit on; the counts say "running" once
    # the pilot has started the test job, which may be a cycle later.
    progress = b.wait("(() => { const t = " + ROW + ".querySelector("
                      "'.counts').textContent; return t.includes('running')"
                      " && t; })()", 20, "the test job running, in the queue")
    assert "registered" in progress, progress
    prio = b.js(ROW + ".cells[4].textContent")
    assert prio.replace("-", "", 1).replace(".", "", 1).isdigit(), \
        "no priority for the task whose test job runs: " + prio
    # Counts and why came with the list: no request for the row itself.
    asked = b.js("performance.getEntriesByType('resource').map((e) => "
                 "e.name).filter((n) => n.includes('/api/v1/tasks/'))")
    assert not asked, "the queue asked for rows one by one: %s" % asked
    shoot(b, "desktop-queue")

    step("the task's page, from its row")
    b.js(ROW + ".querySelector('a').click()")
    b.wait("location.hash === '#/tasks/tester/web1'", 10, "the task's URL")
    why = b.wait("(document.querySelector('#jobs tr[data-job=\"1\"] .why')"
                 "||{}).textContent", 20, "why job 1 waits")
    step("job 1 waits: " + why)
    b.js("document.querySelector('a[data-log=\"0\"]').click()")
    b.wait("location.hash.endsWith('job=0')", 10, "the log's URL")
    b.wait("document.querySelector('#log').textContent.includes('start job 0')",
           20, "the test job's log")
    assert b.js("document.querySelector('#job-0').classList"
                ".contains('selected')"), "job 0 not selected"
    # Patched in place: these very nodes must survive every update.
    b.js("document.querySelector('#job-0').__mark = 1; "
         "document.querySelector('#jobs').__mark = 1")

    step("the test job passes: the task runs; two slots, so jobs wait")
    open(os.path.join(TMP, "gate0"), "w").close()
    b.wait(status_of("#task-status") + " === 'running'", 30,
           "the task running")
    b.wait(count_of("running") + " === 2", 30, "two jobs running")
    why = b.wait("(document.querySelector('#jobs tr[data-job=\"3\"] .why')"
                 "||{}).textContent", 20, "why job 3 waits")
    step("job 3 waits: " + why)
    # Its priority is the scheduler's, as `orchestra queue` prints it
    # (jobs 1 and 2 hold the slots until gate1: it stays put).
    q = json.loads(subprocess.run(
        [os.environ["ORCHESTRA_BIN"], "queue", "--json"], check=True,
        stdout=subprocess.PIPE).stdout)
    want = [r["priority"] for r in q
            if r["task"] == "web1" and r["index"] == 3][0]
    got = b.wait("(document.querySelector('#jobs tr[data-job=\"3\"]')"
                 "||{cells:[]}).cells[2].textContent", 20,
                 "job 3's priority")
    assert got == "%.1f" % want and want > 0, \
        "job 3's priority: page %s, queue %s" % (got, want)
    shoot(b, "desktop-task")

    step("the jobs end, one fails: finalized")
    open(os.path.join(TMP, "gate1"), "w").close()
    b.wait(status_of("#task-status") + " === 'finalized'", 60,
           "the task finalized")
    assert b.js(count_of("failed")) == 1, "not one failed job"
    # Not done's tick, and no Kill: a finalized task can only be
    # retried or deleted.
    assert b.js("document.querySelector('#task-status').dataset.icon") \
        == "\u25d0", "finalized shows done's tick"
    b.wait("!(%s) && %s && %s" % (shown("#kill"), shown("#retry"),
                                  shown("#delete")),
           20, "retry and delete, no kill, on a finalized task")
    b.wait("document.querySelector('#log').textContent.includes('end job 0')",
           20, "the log followed to its end")

    step("retry its failed jobs from the page")
    open(os.path.join(TMP, "fixed"), "w").close()
    b.js("document.querySelector('#retry').click()")
    b.wait(status_of("#task-status") + " === 'done'", 60, "the task done")
    assert b.js(count_of("failed")) == 0, "a job still failed"
    assert b.js(count_of("done")) == 4, "not four jobs done"
    # What each job used, beside its memory, as the job rows hold it.
    want = {str(r[0]): cpu_text(r[1]) for r in db_rows(
        "SELECT idx, cpu_ms FROM job WHERE task_id = (SELECT id FROM task"
        " WHERE name = 'web1')")}
    used = b.wait("(() => { const u = [...document.querySelectorAll("
                  "'#jobs tr[data-job]')].map((tr) => [tr.dataset.job, "
                  "tr.cells[9].textContent, tr.cells[10].textContent]);"
                  " return u.length === 4 && u; })()", 20,
                  "peak memory and CPU time of the four jobs")
    for job, mem, cpu in used:
        assert USED_MEMORY.match(mem), "job %s's memory: %r" % (job, mem)
        assert cpu == want[job], "job %s's CPU: %r, not %r" % (
            job, cpu, want[job])
    assert b.js("document.querySelector('#task-status').dataset.icon") \
        == "\u2713", "done without its tick"
    b.wait("!(%s) && !(%s) && %s" % (shown("#kill"), shown("#retry"),
                                     shown("#delete")),
           20, "only delete on a done task")
    assert b.js("document.querySelector('#jobs').__mark === 1 && "
                "document.querySelector('#job-0').__mark === 1 && "
                "document.querySelector('#job-0').classList"
                ".contains('selected')"), "rows rebuilt, or the selection lost"
    seen = b.js("window.__seen")
    step("states seen without a reload: " + " -> ".join(seen))
    assert b.js("window.__noReload === true"), "the page was reloaded"
    for s in ("testing", "running", "finalized", "done"):
        assert s in seen, "never saw " + s
    assert seen.index("testing") < seen.index("finalized") < \
        len(seen) - 1 - seen[::-1].index("done"), seen
    mode = b.js("document.querySelector('#live').textContent")
    assert mode == "live", "no event stream: " + mode

    step("filters and sorting live in the URL")
    b.js("location.hash = '#/queue?status=done&sort=name&dir=asc'")
    b.wait("document.querySelector('#filters [name=status]').value === "
           "'done' && document.querySelector('#filters [name=sort]').value "
           "=== 'name' && !!" + ROW, 20, "the queue filtered by the URL")
    b.js("(() => { const f = document.querySelector('#filters'); "
         "f.querySelector('[name=user]').value = 'nobody'; "
         "f.requestSubmit(); })()")
    b.wait("location.hash.includes('user=nobody') && "
           "location.hash.includes('status=done') && !" + ROW, 20,
           "the form's filter written to the URL and applied")

    step("kill a task from its page, then delete it")
    subprocess.run([os.environ["ORCHESTRA_BIN"], "task", "submit", "web2",
                    "--exec", "sleep 120; : %IN", "--inputs", TMP + "/in"],
                   check=True, stdout=subprocess.DEVNULL)
    b.js("location.hash = '#/tasks/tester/web2'")
    b.wait(status_of("#task-status") + " === 'testing'", 30,
           "web2 testing")
    step("its running test job under the node, linking to the task")
    b.js("location.hash = '#/nodes'")
    job = ("document.querySelector('tr[data-node=\"%s\"] "
           "li[data-job=\"user.tester.web2/0\"]')" % NODE)
    b.wait("!!%s && %s.querySelector('.status').dataset.status === "
           "'running'" % (job, job), 30, "web2's job 0 running on the node")
    b.js(job + ".querySelector('a').click()")
    b.wait("location.hash === '#/tasks/tester/web2'", 10, "web2's URL")
    b.wait(status_of("#task-status") + " === 'testing'", 30,
           "web2's page again")
    b.wait("%s && !(%s)" % (shown("#kill"), shown("#delete")), 20,
           "kill, not delete, on a testing task")
    b.js("document.querySelector('#kill').click()")
    b.wait(status_of("#task-status") + " === 'killed'", 60, "web2 killed")
    b.js("document.querySelector('#delete').click()")
    b.wait("document.querySelector('#delete').textContent === "
           "'Really delete?'", 10, "delete asks again")
    b.js("document.querySelector('#delete').click()")
    b.wait("location.hash === '#/queue'", 20, "back to the queue")
    b.wait("!document.querySelector('tr[data-task=\"tester/web2\"]') && "
           "!!" + ROW, 60, "web2 gone from the queue, web1 still there")

    step("as admin, a node's slots from the page")
    b.js("location.hash = '#/nodes'")
    nrow = 'document.querySelector(\'tr[data-node="%s"]\')' % NODE
    b.wait(nrow + " && " + nrow + ".querySelector('.cpu-slots').value === '2'",
           20, "the node's row and its slots")
    assert "/ 2 / 8" in b.js(nrow + ".cells[3].textContent")
    # n2 is not this machine: the local backend runs nothing there.
    b.wait("(document.querySelector('tr[data-node=\"n2\"] .status') || "
           "{}).textContent === 'unreachable'", 20, "n2 shown unreachable")
    b.js("(() => { const f = %s.querySelector('form.slots'); "
         "f.querySelector('.cpu-slots').value = '3'; "
         "f.dispatchEvent(new Event('input', {bubbles: true})); "
         "f.requestSubmit(); })()" % nrow)
    wait_py(lambda: db_cpu_slots() == 3, 20, "cpu_slots = 3 in the database")
    b.wait(nrow + ".cells[3].textContent.includes('/ 3 / 8')", 20,
           "the new slots on the page")
    shoot(b, "desktop-nodes")

    step("as admin, drain the node from the page, then resume it")
    drain = nrow + ".querySelector('button.drain')"
    b.wait("%s.textContent === 'Drain'" % drain, 20, "the Drain button")
    b.js(drain + ".click()")
    wait_py(lambda: not db_node_enabled(), 20, "the node drained")
    b.wait("%s.textContent === 'Resume' && %s.querySelector('.status')"
           ".textContent === 'drained'" % (drain, nrow), 20,
           "the node shown drained, with Resume")
    b.js(drain + ".click()")
    wait_py(db_node_enabled, 20, "the node resumed")
    b.wait("%s.textContent === 'Drain'" % drain, 20, "Drain again")

    step("a change from the command line reaches the page by itself")
    t0 = time.monotonic()
    subprocess.run([os.environ["ORCHESTRA_BIN"], "node", "set", NODE,
                    "--cpu-slots", "4"], check=True, stdout=subprocess.DEVNULL)
    b.wait(nrow + ".cells[3].textContent.includes('/ 4 / 8')", 20,
           "the command line's slots on the page")
    step("from the command's start to the page: %.2f s (checked every "
         "0.1 s)" % (time.monotonic() - t0))

    step("the usage chart: a line per user, running and waiting")
    wait_py(lambda: db_usage_users() == ["alice", "tester"], 30,
            "samples of alice and tester")
    b.js("location.hash = '#/usage?hours=1'")
    # As the page's JSON.stringify() writes it, quoted for the script.
    users = json.dumps(json.dumps(["alice", "tester"], separators=(",", ":")))
    b.wait("""(() => {
        const names = [...document.querySelectorAll('#usage-legend .name')]
            .map((e) => e.textContent);
        if (JSON.stringify(names) !== %s)
            return false;
        for (const k of ['running', 'waiting']) {
            const ps = [...document.querySelectorAll(
                '#usage-' + k + ' path.series')];
            if (JSON.stringify(ps.map((p) => p.dataset.user)) !== %s ||
                !ps.every((p) => p.dataset.kind === k &&
                    /^M[0-9.]+ [0-9.]+/.test(p.getAttribute('d'))))
                return false;
        }
        return true;
    })()""" % (users, users), 20, "a path per user and kind, the legend")
    assert b.js("document.querySelector('#usage-filters [name=hours]')"
                ".value") == "1", "the period is not the URL's"
    # Told apart without colour: each user's line has its own dashes.
    dashes = b.js("[...document.querySelectorAll('#usage-running "
                  "path.series')].map((p) => "
                  "p.getAttribute('stroke-dasharray') || '')")
    assert len(set(dashes)) == 2, "users share a dash pattern: %s" % dashes
    assert b.js("document.querySelectorAll('#usage-running text.tick')"
                ".length") >= 4, "the chart has no axis labels"
    # alice's 4 jobs wait all along; the highest waiting tick says so.
    ticks = b.js("[...document.querySelectorAll('#usage-waiting text.tick')]"
                 ".map((t) => t.textContent)")
    assert "4" in ticks, "waiting axis: %s" % ticks

    step("the runs that ended in the period, and the totals, under the chart")
    wait_py(lambda: len(db_history()) > 0 and
            [tuple(r) for r in b.js(PAGE_RUNS)] == db_history(), 30,
            "a row per run of table job_history, in its order")
    badges = b.js("[...document.querySelectorAll('#history-runs tbody tr "
                  "td:nth-child(10) .status')].map((e) => e.dataset.status)")
    assert badges == db_history_states(), "states: %s" % badges
    used = b.js("[...document.querySelectorAll('#history-runs tbody tr')]"
                ".map((tr) => [tr.cells[11].textContent,"
                " tr.cells[12].textContent])")
    want = [cpu_text(r[0]) for r in db_rows(
        "SELECT cpu_ms FROM job_history ORDER BY id")]
    assert [c for _, c in used] == want, "runs' CPU: %s, not %s" % (
        used, want)
    assert all(USED_MEMORY.match(m) for m, _ in used), \
        "runs' memory: %s" % used
    tot = b.js("[...document.querySelectorAll('#history-totals tbody tr')]"
               ".map((tr) => [tr.dataset.user, tr.cells[1].textContent])")
    assert tot == [["tester", str(len(db_history()))]], "totals: %s" % tot
    step("runs: %s" % b.js("document.querySelector('#history-note')"
                          ".textContent"))
    shoot(b, "desktop-usage")

    step("the dark theme follows the system's")
    b.send("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark"}]})
    bg = b.js("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(21, 23, 27)", "not dark: " + bg
    shoot(b, "desktop-nodes-dark")
    b.send("Emulation.setEmulatedMedia", {"features": []})

    step("a phone's screen")
    b.viewport(390, 844, mobile=True)
    for name, hash_ in (("queue", "#/queue"), ("task", "#/tasks/tester/web1"),
                        ("nodes", "#/nodes"), ("usage", "#/usage?hours=1")):
        before = b.js("Number(document.body.dataset.refreshed || 0)")
        b.js("location.hash = %s" % json.dumps(hash_))
        b.wait("Number(document.body.dataset.refreshed || 0) > %d" % before,
               20, "the " + name + " page drawn")
        shoot(b, "phone-" + name)
    wide = b.js("document.documentElement.scrollWidth")
    assert wide <= 390, "the phone page scrolls sideways: %d px" % wide

    step("signing out, and in again with a token")
    b.viewport(1366, 768)
    b.js("document.querySelector('#signout').click()")
    b.wait("!!document.querySelector('#signin')", 20, "the sign-in form")
    sign_in(b, {"#token": os.environ["TOKEN"]})

    step("as alice, no admin: no action on tester's task, none on nodes")
    b.js("document.querySelector('#signout').click()")
    b.wait("!!document.querySelector('#signin')", 20, "the sign-in form")
    sign_in(b, {"#token": os.environ["ALICE_TOKEN"]}, "alice")
    b.js("location.hash = '#/tasks/tester/web1'")
    b.wait("document.querySelector('#task-name') && document.querySelector("
           "'#task-name').textContent === 'user.tester.web1'", 20,
           "tester's task, as alice")
    assert not b.js(shown("#kill") + " || " + shown("#retry") + " || " +
                    shown("#delete")), "actions on another user's task"
    b.js("location.hash = '#/tasks/alice/hog'")
    b.wait(shown("#kill"), 20, "kill on alice's own running task")
    b.js("location.hash = '#/nodes'")
    b.wait("!!document.querySelector('tr[data-node=\"%s\"]')" % NODE, 20,
           "the nodes, as alice")
    assert not b.js("!!document.querySelector('button.drain, form.slots')"), \
        "admin controls for alice"
    b.js("location.hash = '#/usage?hours=1'")
    b.wait("document.querySelector('#history-note') && document."
           "querySelector('#history-note').textContent === "
           "'No run ended in this period.'", 20,
           "alice's history: her own runs, none")
    assert b.js("document.querySelectorAll('#history-runs tbody tr, "
                "#history-totals tbody tr').length") == 0, \
        "alice sees tester's runs"

    step("a task that runs after another: what it waits for, and why")
    b.js("location.hash = '#/tasks/alice/next'")
    facts = b.wait("(() => { const d = document.querySelector("
                   "'#task-facts dd[data-k=\"Runs after\"]'); return d && "
                   "d.textContent !== '—' ? d.textContent : ''; })()", 20,
                   "the task it runs after")
    assert facts == "user.alice.hog (once done)", "runs after: %r" % facts
    why = b.wait("document.querySelector('#task-facts dd[data-k=\"Why "
                 "pending\"]').textContent", 20, "why it waits")
    assert why.startswith("waits for user.alice.hog: running, 0 of "), \
        "why: %r" % why

    step("the pilot stops: the page says so, its connection stays live")
    os.kill(int(os.environ["PILOT_PID"]), signal.SIGTERM)
    b.wait("document.querySelector('#pilot').dataset.state === 'down'", 30,
           "the page saying no pilot runs")
    assert b.js("document.querySelector('#live').textContent") == "live", \
        "the connection's dot changed with the pilot"
    step("pilot: " + b.js("document.querySelector('#pilot').title"))

    assert not b.errors, "errors on the page: %s" % b.errors
    csp = [x for x in b.log if "Content Security Policy" in x]
    assert not csp, "refused by the CSP: %s" % csp


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("# FAIL: %s" % e, flush=True)
        sys.exit(1)
