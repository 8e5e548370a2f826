// aiozkreg serve's page: one event stream (/events) keeps the graph, the
// tree browser, the selected node and the session state live.
//   reset   everything (on connect, and when the page fell behind)
//   delta   nodes added or changed (upserts), nodes gone (removed), the graph if it changed
//   session the ZooKeeper session's state
//   status  whether PATH is shown (live), missing, or refused

import { renderDetails } from "./details.js";
import { clear, el } from "./dom.js";
import { GraphView } from "./graph.js";
import { TreeView } from "./tree.js";

const page = {
  nodes: new Map(),
  graph: null,
  config: {},
  session: null,
  status: null,
  selected: decodeURIComponent(location.hash.slice(1)) || null,
  stream: "connecting",
};

const $ = (id) => document.getElementById(id);
const graphView = new GraphView($("graph-svg"), select);
const treeView = new TreeView($("tree"), page.nodes, select);
const info = el("div", { id: "node-info" });
const writer = writeForm();

function select(path) {
  page.selected = path;
  history.replaceState(null, "", "#" + encodeURIComponent(path));
  graphView.select(path);
  treeView.select(path);
  drawDetails();
}

function drawDetails() {
  const box = $("details");
  if (!page.selected) return;
  if (box.firstChild !== info) {
    clear(box);
    box.append(info, writer.form);
  }
  clear(info);
  renderDetails(info, {
    path: page.selected,
    nodes: page.nodes,
    config: page.config,
    onSelect: select,
    write: send,
  });
  writer.form.hidden = !page.config.writes || !page.nodes.has(page.selected);
}

// -- writes (only with --allow-writes) ----------------------------------------

function writeForm() {
  const input = el("input", { type: "text", id: "assignment", placeholder: "NAME=LITERAL, e.g. threads=4 or comment='ok'", "aria-label": "NAME=LITERAL", autocomplete: "off", spellcheck: "false" });
  const result = el("p", { id: "write-result", role: "status" });
  const form = el("form", { id: "write", class: "part" }, el("h3", {}, "Set a property"), el("div", { class: "line" }, input, el("button", { type: "submit" }, "Set")), result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await send(page.selected, [input.value], [])) input.value = "";
  });
  form.hidden = true;
  return { form, input, result };
}

async function send(path, set, remove) {
  const result = writer.result;
  result.className = "pending";
  result.textContent = "Writing…";
  try {
    const response = await fetch("api/set", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Aiozkreg-Token": page.config.token || "" },
      body: JSON.stringify({ path, set, delete: remove }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    result.className = "ok";
    result.textContent = `Written to ${body.path}.`;
    return true;
  } catch (error) {
    result.className = "problem";
    result.textContent = String(error.message || error);
    return false;
  }
}

// -- the session, the stream and PATH -----------------------------------------

const SESSION_TEXT = {
  connecting: "Connecting to ZooKeeper… (what is shown may be out of date)",
  suspended: "The ZooKeeper connection is lost: this is the last state seen. It updates again when the session is back.",
  expired: "The ZooKeeper session expired: this is the last state seen. A new session is being made.",
  closed: "The server's ZooKeeper session is closed.",
};

function drawState() {
  const session = page.session || { state: "unknown" };
  const body = document.body;
  body.dataset.session = session.state;
  body.dataset.stream = page.stream;
  body.dataset.status = page.status ? page.status.status : "loading";
  const pill = $("session");
  pill.dataset.state = session.state;
  pill.textContent = `session: ${session.state}`;
  pill.title = session.session_id ? `session ${session.session_id}${session.server ? " on " + session.server : ""}` : "";
  const stream = $("stream");
  stream.dataset.state = page.stream;
  stream.textContent = page.stream === "open" ? "page: live" : "page: reconnecting…";
  const where = page.config.hosts ? `${page.config.hosts}  ${page.config.path}` : "";
  const real = page.status && page.status.real_path && page.status.real_path !== page.config.path ? ` (→ ${page.status.real_path})` : "";
  const hidden = (page.status && page.status.unreadable) || [];
  $("where").textContent = where + real + (hidden.length ? `  (${hidden.length} left out: this session may not read them)` : "");
  $("where").title = hidden.join("\n");
  let text = "";
  if (page.stream !== "open") text = "Lost contact with aiozkreg serve; reconnecting… (this is the last state seen)";
  else if (!session.live && SESSION_TEXT[session.state]) text = SESSION_TEXT[session.state];
  else if (page.status && page.status.status !== "live" && page.status.status !== "loading") text = page.status.message;
  const banner = $("banner");
  banner.textContent = text;
  banner.hidden = !text;
  body.classList.toggle("stale", Boolean(text));
}

function apply(upserts, removed) {
  for (const path of removed) page.nodes.delete(path);
  for (const node of upserts) page.nodes.set(node.path, node);
}

function onReset(data) {
  page.config = data.config || {};
  page.session = data.session;
  page.status = data.status;
  page.nodes.clear();
  apply(data.model.nodes, []);
  page.graph = data.model.graph;
  treeView.reset();
  graphView.labels = null;
  graphView.draw(page.graph, page.selected);
  const root = data.model.root;
  if (!page.selected && root && page.nodes.has(root)) page.selected = root;
  if (page.selected) select(page.selected);
  drawState();
}

function onDelta(data) {
  apply(data.upserts, data.removed);
  treeView.update(data.upserts.map((n) => n.path), data.removed);
  if (data.graph) {
    page.graph = data.graph;
    graphView.draw(page.graph, page.selected);
  }
  drawDetails();
}

function connect() {
  const source = new EventSource("events");
  const on = (name, handler) => source.addEventListener(name, (event) => handler(JSON.parse(event.data)));
  on("reset", onReset);
  on("delta", onDelta);
  on("session", (session) => { page.session = session; drawState(); });
  on("status", (status) => { page.status = status; drawState(); });
  source.addEventListener("open", () => { page.stream = "open"; drawState(); });
  source.addEventListener("error", () => { page.stream = "reconnecting"; drawState(); }); // it retries by itself
}

$("zoom-in").addEventListener("click", () => graphView.rescale(1.25));
$("zoom-out").addEventListener("click", () => graphView.rescale(0.8));
$("zoom-fit").addEventListener("click", () => graphView.rescale(null));
$("filter").addEventListener("input", (event) => treeView.setFilter(event.target.value));
drawState();
connect();
