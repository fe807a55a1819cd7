// The page shell and its style sheet. The HTML carries no data and no inline script or style:
// /page/app.js fills it from the JSON endpoints (see client.ts).
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Service status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/page/app.css">
<script src="/page/app.js" defer></script>
</head>
<body>
<header class="top">
  <h1 id="service">Service status</h1>
  <p id="summary" aria-live="polite">Loading…</p>
</header>
<main>
  <section id="auth" class="card" hidden aria-labelledby="auth-h">
    <h2 id="auth-h">Access token</h2>
    <form id="auth-form">
      <label for="auth-token">Bearer token (kept in this tab only)</label>
      <input id="auth-token" type="password" autocomplete="off" required>
      <button type="submit">Use token</button>
    </form>
  </section>
  <section class="card" aria-labelledby="checks-h">
    <h2 id="checks-h">Checks</h2>
    <div id="checks" class="scroll"></div>
  </section>
  <section id="rates-card" class="card" hidden aria-labelledby="rates-h">
    <h2 id="rates-h">Rates and latency</h2>
    <div id="rates" class="scroll"></div>
  </section>
  <section id="traces-card" class="card" hidden aria-labelledby="traces-h">
    <h2 id="traces-h">Recent traces</h2>
    <form id="trace-filter" class="filters">
      <label>Name <input id="f-name" type="search" autocomplete="off"></label>
      <label>Status
        <select id="f-status"><option value="any">any</option><option value="error">error</option><option value="ok">ok</option></select>
      </label>
      <label>Min duration (ms) <input id="f-min" type="number" min="0" step="1" inputmode="numeric"></label>
      <button type="submit">Filter</button>
    </form>
    <div id="traces" class="scroll"></div>
  </section>
  <section id="waterfall-card" class="card" hidden aria-labelledby="waterfall-h">
    <h2 id="waterfall-h" tabindex="-1">Trace</h2>
    <p id="waterfall-meta"></p>
    <div id="waterfall" class="waterfall"></div>
    <div id="span-detail" class="detail" aria-live="polite"></div>
  </section>
  <section id="flame-card" class="card" hidden aria-labelledby="flame-h">
    <h2 id="flame-h">CPU flame graph</h2>
    <p id="flame-meta" class="muted"></p>
    <div class="flame-tools">
      <button type="button" id="flame-reset" disabled>Reset zoom</button>
      <button type="button" id="flame-latest" hidden>Show the latest profile</button>
      <span id="flame-help" class="muted">Click a frame to zoom in. Keyboard: Tab to the graph, arrows move, Enter zooms, Escape resets.</span>
    </div>
    <div id="flame" class="flame" role="group" aria-label="Flame graph: the root on top, callees below, width is time" aria-describedby="flame-help"></div>
    <p id="flame-detail" class="flame-detail mono" aria-live="polite"></p>
  </section>
  <div id="sections"></div>
</main>
<footer class="foot"><p>Data from <code>/status</code>, <code>/health</code>, <code>/status/series</code>, <code>/status/traces</code> and <code>/status/profile</code>; refreshed every 5 s.</p></footer>
</body>
</html>
`;

export const PAGE_CSS = `
:root { --fg: #1b1f24; --muted: #4a5360; --bg: #f6f7f9; --card: #fff; --line: #d8dde3;
  --ok: #146c2e; --warn: #7a4a00; --fail: #a4001d; --bar: #2f6fbd; --bar-err: #c0102f; --focus: #0b57d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
.top { padding: 12px 16px; background: #13233a; color: #fff; }
.top h1 { margin: 0; font-size: 1.3rem; }
.top p { margin: 4px 0 0; }
main { padding: 12px; display: grid; gap: 12px; grid-template-columns: 1fr; max-width: 1400px; margin: 0 auto; }
#sections { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; }
.card h2 { margin: 0 0 8px; font-size: 1.05rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
td { max-width: 48ch; }
th { color: var(--muted); font-weight: 600; }
.badge { display: inline-block; padding: 0 6px; border-radius: 4px; font-weight: 600; border: 1px solid currentColor; }
.pass, .ok { color: var(--ok); } .warn, .slow { color: var(--warn); } .fail, .error { color: var(--fail); }
tr.error td { background: #fdecee; } tr.slow td { background: #fff6e0; }
.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 8px; }
.filters label { display: flex; flex-direction: column; font-size: 0.85rem; color: var(--muted); }
input, select, button { font: inherit; padding: 4px 8px; border: 1px solid #8a94a3; border-radius: 4px; background: #fff; color: var(--fg); }
button { cursor: pointer; background: #e8eef7; }
button.link { border: none; background: none; padding: 0; color: var(--focus); text-decoration: underline; text-align: left; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.waterfall { display: flex; flex-direction: column; gap: 2px; }
.span-row { display: grid; grid-template-columns: minmax(160px, 38%) 1fr; gap: 8px; align-items: center; width: 100%;
  text-align: left; background: #fff; border: 1px solid transparent; padding: 2px 4px; }
.span-row:hover, .span-row[aria-pressed="true"] { border-color: var(--line); background: #f0f4fa; }
.span-label { display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.span-label .genai { color: var(--muted); font-size: 0.85em; margin-left: 6px; }
.span-track { position: relative; display: block; height: 14px; background: #eef1f5; border-radius: 3px; }
.span-bar { position: absolute; top: 0; bottom: 0; min-width: 2px; background: var(--bar); border-radius: 3px; }
.span-row.error .span-bar { background: var(--bar-err); }
.detail { margin-top: 10px; }
.spark { width: 160px; height: 28px; display: block; }
.spark polyline { fill: none; stroke: var(--bar); stroke-width: 1.5; }
.spark.lat polyline { stroke: var(--warn); }
.detail h3 { font-size: 1rem; margin: 8px 0 4px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85em; }
.muted { color: var(--muted); }
.foot { padding: 8px 16px; color: var(--muted); font-size: 0.85rem; }
#checks td > span > .muted { display: block; font-size: 0.85em; overflow-wrap: anywhere; }
.flame-tools { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; font-size: 0.85rem; }
.flame { position: relative; width: 100%; overflow: hidden; }
.frame { position: absolute; height: 19px; margin: 0; padding: 0 3px; border: 0; border-right: 1px solid #fff; border-radius: 2px;
  font: 12px/19px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #1b1f24; text-align: left;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; background: #fbd3a6; }
.frame.h1 { background: #f9c38f; } .frame.h2 { background: #fce0b0; } .frame.h3 { background: #f7b98a; }
.frame.h4 { background: #fbe7a1; } .frame.h5 { background: #f6cda0; } .frame.sys { background: #dde1e6; }
.frame.anc { background: #e6e9ed; color: var(--muted); }
.frame.zoomed { font-weight: 600; }
.frame:hover { outline: 2px solid #8a4b00; outline-offset: -2px; }
.frame:focus-visible { outline: 3px solid var(--focus); outline-offset: -3px; }
.flame-detail { min-height: 1.5em; margin: 8px 0 0; overflow-wrap: anywhere; }
@media (max-width: 640px) {
  main { padding: 6px; }
  .span-row { grid-template-columns: 1fr; }
  th, td { padding: 3px 4px; }
  .spark { width: 96px; }
}
`;
