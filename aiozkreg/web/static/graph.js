// The architecture graph: boxes and arrows where the server laid them out
// (aiozkreg/web/_layout.py), drawn as SVG with text nodes only.

import { clear, svg } from "./dom.js";

const [PAD_X, PAD_Y, LINE] = [10, 7, 15]; // as aiozkreg/web/_layout.py measures

const ARROWS = {
  link: "arrow-link",
  property_link: "arrow-property-link",
  depends: "arrow-depends",
};

function defs() {
  const markers = Object.values(ARROWS).map((id) =>
    svg(
      "marker",
      { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "head " + id }),
    ),
  );
  return svg("defs", {}, ...markers);
}

function curve(d) {
  return `M ${d[0]} ${d[1]} C ${d[2]} ${d[3]}, ${d[4]} ${d[5]}, ${d[6]} ${d[7]}`;
}

function edgeElement(edge) {
  const group = svg("g", {
    class: "edge " + edge.kind,
    "data-source": edge.source,
    "data-target": edge.target,
  });
  const path = svg("path", { d: curve(edge.d), class: "line" });
  if (ARROWS[edge.kind]) path.setAttribute("marker-end", `url(#${ARROWS[edge.kind]})`);
  group.append(svg("title", { text: `${edge.source} → ${edge.target}${edge.label ? " (" + edge.label + ")" : ""}` }));
  group.append(path);
  return group;
}

function edgeLabel(edge) {
  return svg("text", { class: "edge-label " + edge.kind, x: edge.at[0], y: edge.at[1] - 4, text: edge.label });
}

function vertexElement(vertex, selected, changed, onSelect) {
  const [x, y, w, h] = vertex.box;
  const classes = ["vertex", vertex.kind];
  if (vertex.path === selected) classes.push("selected");
  if (changed) classes.push("changed");
  const group = svg("g", {
    class: classes.join(" "),
    "data-path": vertex.path,
    tabindex: 0,
    role: "button",
    onclick: () => onSelect(vertex.path),
  });
  group.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") onSelect(vertex.path);
  });
  group.append(svg("title", { text: vertex.lines.join("\n") }));
  group.append(svg("rect", { x, y, width: w, height: h, rx: vertex.kind === "node" ? 8 : 0, class: "box" }));
  if (vertex.kind === "service") {
    group.append(svg("rect", { x: x + 3, y: y + 3, width: w - 6, height: h - 6, class: "inner" }));
  }
  const text = svg("text", { x: x + PAD_X, y: y + PAD_Y + LINE / 2, class: "label" });
  vertex.lines.forEach((line, i) => {
    const classes = i === 0 ? "path" : /^\d+ providers?$/.test(line) ? "count" : "type";
    text.append(svg("tspan", { x: x + PAD_X, y: y + PAD_Y + LINE / 2 + i * LINE, class: classes, text: line }));
  });
  group.append(text);
  return group;
}

/** Draws graphs into one <svg>, marking the boxes whose label changed since the last one. */
export class GraphView {
  constructor(element, onSelect) {
    this.element = element;
    this.onSelect = onSelect;
    this.labels = null; // path -> label text of the last drawing
    this.zoom = 1;
    this.fit = false;
  }

  draw(graph, selected) {
    const root = this.element;
    clear(root);
    if (!graph) return;
    const labels = new Map(graph.vertices.map((v) => [v.path, v.lines.join("\n")]));
    root.setAttribute("viewBox", `0 0 ${graph.width} ${graph.height}`);
    this.size(graph);
    root.append(defs());
    const edges = svg("g", { class: "edges" }, ...graph.edges.map(edgeElement));
    const vertices = svg(
      "g",
      { class: "vertices" },
      ...graph.vertices.map((v) => {
        const changed = this.labels !== null && this.labels.get(v.path) !== labels.get(v.path);
        return vertexElement(v, selected, changed, this.onSelect);
      }),
    );
    const edgeLabels = svg("g", { class: "edge-labels" }, ...graph.edges.filter((e) => e.label).map(edgeLabel));
    root.append(edges, vertices, edgeLabels);
    this.labels = labels;
    this.graph = graph;
  }

  size(graph) {
    const root = this.element;
    if (this.fit) {
      root.setAttribute("width", "100%");
      root.removeAttribute("height");
    } else {
      root.setAttribute("width", Math.round(graph.width * this.zoom));
      root.setAttribute("height", Math.round(graph.height * this.zoom));
    }
  }

  rescale(factor) {
    this.fit = factor === null;
    if (factor !== null) this.zoom = Math.min(4, Math.max(0.25, this.zoom * factor));
    if (this.graph) this.size(this.graph);
  }

  select(path) {
    for (const group of this.element.querySelectorAll("g.vertex")) {
      group.classList.toggle("selected", group.getAttribute("data-path") === path);
    }
  }
}
