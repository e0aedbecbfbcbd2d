/// The web view's one page (`/view`): HTML, CSS, JavaScript and SVG, all here — it fetches
/// nothing from anywhere but `/view/events` on the same origin (docs/WEBVIEW.md).
///
/// What the events carry (`WebViewSampler`): `update` events (the default type) with
/// `books` (per symbol: `bids`/`asks` as `[price, shares, orders]` best first, `last`,
/// `halted`, `phase`), `points` (`[symbol, time, last trade price]`), `tape` and `tapeSource`
/// (`"feed"`: one row per execution, `[sequence, time ns since midnight, symbol, price, shares,
/// aggressor, match, kind]`, or a note `{"sequence", "note"}` (`WebViewTape`); `"sampled"`, the
/// feed off: `[time, symbol, price, fills, shares]`), `feed` (the tape's feed handler) and
/// `latency` (`[upper bound µs, count]`); one `history` event first, with the points and tape
/// rows kept so far.
enum WebViewPage {
    static let html = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>RTES web view</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 13px/1.35 system-ui, sans-serif; margin: 0; background: #0f1419; color: #d8dee4; }
  header { display: flex; gap: 16px; align-items: center; padding: 8px 14px; background: #161d24; border-bottom: 1px solid #26313b; }
  header h1 { font-size: 16px; margin: 0; }
  .badge { padding: 2px 8px; border-radius: 9px; background: #26313b; }
  .badge.live { background: #1f5f3a; } .badge.down { background: #7a2727; }
  .badge.halted { background: #8a5a00; }
  #symbols button { background: #1b242c; color: inherit; border: 1px solid #2c3a46; border-radius: 4px; padding: 3px 9px; margin-right: 4px; cursor: pointer; }
  #symbols button.on { background: #2f4d66; border-color: #4f7ea6; }
  main { display: grid; grid-template-columns: 320px 1fr 440px; gap: 12px; padding: 12px 14px; }
  section { background: #161d24; border: 1px solid #26313b; border-radius: 6px; padding: 8px 10px; }
  h2 { font-size: 13px; margin: 0 0 6px; color: #9fb3c8; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  td, th { padding: 1px 6px; text-align: right; }
  th { color: #7d8d9c; font-weight: 500; }
  #ladder td.price { text-align: center; font-weight: 600; }
  tr.ask td.price { color: #ff7b72; } tr.bid td.price { color: #56d364; }
  tr.spread td { text-align: center; color: #7d8d9c; border-top: 1px solid #26313b; border-bottom: 1px solid #26313b; }
  #tape td:nth-child(2) { text-align: left; }
  #tape tr:first-child { background: #1f2d3a; }
  #tape tr.note td { text-align: left; color: #e3b341; white-space: normal; }
  #tape td.B { color: #56d364; } #tape td.S { color: #ff7b72; }
  #tape-box { max-height: 420px; overflow-y: auto; }
  #tape td, #tape th { padding: 1px 4px; font-size: 12px; }
  svg text { fill: #7d8d9c; font-size: 10px; }
  .wide { grid-column: 2 / 4; }
  #chart polyline { fill: none; stroke: #58a6ff; stroke-width: 1.5; }
  #latency rect { fill: #d2a8ff; }
  .muted { color: #7d8d9c; }
</style>
</head>
<body data-updates="0">
<header>
  <h1>RTES</h1>
  <span id="status" class="badge">connecting</span>
  <span>exchange <span id="state" class="badge">?</span></span>
  <span id="symbols"></span>
  <span>phase <span id="phase" class="badge">?</span></span>
  <span>last <b id="last">–</b></span>
  <span class="muted">trades <span id="trades">0</span> · shares <span id="shares">0</span> · <span id="clock"></span></span>
</header>
<main>
  <section><h2>Book <span id="ladder-symbol"></span></h2>
    <table id="ladder"><thead><tr><th>orders</th><th>bid</th><th>price</th><th>ask</th><th>orders</th></tr></thead><tbody></tbody></table>
  </section>
  <section><h2>Last trade price</h2><svg id="chart" width="100%" height="280" viewBox="0 0 600 280" preserveAspectRatio="none"></svg></section>
  <section><h2>Trades</h2>
    <div id="tape-box"><table id="tape"><thead><tr></tr></thead><tbody></tbody></table></div>
    <div id="tape-source" class="muted"></div>
  </section>
  <section class="wide"><h2>Order latency (engine, since start; count per bucket, upper bound)</h2><svg id="latency" width="100%" height="160" viewBox="0 0 900 160" preserveAspectRatio="none"></svg></section>
</main>
<script>
"use strict";
const maxPoints = 600, maxTape = 200;
let selected = null, latest = null, points = {}, tape = [];
const $ = (id) => document.getElementById(id);
const svgNS = "http://www.w3.org/2000/svg";
function el(tag, attrs, text) {
  const e = document.createElementNS(svgNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function fmt(p) { return p === null || p === undefined ? "–" : Number(p).toFixed(2); }
function hms(t) { return new Date(t * 1000).toISOString().substring(11, 23); }
function hmsNs(ns) {  // ITCH time: nanoseconds since midnight
  const us = Math.floor(ns / 1000), s = Math.floor(us / 1e6), pad = (v, n) => String(v).padStart(n, "0");
  return `${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}.${pad(us % 1e6, 6)}`;
}
function addPoints(list) {
  for (const [sym, t, p] of list) {
    const a = points[sym] || (points[sym] = []);
    const n = a.length;
    if (n >= 2 && a[n - 1][1] === p && a[n - 2][1] === p) { a[n - 1] = [t, p]; continue; }  // a flat stretch: extend it
    a.push([t, p]);
    if (a.length > maxPoints) a.shift();
  }
}
function addTape(list) { for (const row of list) { tape.unshift(row); } if (tape.length > maxTape) tape.length = maxTape; }
function symbols(books) {
  const box = $("symbols");
  if (box.childElementCount !== books.length) {
    box.textContent = "";
    for (const b of books) {
      const btn = document.createElement("button");
      btn.textContent = b.symbol; btn.dataset.symbol = b.symbol;
      btn.onclick = () => { selected = b.symbol; render(); };
      box.appendChild(btn);
    }
  }
  if (selected === null && books.length) {
    const q = new URLSearchParams(location.search).get("symbol");
    selected = books.some(b => b.symbol === q) ? q : books[0].symbol;
  }
  for (const btn of box.children) btn.className = btn.dataset.symbol === selected ? "on" : "";
}
function ladder(book) {
  const body = $("ladder").tBodies[0];
  body.textContent = "";
  $("ladder-symbol").textContent = book.symbol;
  const all = book.bids.concat(book.asks).map(l => l[1]);
  const most = Math.max(1, ...all);
  const row = (cls, level, isBid) => {
    const tr = body.insertRow();
    tr.className = cls; tr.dataset.price = level[0]; tr.dataset.shares = level[1];
    const cells = isBid ? [level[2], level[1], fmt(level[0]), "", ""] : ["", "", fmt(level[0]), level[1], level[2]];
    cells.forEach((v, i) => { const td = tr.insertCell(); td.textContent = v; if (i === 2) td.className = "price"; });
    const pct = Math.round(100 * level[1] / most);
    const bar = isBid ? `linear-gradient(to left, rgba(86,211,100,.25) ${pct}%, transparent ${pct}%)`
                      : `linear-gradient(to right, rgba(255,123,114,.25) ${pct}%, transparent ${pct}%)`;
    tr.cells[isBid ? 1 : 3].style.background = bar;
  };
  for (const level of book.asks.slice().reverse()) row("ask", level, false);
  const tr = body.insertRow(); tr.className = "spread";
  const td = tr.insertCell(); td.colSpan = 5;
  td.textContent = book.bids.length && book.asks.length ? `spread ${(book.asks[0][0] - book.bids[0][0]).toFixed(2)}` : "—";
  for (const level of book.bids) row("bid", level, true);
}
function chart(sym) {
  const svg = $("chart"); svg.textContent = "";
  const a = points[sym] || [];
  if (a.length < 1) { svg.appendChild(el("text", {x: 10, y: 20}, "no trade yet")); return; }
  let lo = Math.min(...a.map(p => p[1])), hi = Math.max(...a.map(p => p[1]));
  if (hi - lo < 0.02) { lo -= 0.05; hi += 0.05; }
  const t0 = a[0][0], t1 = Math.max(a[a.length - 1][0], t0 + 1);
  const x = t => 50 + 540 * (t - t0) / (t1 - t0), y = p => 265 - 250 * (p - lo) / (hi - lo);
  for (let i = 0; i <= 4; i++) {
    const p = lo + (hi - lo) * i / 4;
    svg.appendChild(el("line", {x1: 50, x2: 590, y1: y(p), y2: y(p), stroke: "#26313b"}));
    svg.appendChild(el("text", {x: 2, y: y(p) + 3}, p.toFixed(2)));
  }
  const pts = a.map(p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
  if (a.length === 1) pts.push(`590,${y(a[0][1]).toFixed(1)}`);
  svg.appendChild(el("polyline", {points: pts.join(" ")}));
  svg.appendChild(el("text", {x: 50, y: 278}, hms(t0)));
  svg.appendChild(el("text", {x: 520, y: 278}, hms(t1)));
}
function tapeTable() {
  const fromFeed = latest && latest.tapeSource === "feed";
  const head = $("tape").tHead.rows[0];
  const columns = fromFeed ? ["time", "symbol", "price", "shares", "side", "match"] : ["time", "symbol", "price", "fills", "shares"];
  if (head.dataset.columns !== columns.join()) {
    head.textContent = ""; head.dataset.columns = columns.join();
    for (const c of columns) { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); }
  }
  const body = $("tape").tBodies[0]; body.textContent = "";
  for (const row of tape) {
    const tr = body.insertRow();
    if (!Array.isArray(row)) {  // a note: a gap not recovered, a restart, where the tape starts
      tr.className = "note"; const td = tr.insertCell(); td.colSpan = columns.length; td.textContent = row.note;
      continue;
    }
    if (row.length === 8) {  // an execution from the feed
      const [seq, ns, sym, p, shares, aggressor, match, kind] = row;
      tr.dataset.symbol = sym; tr.dataset.match = match; tr.dataset.sequence = seq; tr.dataset.kind = kind;
      tr.title = `ITCH ${kind}, message ${seq}` + (p === null ? " (the order rested before this view joined the feed: price unknown)" : "");
      [hmsNs(ns), sym, p === null ? "?" : fmt(p), shares, aggressor === null ? (kind === "Q" ? "cross" : "?") : (aggressor === "B" ? "buy" : "sell"), match]
        .forEach((v, i) => { const td = tr.insertCell(); td.textContent = v; if (i === 4 && aggressor) td.className = aggressor; });
    } else {  // sampled (the feed is off)
      const [t, sym, p, fills, shares] = row;
      tr.dataset.symbol = sym;
      [hms(t), sym, fmt(p), fills === null ? "" : fills, shares === null ? "" : shares].forEach(v => { tr.insertCell().textContent = v; });
    }
  }
  const f = latest && latest.feed;
  $("tape-source").textContent = !latest ? "" : !fromFeed
    ? "The web view has no feed to follow here (market_data off or not looped back to this host, or a standby): the tape is sampled — one row per update in which a symbol's last trade moved; fills and shares are the market's since the previous update; * = fills at unchanged prices."
    : !f || !f.following ? `Every execution from the ITCH feed — not following it: ${f && f.error ? f.error : "joining"}`
    : `Every execution (ITCH E, printable C, P, Q) from the exchange's TotalView-ITCH feed, in order, since message ${f.start ?? "…"}`
      + ` · next ${f.next}${f.recovering ? " · recovering a gap" : ""} · gaps ${f.gaps} (re-requests ${f.requests}), not recovered ${f.lost}`
      + (f.restarts ? ` · restarts ${f.restarts}` : "") + ` · side: the aggressor's`;
}
function latency(rows) {
  const svg = $("latency"); svg.textContent = "";
  const most = Math.max(1, ...rows.map(r => r[1]));
  const w = 880 / rows.length;
  rows.forEach(([bound, count], i) => {
    const h = count ? Math.max(2, 120 * Math.log10(1 + count) / Math.log10(1 + most)) : 0;
    const r = el("rect", {x: 10 + i * w + 2, y: 130 - h, width: w - 4, height: h});
    r.appendChild(el("title", {}, `≤ ${bound} µs: ${count}`));
    svg.appendChild(r);
    svg.appendChild(el("text", {x: 10 + i * w + 2, y: 145}, bound === "+Inf" ? "+Inf" : `${bound}µs`));
    if (count) svg.appendChild(el("text", {x: 10 + i * w + 2, y: 126 - h}, String(count)));
  });
  svg.appendChild(el("text", {x: 10, y: 158}, "bar height: log scale"));
}
function render() {
  if (!latest) return;
  symbols(latest.books);
  const book = latest.books.find(b => b.symbol === selected) || latest.books[0];
  if (!book) return;
  if (book.error) { $("phase").textContent = book.error; return; }
  $("phase").textContent = book.halted ? `${book.phase} · HALTED` : book.phase;
  $("phase").className = "badge" + (book.halted || book.phase === "halted" ? " halted" : "");
  $("last").textContent = fmt(book.last);
  $("state").textContent = latest.state;
  $("trades").textContent = latest.trades; $("shares").textContent = latest.shares;
  $("clock").textContent = hms(latest.time) + " UTC";
  ladder(book); chart(book.symbol); tapeTable(); latency(latest.latency);
}
const source = new EventSource("/view/events");
source.onopen = () => { $("status").textContent = "live"; $("status").className = "badge live"; };
source.onerror = () => { $("status").textContent = "disconnected (retrying)"; $("status").className = "badge down"; };
source.addEventListener("history", (e) => {
  const h = JSON.parse(e.data);
  points = {}; tape = [];
  addPoints(h.points); addTape(h.tape);
  if (h.last) latest = h.last;
  render();
});
source.onmessage = (e) => {
  latest = JSON.parse(e.data);
  addPoints(latest.points); addTape(latest.tape);
  document.body.dataset.updates = Number(document.body.dataset.updates) + 1;
  render();
};
</script>
</body>
</html>
"""#
}
