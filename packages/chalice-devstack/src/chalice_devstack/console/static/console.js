// devstack console: polls the feed every second and draws each view. Plain DOM, no build step, no CDN.
// Every value from the feed reaches the page as text (textContent), never as markup.
"use strict";

const POLL_MS = 1000;
const SVG_NS = "http://www.w3.org/2000/svg";
const state = { feed: null, view: "queues", selected: {}, functionFilter: null, correlationFilter: null, openLogs: new Set() };

// ------------------------------------------------------------------ helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function table(headings, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, headings.map((h) => el("th", {}, h)))), el("tbody", {}, rows));
}

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

function notice(text) {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

async function post(path) {
  const answer = await fetch(path, { method: "POST", headers: { "X-Devstack-Console": "1" } });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(body.message || `HTTP ${answer.status}`);
  return body;
}

// ------------------------------------------------------------------ queues

function queuesView(feed) {
  const rows = feed.queues.map((queue) => el("tr", { "data-queue": queue.queue },
    el("td", {}, queue.queue, " ", queue.dlq ? el("span", { class: "badge dlq" }, "DLQ") : null,
      queue.error ? el("div", { class: "bad" }, queue.error) : null,
      el("ul", { class: "messages" }, (queue.messages || []).map((m) => el("li", { title: m.body },
        el("span", { class: "muted" }, `received ${m.receive_count}× · ${m.state} · `),
        m.body + (m.truncated ? "…" : ""))))),
    el("td", { class: "num visible" }, queue.visible ?? ""),
    el("td", { class: "num" }, queue.in_flight ?? ""),
    el("td", { class: "num" }, queue.delayed ?? ""),
    el("td", {}, queue.redrive_to ? el("button", {
      class: "redrive", disabled: !queue.visible,
      title: `move its messages back to ${queue.redrive_to} (what make redrive does)`,
      onclick: () => redrive(queue),
    }, "Redrive") : null)));
  return [el("h2", {}, "Queues"), table(["queue · messages it holds (newest first)", "visible", "in flight", "delayed", ""], rows)];
}

async function redrive(queue) {
  try {
    const result = await post(`redrive/${encodeURIComponent(queue.logical_id)}`);
    notice(`redrive ${queue.queue}: ${result.moved} moved to ${result.queue}` + (result.skipped ? `, ${result.skipped} skipped` : ""));
  } catch (error) {
    notice(`redrive ${queue.queue} failed: ${error.message}`);
  }
}

// ------------------------------------------------------------------ invocations

function invocationsView(feed) {
  const counts = {};
  for (const item of feed.invocations) {
    counts[item.function] = counts[item.function] || { all: 0, failed: 0 };
    counts[item.function].all += 1;
    if (!item.ok || item.failed_items) counts[item.function].failed += 1;
  }
  const chips = Object.entries(counts).sort().map(([name, count]) => el("button", {
    class: `chip function${state.functionFilter === name ? " on" : ""}`,
    onclick: () => { state.functionFilter = state.functionFilter === name ? null : name; render(); },
  }, `${name} ${count.all}`, count.failed ? ` (${count.failed} failed)` : ""));
  const shown = feed.invocations.filter((item) =>
    (!state.functionFilter || item.function === state.functionFilter) &&
    (!state.correlationFilter || item.correlation_ids.includes(state.correlationFilter) || item.request_id === state.correlationFilter));
  const filter = state.correlationFilter ? el("p", {}, "correlation id ", el("code", {}, state.correlationFilter), " ",
    el("button", { class: "chip", onclick: () => { state.correlationFilter = null; render(); } }, "clear")) : null;
  const rows = shown.map((item) => el("tr", { class: "invocation" },
    el("td", {}, time(item.started)),
    el("td", {}, item.function),
    el("td", {}, item.trigger),
    el("td", { class: "num" }, item.batch_size ?? ""),
    el("td", { class: "num" }, `${item.duration_ms.toFixed(1)} ms`),
    el("td", {},
      el("span", { class: item.ok && !item.failed_items ? "ok" : "bad" }, item.outcome),
      el("div", {}, item.correlation_ids.map((id) => el("button", {
        class: "chip correlation", title: "show only the invocations of this correlation id",
        onclick: () => { state.correlationFilter = id; render(); },
      }, id))),
      item.log.length ? logLines(item) : null)));
  return [el("h2", {}, "Recent invocations per function"), el("div", {}, chips), filter,
    table(["at", "function", "trigger", "batch", "duration", "outcome · log"], rows)];
}

function logLines(item) {
  // The page is redrawn every second: remember which logs are open.
  const details = el("details", { open: state.openLogs.has(item.request_id) },
    el("summary", { class: "muted" }, `${item.log.length} log lines`), el("pre", { class: "log" }, item.log.join("\n")));
  details.addEventListener("toggle", () => {
    if (details.open) state.openLogs.add(item.request_id);
    else state.openLogs.delete(item.request_id);
  });
  return details;
}

// ------------------------------------------------------------------ state machines

// An edge's SVG path: straight down to the next row, through the gap between columns to another column,
// round the left side past the rows it skips, round the right side back up (a loop).
function edgePath(a, b, w, h) {
  const [ay, by] = [a.y + h / 2, b.y + h / 2];
  if (b.x > a.x) return `M ${a.x + w} ${ay} C ${(a.x + w + b.x) / 2} ${ay}, ${(a.x + w + b.x) / 2} ${by}, ${b.x} ${by}`;
  if (b.x < a.x) return `M ${a.x} ${ay} C ${(a.x + b.x + w) / 2} ${ay}, ${(a.x + b.x + w) / 2} ${by}, ${b.x + w} ${by}`;
  if (b.y > a.y && b.y - a.y < 2 * h + 4) return `M ${a.x + w / 2} ${a.y + h} L ${b.x + w / 2} ${b.y}`;
  const side = b.y > a.y ? a.x : a.x + w;
  const bend = b.y > a.y ? -26 : 26;
  return `M ${side} ${ay} C ${side + bend} ${ay}, ${side + bend} ${by}, ${side} ${by}`;
}

function machineDrawing(machine) {
  const graph = machine.graph;
  const selected = machine.selected || { path: [], failures: {}, attempts: {} };
  const visited = new Set(selected.path);
  const taken = new Set(selected.path.slice(1).map((name, i) => `${selected.path[i]}→${name}`));
  const nodes = Object.fromEntries(graph.nodes.map((node) => [node.name, node]));
  const { width, height, node_width: w, node_height: h } = graph.size;
  const drawing = svg("svg", { width, height: height + 8, viewBox: `0 0 ${width} ${height + 8}`, class: "graph" },
    svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "8", markerHeight: "8", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8c959f" }))));
  for (const edge of graph.edges) {
    const d = edgePath(nodes[edge.source], nodes[edge.target], w, h);
    const classes = ["edge", edge.kind, taken.has(`${edge.source}→${edge.target}`) ? "taken" : ""].join(" ");
    drawing.append(svg("path", { d, class: classes, "marker-end": "url(#arrow)" },
      svg("title", {}, edge.label ? `${edge.kind}: ${edge.label}` : edge.kind)));
  }
  for (const node of graph.nodes) {
    const failed = node.name in selected.failures;
    const classes = ["node", node.compensation ? "compensation" : "", visited.has(node.name) ? "visited" : "", failed ? "failed" : ""];
    const attempts = selected.attempts[node.name] > 1 ? ` ×${selected.attempts[node.name]}` : "";
    const kind = failed ? `${node.type} · ${selected.failures[node.name]}` : node.type + attempts;
    drawing.append(svg("g", { class: classes.join(" "), "data-state": node.name, transform: `translate(${node.x},${node.y})` },
      svg("rect", { width: w, height: h, rx: node.type === "Task" ? 4 : 14 }),
      svg("text", { x: w / 2, y: h / 2 - 5 }, node.name),
      svg("text", { x: w / 2, y: h / 2 + 9, class: "kind" }, kind)));
  }
  return drawing;
}

function stateMachinesView(feed) {
  if (!feed.state_machines.length) return [el("p", { class: "muted" }, "No state machine in the resources file.")];
  return feed.state_machines.map((machine) => {
    const chosen = machine.selected ? machine.selected.name : null;
    const executions = (machine.executions || []).map((execution) => el("li", {
      class: execution.name === chosen ? "selected" : null, "data-execution": execution.name,
      onclick: () => { state.selected[machine.logical_id] = execution.name; poll(); },
    }, el("span", { class: execution.status === "SUCCEEDED" ? "ok" : execution.status === "RUNNING" ? "warn" : "bad" }, execution.status),
      " ", execution.name, " ", el("span", { class: "muted when" }, time(execution.started))));
    const counts = Object.entries(machine.counts || {}).map(([status, n]) => `${n} ${status.toLowerCase()}`).join(", ");
    return el("div", { class: "state-machine" },
      el("h2", {}, machine.state_machine, el("span", { class: "muted" }, counts ? ` · ${counts}` : " · none run")),
      machine.error ? el("p", { class: "bad" }, machine.error) : null,
      el("p", { class: "legend" }, el("span", {}, "blue: the selected execution's path"), el("span", { class: "bad" }, "red: where it failed"),
        el("span", { style: "color: var(--comp)" }, "dashed purple: compensations, reached by Catch")),
      el("div", { class: "machine" }, machineDrawing(machine),
        el("div", {}, el("strong", {}, "Recent executions"), el("ul", { class: "executions" }, executions))));
  });
}

// ------------------------------------------------------------------ streams, schedules, alarms

function batchText(batch) {
  if (!batch) return "";
  const part = batch.records < batch.of ? ` (${batch.records} of ${batch.of}: bisected or checkpointed)` : ` (${batch.records} records)`;
  return batch.retries ? `retry ${batch.retries}${part}` : `delivering${part}`;
}

function streamsView(feed) {
  const streamRows = feed.streams.flatMap((stream) => stream.shards.map((shard) => el("tr", {},
    el("td", {}, stream.stream, el("div", { class: "muted" }, `→ ${stream.function} · batch ${stream.batch_size}` +
      ` · retries ${stream.max_retries < 0 ? "until expiry" : stream.max_retries}${stream.bisect ? " · bisect on error" : ""}`)),
    el("td", {}, shard.shard),
    el("td", {}, shard.position || el("span", { class: "muted" }, "nothing processed yet")),
    el("td", { class: "num" }, shard.buffered),
    el("td", { class: shard.batch && shard.batch.retries ? "warn" : "" }, batchText(shard.batch)))));
  const scheduleRows = feed.schedules.map((schedule) => el("tr", {},
    el("td", {}, schedule.function), el("td", {}, schedule.expression),
    el("td", {}, schedule.next ? new Date(schedule.next).toLocaleString() : ""),
    el("td", {}, el("button", { class: "fire", onclick: () => fire(schedule.function) }, "Fire now"))));
  return [el("h2", {}, "Streams"), streamRows.length ? table(["stream", "shard", "last sequence number processed", "buffered", "batch under way"], streamRows)
    : el("p", { class: "muted" }, "No stream trigger."),
  el("h2", {}, "Schedules"), scheduleRows.length ? table(["function", "expression", "next fire", ""], scheduleRows)
    : el("p", { class: "muted" }, "No schedule.")];
}

async function fire(name) {
  try {
    const result = await post(`/_devstack/schedules/${encodeURIComponent(name)}`);
    notice(`${result.function}: ${result.ok ? "ok" : `ERROR ${result.error_type}: ${result.error_message}`} in ${result.duration_ms.toFixed(1)} ms`);
  } catch (error) {
    notice(`fire ${name} failed: ${error.message}`);
  }
}

function alarmsView(feed) {
  const alarms = feed.alarms || [];
  if (!alarms.length) return [el("h2", {}, "Alarms"), el("p", { class: "muted" }, "No alarm in the resources file.")];
  const rows = alarms.map((alarm) => el("tr", {},
    el("td", {}, alarm.alarm),
    el("td", { class: alarm.state === "ALARM" ? "bad" : alarm.state === "OK" ? "ok" : "muted" }, alarm.state || "not evaluated offline"),
    el("td", {}, alarm.since ? time(alarm.since) : ""),
    el("td", { class: alarm.evaluated ? "" : "muted" }, alarm.reason || alarm.error || "")));
  return [el("h2", {}, "Alarms"), table(["alarm", "state", "since", "why"], rows)];
}

// ------------------------------------------------------------------ the page

const VIEWS = { queues: queuesView, invocations: invocationsView, "state-machines": stateMachinesView, streams: streamsView, alarms: alarmsView };

function render() {
  for (const link of document.querySelectorAll("#tabs a")) link.classList.toggle("active", link.dataset.view === state.view);
  for (const name of Object.keys(VIEWS)) {
    const section = document.getElementById(`view-${name}`);
    section.classList.toggle("active", name === state.view);
    if (name === state.view && state.feed) section.replaceChildren(...VIEWS[name](state.feed).filter(Boolean));
  }
}

async function poll() {
  const live = document.getElementById("live");
  const query = Object.entries(state.selected).map(([machine, name]) => `select=${encodeURIComponent(`${machine}:${name}`)}`).join("&");
  try {
    const answer = await fetch(`feed${query ? `?${query}` : ""}`, { cache: "no-store" });
    if (!answer.ok) throw new Error((await answer.json().catch(() => ({}))).message || `HTTP ${answer.status}`);
    state.feed = await answer.json();
    live.className = "live up";
    live.textContent = `live · ${time(state.feed.now)}`;
    render();
  } catch (error) {
    live.className = "live down";
    live.textContent = `devstack not answering (${error.message})`;
  }
}

function route() {
  const view = location.hash.slice(1);
  state.view = view in VIEWS ? view : "queues";
  render();
}

// The next poll starts a second after the last one ended: a slow answer never piles requests up.
async function pollForever() {
  await poll();
  setTimeout(pollForever, POLL_MS);
}

window.addEventListener("hashchange", route);
route();
pollForever();
