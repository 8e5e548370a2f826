// The selected node: its properties (links raw and followed), its providers,
// its registration, its data and stat. Text only, never markup.

import { el, join, nameOf, time } from "./dom.js";

const KIND_LABEL = { property: "", link: " ->", "property link": " =>" };

function section(title, ...body) {
  return el("section", { class: "part" }, el("h3", {}, title), ...body);
}

function table(head, rows, attrs) {
  const top = head ? el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))) : null;
  return el("table", attrs || {}, top, el("tbody", {}, ...rows));
}

function target(path, ctx) {
  if (ctx.nodes.has(path)) {
    return el("a", { class: "goto", role: "link", tabindex: 0, "data-path": path, onclick: () => ctx.onSelect(path) }, path);
  }
  return el("span", {}, path);
}

function propertyRow(prop, info, ctx) {
  let resolved = "";
  if (prop.kind === "link") {
    resolved = prop.resolved ? el("span", {}, "→ ", target(prop.resolved, ctx)) : el("span", { class: "problem" }, prop.problem);
  } else if (prop.kind === "property link") {
    resolved = prop.problem ? el("span", { class: "problem" }, prop.problem) : el("code", { class: "resolved" }, prop.resolved);
  }
  const remove = ctx.config.writes
    ? el("button", { type: "button", class: "delete", title: `Delete ${prop.arg}`, onclick: () => ctx.write(info.path, [], [prop.arg]) }, "delete")
    : null;
  return el(
    "tr",
    { class: "prop " + prop.kind.replace(" ", "-"), "data-key": prop.key },
    el("td", { class: "key" }, prop.name + KIND_LABEL[prop.kind]),
    el("td", { class: "value" }, el("code", {}, prop.text)),
    el("td", { class: "followed" }, resolved),
    ctx.config.writes ? el("td", {}, remove) : null,
  );
}

function providersPart(path, ctx) {
  const folder = join(path, "providers");
  const rows = [];
  for (const [child, info] of ctx.nodes) {
    if (child.startsWith(folder + "/") && child.indexOf("/", folder.length + 1) < 0) {
      const p = info.provider || {};
      const fields = Object.fromEntries(p.fields || []);
      rows.push(
        el(
          "tr",
          { class: p.available === false ? "down" : "", "data-path": child },
          el("td", {}, target(child, ctx)),
          el("td", {}, fields.address || ""),
          el("td", {}, fields.format || ""),
          el("td", {}, p.problem ? el("span", { class: "problem" }, p.problem) : fields.available === "True" ? "yes" : "no"),
          el("td", {}, info.ephemeral ? "ephemeral" : "persistent"),
        ),
      );
    }
  }
  const body = rows.length ? table(["registration", "address", "format", "available", "node"], rows, { class: "providers" }) : el("p", { class: "hint" }, "No provider is registered.");
  return section(`Providers (${rows.length})`, body);
}

function linksHere(path, ctx) {
  const rows = [];
  for (const [holder, info] of ctx.nodes) {
    for (const prop of info.properties) {
      if (prop.kind === "link" && prop.resolved && (prop.resolved === path || prop.resolved === join(path, "providers"))) {
        rows.push(el("li", {}, target(holder, ctx), ` ${prop.name} -> ${prop.resolved}`));
      }
    }
  }
  return rows.length ? section("Links to here", el("ul", { class: "plain" }, ...rows)) : null;
}

/** Draws the node at ``ctx.path`` into ``container`` (already emptied). */
export function renderDetails(container, ctx) {
  const path = ctx.path;
  const info = ctx.nodes.get(path);
  if (!info) {
    container.append(el("h2", { class: "path" }, path), el("p", { class: "problem gone" }, "This node is not in the tree (now)."));
    return;
  }
  const service = ctx.nodes.has(join(path, "providers"));
  container.append(
    el("h2", { class: "path" }, path),
    el(
      "p",
      { class: "tags" },
      info.type !== null ? el("span", { class: "tag type" }, `type: ${info.type}`) : null,
      service ? el("span", { class: "tag service" }, "service") : null,
      info.ephemeral ? el("span", { class: "tag ephemeral" }, `ephemeral (session ${info.stat.owner})`) : null,
    ),
  );
  const rows = info.properties.map((prop) => propertyRow(prop, info, ctx));
  container.append(
    section(
      "Properties",
      rows.length ? table(["name", "value", "followed", ...(ctx.config.writes ? [""] : [])], rows, { class: "properties" }) : el("p", { class: "hint" }, "No properties."),
    ),
  );
  if (service) container.append(providersPart(path, ctx));
  if (info.provider) {
    const p = info.provider;
    container.append(
      section(
        `Registration ${nameOf(path)}`,
        p.problem ? el("p", { class: "problem" }, p.problem) : table(null, p.fields.map(([k, v]) => el("tr", {}, el("td", { class: "key" }, k), el("td", {}, el("code", {}, v))))),
      ),
    );
  }
  if (info.data !== undefined) {
    container.append(section("Data", el("pre", { class: "data" }, info.data + (info.data_cut ? "\n… (cut)" : ""))));
  }
  const here = linksHere(path, ctx);
  if (here) container.append(here);
  const s = info.stat;
  container.append(
    section(
      "Node",
      table(null, [
        ["version", s.version],
        ["children", s.children],
        ["created", time(s.ctime)],
        ["modified", time(s.mtime)],
        ["data length", s.data_length],
        ["ephemeral owner", s.owner || "none"],
      ].map(([k, v]) => el("tr", {}, el("td", { class: "key" }, k), el("td", {}, String(v)))), { class: "stat" }),
    ),
  );
}
