// Hand-written SVG bar charts: stacked (or, with `grouped`, side-by-side) vertical bars
// with a text value on each bar and a <title> per segment, so a figure is readable
// without colour.

const W = 720;
const H = 300;
const PAD = { l: 12, r: 12, t: 16, b: 48 };

/** A label shortened to its slot (the whole label is in each segment's <title>). */
function fit(label, slot) {
  const chars = [...String(label)];
  const room = Math.max(2, Math.floor(slot / 15));
  return chars.length <= room ? label : `${chars.slice(0, room - 1).join('')}…`;
}

/**
 * barChart({ labels, series: [{ name, cls, values }], format, testId, grouped, labelled })
 * -> <figure>. Series are stacked and the total of each bar is written above it; with
 * `grouped` each series has its own bar in the slot, its value written above it; with
 * `labelled` a segment tall enough carries its series' name.
 */
export function barChart({ labels, series, format, short, testId, caption, grouped, labelled }) {
  const ns = 'http://www.w3.org/2000/svg';
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] || 0), 0));
  const tallest = grouped ? series.flatMap((x) => labels.map((_, i) => x.values[i] || 0)) : totals;
  const max = Math.max(1, ...tallest);
  const n = Math.max(1, labels.length);
  const slot = (W - PAD.l - PAD.r) / n;
  const bw = Math.max(6, Math.min(60, slot * 0.7));
  const per = grouped ? Math.max(1, series.length) : 1;
  const gw = Math.max(3, Math.min(40, (slot * 0.8) / per));
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
  const segment = (label, s, v, x, y, w, hgt) => {
    const r = el('rect', { x, y, width: w, height: Math.max(0, hgt), class: `bar ${s.cls || ''}` });
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${label} · ${s.name}: ${format(v)}`;
    r.append(title);
    if (labelled && hgt >= 18 && w >= 30) {
      el('text', { x: x + w / 2, y: y + hgt / 2 + 5, class: 'seg', 'text-anchor': 'middle' }, fit(s.name, w));
    }
  };
  labels.forEach((label, i) => {
    if (grouped) {
      const x0 = PAD.l + slot * i + (slot - gw * per) / 2;
      series.forEach((s, j) => {
        const v = s.values[i] || 0;
        const hgt = (Math.max(0, v) / max) * plotH;
        const x = x0 + gw * j;
        segment(label, s, v, x, H - PAD.b - hgt, gw - 1, hgt);
        el('text', { x: x + gw / 2, y: H - PAD.b - hgt - 4, class: 'val small', 'text-anchor': 'middle', 'data-value': v },
          n * per <= 12 ? (short || format)(v) : '');
      });
      el('text', { x: PAD.l + slot * i + slot / 2, y: H - PAD.b + 16, class: 'lbl', 'text-anchor': 'middle' }, fit(label, slot));
      return;
    }
    const x = PAD.l + slot * i + (slot - bw) / 2;
    let y = H - PAD.b;
    for (const s of series) {
      const v = s.values[i] || 0;
      const hgt = (v / max) * plotH;
      y -= hgt;
      segment(label, s, v, x, y, bw, hgt);
    }
    el('text', { x: x + bw / 2, y: y - 4, class: 'val', 'text-anchor': 'middle', 'data-total': totals[i] },
      n <= 16 ? (short || format)(totals[i]) : '');
    el('text', { x: x + bw / 2, y: H - PAD.b + 16, class: 'lbl', 'text-anchor': 'middle' }, fit(label, slot));
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
