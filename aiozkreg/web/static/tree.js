// The tree browser: one row per node, kept in place as nodes come and go
// (only the rows that changed are touched).

import { clear, depth, el, join, nameOf, parentOf } from "./dom.js";

function fillRow(row, ...parts) {
  row.append(el("span", { class: "cells" }, ...parts));
}

export class TreeView {
  constructor(element, nodes, onSelect) {
    this.element = element;
    this.nodes = nodes; // the page's Map path -> node info
    this.onSelect = onSelect;
    this.items = new Map(); // path -> {li, row, list}
    this.collapsed = new Set();
    this.selected = null;
    this.filter = "";
  }

  reset() {
    clear(this.element);
    this.items.clear();
    this.update([...this.nodes.keys()], []);
  }

  /** Rows for ``paths`` (added or changed) made or redrawn; rows for ``removed`` dropped. */
  update(paths, removed) {
    for (const path of removed) {
      const item = this.items.get(path);
      if (item) {
        item.li.remove();
        this.items.delete(path);
      }
    }
    const touched = new Set(paths);
    for (const path of [...paths, ...removed]) touched.add(parentOf(path)); // child counts
    const order = [...touched].filter((p) => this.nodes.has(p)).sort((a, b) => depth(a) - depth(b));
    for (const path of order) if (!this.items.has(path)) this.make(path);
    for (const path of order) this.draw(path, this.items.get(path)); // counts: children first
    if (this.filter) this.applyFilter();
  }

  make(path) {
    const row = el("div", { class: "row", role: "treeitem", tabindex: 0, "data-path": path });
    const list = el("ul", { role: "group" });
    const li = el("li", { "data-path": path }, row, list);
    row.addEventListener("click", (event) => {
      if (event.target.classList.contains("twisty")) this.toggle(path);
      else this.onSelect(path);
    });
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter") this.onSelect(path);
    });
    const item = { li, row, list };
    const parent = this.items.get(parentOf(path));
    const home = path === parentOf(path) || !parent ? this.element : parent.list;
    const name = nameOf(path);
    const after = [...home.children].find((child) => nameOf(child.getAttribute("data-path")) > name);
    home.insertBefore(li, after || null);
    this.items.set(path, item);
    return item;
  }

  draw(path, item) {
    const info = this.nodes.get(path);
    const children = item.list.children.length;
    const service = this.nodes.has(join(path, "providers"));
    const links = info.properties.filter((p) => p.kind !== "property").length;
    clear(item.row);
    fillRow(
      item.row,
      el("span", { class: "twisty" }, children ? (this.collapsed.has(path) ? "▸" : "▾") : "·"),
      el("span", { class: "name" }, nameOf(path)),
      info.type !== null ? el("span", { class: "tag type" }, info.type) : null,
      service ? el("span", { class: "tag service" }, "service") : null,
      info.ephemeral ? el("span", { class: "tag ephemeral" }, "ephemeral") : null,
      info.provider && info.provider.available === false ? el("span", { class: "tag down" }, "unavailable") : null,
      links ? el("span", { class: "tag links" }, `${links} link${links === 1 ? "" : "s"}`) : null,
      children ? el("span", { class: "count" }, `${children}`) : null,
    );
    item.row.classList.toggle("selected", path === this.selected);
    item.li.classList.toggle("collapsed", this.collapsed.has(path));
  }

  toggle(path) {
    if (this.collapsed.has(path)) this.collapsed.delete(path);
    else this.collapsed.add(path);
    const item = this.items.get(path);
    if (item) this.draw(path, item);
  }

  select(path) {
    const old = this.items.get(this.selected);
    if (old) old.row.classList.remove("selected");
    this.selected = path;
    const item = this.items.get(path);
    if (!item) return;
    item.row.classList.add("selected");
    for (let up = parentOf(path); this.items.has(up) && up !== path; up = parentOf(up)) {
      if (this.collapsed.delete(up)) this.draw(up, this.items.get(up));
      if (up === "/") break;
    }
    item.row.scrollIntoView({ block: "nearest" });
  }

  setFilter(text) {
    this.filter = text.trim().toLowerCase();
    this.applyFilter();
  }

  applyFilter() {
    const shown = new Set();
    for (const path of this.items.keys()) {
      if (!this.filter || path.toLowerCase().includes(this.filter)) {
        for (let p = path; !shown.has(p); p = parentOf(p)) {
          shown.add(p);
          if (p === "/") break;
        }
      }
    }
    for (const [path, item] of this.items) item.li.hidden = !shown.has(path);
  }
}
