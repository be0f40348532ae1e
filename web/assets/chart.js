// The usage chart: asks the public API for the hourly peaks of a project and draws them as an
// SVG bar chart with a table underneath. Plain browser JavaScript, no library, no build step.
//
// Rules this file keeps (see web/doc.go):
//   - the token goes only into the X-Auth-Token header of same-origin requests, and at most into
//     this tab's sessionStorage (never localStorage, never the URL);
//   - everything the server or the user supplies reaches the DOM as text (textContent and
//     attributes), never as HTML;
//   - no inline styles: the Content-Security-Policy forbids them; layout is in chart.css and
//     positions are SVG attributes or CSSOM properties.
'use strict';

(function () {
  const TOKEN_KEY = 'recordusage.token';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const HOUR_MS = 3600 * 1000;

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $('query'), token: $('token'), project: $('project'), domain: $('domain'),
    start: $('start'), end: $('end'), remember: $('remember'), forget: $('forget'),
    last24: $('last24'), show: $('show'), error: $('error'), status: $('status'),
    result: $('result'), summary: $('summary'), chart: $('chart'), tooltip: $('tooltip'),
    tbody: document.querySelector('#table tbody'),
  };

  let current = null; // the last answer drawn: {q, points}
  let inflight = null; // AbortController of the request in flight
  let drawnWidth = 0;

  // ---- Time formatting. Everything is UTC, as in the API.

  const pad = (n) => String(n).padStart(2, '0');
  const ymd = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const hm = (d) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const fmtHour = (d) => `${ymd(d)} ${pad(d.getUTCHours())}:00`;

  // fieldValue is how a range field shows d: YYYY-MM-DD hh:mm, in UTC.
  const fieldValue = (d) => `${ymd(d)} ${hm(d)}`;

  // apiTime turns a range field (YYYY-MM-DD hh:mm[:ss], a T instead of the space and a final Z
  // allowed) into the API's YYYY-MM-DDThh:mm:ssZ. Anything else is sent as typed, so that the
  // API, the one validator, names the bad parameter.
  function apiTime(v) {
    v = (v || '').trim();
    const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?Z?$/.exec(v);
    return m ? `${m[1]}T${m[2]}${m[3] || ':00'}Z` : v;
  }

  // fieldTime turns the API's time format (from the URL fragment) into a range field's value;
  // anything else is ''.
  function fieldTime(v) {
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})Z$/.exec(v || '');
    return m ? `${m[1]} ${m[2]}${m[3] === ':00' ? '' : m[3]}` : '';
  }

  // setLast24 fills the range with the 24 hours ending with the current hour.
  function setLast24() {
    const now = new Date();
    const endHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
    el.start.value = fieldValue(new Date(endHour - 23 * HOUR_MS));
    el.end.value = fieldValue(now);
  }

  // ---- The token: sessionStorage at most.

  function storedToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (e) {
      return ''; // storage disabled: the token lives in the input only
    }
  }

  function keepToken(token) {
    try {
      if (el.remember.checked && token) {
        sessionStorage.setItem(TOKEN_KEY, token);
      } else {
        sessionStorage.removeItem(TOKEN_KEY);
      }
    } catch (e) {
      // storage disabled: nothing to keep or to forget
    }
  }

  // ---- The URL fragment holds the query without the token, so that a reload or a link
  // shows the same chart (after the token is entered, or at once if this tab remembers it).

  function readFragment() {
    const p = new URLSearchParams(location.hash.slice(1));
    if (p.has('token')) {
      // Never keep a credential in the address bar or the history, even one put there by hand.
      p.delete('token');
      history.replaceState(null, '', location.pathname + location.search + (p.toString() ? '#' + p : ''));
    }
    return p;
  }

  function writeFragment(q) {
    const p = new URLSearchParams();
    p.set('project', q.project);
    if (q.domain) p.set('domain', q.domain);
    if (q.start) p.set('start', q.start);
    if (q.end) p.set('end', q.end);
    history.replaceState(null, '', location.pathname + location.search + '#' + p);
  }

  // ---- Messages.

  function showError(title, detail) {
    el.error.replaceChildren();
    const strong = document.createElement('span');
    strong.className = 'title';
    strong.textContent = title;
    el.error.append(strong);
    if (detail) {
      const d = document.createElement('span');
      d.className = 'detail';
      d.textContent = detail;
      el.error.append(d);
    }
    el.error.hidden = false;
  }

  function hideError() {
    el.error.hidden = true;
    el.error.replaceChildren();
  }

  const setStatus = (text) => { el.status.textContent = text; };

  // ---- The request.

  function readForm() {
    return {
      token: el.token.value.trim(),
      project: el.project.value.trim(),
      domain: el.domain.value.trim(),
      start: apiTime(el.start.value),
      end: apiTime(el.end.value),
    };
  }

  async function run() {
    hideError();
    const q = readForm();
    if (!q.token) {
      showError('Enter a token.', 'The X-Auth-Token of a credential that grants the project.');
      el.token.focus();
      return;
    }
    if (!q.project) {
      showError('Enter a project id.');
      el.project.focus();
      return;
    }
    keepToken(q.token);
    writeFragment(q);

    // Relative to the page, so that it also works behind a proxy that mounts the service on a
    // sub-path: /chart/ + ../v2/… is /v2/….
    const url = new URL('../v2/' + encodeURIComponent(q.project) + '/stats/record', document.baseURI);
    if (q.domain) url.searchParams.set('publish_domain', q.domain);
    if (q.start) url.searchParams.set('start_time', q.start);
    if (q.end) url.searchParams.set('end_time', q.end);

    if (inflight) inflight.abort();
    const ctl = new AbortController();
    inflight = ctl;
    el.show.disabled = true;
    setStatus('Loading…');
    let resp;
    let body = null;
    try {
      resp = await fetch(url, {
        headers: { 'X-Auth-Token': q.token, 'Accept': 'application/json' },
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'error',
        signal: ctl.signal,
      });
      const text = await resp.text();
      try {
        body = JSON.parse(text);
      } catch (e) {
        body = null;
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      setStatus('');
      showError('The request failed.', String(e.message || e));
      return;
    } finally {
      if (inflight === ctl) {
        inflight = null;
        el.show.disabled = false;
      }
    }

    const rid = resp.headers.get('X-Request-Id') || '';
    if (!resp.ok) {
      setStatus('');
      el.result.hidden = true;
      current = null;
      let detail = `HTTP ${resp.status}` + (rid ? ` · request id ${rid}` : '');
      const retry = resp.headers.get('Retry-After');
      if (retry) detail += ` · retry after ${retry} s`;
      if (body && typeof body.error_code === 'string') {
        showError(`${body.error_code}: ${body.error_msg || ''}`, detail);
        if (body.error_code === 'LIVE.100011002') keepToken(''); // a failing token is not worth keeping
      } else {
        showError(`The service answered HTTP ${resp.status}.`, detail);
      }
      return;
    }
    if (!body || !Array.isArray(body.record_data_list)) {
      setStatus('');
      showError('The answer is not a record_data_list.', rid ? `request id ${rid}` : '');
      return;
    }
    current = { q, points: body.record_data_list.map(toPoint) };
    render();
    setStatus(`${current.points.length} hours loaded` + (rid ? ` · request id ${rid}` : ''));
  }

  // toPoint turns {time, concurrent_count} into {hour, minute, count} (Dates in UTC).
  function toPoint(p) {
    const t = new Date(p.time);
    return {
      hour: new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS),
      minute: t,
      count: Number(p.concurrent_count) || 0,
    };
  }

  // describe is what hovering an hour shows, e.g. "2026-11-25 08:00 UTC — peak 42 at 08:17".
  function describe(p) {
    return p.count > 0
      ? `${fmtHour(p.hour)} UTC — peak ${p.count} at ${hm(p.minute)}`
      : `${fmtHour(p.hour)} UTC — peak 0 (no recordings)`;
  }

  // ---- Rendering.

  function render() {
    if (!current) return;
    const { q, points } = current;
    el.result.hidden = false;
    let best = null;
    for (const p of points) if (!best || p.count > best.count) best = p;
    const parts = [q.project, q.domain || 'all domains'];
    if (points.length) {
      parts.push(`${fmtHour(points[0].hour)} – ${fmtHour(points[points.length - 1].hour)} UTC`);
    }
    parts.push(`${points.length} hour${points.length === 1 ? '' : 's'}`);
    if (best && best.count > 0) parts.push(`highest peak ${best.count} at ${ymd(best.minute)} ${hm(best.minute)}`);
    el.summary.textContent = parts.join(' · ');
    drawChart(points);
    fillTable(points, best);
  }

  function svg(name, attrs, parent) {
    const e = document.createElementNS(SVG_NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function text(parent, x, y, s, cls, anchor) {
    const t = svg('text', { x, y, class: cls || '', 'text-anchor': anchor || 'middle' }, parent);
    t.textContent = s;
    return t;
  }

  // niceScale returns the top of the y axis and the step of its ticks: whole numbers, about
  // five ticks, steps of 1, 2 or 5 times a power of ten.
  function niceScale(max) {
    if (max <= 0) return { top: 1, step: 1 };
    const raw = max / 5;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = mag;
    for (const f of [1, 2, 5, 10]) {
      step = f * mag;
      if (step >= raw) break;
    }
    step = Math.max(1, Math.round(step));
    return { top: Math.ceil(max / step) * step, step };
  }

  // labelEvery returns how many hours apart the x labels are, so that they do not overlap.
  function labelEvery(band) {
    for (const k of [1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336]) {
      if (band * k >= 62) return k;
    }
    return 720;
  }

  const round = (v) => Math.round(v * 100) / 100;

  function drawChart(points) {
    const width = Math.max(300, Math.floor(el.chart.clientWidth || 800));
    drawnWidth = width;
    const height = width < 600 ? 240 : 330;
    const m = { l: 52, r: 14, t: 14, b: 46 };
    const pw = width - m.l - m.r;
    const ph = height - m.t - m.b;
    const n = points.length;
    let max = 0;
    for (const p of points) max = Math.max(max, p.count);
    const { top, step } = niceScale(max);
    const yOf = (v) => m.t + ph - (v / top) * ph;

    const root = svg('svg', {
      width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': `Bar chart of ${n} hourly peaks; highest ${max}`,
    });

    // The y axis: grid lines and counts.
    const yAxis = svg('g', { class: 'y-axis' }, root);
    for (let v = 0; v <= top; v += step) {
      const y = round(yOf(v));
      svg('line', { class: 'grid', x1: m.l, x2: m.l + pw, y1: y, y2: y }, yAxis);
      text(yAxis, m.l - 8, y + 4, String(v), 'tick-label', 'end');
    }
    const ty = m.t + ph / 2;
    text(yAxis, 13, ty, 'concurrent recordings', 'axis-title').setAttribute('transform', `rotate(-90 13 ${ty})`);

    // The bars: one column per hour, with an invisible full-height target for hovering.
    const band = n ? pw / n : pw;
    const bw = band > 4 ? band * 0.76 : Math.max(band - 0.5, 0.5);
    const bars = svg('g', { class: 'bars' }, root);
    points.forEach((p, i) => {
      const label = describe(p);
      const col = svg('g', { class: 'col', tabindex: '0', 'aria-label': label, 'data-tip': label }, bars);
      svg('rect', { class: 'hit', x: round(m.l + i * band), y: m.t, width: round(band), height: ph }, col);
      const h = round((p.count / top) * ph);
      svg('rect', {
        class: p.count > 0 && p.count === max ? 'bar max' : 'bar',
        x: round(m.l + i * band + (band - bw) / 2), y: round(m.t + ph - h), width: round(bw), height: h,
        'data-hour': p.hour.toISOString().replace('.000Z', 'Z'), 'data-count': p.count,
      }, col);
      col.addEventListener('mouseenter', (ev) => showTip(label, ev.clientX, ev.clientY));
      col.addEventListener('mousemove', (ev) => showTip(label, ev.clientX, ev.clientY));
      col.addEventListener('mouseleave', hideTip);
      col.addEventListener('focus', () => {
        const r = col.getBoundingClientRect();
        showTip(label, r.left + r.width / 2, r.top + r.height / 3);
      });
      col.addEventListener('blur', hideTip);
    });

    // The x axis: hours, with the date under midnight and under the first label.
    const xAxis = svg('g', { class: 'x-axis' }, root);
    svg('line', { class: 'baseline', x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph }, xAxis);
    const every = labelEvery(band);
    let first = true;
    points.forEach((p, i) => {
      const epochHour = Math.round(p.hour.getTime() / HOUR_MS);
      if (epochHour % every !== 0) return;
      const x = round(m.l + i * band + band / 2);
      svg('line', { class: 'tick', x1: x, x2: x, y1: m.t + ph, y2: m.t + ph + 4 }, xAxis);
      if (every < 24) text(xAxis, x, m.t + ph + 17, `${pad(p.hour.getUTCHours())}:00`, 'tick-label');
      if (every >= 24 || first || p.hour.getUTCHours() === 0) {
        text(xAxis, x, m.t + ph + (every < 24 ? 32 : 17), ymd(p.hour).slice(5), 'tick-label date');
      }
      first = false;
    });
    text(xAxis, m.l + pw, height - 2, 'hour (UTC)', 'axis-title', 'end');

    el.chart.replaceChildren(root);
  }

  function showTip(label, x, y) {
    const tip = el.tooltip;
    tip.textContent = label;
    tip.hidden = false;
    // CSSOM, not a style attribute: allowed by style-src 'self'.
    const w = tip.offsetWidth;
    tip.style.left = `${Math.max(4, Math.min(x + 12, window.innerWidth - w - 8))}px`;
    tip.style.top = `${Math.max(4, y - 34)}px`;
  }

  function hideTip() {
    el.tooltip.hidden = true;
  }

  function fillTable(points, best) {
    const rows = points.map((p) => {
      const tr = document.createElement('tr');
      if (best && p === best && p.count > 0) tr.className = 'max';
      const cells = [fmtHour(p.hour), String(p.count), p.count > 0 ? hm(p.minute) : '—'];
      cells.forEach((s, i) => {
        const td = document.createElement('td');
        td.textContent = s;
        if (i === 1) td.className = 'num';
        tr.append(td);
      });
      return tr;
    });
    el.tbody.replaceChildren(...rows);
  }

  // ---- Wiring.

  function init() {
    const p = readFragment();
    el.project.value = p.get('project') || '';
    el.domain.value = p.get('domain') || '';
    const start = fieldTime(p.get('start'));
    const end = fieldTime(p.get('end'));
    if (start || end) {
      el.start.value = start;
      el.end.value = end;
    } else {
      setLast24();
    }
    const token = storedToken();
    if (token) el.token.value = token;

    el.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      run();
    });
    el.last24.addEventListener('click', () => {
      setLast24();
      run();
    });
    el.remember.addEventListener('change', () => keepToken(el.token.value.trim()));
    el.forget.addEventListener('click', () => {
      el.remember.checked = false;
      keepToken('');
      el.token.value = '';
      setStatus('The token is forgotten.');
      el.token.focus();
    });
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => {
        if (current && Math.floor(el.chart.clientWidth) !== drawnWidth) drawChart(current.points);
      }).observe(el.chart);
    }

    // A reload, or a link opened in a tab that remembers its token, shows the chart at once.
    if (token && el.project.value) {
      run();
    } else {
      (el.token.value ? el.project : el.token).focus();
    }
  }

  init();
})();
