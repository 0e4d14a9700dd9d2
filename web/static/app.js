// app.js - the Orchestra dashboard: one ES module, no framework, no build.
//
// Routes live in the hash, so every view has a stable URL:
//   #/queue?user=U&status=S&sort=K&dir=asc|desc&after=ID
//   #/tasks/USER/NAME?after=INDEX&job=INDEX
//   #/nodes
//   #/usage?hours=1|6|24|72|192&user=U   (and the runs that ended then)
//   #/signin
// The page signs in through /api/v1/session (an HttpOnly cookie; the CSRF
// token it returns goes in X-CSRF-Token on every change) and follows
// /api/v1/events: each `change` re-fetches the view shown, a burst of
// events being one re-fetch, and rows are patched in place (keyed by id),
// so scroll position and the selected row stay.  Text from users is only
// ever set with textContent.

const $ = (sel, root = document) => root.querySelector(sel);

// Status -> [class, symbol]: a colour (Okabe-Ito) never stands alone.
const KIND = {
	registered: ["st-wait", "◷"], assigned: ["st-wait", "◷"],
	pending: ["st-wait", "◷"], testing: ["st-test", "?"],
	running: ["st-run", "▶"], done: ["st-ok", "✓"],
	// Ended with failed jobs: not the tick of done.
	finalized: ["st-fail", "◐"], failed: ["st-fail", "✕"],
	broken: ["st-fail", "✕"], kill: ["st-kill", "■"],
	killing: ["st-kill", "■"], killed: ["st-kill", "■"],
	removed: ["st-idle", "–"],
};
// Task states no job moves in: their counts change only with the task.
const JOB_STATES = ["registered", "assigned", "pending", "running", "done",
	"failed", "kill", "killed", "broken"];

const auth = { me: null, csrf: null }; // no secret is kept here
let view = null; // { path, update(params), refresh() }
let live = null;

class ApiError extends Error {
	constructor(status, msg) {
		super(msg);
		this.status = status;
	}
}

async function api(method, path, body) {
	const headers = {};
	if (body !== undefined)
		headers["Content-Type"] = "application/json";
	if (method !== "GET" && auth.csrf)
		headers["X-CSRF-Token"] = auth.csrf;
	const r = await fetch(path, {
		method, headers, credentials: "same-origin", cache: "no-store",
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const ct = r.headers.get("Content-Type") || "";
	const data = ct.startsWith("application/json")
		? await r.json().catch(() => null) : await r.text();
	if (!r.ok) {
		const msg = data && data.error ? data.error : r.status + " " + r.statusText;
		if (r.status === 401 && auth.me && !path.startsWith("/api/v1/session"))
			signedOut("Signed out: " + msg);
		throw new ApiError(r.status, msg);
	}
	return data;
}

// A DOM element: el("td", {class: "num"}, "text" or nodes...).
function el(tag, attrs = {}, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k === "class")
			e.className = v;
		else if (k.startsWith("on"))
			e.addEventListener(k.slice(2), v);
		else
			e.setAttribute(k, v === true ? "" : v);
	}
	for (const kid of kids)
		if (kid !== null && kid !== undefined)
			e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
	return e;
}

function setText(e, text) {
	text = text === null || text === undefined ? "" : String(text);
	if (e.textContent !== text)
		e.textContent = text;
}

function statusBadge(e, status) {
	const [cls, icon] = KIND[status] || ["st-idle", "–"];
	e.className = "status " + cls;
	e.dataset.icon = icon;
	e.dataset.status = status;
	setText(e, status);
}

// The per-state progress bar and its printed counts.
function progress(cell, counts, total) {
	let bar = $(".bar", cell), txt = $(".counts", cell);
	if (!bar) {
		bar = el("div", { class: "bar", role: "img" });
		txt = el("div", { class: "counts" });
		cell.append(bar, txt);
	}
	const parts = JOB_STATES.filter((s) => counts && counts[s] > 0);
	const label = parts.map((s) => counts[s] + " " + s).join(", ") || "no jobs";
	bar.setAttribute("aria-label", label);
	bar.replaceChildren(...parts.map((s) => {
		const seg = el("span", { class: (KIND[s] || ["st-idle"])[0], title: counts[s] + " " + s });
		seg.style.width = (100 * counts[s] / Math.max(total, 1)) + "%";
		return seg;
	}));
	txt.replaceChildren(...parts.map((s) => el("span", { "data-state": s }, counts[s] + " " + s)));
	if (!parts.length)
		txt.append(el("span", {}, "no jobs"));
}

function whyText(o) {
	if (!o || !o.why)
		return "";
	return o.place ? o.why + " (place " + o.place + ")" : o.why;
}

function when(t) {
	return t ? t.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "";
}

function flash(msg, isError = false) {
	const f = $("#flash");
	f.hidden = !msg;
	f.className = isError ? "error" : "";
	setText(f, msg);
}

// Patch `tbody`'s rows to `items`, keyed by key(item): existing rows are
// updated in place by update(tr, item), new ones made by make(item).
function patchRows(tbody, items, key, make, update) {
	const old = new Map([...tbody.rows].map((tr) => [tr.dataset.key, tr]));
	let at = tbody.firstElementChild;
	for (const it of items) {
		const k = String(key(it));
		let tr = old.get(k);
		if (tr)
			old.delete(k);
		else {
			tr = make(it);
			tr.dataset.key = k;
		}
		update(tr, it);
		if (tr !== at)
			tbody.insertBefore(tr, at);
		else
			at = at.nextElementSibling;
	}
	for (const tr of old.values())
		tr.remove();
}

function cells(tr, labels) {
	for (const l of labels)
		tr.append(el("td", { "data-label": l }));
	return tr;
}

function taskPath(t) {
	return "/api/v1/tasks/" + encodeURIComponent(t.user) + "/" + encodeURIComponent(t.name);
}

function taskHash(t) {
	return "#/tasks/" + encodeURIComponent(t.user) + "/" + encodeURIComponent(t.name);
}

function hashWith(path, params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params))
		if (v !== undefined && v !== null && v !== "")
			q.set(k, v);
	const s = q.toString();
	return "#" + path + (s ? "?" + s : "");
}

/* ---- the queue ---- */

const SORTS = {
	submitted: (t) => t.submitted || "", name: (t) => t.name,
	user: (t) => t.user, status: (t) => t.status,
	priority: (t) => t.priority ?? -Infinity,
	progress: (t) => t.jobs ? ((t.counts?.done || 0) / t.jobs) : 0,
};

function queueView(params) {
	const main = $("#main");
	const form = el("form", { class: "filters", id: "filters" });
	const user = el("input", { name: "user", placeholder: "any user", size: 10 });
	const status = el("select", { name: "status" }, el("option", { value: "" }, "any"));
	for (const s of Object.keys(KIND).filter((s) => !["assigned", "pending", "failed", "kill"].includes(s)))
		status.append(el("option", { value: s }, s));
	const sort = el("select", { name: "sort" });
	for (const s of Object.keys(SORTS))
		sort.append(el("option", { value: s }, s));
	const dir = el("select", { name: "dir" }, el("option", { value: "desc" }, "descending"),
		el("option", { value: "asc" }, "ascending"));
	form.append(el("label", {}, "Owner", user), el("label", {}, "Status", status),
		el("label", {}, "Sort by", sort), el("label", {}, "Order", dir),
		el("button", { type: "submit" }, "Apply"));
	const tbody = el("tbody", { id: "tasks" });
	const heads = ["Task", "Owner", "Status", "Progress", "Priority", "Why pending", "Submitted"];
	const table = el("table", { class: "cards" },
		el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col" }, h)))), tbody);
	const more = el("p", { class: "pager" });
	main.replaceChildren(el("h1", {}, "Queue"), form, el("div", { class: "table-wrap" }, table), more);
	let p = params;
	form.addEventListener("submit", (ev) => {
		ev.preventDefault();
		location.hash = hashWith("/queue", {
			user: user.value.trim(), status: status.value,
			sort: sort.value, dir: dir.value,
		});
	});

	async function refresh() {
		user.value = document.activeElement === user ? user.value : (p.get("user") || "");
		status.value = p.get("status") || "";
		sort.value = SORTS[p.get("sort")] ? p.get("sort") : "submitted";
		dir.value = p.get("dir") === "asc" ? "asc" : "desc";
		const q = new URLSearchParams({ limit: "100" });
		for (const k of ["user", "status", "after"])
			if (p.get(k))
				q.set(k, p.get(k));
		let list;
		try {
			list = await api("GET", "/api/v1/tasks?" + q);
		} catch (e) {
			if (e.status !== 400 && e.status !== 404)
				throw e;
			// A filter the server refuses (no such user): no rows.
			tbody.replaceChildren();
			more.replaceChildren(el("span", { class: "muted", id: "queue-error" }, e.message));
			return;
		}
		// Each task comes with its counts, priority and why: no request
		// per row.
		const tasks = list.tasks.slice();
		const key = SORTS[sort.value], sign = dir.value === "asc" ? 1 : -1;
		tasks.sort((a, b) => key(a) < key(b) ? -sign : key(a) > key(b) ? sign : 0);
		patchRows(tbody, tasks, (t) => t.id, (t) => {
			const tr = cells(el("tr"), heads);
			tr.cells[0].append(el("a", { href: taskHash(t) }));
			tr.cells[2].append(el("span"));
			tr.cells[5].className = "why";
			tr.cells[4].classList.add("num");
			return tr;
		}, (tr, t) => {
			tr.dataset.task = t.user + "/" + t.name;
			setText(tr.cells[0].firstChild, t.name);
			setText(tr.cells[1], t.user);
			statusBadge(tr.cells[2].firstChild, t.status);
			progress(tr.cells[3], t.counts || {}, t.jobs);
			setText(tr.cells[4], typeof t.priority === "number" ? t.priority.toFixed(1) : "—");
			setText(tr.cells[5], whyText(t));
			setText(tr.cells[6], when(t.submitted));
		});
		more.replaceChildren();
		if (!tasks.length)
			more.append(el("span", { class: "muted" }, "No task."));
		if (p.get("after"))
			more.append(el("a", { href: hashWith("/queue", { ...Object.fromEntries(p), after: "" }) }, "First page"), " ");
		if (list.next_after !== null)
			more.append(el("a", { href: hashWith("/queue", { ...Object.fromEntries(p), after: list.next_after }) }, "Next page"));
	}
	// A task's row changes with its jobs; the events name the jobs, not
	// their tasks, so any job's change re-fetches the page shown.
	const concerns = (d) => d.tasks.length > 0 || d.jobs.length > 0;
	return { update(np) { p = np; return refresh(); }, refresh: () => refresh(), concerns };
}

/* ---- a task ---- */

function taskView(params, user, name) {
	const main = $("#main");
	const base = "/api/v1/tasks/" + encodeURIComponent(user) + "/" + encodeURIComponent(name);
	const here = "/tasks/" + encodeURIComponent(user) + "/" + encodeURIComponent(name);
	const title = el("h1", {}, el("span", { id: "task-status" }), " ", el("span", { id: "task-name" }));
	const facts = el("dl", { class: "facts", id: "task-facts" });
	const bar = el("div", { id: "task-progress" });
	const kill = el("button", { id: "kill", type: "button", class: "danger" }, "Kill");
	const retry = el("button", { id: "retry", type: "button" }, "Retry failed jobs");
	const del = el("button", { id: "delete", type: "button", class: "danger" }, "Delete");
	const actions = el("div", { class: "actions", id: "actions" }, kill, retry, del);
	const heads = ["Job", "Status", "Priority", "Node", "Attempts", "Exit", "Why waiting / how it ended", "Started", "Ended",
		"Peak memory / limit", "CPU", "Log"];
	const tbody = el("tbody", { id: "jobs" });
	const table = el("table", { class: "cards" },
		el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col" }, h)))), tbody);
	const pager = el("p", { class: "pager" });
	const logTitle = el("h2", { id: "log-title", hidden: true });
	const log = el("pre", { class: "log", id: "log", hidden: true, tabindex: "0" });
	main.replaceChildren(el("p", {}, el("a", { href: "#/queue" }, "← Queue")), title, bar,
		facts, actions, el("h2", {}, "Jobs"), el("div", { class: "table-wrap" }, table),
		pager, logTitle, log);
	let p = params, task = null, confirmDelete = false;

	async function act(btn, method, path, done) {
		btn.disabled = true;
		try {
			const r = await api(method, path);
			flash(done);
			return r;
		} catch (e) {
			flash(e.message, true);
		} finally {
			btn.disabled = false;
		}
	}
	kill.addEventListener("click", () => act(kill, "POST", base + "/kill", "Kill requested.").then(refresh));
	retry.addEventListener("click", () => act(retry, "POST", base + "/retry", "Retry of the failed jobs requested.").then(refresh));
	del.addEventListener("click", async () => {
		if (!confirmDelete) {
			confirmDelete = true;
			setText(del, "Really delete?");
			return;
		}
		const r = await act(del, "DELETE", base, "Delete requested.");
		if (r)
			location.hash = "#/queue";
	});

	function fact(k, v) {
		let dd = $("dd[data-k='" + k + "']", facts);
		if (!dd) {
			facts.append(el("dt", {}, k));
			dd = el("dd", { "data-k": k });
			facts.append(dd);
		}
		setText(dd, v);
	}

	async function refresh() {
		const q = new URLSearchParams({ limit: "50" });
		if (p.get("after"))
			q.set("after", p.get("after"));
		let jobs;
		try {
			[task, jobs] = await Promise.all([api("GET", base), api("GET", base + "/jobs?" + q)]);
		} catch (e) {
			if (e.status === 404) {
				main.replaceChildren(el("p", {}, "No task " + user + "/" + name + " (deleted?). "),
					el("a", { href: "#/queue" }, "Back to the queue"));
				view = null;
				return;
			}
			throw e;
		}
		statusBadge($("#task-status"), task.status);
		setText($("#task-name"), task.full_name);
		progress(bar, task.counts, task.jobs);
		fact("Owner", task.user);
		fact("Queue", task.queue);
		fact("Command", task.command);
		fact("Image", task.image);
		fact("Jobs", task.jobs);
		// Tasks it waits for (task submit --after, --after-any, --inputs-of).
		const after = [task.after && task.after + " (once done)",
			task.after_any && task.after_any + " (once ended)",
			task.inputs_of && "inputs: the output files of " + task.inputs_of];
		fact("Runs after", after.filter(Boolean).join("; ") || "—");
		fact("Why pending", whyText(task) || "—");
		fact("Submitted", when(task.submitted));
		fact("Ended", when(task.ended) || "—");
		// Only what the server says this user may do to it now.
		const can = task.actions || [];
		kill.hidden = !can.includes("kill");
		retry.hidden = !can.includes("retry");
		del.hidden = !can.includes("delete");
		actions.hidden = !can.length;
		setText(retry, "Retry failed jobs" + (task.counts.failed ? " (" + task.counts.failed + ")" : ""));
		const sel = p.get("job");
		patchRows(tbody, jobs.jobs, (j) => j.index, (j) => {
			const tr = cells(el("tr"), heads);
			tr.cells[1].append(el("span"));
			tr.cells[2].classList.add("num");
			tr.cells[6].className = "why";
			tr.cells[9].classList.add("num");
			tr.cells[10].classList.add("num");
			tr.cells[11].append(el("a", { "data-log": j.index }, "log"));
			return tr;
		}, (tr, j) => {
			tr.dataset.job = j.index;
			tr.id = "job-" + j.index;
			tr.classList.toggle("selected", String(j.index) === sel);
			setText(tr.cells[0], j.index + (j.test ? " (test)" : ""));
			statusBadge(tr.cells[1].firstChild, j.status);
			// As task show's PRIO: the scheduler's while it waits for a
			// slot, the one it was placed with once placed, else none.
			setText(tr.cells[2], typeof j.priority === "number" && (j.place || j.attempts)
				? j.priority.toFixed(1) : "");
			setText(tr.cells[3], j.node ? j.node + (j.gpu !== null ? " gpu " + j.gpu : "") : "");
			setText(tr.cells[4], j.attempts);
			setText(tr.cells[5], j.exit_code ?? "");
			setText(tr.cells[6], whyText(j) || endWhy(j));
			setText(tr.cells[7], when(j.started));
			setText(tr.cells[8], when(j.ended));
			setText(tr.cells[9], usedMemory(j));
			setText(tr.cells[10], cpuTime(j.cpu_ms));
			tr.cells[11].firstChild.href = hashWith(here, { after: p.get("after"), job: j.index });
		});
		pager.replaceChildren();
		if (p.get("after"))
			pager.append(el("a", { href: hashWith(here, { job: sel }) }, "First jobs"), " ");
		if (jobs.next_after !== null)
			pager.append(el("a", { href: hashWith(here, { after: jobs.next_after, job: sel }) }, "Next jobs"));
		if (sel !== null) {
			const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
			logTitle.hidden = log.hidden = false;
			setText(logTitle, "Log of job " + sel);
			try {
				setText(log, await api("GET", base + "/jobs/" + encodeURIComponent(sel) + "/log") || "(empty)");
			} catch (e) {
				setText(log, "No log: " + e.message);
			}
			if (atEnd)
				log.scrollTop = log.scrollHeight;
		} else {
			logTitle.hidden = log.hidden = true;
		}
	}
	// This task, or a job (the events do not say whose: any job).
	const concerns = (d) => d.jobs.length > 0 || (task && d.tasks.includes(task.id));
	return { update(np) { p = np; return refresh(); }, refresh: () => refresh(), concerns };
}

/* ---- nodes ---- */

// Bytes in the largest binary unit, tenths rounded down, as the command
// line writes them (util/size.c): "512 MiB", "1.5 GiB", "12 GiB".
function bytes(n) {
	const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
	let i = 0, d = 1;
	while (i + 1 < units.length && n / d >= 1024) {
		d *= 1024;
		i++;
	}
	const t = Math.floor(n * 10 / d);
	return (i === 0 || t % 10 === 0 ? String(Math.floor(t / 10)) : (t / 10).toFixed(1)) + " " + units[i];
}

// Why an ended job ended, as task show says it: one killed at its memory
// limit "killed: out of memory (limit 4 GiB)" (core job_end_why), any
// other its end_reason ("timeout" ...).
function endWhy(j) {
	if (j.status === "failed" && j.end_reason === "out of memory")
		return "killed: out of memory" + (j.memory ? " (limit " + bytes(j.memory) + ")" : "");
	return j.end_reason || "";
}

// What a job's run used beside the memory it was placed with, as task show's
// PEAK MEM / LIMIT: "77 MiB / 1 GiB", each "-" where not known; "-" for both.
function usedMemory(x) {
	if (x.peak_memory == null && !x.memory)
		return "-";
	return (x.peak_memory != null ? bytes(x.peak_memory) : "-") + " / " +
		(x.memory ? bytes(x.memory) : "-");
}

// CPU time in ms as task show's CPU: seconds to the hundredth, "0.81 s".
function cpuTime(ms) {
	if (ms == null)
		return "-";
	return Math.floor(ms / 1000) + "." + String(Math.floor(ms % 1000 / 10)).padStart(2, "0") + " s";
}

// A node's memory: "3 GiB / 16 GiB" held by its jobs; "-" when not known.
function nodeMemory(n) {
	return n.memory ? bytes(n.memory_used || 0) + " / " + bytes(n.memory) : "-";
}

function health(n) {
	if (!n.enabled)
		return ["drained", "st-kill", "■"];
	if (n.reachable === false)
		return ["unreachable", "st-fail", "✕"];
	if (!n.ready)
		return ["unhealthy", "st-fail", "✕"];
	if (n.memory_pressure || n.disk_pressure)
		return [n.memory_pressure ? "memory pressure" : "disk pressure", "st-wait", "!"];
	return ["healthy", "st-ok", "✓"];
}

// The jobs holding a node's slots, each linking to its task's page.
function nodeJobs(ul, jobs) {
	ul.replaceChildren(...jobs.map((j) => {
		const t = { user: j.user, name: j.task.slice(("user." + j.user + ".").length) };
		const li = el("li", { "data-job": j.task + "/" + j.index },
			el("a", { href: taskHash(t) }, j.task + " #" + j.index), " ", el("span"));
		statusBadge(li.lastChild, j.status);
		const more = [];
		if (j.gpu !== null)
			more.push("GPU " + j.gpu);
		if (j.started)
			more.push("since " + when(j.started));
		if (more.length)
			li.append(" " + more.join(", "));
		return li;
	}));
	if (!jobs.length)
		ul.append(el("li", { class: "muted" }, "none"));
}

function nodesView() {
	const main = $("#main");
	const admin = auth.me && auth.me.role === "admin";
	const heads = ["Node", "Queue", "Health", "CPU used / enabled / max",
		"GPU used / enabled / max", "Memory used / size", "Completed", "Failed",
		"Last seen", "Jobs"];
	if (admin)
		heads.push("Change slots", "Drain");
	const tbody = el("tbody", { id: "nodes" });
	const table = el("table", { class: "cards" },
		el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col" }, h)))), tbody);
	main.replaceChildren(el("h1", {}, "Nodes"), el("div", { class: "table-wrap" }, table));

	function slotForm(n) {
		const cpu = el("input", { type: "number", min: "0", class: "cpu-slots", "aria-label": "CPU slots" });
		const gpu = el("input", { type: "number", min: "0", class: "gpu-slots", "aria-label": "GPU slots" });
		const save = el("button", { type: "submit", class: "save" }, "Save");
		const f = el("form", { class: "slots" }, el("label", {}, "CPU", cpu), el("label", {}, "GPU", gpu), save);
		f.addEventListener("submit", async (ev) => {
			ev.preventDefault();
			save.disabled = true;
			try {
				await api("PATCH", "/api/v1/nodes/" + encodeURIComponent(n.name), {
					cpu_slots: Number(cpu.value), gpu_slots: Number(gpu.value),
				});
				f.dataset.dirty = "";
				flash("Slots of " + n.name + " changed.");
				await refresh();
			} catch (e) {
				flash(e.message, true);
			} finally {
				save.disabled = false;
			}
		});
		f.addEventListener("input", () => { f.dataset.dirty = "1"; });
		return f;
	}

	// Drain (no new job) or resume, as the node is now.
	function drainButton(tr) {
		const btn = el("button", { type: "button", class: "drain" });
		btn.addEventListener("click", async () => {
			const name = tr.dataset.node, drain = btn.dataset.action === "drain";
			btn.disabled = true;
			try {
				await api("POST", "/api/v1/nodes/" + encodeURIComponent(name) + "/" + btn.dataset.action);
				flash(name + (drain ? " drained: it gets no new job." : " resumed."));
				await refresh();
			} catch (e) {
				flash(e.message, true);
			} finally {
				btn.disabled = false;
			}
		});
		return btn;
	}

	async function refresh() {
		// Every page, so the table holds all the nodes: a cluster's nodes
		// are few, and a page costs the store only its rows.
		const nodes = [];
		let after = null;
		do {
			const d = await api("GET", "/api/v1/nodes?limit=1000" +
				(after === null ? "" : "&after=" + encodeURIComponent(after)));
			nodes.push(...d.nodes);
			after = d.next_after;
		} while (after !== null && after !== undefined);
		patchRows(tbody, nodes, (n) => n.name, (n) => {
			const tr = cells(el("tr"), heads);
			tr.cells[2].append(el("span"));
			for (const i of [3, 4, 5, 6, 7])
				tr.cells[i].classList.add("num");
			tr.cells[9].append(el("ul", { class: "node-jobs" }));
			if (admin) {
				tr.cells[10].append(slotForm(n));
				tr.cells[11].append(drainButton(tr));
			}
			return tr;
		}, (tr, n) => {
			tr.dataset.node = n.name;
			setText(tr.cells[0], n.name);
			setText(tr.cells[1], n.queue);
			const [word, cls, icon] = health(n);
			const b = tr.cells[2].firstChild;
			b.className = "status " + cls;
			b.dataset.icon = icon;
			setText(b, word);
			setText(tr.cells[3], n.cpu_used + " / " + n.cpu_slots + " / " + n.max_cpu_slots);
			setText(tr.cells[4], n.gpu_used + " / " + n.gpu_slots + " / " + n.max_gpu_slots);
			setText(tr.cells[5], nodeMemory(n));
			setText(tr.cells[6], n.completed);
			setText(tr.cells[7], n.failed);
			setText(tr.cells[8], when(n.last_seen));
			nodeJobs(tr.cells[9].firstChild, n.jobs || []);
			const d = admin && $("button.drain", tr.cells[11]);
			if (d) {
				d.dataset.action = n.enabled ? "drain" : "resume";
				setText(d, n.enabled ? "Drain" : "Resume");
			}
			const f = admin && $("form", tr.cells[10]);
			if (f && !f.dataset.dirty && !f.contains(document.activeElement)) {
				$(".cpu-slots", f).value = n.cpu_slots;
				$(".gpu-slots", f).value = n.gpu_slots;
			}
		});
	}
	// Slots are used and freed as jobs start and end.
	const concerns = (d) => d.nodes.length > 0 || d.jobs.length > 0;
	return { update: () => refresh(), refresh: () => refresh(), concerns };
}

/* ---- history: the runs that ended in the usage page's period ---- */

const HISTORY_ROWS = 100; // one page of /api/v1/history

// H:MM:SS of a run's milliseconds, to the nearest second.
function runTime(ms) {
	const s = Math.round(ms / 1000);
	return Math.floor(s / 3600) + ":" + String(Math.floor(s / 60) % 60).padStart(2, "0") +
		":" + String(s % 60).padStart(2, "0");
}

// The totals per user and the runs one by one (the first HISTORY_ROWS),
// as `orchestra history` prints them; a user who is not an admin gets
// their own only (the API's rule).
function historyTables() {
	const theads = ["User", "Runs", "CPU hours", "GPU hours"];
	const rheads = ["User", "Task", "Job", "Attempt", "Node", "GPU", "Start", "End",
		"Run time", "State", "Exit", "Peak memory / limit", "CPU"];
	const table = (id, heads) => el("table", { class: "cards", id },
		el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", { scope: "col" }, h)))),
		el("tbody"));
	const totals = table("history-totals", theads), runs = table("history-runs", rheads);
	const note = el("p", { class: "muted", id: "history-note" });
	const nodes = [el("h2", {}, "Accounting: what ended in this period"),
		el("div", { class: "table-wrap" }, totals), note,
		el("div", { class: "table-wrap" }, runs)];

	async function load(since, now, user) {
		const q = new URLSearchParams({ since: String(Math.floor(since)),
			until: String(Math.ceil(now) + 1) });
		if (user)
			q.set("user", user);
		let t, r;
		try {
			[t, r] = await Promise.all([api("GET", "/api/v1/history/totals?" + q),
				api("GET", "/api/v1/history?" + q + "&limit=" + HISTORY_ROWS)]);
		} catch (e) {
			if (e.status !== 400 && e.status !== 403 && e.status !== 404)
				throw e;
			t = { totals: [] };
			r = { runs: [], next_after: null };
		}
		patchRows(totals.tBodies[0], t.totals, (x) => x.group, () => {
			const tr = cells(el("tr"), theads);
			for (const i of [1, 2, 3])
				tr.cells[i].classList.add("num");
			return tr;
		}, (tr, x) => {
			tr.dataset.user = x.group;
			setText(tr.cells[0], x.group);
			setText(tr.cells[1], x.jobs);
			setText(tr.cells[2], (x.cpu_seconds / 3600).toFixed(2));
			setText(tr.cells[3], (x.gpu_seconds / 3600).toFixed(2));
		});
		patchRows(runs.tBodies[0], r.runs, (x) => x.id, () => {
			const tr = cells(el("tr"), rheads);
			tr.cells[9].append(el("span"));
			for (const i of [2, 3, 5, 8, 10, 11, 12])
				tr.cells[i].classList.add("num");
			return tr;
		}, (tr, x) => {
			tr.dataset.run = x.id;
			const v = [x.user, x.task, x.index ?? "-", x.attempt, x.node,
				x.gpu_index ?? "-", when(x.started), when(x.ended), runTime(x.run_ms)];
			v.forEach((s, i) => setText(tr.cells[i], s));
			statusBadge(tr.cells[9].firstChild, x.status);
			setText(tr.cells[10], x.exit_code ?? "-");
			setText(tr.cells[11], usedMemory(x));
			setText(tr.cells[12], cpuTime(x.cpu_ms));
		});
		setText(note, !r.runs.length ? "No run ended in this period." :
			r.next_after !== null ? "The first " + r.runs.length +
				" runs; orchestra history --since lists them all." :
			r.runs.length + " run" + (r.runs.length > 1 ? "s" : "") + ".");
	}
	return { nodes, load };
}

/* ---- usage: running and waiting jobs per user over time ---- */

const SVG = "http://www.w3.org/2000/svg";
// Users are told apart by colour (Okabe-Ito, app.css --u0..--u7) and by
// dash pattern, so neither alone carries the meaning.
const DASHES = ["", "8 4", "2 3", "10 3 2 3", "4 4", "12 6", "1 4", "6 2 2 2 2 2"];
const USAGE_HOURS = [1, 6, 24, 72, 192];
const USAGE_EVERY_MS = 5000; // re-fetch at most this often on events

function svgEl(tag, attrs = {}, text) {
	const e = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs))
		if (v !== undefined && v !== null && v !== "")
			e.setAttribute(k, String(v));
	if (text !== undefined)
		e.textContent = String(text);
	return e;
}

// A series' look: class (colour) and dash, by the user's place.
function seriesLook(i) {
	return { cls: "s" + (i % 8), dash: DASHES[(i + Math.floor(i / 8)) % DASHES.length] };
}

// Time labels in UTC, as the rest of the page prints times.
function tickLabel(ms, spanMs) {
	const iso = new Date(ms).toISOString();
	return spanMs > 36 * 3600e3 ? iso.slice(5, 10) + " " + iso.slice(11, 16) : iso.slice(11, 16);
}

// About `n` round steps over [0, max].
function niceStep(max, n) {
	const raw = Math.max(max, 1) / n, mag = 10 ** Math.floor(Math.log10(raw));
	const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
	return Math.max(1, Math.round(step));
}

// One chart: a step line per user of `kind` ("running" or "waiting").
function usageChart(svg, kind, users, series, t0, t1, width) {
	const height = width < 500 ? 180 : 230;
	const m = { l: 40, r: 12, t: 10, b: 26 };
	const w = width - m.l - m.r, h = height - m.t - m.b;
	let max = 0;
	for (const u of users)
		for (const s of series.get(u))
			max = Math.max(max, s[kind]);
	const step = niceStep(max, 4), top = Math.max(step, Math.ceil(max / step) * step);
	const x = (t) => m.l + (t1 > t0 ? (t - t0) / (t1 - t0) : 0) * w;
	const y = (v) => m.t + h - (v / top) * h;
	svg.setAttribute("viewBox", "0 0 " + width + " " + height);
	svg.setAttribute("width", width);
	svg.setAttribute("height", height);
	const kids = [svgEl("title", {}, kind + " jobs per user")];
	for (let v = 0; v <= top; v += step) {
		kids.push(svgEl("line", { class: "grid", x1: m.l, x2: m.l + w, y1: y(v), y2: y(v) }));
		kids.push(svgEl("text", { class: "tick", x: m.l - 6, y: y(v) + 4, "text-anchor": "end" }, v));
	}
	const nt = width < 500 ? 3 : 6;
	for (let i = 0; i <= nt; i++) {
		const t = t0 + (t1 - t0) * i / nt;
		kids.push(svgEl("line", { class: "axis", x1: x(t), x2: x(t), y1: m.t + h, y2: m.t + h + 4 }));
		kids.push(svgEl("text", { class: "tick", x: x(t), y: height - 6,
			"text-anchor": i === 0 ? "start" : i === nt ? "end" : "middle" }, tickLabel(t, t1 - t0)));
	}
	kids.push(svgEl("line", { class: "axis", x1: m.l, x2: m.l + w, y1: m.t + h, y2: m.t + h }));
	kids.push(svgEl("line", { class: "axis", x1: m.l, x2: m.l, y1: m.t, y2: m.t + h }));
	users.forEach((u, i) => {
		const pts = series.get(u), look = seriesLook(i);
		let d = "";
		pts.forEach((s, j) => {
			const px = x(s.t).toFixed(1), py = y(s[kind]).toFixed(1);
			d += j === 0 ? "M" + px + " " + py : "H" + px + "V" + py;
		});
		// The last value holds until the latest sample of anyone.
		d += "H" + x(t1).toFixed(1);
		const path = svgEl("path", { class: "series " + look.cls, d,
			"stroke-dasharray": look.dash, "data-user": u, "data-kind": kind });
		path.append(svgEl("title", {}, u + ": " + kind));
		kids.push(path);
	});
	svg.replaceChildren(...kids);
}

function usageView(params) {
	const main = $("#main");
	const form = el("form", { class: "filters", id: "usage-filters" });
	const hours = el("select", { name: "hours" });
	for (const n of USAGE_HOURS)
		hours.append(el("option", { value: n }, n < 48 ? n + " h" : n / 24 + " days"));
	const user = el("input", { name: "user", placeholder: "every user", size: 10 });
	form.append(el("label", {}, "Period", hours), el("label", {}, "User", user),
		el("button", { type: "submit" }, "Show"));
	const note = el("p", { class: "muted", id: "usage-note" });
	const legend = el("ul", { class: "legend", id: "usage-legend" });
	const charts = {};
	const blocks = ["running", "waiting"].map((k) => {
		charts[k] = svgEl("svg", { id: "usage-" + k, class: "chart", role: "img",
			"aria-label": k + " jobs per user over time" });
		return el("section", { class: "chart-box" },
			el("h2", {}, k === "running" ? "Running (holding a slot)" : "Waiting (registered or queued)"),
			charts[k]);
	});
	const box = el("div", { class: "charts" }, ...blocks);
	const hist = historyTables();
	main.replaceChildren(el("h1", {}, "Usage"), form, note, legend, box, ...hist.nodes);
	let p = params, data = null, lastAt = 0, timer = null;
	const self = {};
	form.addEventListener("submit", (ev) => {
		ev.preventDefault();
		location.hash = hashWith("/usage", { hours: hours.value, user: user.value.trim() });
	});

	function draw() {
		if (!data)
			return;
		const { samples, since, now } = data;
		const series = new Map();
		for (const s of samples) {
			const t = Date.parse(s.at);
			if (!series.has(s.user))
				series.set(s.user, []);
			series.get(s.user).push({ t, running: s.running, waiting: s.waiting });
		}
		const users = [...series.keys()].sort();
		const width = Math.max(280, Math.floor(box.clientWidth || 800));
		for (const k of ["running", "waiting"])
			usageChart(charts[k], k, users, series, since, now, width);
		legend.replaceChildren(...users.map((u, i) => {
			const look = seriesLook(i), last = series.get(u).at(-1);
			const sw = svgEl("svg", { class: "swatch", width: 34, height: 10, "aria-hidden": "true" });
			sw.append(svgEl("line", { class: "series " + look.cls, x1: 1, x2: 33, y1: 5, y2: 5,
				"stroke-dasharray": look.dash }));
			return el("li", { "data-user": u }, sw, el("span", { class: "name" }, u),
				el("span", { class: "muted" }, " now " + last.running + " running, " + last.waiting + " waiting"));
		}));
		setText(note, users.length ? samples.length + " samples, " + tickLabel(since, 72 * 3600e3) +
			" to " + tickLabel(now, 72 * 3600e3) + " UTC; the pilot samples once a minute."
			: "No job ran or waited in this period.");
	}

	async function load() {
		clearTimeout(timer);
		timer = null;
		lastAt = Date.now();
		let h = Number(p.get("hours"));
		if (!USAGE_HOURS.includes(h))
			h = 24;
		hours.value = String(h);
		user.value = document.activeElement === user ? user.value : (p.get("user") || "");
		const now = Date.now(), since = now - h * 3600e3;
		const q = new URLSearchParams({ since: String(Math.ceil(since)) });
		if (p.get("user"))
			q.set("user", p.get("user"));
		hist.load(since, now, p.get("user") || "").catch((e) => flash(e.message, true));
		try {
			const d = await api("GET", "/api/v1/usage?" + q);
			data = { samples: d.samples, since, now };
		} catch (e) {
			if (e.status !== 400 && e.status !== 404)
				throw e;
			data = { samples: [], since, now };
			draw();
			setText(note, e.message);
			return;
		}
		draw();
	}

	// Events come with every job's change; the samples with the minute:
	// re-fetch at most every USAGE_EVERY_MS.
	function refresh() {
		const wait = lastAt + USAGE_EVERY_MS - Date.now();
		if (wait <= 0)
			return load();
		if (!timer)
			timer = setTimeout(() => {
				timer = null;
				if (view === self)
					load().catch((e) => flash(e.message, true));
			}, wait);
		return Promise.resolve();
	}
	const onResize = () => {
		if (view !== self)
			window.removeEventListener("resize", onResize);
		else
			draw();
	};
	window.addEventListener("resize", onResize);
	const concerns = (d) => d.jobs.length > 0 || d.tasks.length > 0;
	return Object.assign(self, { update(np) { p = np; return load(); }, refresh, concerns });
}

/* ---- signing in ---- */

function signinView() {
	const main = $("#main");
	const user = el("input", { id: "username", autocomplete: "username" });
	const pass = el("input", { id: "password", type: "password", autocomplete: "current-password" });
	const token = el("input", { id: "token", type: "password", autocomplete: "off" });
	const err = el("p", { id: "signin-error", role: "alert", class: "muted" });
	const form = el("form", { class: "signin", id: "signin" },
		el("h1", {}, "Sign in"),
		el("fieldset", {}, el("legend", {}, "With a password"),
			el("label", {}, "User name", user), el("label", {}, "Password", pass)),
		el("fieldset", {}, el("legend", {}, "Or with an API token"),
			el("label", {}, "Token (orchestra user token)", token)),
		el("button", { type: "submit" }, "Sign in"), err);
	main.replaceChildren(form);
	form.addEventListener("submit", async (ev) => {
		ev.preventDefault();
		setText(err, "");
		const body = token.value.trim() ? { token: token.value.trim() }
			: { username: user.value.trim(), password: pass.value };
		try {
			const r = await api("POST", "/api/v1/session", body);
			auth.csrf = r.csrf;
		} catch (e) {
			setText(err, e.message);
			return;
		}
		pass.value = token.value = "";
		if (await whoami())
			location.hash = location.hash.startsWith("#/signin") || !location.hash ? "#/queue" : location.hash;
		route(true);
	});
	return null;
}

async function whoami() {
	try {
		auth.me = await api("GET", "/api/v1/me");
	} catch (e) {
		auth.me = null;
		return false;
	}
	setText($("#who"), auth.me.username + (auth.me.role === "admin" ? " (admin)" : ""));
	$("#nav").hidden = $("#signout").hidden = false;
	startLive();
	startPilotWatch();
	return true;
}

async function boot() {
	try {
		const s = await api("GET", "/api/v1/session");
		auth.csrf = s.csrf;
		await whoami();
	} catch (e) {
		/* 401: not signed in; the sign-in form follows */
	}
	route(true);
}

function signedOut(msg) {
	auth.me = auth.csrf = null;
	if (live)
		live.close();
	live = null;
	clearTimeout(pollTimer);
	pollTimer = null;
	clearInterval(pilotTimer);
	pilotTimer = null;
	const pi = $("#pilot");
	pi.hidden = true;
	delete pi.dataset.state;
	setText($("#live"), "offline");
	$("#live").classList.remove("on");
	setText($("#who"), "");
	$("#nav").hidden = $("#signout").hidden = true;
	view = null;
	flash(msg || "");
	route(true);
}

/* ---- is a pilot running? ---- */

// The dot of #live is this page's connection to serve; #pilot says
// whether a pilot runs, which nothing else on the page can tell: with
// none, nothing starts.  A pilot that dies sends no event, so it is asked
// again every PILOT_EVERY_MS as well as after each change.
const PILOT_EVERY_MS = 5000;
let pilotTimer = null;

async function checkPilot() {
	const ind = $("#pilot");
	try {
		const p = await api("GET", "/api/v1/pilot");
		ind.dataset.state = p.running ? "up" : "down";
		setText(ind, p.running ? "pilot running" : "no pilot running");
		ind.title = p.running ? "The pilot's last cycle: " + when(p.last_cycle) + " UTC"
			: (p.why || "no pilot is running") + ": nothing starts until one runs";
	} catch (e) {
		if (e.status === 401)
			return;
		ind.dataset.state = "unknown";
		setText(ind, "pilot unknown");
		ind.title = "cannot tell: " + e.message;
	}
	ind.hidden = false;
}

function startPilotWatch() {
	if (pilotTimer)
		return;
	checkPilot();
	pilotTimer = setInterval(checkPilot, PILOT_EVERY_MS);
}

/* ---- live updates ---- */

let busy = false, pending = false, pendingWhat = null, pollTimer = null;

// Re-fetch the view when a change concerns it (`what`: the event's
// {"tasks", "jobs", "nodes"} ids, or null: anything may have changed).
// The changes arriving meanwhile are merged into one more re-fetch, not
// one per event.
async function refreshView(what = null) {
	pendingWhat = pending ? merge(pendingWhat, what) : what;
	pending = true;
	if (busy)
		return;
	busy = true;
	while (pending) {
		const d = pendingWhat;
		pending = false;
		pendingWhat = null;
		try {
			if (auth.me)
				checkPilot();
			if (view && (!d || !view.concerns || view.concerns(d))) {
				await view.refresh();
				document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
			}
		} catch (e) {
			if (e.status !== 401)
				flash(e.message, true);
		}
	}
	busy = false;
}

function merge(a, b) {
	if (!a || !b)
		return null;
	const out = {};
	for (const k of ["tasks", "jobs", "nodes"])
		out[k] = [...(a[k] || []), ...(b[k] || [])];
	return out;
}


function startLive() {
	if (live || pollTimer)
		return;
	const ind = $("#live");
	live = new EventSource("/api/v1/events");
	live.addEventListener("open", () => {
		setText(ind, "live");
		ind.classList.add("on");
	});
	live.addEventListener("change", (ev) => {
		let d = null;
		try {
			d = JSON.parse(ev.data);
		} catch (e) {
			/* an unknown shape: re-fetch */
		}
		refreshView(d && d.tasks && d.jobs && d.nodes ? d : null);
	});
	live.addEventListener("error", () => {
		ind.classList.remove("on");
		if (live && live.readyState === EventSource.CLOSED) {
			// No event stream here (or refused): poll instead.
			live = null;
			setText(ind, "polling");
			const tick = () => {
				pollTimer = setTimeout(async () => {
					await refreshView();
					if (pollTimer)
						tick();
				}, 2000);
			};
			if (auth.me)
				tick();
		} else {
			setText(ind, "reconnecting");
		}
	});
}

/* ---- routing ---- */

function route(force = false) {
	const h = location.hash.replace(/^#/, "") || "/queue";
	const [path, query = ""] = h.split("?");
	const params = new URLSearchParams(query);
	for (const a of document.querySelectorAll("nav a"))
		a.classList.toggle("current", path.startsWith("/" + a.dataset.view));
	if (!auth.me) {
		if (!$("#signin"))
			signinView();
		return;
	}
	if (view && view.path === path && !force) {
		view.update(params).catch((e) => flash(e.message, true));
		return;
	}
	flash("");
	const seg = path.split("/").filter(Boolean).map(decodeURIComponent);
	if (seg[0] === "tasks" && seg.length === 3)
		view = taskView(params, seg[1], seg[2]);
	else if (seg[0] === "nodes")
		view = nodesView();
	else if (seg[0] === "usage")
		view = usageView(params);
	else
		view = queueView(params);
	view.path = path;
	view.update(params).catch((e) => flash(e.message, true))
		.then(() => { document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1); });
}

window.addEventListener("hashchange", () => route());
$("#signout").addEventListener("click", async () => {
	try {
		await api("DELETE", "/api/v1/session");
	} catch (e) {
		/* no session API, or gone already */
	}
	signedOut("Signed out.");
});
boot();
