/**
 * The dashboard page's inline script (plain ES5-style JavaScript, no dependencies): draws one SVG line chart
 * per metric group from the points embedded in the page and, in live mode, from Server-Sent Events.
 * Metrics named "loss", "train_loss" and "val_loss" share the "loss" chart; "accuracy"/"val_accuracy" the
 * "accuracy" chart, and so on. Every series path carries `data-points` (its number of points) for tests.
 * Metric names come from users, so every table keyed by them has no prototype ("constructor", "toString"
 * and "__proto__" are ordinary names) and values are read as own properties only.
 */
export const CLIENT_SCRIPT = String.raw`(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("cinder-data").textContent);
  var points = boot.points || [];
  var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var hasOwn = Object.prototype.hasOwnProperty;
  function dict() { return Object.create(null); }
  function own(o, k) { return hasOwn.call(o, k) ? o[k] : undefined; }
  var SKIP = dict(); SKIP.step = SKIP.time = SKIP.wall = SKIP.timestamp = 1;
  var logY = dict();
  var charts = document.getElementById("charts");
  var statusEl = document.getElementById("status");
  var summaryEl = document.getElementById("summary");
  var NS = "http://www.w3.org/2000/svg";
  var W = 560, H = 300, ML = 64, MR = 16, MT = 30, MB = 42;

  function setStatus(s) { statusEl.textContent = s; statusEl.setAttribute("data-state", s); }
  function group(key) {
    return key.replace(/^(train|training|val|valid|validation|test|eval)[_\/.\- ]/i, "")
      .replace(/[_\/.\- ](train|training|val|valid|validation|test|eval)$/i, "");
  }
  function metricKeys() {
    var seen = dict(), out = [];
    for (var i = 0; i < points.length; i++) {
      var ks = Object.keys(points[i]);
      for (var j = 0; j < ks.length; j++) {
        var k = ks[j], v = points[i][k];
        if (!SKIP[k] && !seen[k] && (typeof v === "number" || v === null)) { seen[k] = 1; out.push(k); }
      }
    }
    return out;
  }
  function fmt(v) {
    if (v === 0) return "0";
    var a = Math.abs(v);
    var s = a >= 1e5 || a < 1e-3 ? v.toExponential(1) : String(+v.toPrecision(4));
    return s.replace("-", "\u2212");
  }
  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    var raw = (hi - lo) / n, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    var step = (m >= 5 ? 10 : m >= 2 ? 5 : m >= 1.5 ? 2 : 1) * p;
    if (!(step > 0) || !isFinite(step)) return [lo, hi];
    var out = [], k0 = Math.ceil(lo / step);
    // at most 4n ticks: with huge, nearly equal values t += step would not move t at all
    for (var i = 0; i <= 4 * n; i++) {
      var t = (k0 + i) * step;
      if (t > hi + step * 1e-9) break;
      if (!out.length || t !== out[out.length - 1]) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return out;
  }
  // The value range [lo, hi] (log10 units on a log axis) widened for drawing. A constant series gets a
  // range around its value (value +- 10%; +-0.5 around 0 and +-half a decade on a log axis), so it is drawn
  // at its value with ticks near it; then 5% margins.
  function yDomain(lo, hi, log) {
    if (!(lo <= hi)) return [0, 1];
    if (hi - lo <= (log ? 1e-12 : 1e-9 * Math.max(Math.abs(lo), Math.abs(hi)))) {
      var c = (lo + hi) / 2;
      var r = log || c === 0 ? 0.5 : Math.max(Math.abs(c) * 0.1, 1e-300);
      lo = c - r; hi = c + r;
    }
    var pad = (hi - lo) * 0.05;
    return [lo - pad, hi + pad];
  }
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function chart(name, keys) {
    var log = !!logY[name];
    var xs = [], lo = Infinity, hi = -Infinity, x0 = Infinity, x1 = -Infinity;
    for (var i = 0; i < points.length; i++) {
      var p = points[i], x = typeof own(p, "step") === "number" ? p.step : i;
      xs.push(x);
      for (var j = 0; j < keys.length; j++) {
        var v = own(p, keys[j]);
        if (typeof v !== "number" || !isFinite(v) || (log && v <= 0)) continue;
        var u = log ? Math.log10(v) : v;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
    if (!(x0 <= x1)) { x0 = 0; x1 = 1; }
    if (x1 - x0 < 1e-12) { x0 -= 0.5; x1 += 0.5; }
    var dom = yDomain(lo, hi, log); lo = dom[0]; hi = dom[1];
    var sx = function (x) { return ML + (x - x0) / (x1 - x0) * (W - ML - MR); };
    var sy = function (u) { return H - MB - (u - lo) / (hi - lo) * (H - MT - MB); };
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, "class": "chart", "data-metric": name, role: "img" });
    svg.appendChild(el("rect", { x: ML, y: MT, width: W - ML - MR, height: H - MT - MB, fill: "#fff", stroke: "#000", "stroke-width": 0.8 }));
    var grid = "", ticks = el("g", { "font-size": 11 });
    var xt = niceTicks(x0, x1, 6);
    for (i = 0; i < xt.length; i++) {
      grid += "M" + sx(xt[i]) + " " + MT + "V" + (H - MB);
      ticks.appendChild(el("text", { x: sx(xt[i]), y: H - MB + 16, "text-anchor": "middle" }, fmt(xt[i])));
    }
    var yt = log ? niceTicks(Math.ceil(lo), Math.floor(hi), 5).filter(function (k) { return k === Math.round(k); }) : niceTicks(lo, hi, 5);
    for (i = 0; i < yt.length; i++) {
      grid += "M" + ML + " " + sy(yt[i]) + "H" + (W - MR);
      ticks.appendChild(el("text", { x: ML - 6, y: sy(yt[i]) + 4, "text-anchor": "end" }, log ? "1e" + yt[i] : fmt(yt[i])));
    }
    svg.appendChild(el("path", { d: grid, stroke: "#b0b0b0", "stroke-opacity": 0.4, "stroke-width": 0.8, fill: "none" }));
    svg.appendChild(ticks);
    svg.appendChild(el("text", { x: (ML + W - MR) / 2, y: 20, "text-anchor": "middle", "font-size": 14 }, name));
    svg.appendChild(el("text", { x: (ML + W - MR) / 2, y: H - 8, "text-anchor": "middle", "font-size": 12 }, "step"));
    for (j = 0; j < keys.length; j++) {
      var d = "", n = 0, pen = false, dots = [];
      for (i = 0; i < points.length; i++) {
        var val = own(points[i], keys[j]);
        if (val === undefined) continue; // not logged at this step: connect across
        if (typeof val !== "number" || !isFinite(val) || (log && val <= 0)) { pen = false; continue; } // NaN: a gap
        var px = sx(xs[i]).toFixed(1), py = sy(log ? Math.log10(val) : val).toFixed(1);
        d += (pen ? "L" : "M") + px + " " + py;
        dots.push([px, py]);
        pen = true; n++;
      }
      var color = COLORS[j % COLORS.length];
      svg.appendChild(el("path", { "class": "series", "data-series": keys[j], "data-points": n, d: d, fill: "none",
        stroke: color, "stroke-width": 1.8, "stroke-linejoin": "round", "stroke-linecap": "round" }));
      if (n <= 60) {
        for (var q = 0; q < dots.length; q++) svg.appendChild(el("circle", { cx: dots[q][0], cy: dots[q][1], r: 2.5, fill: color }));
      }
      if (keys.length > 1) {
        var ly = MT + 14 + j * 16;
        svg.appendChild(el("path", { d: "M" + (W - MR - 120) + " " + (ly - 4) + "h20", stroke: COLORS[j % COLORS.length], "stroke-width": 2 }));
        svg.appendChild(el("text", { x: W - MR - 94, y: ly, "font-size": 11 }, keys[j]));
      }
    }
    return svg;
  }
  function render() {
    var keys = metricKeys(), groups = dict(), order = [];
    for (var i = 0; i < keys.length; i++) {
      var g = group(keys[i]);
      if (!groups[g]) { groups[g] = []; order.push(g); }
      groups[g].push(keys[i]);
    }
    var frag = document.createDocumentFragment();
    for (i = 0; i < order.length; i++) {
      var box = document.createElement("figure");
      var cap = document.createElement("label");
      var cb = document.createElement("input");
      cb.type = "checkbox"; cb.checked = !!logY[order[i]]; cb.setAttribute("data-log", order[i]);
      cap.appendChild(cb); cap.appendChild(document.createTextNode(" log scale"));
      box.appendChild(chart(order[i], groups[order[i]]));
      box.appendChild(cap);
      frag.appendChild(box);
    }
    charts.replaceChildren(frag);
    var last = points[points.length - 1];
    summaryEl.textContent = last ? Object.keys(last).map(function (k) {
      return k + " " + (typeof last[k] === "number" ? fmt(last[k]) : String(last[k]));
    }).join("  \u00b7  ") : "waiting for data\u2026";
    document.body.setAttribute("data-points", points.length);
  }
  charts.addEventListener("change", function (e) {
    var k = e.target.getAttribute("data-log");
    if (k) { logY[k] = e.target.checked; render(); }
  });
  var timer = null;
  function schedule() { if (timer === null) timer = setTimeout(function () { timer = null; render(); }, 80); }
  if (boot.live && window.EventSource) {
    setStatus("connecting");
    var es = new EventSource("events");
    es.onopen = function () { setStatus("live"); };
    es.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m.type === "reset") points = m.points;
      else if (m.type === "points") points = points.concat(m.points);
      else if (m.type === "close") { es.close(); setStatus("finished"); }
      schedule();
    };
    es.onerror = function () {
      if (statusEl.getAttribute("data-state") === "finished") return;
      // closed for good: the server refused the stream (e.g. 503, too many open pages) or is gone
      setStatus(es.readyState === 2 ? "disconnected" : "reconnecting");
    };
  } else setStatus(boot.finished ? "finished" : "snapshot");
  render();
})();`;
