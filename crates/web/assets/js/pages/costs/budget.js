// Budget against actual (V22) of the visits arriving in the year: the totals, per
// cost-bearing department (a chart and a table) or per visit, and the visits over
// budget, the largest overrun first.
import { api } from '../../api.js';
import { t, word } from '../../i18n.js';
import { h, fill, table, section } from '../../dom.js';
import { money, moneyShort, number } from '../../fmt.js';
import { barChart } from '../../chart.js';
import { kpi, choice, remember } from './common.js';

export async function render(root, { year, params }) {
  let by = params[0] === 'visit' ? 'visit' : 'department';
  const results = h('div', { 'aria-live': 'polite' });
  const controls = h('div', { class: 'filters' }, choice({
    id: 'budget-by', label: t('budget.by'), value: by,
    options: [['department', t('costs.dim.department')], ['visit', t('budget.by_visit')]],
    onchange: (v) => { by = v; redraw(); },
  }));
  let asked = 0;
  async function redraw() {
    const mine = ++asked;
    remember(year, 'budget', by);
    const answer = await api(`/api/v1/costs/budget?year=${year}&by=${by}`);
    if (mine !== asked) return;
    fill(results, totals(answer), by === 'department' ? departments(answer) : visits(answer.visits || [], 'budget-visits'),
      section(t('budget.over_title', { n: number(answer.visits_over_budget) }),
        answer.over_budget?.length ? visitTable(answer.over_budget, 'budget-over')
          : h('p', { class: 'empty' }, t('budget.none_over'))));
  }
  fill(root, h('div', { 'data-test': 'budget' },
    h('div', { class: 'toolbar' }, h('h2', {}, t('budget.title')), controls), results));
  await redraw();
  return null;
}

function totals(a) {
  return h('div', { class: 'kpis' },
    kpi(t('budget.budget'), money(a.budget_fen), 'budget-total'),
    kpi(t('budget.actual'), money(a.actual_fen), 'budget-actual'),
    kpi(t('budget.difference'), signed(a.difference_fen), 'budget-difference', a.difference_fen > 0 ? 'over' : ''),
    kpi(t('budget.with_budget'), number(a.visits_with_budget), 'budget-with'),
    kpi(t('budget.over_count'), number(a.visits_over_budget), 'budget-over-count', a.visits_over_budget > 0 ? 'over' : ''),
    kpi(t('budget.without_budget'), `${number(a.visits_without_budget)} · ${money(a.without_budget_actual_fen)}`, 'budget-without'));
}

/** +¥12.00 over, −¥3.00 under: the sign is written, not only coloured. */
function signed(fen) {
  if (fen === null || fen === undefined) return '—';
  return fen > 0 ? `+${money(fen)}` : money(fen);
}

function departments(a) {
  const groups = a.groups || [];
  const label = (g) => word('dept', g.department);
  const rows = groups.map((g) => h('tr', { 'data-test': 'budget-row', class: g.difference_fen > 0 ? 'over' : '' },
    h('td', {}, label(g)),
    h('td', { class: 'num' }, money(g.budget_fen)),
    h('td', { class: 'num', 'data-fen': g.actual_fen }, money(g.actual_fen)),
    h('td', { class: 'num' }, signed(g.difference_fen)),
    h('td', { class: 'num' }, number(g.visits_with_budget)),
    h('td', { class: 'num' }, number(g.visits_over_budget)),
    h('td', { class: 'num' }, number(g.visits_without_budget)),
    h('td', { class: 'num' }, money(g.without_budget_actual_fen))));
  return section(t('budget.by_department'),
    groups.length ? barChart({
      labels: groups.map(label),
      series: [
        { name: t('budget.budget'), cls: 'budget', values: groups.map((g) => g.budget_fen) },
        { name: t('budget.actual'), cls: 'company', values: groups.map((g) => g.actual_fen) },
      ],
      format: money, short: moneyShort, grouped: true, testId: 'budget-chart', caption: t('budget.by_department'),
    }) : h('p', { class: 'empty' }, t('cube.empty')),
    h('div', { class: 'scroll' }, table([t('costs.dim.department'), t('budget.budget'), t('budget.actual'), t('budget.difference'),
      t('budget.with_budget'), t('budget.over_count'), t('budget.without_budget'), t('budget.without_budget_actual')], rows,
    { class: 'figures', 'data-test': 'budget-departments' })));
}

function visits(list, test) {
  return section(t('budget.every_visit', { n: number(list.length) }),
    list.length ? visitTable(list, test) : h('p', { class: 'empty' }, t('cube.empty')));
}

function visitTable(list, test) {
  const rows = list.map((v) => h('tr', { 'data-test': `${test}-row`, class: v.over_budget ? 'over' : '' },
    h('td', {}, h('a', { href: `#/visit/${encodeURIComponent(v.visit_id)}` }, v.customer)),
    h('td', {}, word('level', v.level)),
    h('td', {}, word('dept', v.department)),
    h('td', { class: 'num' }, money(v.budget_fen)),
    h('td', { class: 'num' }, money(v.actual_fen)),
    h('td', { class: 'num' }, signed(v.difference_fen)),
    h('td', {}, v.over_budget ? h('span', { class: 'flag urgent' }, t('budget.over_flag'))
      : v.budget_fen == null ? t('budget.no_budget') : t('budget.within'))));
  return h('div', { class: 'scroll' }, table([t('col.customer'), t('col.level'), t('costs.dim.department'), t('budget.budget'),
    t('budget.actual'), t('budget.difference'), t('budget.judgement')], rows, { class: 'figures', 'data-test': test }));
}
