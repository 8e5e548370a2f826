// Building the page's elements. Every piece of text goes in as a text node
// (textContent): nothing read from ZooKeeper is ever parsed as HTML.

const SVG = "http://www.w3.org/2000/svg";

function fill(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "onclick") node.addEventListener("click", value);
    else if (key === "text") node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An HTML element: el("td", {class: "x"}, "text", otherElement). */
export function el(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element, the same way. */
export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG, tag), attrs, children);
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
}

/** The parent path: "/a/b" -> "/a", "/a" -> "/". */
export function parentOf(path) {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}

export function nameOf(path) {
  return path === "/" ? "/" : path.slice(path.lastIndexOf("/") + 1);
}

export function join(parent, name) {
  return parent === "/" ? "/" + name : parent + "/" + name;
}

export function depth(path) {
  return path === "/" ? 0 : path.split("/").length - 1;
}

export function time(ms) {
  return ms ? new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "";
}
