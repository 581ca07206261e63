// Hand-written SVG bar charts: stacked horizontal-free vertical bars with a text value
// on each bar and a <title> per segment, so a figure is readable without colour.

const W = 720;
const H = 300;
const PAD = { l: 12, r: 12, t: 16, b: 48 };

/**
 * barChart({ labels, series: [{ name, cls, values }], format, testId }) -> <figure>.
 * Series are stacked; the total of each bar is written above it.
 */
export function barChart({ labels, series, format, short, testId, caption }) {
  const ns = 'http://www.w3.org/2000/svg';
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] || 0), 0));
  const max = Math.max(1, ...totals);
  const n = Math.max(1, labels.length);
  const slot = (W - PAD.l - PAD.r) / n;
  const bw = Math.max(6, Math.min(60, slot * 0.7));
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('class', 'chart');
  if (caption) svg.setAttribute('aria-label', caption);
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  const plotH = H - PAD.t - PAD.b;
  el('line', { x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b, class: 'axis' });
  labels.forEach((label, i) => {
    const x = PAD.l + slot * i + (slot - bw) / 2;
    let y = H - PAD.b;
    for (const s of series) {
      const v = s.values[i] || 0;
      const hgt = (v / max) * plotH;
      y -= hgt;
      const r = el('rect', { x, y, width: bw, height: Math.max(0, hgt), class: `bar ${s.cls || ''}` });
      const title = document.createElementNS(ns, 'title');
      title.textContent = `${label} · ${s.name}: ${format(v)}`;
      r.append(title);
    }
    el('text', { x: x + bw / 2, y: y - 4, class: 'val', 'text-anchor': 'middle', 'data-total': totals[i] },
      n <= 16 ? (short || format)(totals[i]) : '');
    el('text', { x: x + bw / 2, y: H - PAD.b + 16, class: 'lbl', 'text-anchor': 'middle' }, label);
  });
  const legend = document.createElement('ul');
  legend.className = 'legend';
  for (const s of series) {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = `swatch ${s.cls || ''}`;
    li.append(sw, s.name);
    legend.append(li);
  }
  const fig = document.createElement('figure');
  if (testId) fig.dataset.test = testId;
  fig.append(svg, legend);
  return fig;
}
