// The page's flame graph, part of /page/app.js (client.ts splices it into its closure and it uses
// that closure's $, el, clear, api and fmtMs). Frames are <button>s placed with CSSOM properties
// (allowed by the CSP, unlike style attributes) and named with textContent: function names and
// file paths are user input. Icicle layout (the root on top), as speedscope and Chrome draw it.
// Mouse: click zooms, hover shows name/self/total. Keyboard: one tab stop (roving tabindex),
// arrows move between frames, Enter/Space zoom, Escape resets.
export const FLAME_JS = String.raw`
  // ---- flame graph (GET /status/profile)
  var FLAME_ROW = 20;
  var FLAME_MIN = 0.003;
  var FLAME_MAX_DRAWN = 1200;
  var flame = { doc: null, etag: null, pending: null, zoom: null, current: null, drawn: [] };

  function fmtAmount(v) {
    if (!flame.doc || flame.doc.unit === 'us') return fmtMs(v / 1000);
    if (v >= 1048576) return (v / 1048576).toFixed(1) + ' MiB';
    if (v >= 1024) return (v / 1024).toFixed(1) + ' KiB';
    return v + ' B';
  }
  function pct(v) { return (flame.doc.total ? v / flame.doc.total * 100 : 0).toFixed(1) + '%'; }
  function describe(n) {
    return n.name + ' · total ' + fmtAmount(n.value) + ' (' + pct(n.value) + ') · self ' + fmtAmount(n.self) + ' (' + pct(n.self) + ')';
  }
  function link(n, parent) {
    var stack = [[n, parent]];
    while (stack.length) {
      var top = stack.pop();
      top[0].parent = top[1];
      (top[0].children || []).forEach(function (c) { stack.push([c, top[0]]); });
    }
  }
  function hue(name) {
    if (/^\([^()]*\)$/.test(name)) return 'sys'; // V8's pseudo-frames: (program), (garbage collector)
    var h = 0;
    for (var i = 0; i < name.length && i < 64; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return 'h' + (h % 6);
  }
  function frameButton(n, row, x, w, cls) {
    var b = el('button', 'frame ' + hue(n.name) + (cls ? ' ' + cls : ''), n.name);
    b.type = 'button';
    b.tabIndex = -1;
    b.setAttribute('aria-label', describe(n));
    b.style.left = (x * 100).toFixed(4) + '%';
    b.style.width = (w * 100).toFixed(4) + '%';
    b.style.top = (row * FLAME_ROW) + 'px';
    b.addEventListener('click', function () { zoomFlame(n, true); });
    b.addEventListener('focus', function () { setCurrent(item); });
    b.addEventListener('mouseenter', function () { $('flame-detail').textContent = describe(n); });
    b.addEventListener('mouseleave', function () { $('flame-detail').textContent = flame.current ? describe(flame.current.node) : ''; });
    var item = { node: n, btn: b, row: row, x: x };
    flame.drawn.push(item);
    return b;
  }
  function setCurrent(item) {
    if (flame.current && flame.current !== item) flame.current.btn.tabIndex = -1;
    flame.current = item;
    item.btn.tabIndex = 0;
    $('flame-detail').textContent = describe(item.node);
  }
  function drawFlame() {
    var box = $('flame');
    clear(box);
    flame.drawn = [];
    var z = flame.zoom, chain = [];
    for (var a = z.parent; a; a = a.parent) chain.unshift(a);
    chain.forEach(function (n, i) { box.appendChild(frameButton(n, i, 0, 1, 'anc')); });
    var rows = chain.length + 1;
    var queue = [[z, chain.length, 0]];
    for (var q = 0; q < queue.length && flame.drawn.length < FLAME_MAX_DRAWN; q++) {
      var n = queue[q][0], row = queue[q][1], x = queue[q][2];
      box.appendChild(frameButton(n, row, x, z.value ? n.value / z.value : 1, n === z ? 'zoomed' : ''));
      rows = Math.max(rows, row + 1);
      var cx = x;
      (n.children || []).forEach(function (c) {
        var w = z.value ? c.value / z.value : 0;
        if (w >= FLAME_MIN) queue.push([c, row + 1, cx]);
        cx += w;
      });
    }
    box.style.height = (rows * FLAME_ROW) + 'px';
    $('flame-reset').disabled = !z.parent;
    var keep = flame.drawn.filter(function (d) { return d.node === z; })[0] || flame.drawn[0];
    keep.btn.tabIndex = 0;
    flame.current = keep;
    return keep;
  }
  function zoomFlame(n, focus) {
    flame.zoom = n;
    var keep = drawFlame();
    $('flame-detail').textContent = describe(n);
    if (focus) keep.btn.focus();
  }
  function moveFlame(key) {
    var cur = flame.current;
    if (!cur) return;
    var best = null;
    flame.drawn.forEach(function (d) {
      if (key === 'ArrowUp' && d.node === cur.node.parent) best = d;
      if (key === 'ArrowDown' && d.node.parent === cur.node && (!best || d.x < best.x)) best = d;
      if (key === 'ArrowRight' && d.row === cur.row && d.x > cur.x && (!best || d.x < best.x)) best = d;
      if (key === 'ArrowLeft' && d.row === cur.row && d.x < cur.x && (!best || d.x > best.x)) best = d;
    });
    if (best) best.btn.focus();
  }
  function showProfile(p) {
    // V8's (idle) is time the thread waited, not CPU work: drawn, it would squeeze everything else.
    var idle = (p.root.children || []).filter(function (c) { return c.name === '(idle)'; })[0];
    if (idle) {
      p.root.children = p.root.children.filter(function (c) { return c !== idle; });
      p.root.value = Math.max(0, p.root.value - idle.value);
      p.total = p.root.value;
    }
    link(p.root, null);
    flame.doc = p;
    flame.pending = null;
    $('flame-latest').hidden = true;
    var when = new Date(p.startedAt).toLocaleTimeString();
    $('flame-meta').textContent = (p.kind === 'heap' ? 'Heap' : 'CPU') + ' profile from ' + when + ', ' + fmtMs(p.durationMs) +
      ' long: ' + fmtAmount(p.total) + ' busy' + (idle ? ' (' + fmtAmount(idle.value) + ' idle, not drawn)' : '') + ', ' +
      p.nodes + ' frames' + (p.truncated ? ' (the deepest left out)' : '') + '.';
    zoomFlame(p.root, false);
  }
  function refreshProfile() {
    var headers = flame.etag ? { 'If-None-Match': flame.etag } : {};
    return api('/status/profile', headers).then(function (r) {
      if (!r || r.status === 304) return;
      if (r.body.available === false) { $('flame-card').hidden = true; return; }
      $('flame-card').hidden = false;
      if (!r.body.profile) { $('flame-meta').textContent = 'No profile window has finished yet.'; return; }
      flame.etag = r.etag;
      if (!flame.doc) showProfile(r.body.profile);
      else { flame.pending = r.body.profile; $('flame-latest').hidden = false; }
    }).catch(report);
  }
  function initFlame() {
    $('flame-reset').addEventListener('click', function () { if (flame.doc) zoomFlame(flame.doc.root, false); });
    $('flame-latest').addEventListener('click', function () { if (flame.pending) showProfile(flame.pending); });
    $('flame').addEventListener('keydown', function (e) {
      if (/^Arrow(Up|Down|Left|Right)$/.test(e.key)) { e.preventDefault(); moveFlame(e.key); }
      else if (e.key === 'Escape' && flame.doc) { e.preventDefault(); zoomFlame(flame.doc.root, true); }
    });
  }
`;
