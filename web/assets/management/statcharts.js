// The charts of Management › Statistics: requests per day as a uPlot line
// chart (vendor/uPlot.esm.js, loaded with its stylesheet on first use) and
// the weekday × hour heat map as a plain table.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const HOURS = Array.from({ length: 24 }, (_, h) => h);
const pad = (n) => String(n).padStart(2, '0');

// dayMonth gives "19 Nov" for a date "2026-11-19" (a calendar day of the
// team's time zone, so no time zone conversion applies).
export function dayMonth(date) {
  const [, m, d] = String(date).split('-').map(Number);
  return m && d ? `${d} ${MONTHS[m - 1]}` : String(date);
}

// periodLabel gives "19 Nov – 25 Nov 2026 · Europe/Berlin" for an answer's period.
export function periodLabel(p) {
  if (!p || !p.first_day) return '';
  const year = (d) => String(d).slice(0, 4);
  let dates;
  if (p.first_day === p.last_day) dates = `${dayMonth(p.first_day)} ${year(p.first_day)}`;
  else if (year(p.first_day) === year(p.last_day)) dates = `${dayMonth(p.first_day)} – ${dayMonth(p.last_day)} ${year(p.last_day)}`;
  else dates = `${dayMonth(p.first_day)} ${year(p.first_day)} – ${dayMonth(p.last_day)} ${year(p.last_day)}`;
  return p.time_zone ? `${dates} · ${p.time_zone}` : dates;
}

// loadUPlot imports the library once and adds its stylesheet to the page.
let uplot = null;
function loadUPlot() {
  if (!uplot) {
    if (!document.querySelector('link[data-uplot]')) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = '/assets/vendor/uPlot.min.css';
      link.dataset.uplot = '';
      document.head.appendChild(link);
    }
    uplot = import('../vendor/uPlot.esm.js').then((m) => m.default);
    uplot.catch(() => { uplot = null; });
  }
  return uplot;
}

const HEIGHT = 240;
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

function chartOptions(days, width) {
  const label = (i) => (Number.isInteger(i) && days[i] ? dayMonth(days[i].date) : '');
  return {
    width, height: HEIGHT,
    // The x values are the days' indexes: the dates are the team's, not the browser's.
    scales: {
      x: { time: false, range: () => [-0.5, days.length - 0.5] },
      y: { range: (u, min, max) => [0, Math.max(1, Math.ceil((max || 0) * 1.1))] },
    },
    axes: [
      { values: (u, splits) => splits.map(label), incrs: [1, 2, 7, 14, 28, 56, 112], space: 48, grid: { show: false } },
      { values: (u, splits) => splits.map((v) => String(v)), incrs: COUNT_STEPS, size: 44 },
    ],
    series: [
      { label: 'Day', value: (u, i) => label(i) || '—' },
      { label: 'New', stroke: '#3b5bdb', fill: 'rgba(59, 91, 219, .08)', width: 2, points: { show: true, size: 6 } },
      { label: 'Closed', stroke: '#2b8a3e', width: 2, points: { show: true, size: 6 } },
    ],
    cursor: { drag: { x: false, y: false, setScale: false } },
  };
}

// DaysChart draws new and closed requests per day, as wide as its box.
export function DaysChart({ id, days }) {
  const box = useRef(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let alive = true;
    let chart = null;
    let observer = null;
    setError(null);
    loadUPlot().then((UPlot) => {
      const el = box.current;
      if (!alive || !el) return;
      const data = [days.map((_, i) => i), days.map((d) => d.new), days.map((d) => d.closed)];
      chart = new UPlot(chartOptions(days, el.clientWidth || 600), data, el);
      observer = new ResizeObserver(() => {
        const w = el.clientWidth;
        if (chart && w && w !== chart.width) chart.setSize({ width: w, height: HEIGHT });
      });
      observer.observe(el);
    }, (err) => alive && setError(err));
    return () => {
      alive = false;
      if (observer) observer.disconnect();
      if (chart) chart.destroy();
    };
  }, [days]);

  const total = (k) => days.reduce((n, d) => n + (Number(d[k]) || 0), 0);
  const summary = `Requests per day from ${dayMonth(days[0].date)} to ${dayMonth(days[days.length - 1].date)}: `
    + `${total('new')} new and ${total('closed')} closed in all.`;
  return html`<div class="stats-chart-box">
    <div class="stats-chart" id=${id} ref=${box} role="img" aria-label=${summary}></div>
    ${error ? html`<p class="status status-error" role="alert">The chart could not be drawn: ${error.message}</p>` : null}
  </div>`;
}

// shade colours a heat map cell in proportion to the busiest cell.
function shade(n, max) {
  if (!n || !max) return undefined;
  const a = 0.12 + 0.88 * (n / max);
  return `background: rgba(59, 91, 219, ${a.toFixed(3)}); color: ${a > 0.55 ? '#fff' : 'var(--text)'}`;
}

// HeatMap shows new requests by weekday (rows, Monday first) and hour.
export function HeatMap({ id, heatmap, timeZone }) {
  const rows = heatmap || [];
  const max = rows.reduce((m, row) => Math.max(m, ...row), 0);
  const hour = (h) => `${pad(h)}:00–${pad((h + 1) % 24)}:00`;
  return html`<div class="table-wrap stats-heatmap-wrap">
    <table class="stats-heatmap" id=${id} data-max=${max}>
      <caption class="visually-hidden">New requests by weekday and hour${timeZone ? ` (${timeZone})` : ''}</caption>
      <thead><tr>
        <th scope="col"><span class="visually-hidden">Weekday</span></th>
        ${HOURS.map((h) => html`<th scope="col" key=${h} title=${hour(h)}>${pad(h)}</th>`)}
      </tr></thead>
      <tbody>
        ${rows.map((row, d) => html`<tr key=${d} data-day=${d}>
          <th scope="row" title=${WEEKDAYS[d]}>${WEEKDAYS[d].slice(0, 3)}</th>
          ${row.map((n, h) => html`<td key=${h} data-day=${d} data-hour=${h} data-count=${n} style=${shade(n, max)}
            title=${`${WEEKDAYS[d]}, ${hour(h)}: ${n} new ${n === 1 ? 'request' : 'requests'}`}>
            ${n ? String(n) : html`<span class="visually-hidden">0</span>`}</td>`)}
        </tr>`)}
      </tbody>
    </table>
  </div>`;
}
