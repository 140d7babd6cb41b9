// The explorer page of tinygrad_seq.viz.explore: no libraries, no network.
// The data (nodes, cells, the recorded walks) and the SVG laid out by graphviz's dot are in the
// page; opening a cell moves the rest of the overview aside (a piecewise shift of coordinates),
// so no layout runs in the browser.
"use strict";
(async function load() {
  const src = document.getElementById("explorer-data");
  let text = src.textContent;
  if (src.type === "application/gzip-base64") { // a large page carries its data gzipped
    const bytes = Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    text = await new Response(stream).text();
  }
  explorer(JSON.parse(text));
})();

function explorer(D) {
  const SVGNS = "http://www.w3.org/2000/svg";
  const KIND_FILL = { op: "#e8eef7", param: "#fff2cc", input: "#e2f0d9", const: "#ffffff",
    cell: "#dae8fc", stub: "#ffffff" };
  const NO_GRAD = "#f7f7f7";
  const host = document.getElementById("graph");
  const info = document.getElementById("info");
  const E = (window.__explorer = {
    data: D, backwardOrder: D.walks.backward, forwardOrder: D.walks.forward,
    visited: [], state: "idle", expanded: new Set(), selected: null, accum: {},
  });

  // ------------------------------------------------------------------ formatting
  const fmt = (x) => (x === null || x === undefined ? "–" : Math.abs(x) >= 1e308 ? (x > 0 ? "inf" : "-inf")
    : x === 0 ? "0" : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? String(+x.toPrecision(4)) : x.toExponential(2));
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const shapeText = (n) => (n.shape.length ? "(" + n.shape.join(", ") + (n.shape.length === 1 ? "," : "") + ")" : "scalar");
  const el = (name, attrs) => {
    const e = document.createElementNS(SVGNS, name);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  };
  const dark = (hex) => {
    const r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
    return 0.299 * r + 0.587 * g + 0.114 * b < 140;
  };

  // ------------------------------------------------------------------ the overview
  host.innerHTML = D.overview;
  const svg = host.querySelector("svg");
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  const g0 = svg.querySelector("g.graph");
  g0.removeAttribute("transform"); // work in dot's own coordinates (y upwards is negative)
  const titleEl = g0.querySelector(":scope > title");
  if (titleEl) titleEl.remove();
  const cardLayer = el("g", { class: "cards" });
  g0.appendChild(cardLayer);
  const cellBox = {}; // cell id -> its box in the overview {x1, y1, x2, y2}

  g0.querySelectorAll("g.node").forEach((g) => {
    const id = g.id;
    g.removeAttribute("id");
    if (id[0] === "c") g.dataset.cell = id.slice(1);
    else g.dataset.nid = id.slice(1);
    const t = g.querySelector("title");
    if (t) t.remove();
  });
  const pairRe = /(-?\d*\.?\d+(?:e-?\d+)?),(-?\d*\.?\d+(?:e-?\d+)?)/g;
  // original geometry of everything that moves when a cell opens
  const movers = [];
  g0.querySelectorAll("g.edge, g.cluster").forEach((g) => {
    const box = g.classList.contains("cluster"); // a cluster's box grows; an edge bends
    g.querySelectorAll("path, polygon, text").forEach((s) => {
      if (s.tagName === "path") movers.push({ s, box, attr: "d", v: s.getAttribute("d") });
      else if (s.tagName === "polygon") movers.push({ s, box, attr: "points", v: s.getAttribute("points") });
      else movers.push({ s, box, text: true, x: +s.getAttribute("x"), y: +s.getAttribute("y") });
    });
    const t = g.querySelector("title");
    if (t) t.remove();
  });
  const nodeCentres = [];
  g0.querySelectorAll("g.node").forEach((g) => {
    const b = g.getBBox();
    nodeCentres.push({ g, x: b.x + b.width / 2, y: b.y + b.height / 2 });
    if (g.dataset.cell !== undefined) cellBox[g.dataset.cell] = { x1: b.x, y1: b.y, x2: b.x + b.width, y2: b.y + b.height };
  });
  const overviewBox = g0.getBBox();

  // ------------------------------------------------------------------ opening cells in place
  const templates = D.templates.map((s) => {
    const doc = new DOMParser().parseFromString(s, "image/svg+xml").documentElement;
    const vb = doc.getAttribute("viewBox").split(/\s+/).map(Number);
    return { g: doc.querySelector("g.graph"), w: vb[2], h: vb[3] };
  });
  // Opening cell j shifts what lies right of its centre by the extra width, and what lies
  // above or below it (within its columns) by half the extra height; cluster boxes grow.
  let shifts = { xs: [], cols: [], bands: [] };
  function computeShifts() {
    const xs = [], cols = [], bands = {};
    for (const j of E.expanded) {
      const b = cellBox[j], t = templates[D.cells[j].template];
      const dx = Math.max(0, t.w - (b.x2 - b.x1)), dy = Math.max(0, t.h - (b.y2 - b.y1));
      xs.push({ at: (b.x1 + b.x2) / 2, dx });
      cols.push({ xa: b.x1 - 1, xb: b.x2 + 1, y1: b.y1, y2: b.y2, dy });
      const key = Math.round(b.y1) + ":" + Math.round(b.y2);
      if (!bands[key] || bands[key].dy < dy) bands[key] = { y1: b.y1, y2: b.y2, dy };
    }
    shifts = { xs, cols, bands: Object.values(bands) };
  }
  const wx = (x) => { let d = 0; for (const s of shifts.xs) if (x > s.at) d += s.dx; return x + d; };
  const away = (y, b) => (y <= b.y1 + 0.5 ? -b.dy / 2 : y >= b.y2 - 0.5 ? b.dy / 2 : 0);
  const wy = (y, x) => { // x given: only the expanded cells whose columns hold x push
    let d = 0;
    if (x === undefined) for (const b of shifts.bands) d += away(y, b);
    else for (const c of shifts.cols) if (x >= c.xa && x <= c.xb) d += away(y, c);
    return y + d;
  };
  function relayout() {
    computeShifts();
    for (const m of movers) {
      const y = (py, px) => wy(py, m.box ? undefined : px);
      if (m.text) { m.s.setAttribute("x", wx(m.x)); m.s.setAttribute("y", y(m.y, m.x)); continue; }
      m.s.setAttribute(m.attr, m.v.replace(pairRe, (_, a, b) => wx(+a).toFixed(2) + "," + y(+b, +a).toFixed(2)));
    }
    for (const c of nodeCentres) {
      const dx = wx(c.x) - c.x, dy = wy(c.y, c.x) - c.y;
      if (dx || dy) c.g.setAttribute("transform", `translate(${dx.toFixed(2)},${dy.toFixed(2)})`);
      else c.g.removeAttribute("transform");
      if (c.g.dataset.cell !== undefined) c.g.style.display = E.expanded.has(+c.g.dataset.cell) ? "none" : "";
    }
    cardLayer.innerHTML = "";
    for (const j of E.expanded) cardLayer.appendChild(makeCard(j));
    paint();
    markWindow();
    replayMarks();
  }
  function makeCard(j) {
    const cell = D.cells[j], t = templates[cell.template], b = cellBox[j];
    const x = wx(b.x1), y = wy((b.y1 + b.y2) / 2, b.x1) - t.h / 2;
    const card = el("g", { class: "card", transform: `translate(${x.toFixed(2)},${y.toFixed(2)})` });
    card.dataset.card = j;
    card.appendChild(el("rect", { class: "bg", x: 0, y: 0, width: t.w, height: t.h, rx: 6 }));
    const inner = t.g.cloneNode(true);
    inner.querySelectorAll("title").forEach((e) => e.remove());
    inner.querySelectorAll(":scope > polygon, :scope > text").forEach((e) => e.remove()); // page, label
    inner.querySelectorAll("g.node").forEach((g) => {
      const k = +g.id.slice(1), kind = g.id[0];
      g.removeAttribute("id");
      if (kind === "k") g.dataset.nid = cell.nodes[k];
      else if (kind === "s" && D.nodes[cell.stubs[k]].cell === j) g.dataset.nid = cell.stubs[k]; // a layer's weight
      else if (kind === "s") { g.dataset.goto = cell.stubs[k]; g.classList.add("stub"); }
      else g.classList.add("stub");
    });
    card.appendChild(inner);
    const head = el("text", { x: 8, y: 15, class: "card-title" });
    head.textContent = cell.title;
    card.appendChild(head);
    const close = el("g", { class: "close" });
    const txt = el("text", { x: t.w - 8, y: 14, "text-anchor": "end" });
    txt.textContent = "collapse \u25B4";
    close.appendChild(txt);
    close.addEventListener("click", (ev) => { ev.stopPropagation(); collapse(j); });
    card.appendChild(close);
    return card;
  }
  function expand(j) { if (!E.expanded.has(j)) { E.expanded.add(j); relayout(); } }
  function fitCard(j) { // an opened Transformer layer is large: show all of it
    const b = cellBox[j], t = templates[D.cells[j].template];
    fitBox({ x: wx(b.x1), y: wy((b.y1 + b.y2) / 2, b.x1) - t.h / 2, width: t.w, height: t.h }, 20);
  }
  function collapse(j) { if (E.expanded.delete(j)) relayout(); }
  E.expand = expand;
  E.collapse = collapse;

  // ------------------------------------------------------------------ colours, legend
  let byGrad = true;
  function fillOf(g) {
    if (g.dataset.cell !== undefined) {
      const c = D.cells[+g.dataset.cell];
      return byGrad ? c.color || NO_GRAD : KIND_FILL.cell;
    }
    const n = D.nodes[+g.dataset.nid];
    if (!n || n.kind === "const") return "#ffffff";
    return byGrad ? n.color || NO_GRAD : KIND_FILL[n.kind];
  }
  function paint() {
    g0.querySelectorAll("g.node").forEach((g) => {
      if (g.dataset.nid === undefined && g.dataset.cell === undefined) return;
      const fill = fillOf(g), shape = g.querySelector("polygon, path");
      if (shape) shape.setAttribute("fill", fill);
      g.querySelectorAll("text").forEach((t) => t.setAttribute("fill", dark(fill) ? "#ffffff" : "#000000"));
    });
  }
  function legend() {
    const box = document.getElementById("legend");
    let h = "<b>Colour: log<sub>10</sub> ||dL/dx||</b><div class='swatches'>";
    for (const [c, v] of D.legend) h += `<span style="background:${c};color:${dark(c) ? "#fff" : "#000"}">${v.toFixed(1)}</span>`;
    box.innerHTML = h + "</div><span class='hint'>blue: small, red: large; grey: no gradient. A cell takes the norm of what it hands on.</span>";
  }
  document.getElementById("color-grad").addEventListener("change", (e) => { byGrad = e.target.checked; paint(); });

  // ------------------------------------------------------------------ zoom and pan
  let view = null;
  function setView(v) { view = v; svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`); }
  function fitBox(b, pad) {
    const p = pad === undefined ? 12 : pad;
    setView({ x: b.x - p, y: b.y - p, w: b.width + 2 * p, h: b.height + 2 * p });
  }
  E.fit = () => fitBox(g0.getBBox());
  E.setView = setView; // {x, y, w, h} in dot's coordinates (points; y is negative downwards)
  E.view = () => ({ ...view });
  function svgPoint(ev) {
    const r = svg.getBoundingClientRect(), s = Math.max(view.w / r.width, view.h / r.height);
    const ox = view.x + view.w / 2 - (r.width * s) / 2, oy = view.y + view.h / 2 - (r.height * s) / 2;
    return { x: ox + (ev.clientX - r.left) * s, y: oy + (ev.clientY - r.top) * s, s };
  }
  host.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const p = svgPoint(ev), f = Math.exp(ev.deltaY * 0.0015);
    setView({ x: p.x - (p.x - view.x) * f, y: p.y - (p.y - view.y) * f, w: view.w * f, h: view.h * f });
  }, { passive: false });
  let drag = null;
  host.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, y: ev.clientY, v: view, moved: false }; });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; host.classList.add("dragging"); }
    if (!drag.moved) return;
    const r = svg.getBoundingClientRect(), s = Math.max(drag.v.w / r.width, drag.v.h / r.height);
    setView({ x: drag.v.x - dx * s, y: drag.v.y - dy * s, w: drag.v.w, h: drag.v.h });
  });
  window.addEventListener("mouseup", () => { setTimeout(() => { drag = null; }, 0); host.classList.remove("dragging"); });
  document.getElementById("fit").addEventListener("click", E.fit);

  // ------------------------------------------------------------------ clicks
  host.addEventListener("click", (ev) => {
    if (drag && drag.moved) return;
    const g = ev.target.closest("g.node");
    if (!g) return;
    if (g.dataset.goto !== undefined) return select(+g.dataset.goto, true);
    if (g.dataset.cell !== undefined) {
      const j = +g.dataset.cell;
      expand(j);
      if (D.cells[j].kind === "layer") fitCard(j);
      return showCell(j);
    }
    if (g.dataset.nid !== undefined) select(+g.dataset.nid, false);
  });
  info.addEventListener("click", (ev) => {
    const a = ev.target.closest("a[data-goto]");
    if (a) select(+a.dataset.goto, true);
    const c = ev.target.closest("a[data-cell]");
    if (c) { const j = +c.dataset.cell; expand(j); showCell(j); reveal(cellBox[j]); }
  });
  function elementsOf(i) { return g0.querySelectorAll(`g.node[data-nid="${i}"]`); }
  function reveal(box) {
    if (!box) return;
    const cx = wx((box.x1 + box.x2) / 2), cy = wy((box.y1 + box.y2) / 2, box.x1);
    setView({ x: cx - view.w / 2, y: cy - view.h / 2, w: view.w, h: view.h });
  }
  function select(i, show) {
    const n = D.nodes[i];
    if (!n) return;
    if (show && n.cell !== null) expand(n.cell);
    g0.querySelectorAll("g.node.sel").forEach((g) => g.classList.remove("sel"));
    const els = elementsOf(i);
    els.forEach((g) => g.classList.add("sel"));
    E.selected = i;
    showNode(i);
    if (show && els.length) {
      const b = els[0].getBBox(), m = els[0].getCTM(), gm = g0.getCTM();
      const pt = svg.createSVGPoint();
      pt.x = b.x + b.width / 2; pt.y = b.y + b.height / 2;
      const q = pt.matrixTransform(gm.inverse().multiply(m));
      setView({ x: q.x - view.w / 2, y: q.y - view.h / 2, w: view.w, h: view.h });
    }
  }
  E.select = select;

  // ------------------------------------------------------------------ the panel
  function hist(s, cls) {
    if (!s || !s.hist) return "";
    const w = 300, h = 46, n = s.hist.length, mx = Math.max(...s.hist), bw = w / n;
    let r = `<svg class="hist ${cls}" width="${w}" height="${h + 12}">`;
    s.hist.forEach((c, k) => {
      const bh = mx ? (c / mx) * h : 0;
      r += `<rect x="${k * bw + 0.5}" y="${h - bh}" width="${bw - 1}" height="${bh}"><title>${c}</title></rect>`;
    });
    return r + `<text x="0" y="${h + 11}">${fmt(s.min)}</text><text x="${w}" y="${h + 11}" text-anchor="end">${fmt(s.max)}</text></svg>`;
  }
  function stats(s) {
    if (!s) return "";
    if (s.empty) return "empty";
    let r = `min ${fmt(s.min)} · mean ${fmt(s.mean)} · max ${fmt(s.max)} · std ${fmt(s.std)}`;
    if (s.nonfinite) r += ` · <b>${s.nonfinite} NaN/Inf</b>`;
    return r;
  }
  const link = (i) => {
    const n = D.nodes[i];
    return `<a data-goto="${i}">${esc(n.label)}</a> <span class="hint">${esc(n.scope)} ${shapeText(n)}</span>`;
  };
  function showNode(i) {
    const n = D.nodes[i];
    let h = `<h3>${esc(n.label)}</h3><table>`;
    h += `<tr><td>kind</td><td>${n.kind === "op" ? "op · grad_fn " + esc(n.label) + "Backward" : n.kind}${n.root ? " (the root)" : ""}</td></tr>`;
    h += `<tr><td>scope</td><td>${esc(n.scope) || "(top)"}</td></tr>`;
    const unit = n.cell !== null && D.cells[n.cell].kind === "layer" ? D.cells[n.cell] : null;
    if (unit) h += `<tr><td>layer</td><td><a data-cell="${unit.id}">${esc(unit.title)}</a></td></tr>`;
    else h += `<tr><td>time step</td><td>${n.step === null ? "–" : "t=" + n.step}${n.state ? " · carries " + n.state : ""}</td></tr>`;
    h += `<tr><td>shape, dtype</td><td>${shapeText(n)} ${esc(n.dtype)}</td></tr></table>`;
    h += "<p><b>value</b> ";
    h += n.value ? stats(n.value) + hist(n.value, "value") : "<span class='hint'>not kept: run the forward inside viz.keep_values()</span>";
    h += "</p><p><b>gradient</b> ";
    if (n.grad) {
      h += `||dL/dx|| = <span class="gnorm" data-value="${n.grad.norm}">${fmt(n.grad.norm)}</span><br>${stats(n.grad)}${hist(n.grad, "grad")}`;
    } else h += "<span class='hint'>none (no gradient reached it)</span>";
    h += "</p>" + accumText(i);
    h += `<p><b>derivative rule</b><pre>${esc(D.rules[n.kind === "op" ? n.label : n.kind] || "")}</pre></p>`;
    h += `<p><b>parents</b> (inputs)<ul>${n.parents.map((p) => `<li>${link(p)}</li>`).join("") || "<li class='hint'>none: a leaf</li>"}</ul></p>`;
    h += `<p><b>children</b> (users)<ul>${n.children.map((p) => `<li>${link(p)}</li>`).join("") || "<li class='hint'>none</li>"}</ul></p>`;
    info.innerHTML = h;
  }
  const arrivalsAt = {};
  for (const a of D.walks.arrivals) (arrivalsAt[a[0]] = arrivalsAt[a[0]] || []).push(a);
  function accumText(i) {
    const all = D.walks.arrivals.filter((a) => a[1] === i);
    if (!all.length) return "";
    const now = E.accum[i];
    let h = `<p><b>gradient arriving</b> from ${all.length} users, summed as they arrive`;
    if (now) h += ` · now <span class="accum">${now.count}</span>/${all.length}, ||sum|| = ${fmt(now.total)}`;
    h += "<br>";
    const mx = Math.max(...all.map((a) => a[3] || 0)), w = 300, hh = 40;
    h += `<svg class="hist grad" width="${w}" height="${hh}">`;
    all.forEach((a, k) => {
      const bh = mx ? ((a[3] || 0) / mx) * hh : 0, bw = w / all.length;
      const on = !now || k < now.count ? 1 : 0.25;
      h += `<rect x="${k * bw}" y="${hh - bh}" width="${Math.max(bw - 1, 0.5)}" height="${bh}" opacity="${on}"><title>after ${k + 1}: ${fmt(a[3])}</title></rect>`;
    });
    return h + "</svg></p>";
  }
  function showCell(j) {
    const c = D.cells[j];
    const where = c.kind === "layer" ? `layer ${c.index}` : `time step ${c.step}`;
    let h = `<h3>${esc(c.title)}</h3><p>${esc(c.layer)}, ${where}: ${c.nodes.length} ops.
      ||gradient handed on|| = ${fmt(c.norm)}</p><ul>`;
    if (c.parts.length) { // a layer: its attention, heads and feed-forward, as drawn inside
      h += c.parts.map((p) => `<li class="part">${esc(p[0])}: ${p[1]} ops</li>`).join("") + "</ul><ul>";
    }
    for (const i of c.nodes) h += `<li>${link(i)}${D.nodes[i].grad ? " · |g| " + fmt(D.nodes[i].grad.norm) : ""}</li>`;
    info.innerHTML = h + "</ul>";
    g0.querySelectorAll("g.node.sel").forEach((g) => g.classList.remove("sel"));
  }
  E.showCell = showCell;

  // ------------------------------------------------------------------ step window
  const steps = D.steps, T = steps.length;
  const startIn = document.getElementById("window-start"), sizeIn = document.getElementById("window-size");
  let win = { a: 0, w: Math.max(1, Math.min(D.window, T || 1)) };
  sizeIn.value = win.w;
  sizeIn.max = Math.max(T, 1);
  if (!T) startIn.parentElement.style.display = "none"; // nothing recurrent: no steps to slide
  function markWindow() {
    const lo = steps[win.a], hi = steps[Math.min(win.a + win.w, T) - 1];
    g0.querySelectorAll("g.node[data-cell]").forEach((g) => {
      const s = D.cells[+g.dataset.cell].step; // null for a Transformer layer: never outside
      g.classList.toggle("outside", T > 0 && s !== null && (s < lo || s > hi));
    });
    document.getElementById("window-label").textContent = T ? `t=${lo}..${hi} of ${T}` : "(no time steps)";
    drawFlow();
  }
  function fitWindow() {
    if (!T || win.w >= T) return E.fit();
    const lo = steps[win.a], hi = steps[Math.min(win.a + win.w, T) - 1];
    let x1 = Infinity, x2 = -Infinity, y1 = Infinity, y2 = -Infinity;
    D.cells.forEach((c, j) => {
      if (c.step === null || c.step < lo || c.step > hi) return;
      const b = cellBox[j], t = templates[c.template], open = E.expanded.has(j);
      const bx = wx(b.x1), by = open ? wy((b.y1 + b.y2) / 2, b.x1) - t.h / 2 : wy(b.y1, b.x1);
      x1 = Math.min(x1, bx); x2 = Math.max(x2, bx + (open ? t.w : b.x2 - b.x1));
      y1 = Math.min(y1, by); y2 = Math.max(y2, by + (open ? t.h : b.y2 - b.y1));
    });
    const full = g0.getBBox();
    y1 = Math.min(y1, full.y); y2 = Math.max(y2, full.y + full.height);
    fitBox({ x: x1 - 40, y: y1, width: x2 - x1 + 80, height: y2 - y1 });
  }
  function setWindow(a, w) {
    if (w !== undefined) win.w = Math.max(1, Math.min(w, Math.max(T, 1)));
    win.a = Math.max(0, Math.min(a, Math.max(T - win.w, 0)));
    startIn.max = Math.max(T - win.w, 0);
    startIn.value = win.a;
    sizeIn.value = win.w;
    markWindow();
    fitWindow();
  }
  E.setWindow = setWindow;
  E.window = () => ({ start: steps[win.a], size: win.w });
  startIn.addEventListener("input", () => setWindow(+startIn.value));
  sizeIn.addEventListener("change", () => setWindow(win.a, +sizeIn.value || 1));
  document.getElementById("expand-window").addEventListener("click", () => {
    const lo = steps[win.a], hi = steps[Math.min(win.a + win.w, T) - 1];
    // without time steps (a Transformer), every layer
    D.cells.forEach((c, j) => { if (!T || (c.step !== null && c.step >= lo && c.step <= hi)) E.expanded.add(j); });
    relayout();
    fitWindow();
  });
  document.getElementById("collapse-all").addEventListener("click", () => { E.expanded.clear(); relayout(); fitWindow(); });

  // ------------------------------------------------------------------ gradient flow plot
  const LAYER_COLORS = ["#d7301f", "#2b6cb0", "#2f8f46", "#8e44ad", "#d98c00"];
  function drawFlow() {
    const box = document.getElementById("flow-plot");
    const layers = Object.keys(D.flow);
    const pts = [].concat(...layers.map((l) => D.flow[l])).filter((p) => p[1] > 0);
    if (!pts.length) { box.innerHTML = "<span class='hint'>no recurrent steps or layers with gradients</span>"; return; }
    const ax = D.flow_axis === "layer" ? "layer " : "t="; // over t, or per Transformer layer
    const W = 320, H = 150, L = 40, B = 20, R = 8, Tp = 8;
    const ys = pts.map((p) => Math.log10(p[1])), x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
    let lo = Math.min(...ys), hi = Math.max(...ys);
    if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    const X = (s) => L + ((s - x0) / Math.max(x1 - x0, 1)) * (W - L - R), Y = (v) => Tp + (1 - (v - lo) / (hi - lo)) * (H - Tp - B);
    let h = `<svg width="${W}" height="${H}">`;
    if (T) {
      const a = steps[win.a], b = steps[Math.min(win.a + win.w, T) - 1];
      h += `<rect class="window" x="${X(a) - 3}" y="${Tp}" width="${X(b) - X(a) + 6}" height="${H - Tp - B}" fill="#dfe7f3"/>`;
    }
    h += `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="${Tp}" x2="${L}" y2="${H - B}" stroke="#999"/>`;
    for (const v of [lo, (lo + hi) / 2, hi]) h += `<text x="${L - 3}" y="${Y(v) + 3}" text-anchor="end">1e${v.toFixed(1)}</text>`;
    h += `<text x="${L}" y="${H - 6}">${ax}${x0}</text><text x="${W - R}" y="${H - 6}" text-anchor="end">${ax}${x1}</text>`;
    layers.forEach((l, k) => {
      const col = LAYER_COLORS[k % LAYER_COLORS.length], ps = D.flow[l].filter((p) => p[1] > 0);
      h += `<polyline fill="none" stroke="${col}" stroke-width="1.4" points="${ps.map((p) => X(p[0]) + "," + Y(Math.log10(p[1]))).join(" ")}"/>`;
      const r = ps.length > 60 ? 2 : 3.5;
      for (const p of ps) h += `<circle data-cell="${p[2]}" data-step="${p[0]}" cx="${X(p[0])}" cy="${Y(Math.log10(p[1]))}" r="${r}" fill="${col}"><title>${esc(l)} ${ax}${p[0]}: ${fmt(p[1])}</title></circle>`;
    });
    h += "</svg>";
    if (layers.length > 1) {
      h += "<div class='hint'>" + layers.map((l, k) =>
        `<span style="color:${LAYER_COLORS[k % LAYER_COLORS.length]}">\u25CF ${esc(l)}</span>`).join(" &nbsp; ") + "</div>";
    }
    box.innerHTML = h;
  }
  document.getElementById("flow-plot").addEventListener("click", (ev) => {
    const c = ev.target.closest("circle[data-cell]");
    if (c) gotoStep(+c.dataset.step, +c.dataset.cell);
  });
  function gotoStep(step, j) {
    if (D.cells[j].kind === "layer") { expand(j); showCell(j); fitCard(j); return; }
    const k = steps.indexOf(step);
    setWindow(k - Math.floor(win.w / 2));
    expand(j);
    showCell(j);
    fitWindow();
  }
  E.gotoStep = gotoStep;

  // ------------------------------------------------------------------ playing the walks
  const speedIn = document.getElementById("speed"), progress = document.getElementById("progress");
  const rate = () => Math.pow(10, 0.3 + (+speedIn.value / 100) * 3.2); // nodes per second, 2..3000
  let timer = null, play = null;
  function lightCell(j, on) {
    const g = g0.querySelector(`g.node[data-cell="${j}"]`);
    if (g) g.classList.toggle(on, true);
  }
  function mark(i, current) {
    const n = D.nodes[i];
    elementsOf(i).forEach((g) => { g.classList.add("lit"); if (current) g.classList.add("current"); });
    if (n.cell !== null) { lightCell(n.cell, "lit"); if (current) lightCell(n.cell, "current"); }
  }
  function badge(i) {
    const a = E.accum[i];
    elementsOf(i).forEach((g) => {
      let b = g.querySelector("text.badge");
      if (!b) {
        const bb = g.getBBox();
        b = el("text", { class: "badge", x: bb.x + bb.width / 2, y: bb.y - 3, "text-anchor": "middle" });
        g.appendChild(b);
      }
      b.textContent = `\u03A3 ${a.count}: ${fmt(a.total)}`;
    });
  }
  const shared = (i) => D.nodes[i].cell === null || D.nodes[i].kind === "param"; // gets a Σ badge
  function replayMarks() { // after a relayout, put the lights back on the redrawn nodes
    if (!play && !E.visited.length) return;
    host.classList.toggle("playing", E.state === "playing" || E.state === "done");
    E.visited.forEach((i, k) => mark(i, k === E.visited.length - 1));
    for (const i in E.accum) if (shared(+i)) badge(+i);
  }
  function clearMarks() {
    g0.querySelectorAll("g.node.lit, g.node.current").forEach((g) => g.classList.remove("lit", "current"));
    g0.querySelectorAll("text.badge").forEach((b) => b.remove());
  }
  function step(kind) {
    const order = kind === "backward" ? E.backwardOrder : E.forwardOrder;
    const k = play.k;
    g0.querySelectorAll("g.node.current").forEach((g) => g.classList.remove("current"));
    const i = order[k];
    E.visited.push(i);
    mark(i, true);
    if (kind === "backward") {
      for (const a of arrivalsAt[k] || []) {
        E.accum[a[1]] = { total: a[3], count: a[4] };
        if (shared(a[1])) badge(a[1]); // weights, projections: shared by the steps
      }
    }
    play.k += 1;
    progress.textContent = `${kind} ${play.k}/${order.length}`;
    if (E.selected === i || (E.selected !== null && E.accum[E.selected])) showNode(E.selected);
  }
  function start(kind) {
    stop();
    if (kind === "backward" && !E.backwardOrder.length) { progress.textContent = "no backward recorded"; return; }
    clearMarks();
    E.visited = []; E.accum = {}; E.state = "playing";
    host.classList.add("playing");
    play = { kind, k: 0, carry: 0, last: performance.now() };
    const order = kind === "backward" ? E.backwardOrder : E.forwardOrder;
    timer = setInterval(() => {
      const now = performance.now();
      play.carry += ((now - play.last) / 1000) * rate();
      play.last = now;
      let n = Math.floor(play.carry);
      play.carry -= n;
      while (n-- > 0 && play.k < order.length) step(kind);
      if (play.k >= order.length) { clearInterval(timer); timer = null; E.state = "done"; progress.textContent += " done"; }
    }, 30);
  }
  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    if (E.state === "playing") E.state = "stopped";
  }
  E.playBackward = () => start("backward");
  E.playForward = () => start("forward");
  E.stop = stop;
  document.getElementById("play-backward").addEventListener("click", E.playBackward);
  document.getElementById("play-forward").addEventListener("click", E.playForward);
  document.getElementById("stop").addEventListener("click", () => { stop(); host.classList.remove("playing"); clearMarks(); progress.textContent = ""; });

  // ------------------------------------------------------------------ start
  if (D.flow_axis === "layer") { // a Transformer: the plot is per layer, not over t
    document.querySelector("#flow .hint").textContent = "||dL/d(layer output)|| per layer (click a point)";
  }
  legend();
  paint();
  setView({ x: overviewBox.x, y: overviewBox.y, w: overviewBox.width, h: overviewBox.height });
  setWindow(0);
  if (!D.recorded) progress.textContent = "no backward recorded";
  E.ready = true;
}
