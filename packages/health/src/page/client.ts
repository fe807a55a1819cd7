// The page script, served as /page/app.js: one file, with the flame graph (flame.ts) spliced into
// its closure. Plain ES2020 with no dependencies. Every value shown
// comes from JSON and is user input (span names, attributes, prompts): the DOM is built with
// createElement and textContent only, never innerHTML, and no code is built from strings.
import { FLAME_JS } from './flame';

export const PAGE_JS = String.raw`'use strict';
(function () {
  var RESERVED = ['service', 'version', 'state', 'uptimeSeconds', 'startedAt', 'time', 'pid', 'node', 'startup', 'checks'];
  var SLOW_MS = 1000;
  var REFRESH_MS = 5000;
  var token = null;
  try { token = sessionStorage.getItem('periscope.token'); } catch (e) { token = null; }
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }
  // A table wider than its card scrolls sideways: keyboard users reach it with Tab (then arrows).
  function scrollables() {
    Array.prototype.forEach.call(document.querySelectorAll('.scroll'), function (n) {
      if (n.scrollWidth <= n.clientWidth + 1) { n.removeAttribute('tabindex'); n.removeAttribute('role'); n.removeAttribute('aria-label'); return; }
      var card = n.closest('.card'), h = card && card.querySelector('h2, h3');
      n.tabIndex = 0;
      n.setAttribute('role', 'region');
      n.setAttribute('aria-label', (h ? h.textContent : 'Table') + ' (scrolls sideways)');
    });
  }
  function fmtMs(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '';
    if (ms >= 1000) return (ms / 1000).toFixed(2) + ' s';
    if (ms >= 10) return ms.toFixed(0) + ' ms';
    return ms.toFixed(2) + ' ms';
  }
  function fmtDuration(s) {
    s = Math.floor(s);
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + (s % 60) + 's';
  }
  function fmtValue(v) {
    if (v === null) return 'null';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }
  function table(headers, rows) {
    var t = el('table'), thead = el('thead'), tr = el('tr');
    headers.forEach(function (h) { var th = el('th', '', h); th.scope = 'col'; tr.appendChild(th); });
    thead.appendChild(tr); t.appendChild(thead);
    var tb = el('tbody');
    rows.forEach(function (r) { tb.appendChild(r); });
    t.appendChild(tb);
    return t;
  }
  function row(cells, cls) {
    var tr = el('tr', cls || '');
    cells.forEach(function (c) {
      var td = el('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined ? '' : String(c);
      tr.appendChild(td);
    });
    return tr;
  }

  function api(path, extra) {
    var headers = { Accept: 'application/json' };
    var sent = token;
    if (sent) headers.Authorization = 'Bearer ' + sent;
    Object.keys(extra || {}).forEach(function (k) { headers[k] = extra[k]; });
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
      // A 401 to a request sent before the token was given must not reopen the prompt.
      if (res.status === 401) { if (sent === token) $('auth').hidden = false; throw new Error('unauthorized'); }
      if (res.status === 404) return null;
      if (res.status === 304) return { status: 304, body: null };
      return res.json().then(function (body) { return { status: res.status, body: body, etag: res.headers.get('ETag') }; });
    });
  }

  // ---- status, checks and registered sections
  function flatten(value, prefix, out) {
    if (out.length >= 200) return out;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      var keys = Object.keys(value);
      if (keys.length === 0 && prefix) out.push([prefix, '{}']);
      keys.forEach(function (k) { flatten(value[k], prefix ? prefix + '.' + k : k, out); });
    } else if (Array.isArray(value) && value.length > 0 && value.some(function (x) { return x !== null && typeof x === 'object'; })) {
      value.forEach(function (x, i) { flatten(x, prefix + '[' + i + ']', out); });
    } else {
      out.push([prefix || 'value', fmtValue(value)]);
    }
    return out;
  }
  function renderSections(doc) {
    var box = $('sections');
    clear(box);
    Object.keys(doc).filter(function (k) { return RESERVED.indexOf(k) === -1; }).forEach(function (name) {
      var card = el('section', 'card');
      var id = 'sec-' + name.replace(/[^A-Za-z0-9_-]/g, '_');
      var h = el('h2', '', name); h.id = id;
      card.setAttribute('aria-labelledby', id);
      card.appendChild(h);
      var rows = flatten(doc[name], '', []).map(function (p) {
        var cls = /(^|\.)(state|status)$/.test(p[0]) && /open|fail|error|firing/i.test(p[1]) ? 'fail' : '';
        return row([p[0], p[1]], cls);
      });
      var wrap = el('div', 'scroll');
      wrap.appendChild(table(['key', 'value'], rows));
      card.appendChild(wrap);
      box.appendChild(card);
    });
    scrollables();
  }
  function renderStatus(doc) {
    $('service').textContent = String(doc.service || 'service');
    document.title = String(doc.service || 'Service') + ' status';
    var s = $('summary');
    clear(s);
    var badge = el('span', 'badge', doc.state);
    s.appendChild(badge);
    s.appendChild(document.createTextNode(' version ' + doc.version + ' · up ' + fmtDuration(doc.uptimeSeconds || 0) + ' · pid ' + doc.pid + ' · node ' + doc.node));
    renderSections(doc);
  }
  function renderChecks(health) {
    var box = $('checks');
    clear(box);
    var rows = [];
    var checks = (health && health.checks) || {};
    Object.keys(checks).forEach(function (key) {
      (checks[key] || []).forEach(function (c) {
        var st = el('span', 'badge ' + String(c.status), c.status);
        var ov = typeof c.observedValue === 'number' ? +c.observedValue.toFixed(3) : c.observedValue;
        var obs = ov === undefined ? '' : fmtValue(ov) + (c.observedUnit ? ' ' + c.observedUnit : '');
        var name = el('span', '', key);
        if (c.componentId && c.componentId !== key) name.appendChild(el('span', 'muted', ' ' + c.componentId));
        rows.push(row([name, st, obs, c.output || '', c.time || ''], c.status === 'fail' ? 'error' : ''));
      });
    });
    if (rows.length === 0) { box.appendChild(el('p', 'muted', 'No checks registered. Overall: ' + (health ? health.status : 'unknown'))); return; }
    box.appendChild(table(['check', 'status', 'observed', 'output', 'time'], rows));
    scrollables();
  }
  function refreshStatus() {
    api('/status').then(function (r) { if (r) renderStatus(r.body); }).catch(report);
    api('/health').then(function (r) { renderChecks(r && r.body); }).catch(report);
  }

  // ---- rates and latency sparklines (GET /status/series)
  var SVG = 'http://www.w3.org/2000/svg';
  function fmtNum(v) {
    if (typeof v !== 'number' || !isFinite(v)) return '';
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2);
  }
  function spark(points, cls, label) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark' + (cls ? ' ' + cls : ''));
    svg.setAttribute('viewBox', '0 0 160 28');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
    if (points.length > 1) {
      var vs = points.map(function (p) { return p[1]; });
      var lo = Math.min.apply(null, vs), hi = Math.max.apply(null, vs), span = hi - lo || 1;
      var t0 = points[0][0], dt = points[points.length - 1][0] - t0 || 1;
      var line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', points.map(function (p) {
        return ((p[0] - t0) / dt * 160).toFixed(1) + ',' + (26 - (p[1] - lo) / span * 24).toFixed(1);
      }).join(' '));
      svg.appendChild(line);
    }
    return svg;
  }
  function last(points) { return points && points.length ? points[points.length - 1][1] : undefined; }
  function refreshSeries() {
    api('/status/series').then(function (r) {
      if (!r || r.status !== 200 || r.body.names.length === 0) { $('rates-card').hidden = true; return; }
      $('rates-card').hidden = false;
      return Promise.all(r.body.names.map(function (n) { return api('/status/series?name=' + encodeURIComponent(n)); }))
        .then(function (docs) {
          var rows = docs.filter(function (d) { return d && d.status === 200; }).map(function (d) {
            var s = d.body, per = s.kind === 'gauge' ? '' : '/s';
            var lat = s.latency || [];
            var latLabel = s.kind === 'histogram' ? 'p95 ' : s.kind === 'summary' ? 'mean ' : '';
            var now = last(s.points);
            return row([s.name, now === undefined ? 'no data yet' : fmtNum(now) + per, spark(s.points, '', s.name + ' rate'),
              lat.length ? latLabel + fmtNum(last(lat)) : '', lat.length ? spark(lat, 'lat', s.name + ' ' + latLabel) : '']);
          });
          var box = $('rates');
          clear(box);
          box.appendChild(table(['metric', 'now', 'trend', 'latency', 'latency trend'], rows));
          scrollables();
        });
    }).catch(report);
  }

  // ---- traces
  function traceQuery() {
    var p = new URLSearchParams();
    if ($('f-name').value) p.set('name', $('f-name').value);
    if ($('f-status').value !== 'any') p.set('status', $('f-status').value);
    if ($('f-min').value) p.set('minMs', $('f-min').value);
    return '/status/traces?' + p.toString();
  }
  function renderTraces(list) {
    var box = $('traces');
    clear(box);
    if (list.length === 0) { box.appendChild(el('p', 'muted', 'No traces match.')); return; }
    var rows = list.map(function (t) {
      var b = el('button', 'link', t.rootName);
      b.type = 'button';
      b.setAttribute('data-trace', t.traceId);
      b.addEventListener('click', function () { openTrace(t.traceId); });
      var flags = (t.error ? 'error' : '') + (t.durationMs >= SLOW_MS ? (t.error ? ' slow' : 'slow') : '');
      var st = el('span', 'badge ' + (t.error ? 'error' : 'ok'), t.error ? 'error' : 'ok');
      var when = new Date(t.startTime).toLocaleTimeString();
      return row([b, st, fmtMs(t.durationMs), t.spanCount, when], flags);
    });
    box.appendChild(table(['trace', 'status', 'duration', 'spans', 'started'], rows));
    scrollables();
  }
  function refreshTraces() {
    return api(traceQuery()).then(function (r) {
      if (!r || r.body.available === false) { $('traces-card').hidden = true; return; }
      $('traces-card').hidden = false;
      if (r.status !== 200) { clear($('traces')); $('traces').appendChild(el('p', 'error', r.body.error)); return; }
      renderTraces(r.body.traces || []);
    }).catch(report);
  }

  // ---- waterfall
  function genai(a) {
    var parts = [];
    var model = a['gen_ai.response.model'] || a['gen_ai.request.model'];
    if (model) parts.push(String(model));
    if (a['gen_ai.usage.input_tokens'] !== undefined) parts.push('in ' + a['gen_ai.usage.input_tokens']);
    if (a['gen_ai.usage.output_tokens'] !== undefined) parts.push('out ' + a['gen_ai.usage.output_tokens']);
    return parts.join(' · ');
  }
  function order(spans) {
    var ids = {}, kids = {}, roots = [], out = [];
    spans.forEach(function (s) { ids[s.spanId] = s; });
    spans.forEach(function (s) {
      if (s.parentSpanId && ids[s.parentSpanId]) (kids[s.parentSpanId] = kids[s.parentSpanId] || []).push(s);
      else roots.push(s);
    });
    function walk(s, depth) {
      out.push({ span: s, depth: depth });
      (kids[s.spanId] || []).forEach(function (k) { walk(k, depth + 1); });
    }
    roots.forEach(function (r) { walk(r, 0); });
    return out;
  }
  function kvTable(obj) {
    var keys = Object.keys(obj || {});
    if (keys.length === 0) return el('p', 'muted', 'none');
    var wrap = el('div', 'scroll');
    wrap.appendChild(table(['attribute', 'value'], keys.map(function (k) { return row([k, fmtValue(obj[k])]); })));
    return wrap;
  }
  function showSpan(s, t0) {
    var d = $('span-detail');
    clear(d);
    d.appendChild(el('h3', '', s.name));
    var meta = s.kind + ' · ' + fmtMs(s.durationMs) + ' · starts at +' + fmtMs(s.startTime - t0) + ' · status ' + s.status.code + (s.status.message ? ': ' + s.status.message : '');
    d.appendChild(el('p', s.status.code === 'ERROR' ? 'error' : 'muted', meta));
    d.appendChild(el('h3', '', 'Attributes'));
    d.appendChild(kvTable(s.attributes));
    d.appendChild(el('h3', '', 'Events'));
    if (!s.events || s.events.length === 0) d.appendChild(el('p', 'muted', 'none'));
    else s.events.forEach(function (e) {
      d.appendChild(el('p', '', '+' + fmtMs(e.time - t0) + ' ' + e.name));
      d.appendChild(kvTable(e.attributes));
    });
    scrollables();
  }
  function renderWaterfall(t) {
    var box = $('waterfall');
    clear(box);
    clear($('span-detail'));
    $('waterfall-card').hidden = false;
    $('waterfall-h').textContent = 'Trace ' + t.rootName;
    $('waterfall-meta').textContent = t.traceId + ' · ' + fmtMs(t.durationMs) + ' · ' + t.spanCount + ' spans' + (t.droppedSpans ? ' (' + t.droppedSpans + ' not kept)' : '');
    var spans = t.spans || [];
    var t0 = Math.min.apply(null, spans.map(function (s) { return s.startTime; }));
    var t1 = Math.max.apply(null, spans.map(function (s) { return s.endTime; }));
    var total = Math.max(t1 - t0, 0.001);
    order(spans).forEach(function (item) {
      var s = item.span;
      var b = el('button', 'span-row' + (s.status.code === 'ERROR' ? ' error' : ''));
      b.type = 'button';
      b.setAttribute('aria-pressed', 'false');
      var label = el('span', 'span-label');
      label.style.paddingLeft = (item.depth * 14) + 'px';
      label.appendChild(el('span', 'span-name', s.name));
      var g = genai(s.attributes || {});
      if (g) label.appendChild(el('span', 'genai', g));
      label.appendChild(el('span', 'genai', fmtMs(s.durationMs)));
      var track = el('span', 'span-track');
      var bar = el('span', 'span-bar');
      bar.style.left = ((s.startTime - t0) / total * 100).toFixed(3) + '%';
      bar.style.width = (Math.max(s.durationMs, 0) / total * 100).toFixed(3) + '%';
      track.appendChild(bar);
      b.appendChild(label);
      b.appendChild(track);
      b.addEventListener('click', function () {
        Array.prototype.forEach.call(box.querySelectorAll('.span-row'), function (x) { x.setAttribute('aria-pressed', 'false'); });
        b.setAttribute('aria-pressed', 'true');
        showSpan(s, t0);
      });
      box.appendChild(b);
    });
  }
  function openTrace(id) {
    api('/status/traces/' + encodeURIComponent(id)).then(function (r) {
      if (!r || r.status !== 200) { $('waterfall-card').hidden = false; $('waterfall-meta').textContent = r ? r.body.error : 'trace not found'; return; }
      renderWaterfall(r.body);
      $('waterfall-h').focus();
    }).catch(report);
  }

${FLAME_JS}
  function report(err) {
    if (err && err.message === 'unauthorized') return;
    var s = $('summary');
    s.textContent = 'Could not load data: ' + (err && err.message ? err.message : String(err));
  }
  function refresh() { refreshStatus(); refreshSeries(); refreshTraces(); refreshProfile(); }

  document.addEventListener('DOMContentLoaded', function () {
    $('trace-filter').addEventListener('submit', function (e) { e.preventDefault(); refreshTraces(); });
    initFlame();
    window.addEventListener('resize', scrollables);
    $('auth-form').addEventListener('submit', function (e) {
      e.preventDefault();
      token = $('auth-token').value;
      try { sessionStorage.setItem('periscope.token', token); } catch (x) { /* private mode */ }
      $('auth').hidden = true;
      refresh();
    });
    refresh();
    setInterval(refresh, REFRESH_MS);
  });
})();
`;
