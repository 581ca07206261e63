// Return calls and satisfaction of the visits that departed in the year: reach rate,
// safe arrivals (V30), the spread of scores 1–5, the figures by level, host or month
// of departure, and what the customers said.
import { api } from '../../api.js';
import { t, word } from '../../i18n.js';
import { h, fill, table, section } from '../../dom.js';
import { number, permille, hundredths, dateTime } from '../../fmt.js';
import { barChart } from '../../chart.js';
import { kpi, choice, keyLabel, remember } from './common.js';

const BY = ['level', 'host', 'month'];

export async function render(root, { year, params }) {
  let by = BY.includes(params[0]) ? params[0] : 'level';
  const results = h('div', { 'aria-live': 'polite' });
  const controls = h('div', { class: 'filters' }, choice({
    id: 'calls-by', label: t('calls.by'), value: by,
    options: BY.map((d) => [d, t(`costs.dim.${d}`)]),
    onchange: (v) => { by = v; redraw(); },
  }));
  let asked = 0;
  async function redraw() {
    const mine = ++asked;
    remember(year, 'satisfaction', by);
    const a = await api(`/api/v1/reports/return-calls?year=${year}&by=${by}`);
    if (mine !== asked) return;
    fill(results, figures(a), h('div', { class: 'grid' }, spread(a), groups(a)), feedback(a));
  }
  fill(root, h('div', { 'data-test': 'satisfaction' },
    h('div', { class: 'toolbar' }, h('h2', {}, t('calls.title', { year })), controls), results));
  await redraw();
  return null;
}

function figures(a) {
  return h('div', { class: 'kpis' },
    kpi(t('calls.reach_rate'), permille(a.reach_rate_permille), 'reach-rate'),
    kpi(t('calls.departed'), number(a.departed), 'calls-departed'),
    kpi(t('calls.called'), `${number(a.called)} · ${t('calls.reached_n', { n: number(a.reached) })} · ${t('calls.unreachable_n', { n: number(a.unreachable) })}`, 'calls-called'),
    kpi(t('calls.pending'), number(a.pending), 'calls-pending'),
    kpi(t('calls.arrived'), number(a.arrived_safely), 'calls-arrived'),
    kpi(t('calls.not_arrived'), a.not_arrived_safely > 0 ? `⚠ ${number(a.not_arrived_safely)}` : number(a.not_arrived_safely),
      'calls-not-arrived', a.not_arrived_safely > 0 ? 'over' : ''),
    kpi(t('calls.mean'), hundredths(a.satisfaction_mean_x100), 'satisfaction-mean'));
}

/** How many reached calls gave each score, 1 (poor) to 5 (excellent). */
function spread(a) {
  const counts = a.satisfaction_counts || [0, 0, 0, 0, 0];
  return section(t('calls.spread'), barChart({
    labels: counts.map((_, i) => t('calls.score', { n: i + 1 })),
    series: [{ name: t('calls.answers'), cls: 'company', values: counts }],
    format: number, testId: 'satisfaction-chart', caption: t('calls.spread'),
  }));
}

function groups(a) {
  const rows = (a.groups || []).map((g) => h('tr', { 'data-test': 'calls-row', 'data-key': g.key },
    h('td', {}, keyLabel(a.by, g.key)),
    h('td', { class: 'num' }, number(g.departed)),
    h('td', { class: 'num' }, number(g.called)),
    h('td', { class: 'num' }, number(g.reached)),
    h('td', { class: 'num' }, number(g.unreachable)),
    h('td', { class: 'num' }, number(g.pending)),
    h('td', { class: 'num' }, permille(g.reach_rate_permille)),
    h('td', { class: 'num' }, `${number(g.arrived_safely)} / ${number(g.not_arrived_safely)}`),
    h('td', { class: 'num' }, hundredths(g.satisfaction_mean_x100))));
  const card = section(t('calls.by_group', { by: t(`costs.dim.${a.by}`) }),
    rows.length ? h('div', { class: 'scroll' }, table([t(`costs.dim.${a.by}`), t('calls.departed'), t('calls.called'), t('calls.reached'),
      t('calls.unreachable'), t('calls.pending'), t('calls.reach_rate'), t('calls.arrived_not'), t('calls.mean')], rows,
    { class: 'figures', 'data-test': 'calls-table' })) : h('p', { class: 'empty' }, t('cube.empty')));
  card.classList.add('wide');
  return card;
}

function feedback(a) {
  const list = a.feedback || [];
  const said = (label, text) => (text ? h('div', {}, h('span', { class: 'muted' }, label, ': '), text) : null);
  return h('section', { class: 'card wide', 'data-test': 'feedback' },
    h('h2', {}, t('calls.feedback', { shown: number(list.length), total: number(a.feedback_total) })),
    list.length ? h('ul', { class: 'plain' }, list.map((f) => h('li', { 'data-test': 'feedback-item' },
      h('strong', {}, h('a', { href: `#/visit/${encodeURIComponent(f.visit_id)}` }, f.company)),
      ' · ', word('level', f.level), ' · ', f.host || t('board.no_host'), ' · ', dateTime(f.departed_at),
      f.satisfaction == null ? null : [' · ', t('calls.score', { n: f.satisfaction })],
      said(t('calls.products'), f.products),
      said(t('calls.corporate_image'), f.corporate_image),
      said(t('calls.reception'), f.reception),
      said(t('calls.suggestions'), f.suggestions))))
      : h('p', { class: 'empty' }, t('calls.no_feedback')));
}
