// A year's reception spend: the API's figures by month, level and category, company
// against visitor paid, over cap approved / rejected / pending, the year before, and
// the CSV export; and the analyses, one module each under costs/: the cube of two
// dimensions, budget against actual, and for the analysis roles the what-if of a
// proposed policy and the return-call satisfaction report.
import { api, download } from '../api.js';
import { t, word } from '../i18n.js';
import { h, fill, table, section } from '../dom.js';
import { money, moneyShort, permille, number } from '../fmt.js';
import { barChart } from '../chart.js';

const TOP = 15;

// The views of the page: the module that draws each and the area of the API it reads.
const VIEWS = {
  overview: { area: 'costs', load: null },
  cube: { area: 'costs', load: () => import('./costs/cube.js') },
  budget: { area: 'costs', load: () => import('./costs/budget.js') },
  'what-if': { area: 'analysis', load: () => import('./costs/what-if.js') },
  satisfaction: { area: 'analysis', load: () => import('./costs/satisfaction.js') },
};

export async function render(root, params, ctx) {
  const thisYear = new Date().getFullYear();
  const year = Number(params[0]) || thisYear;
  const view = VIEWS[params[1]] ? params[1] : 'overview';
  const mayRead = (name) => !ctx?.areas || ctx.areas.includes(VIEWS[name].area);

  const years = [];
  for (let y = thisYear; y >= thisYear - 4; y--) years.push(y);
  const sel = h('select', { id: 'year', 'data-test': 'year', onchange: (e) => { location.hash = `#/costs/${e.target.value}/${view}`; } },
    years.map((y) => h('option', { value: y, selected: y === year }, y)));
  const csv = h('button', { type: 'button', 'data-test': 'csv', onclick: () => download(`/api/v1/costs/export.csv?year=${year}`, `costs-${year}.csv`) }, t('costs.csv'));
  const csvLines = h('button', { type: 'button', onclick: () => download(`/api/v1/costs/export.csv?year=${year}&lines=true`, `costs-${year}-lines.csv`) }, t('costs.csv_lines'));
  const tabs = h('nav', { class: 'tabs views', 'aria-label': t('costs.views'), 'data-test': 'cost-views' },
    Object.keys(VIEWS).filter(mayRead).map((name) => h('a', {
      href: `#/costs/${year}/${name}`,
      'data-test': `view-${name}`,
      'aria-current': name === view ? 'page' : null,
    }, t(`costs.view.${name}`))));
  const body = h('div', { class: view === 'overview' ? '' : 'analysis', 'data-test': `view-body-${view}` });
  fill(root, h('div', { class: 'costs', 'data-test': 'costs' },
    h('div', { class: 'toolbar' }, h('h1', {}, t('costs.title', { year })),
      h('label', { for: 'year' }, t('costs.year')), sel, csv, csvLines),
    tabs, body));

  if (!mayRead(view)) {
    fill(body, h('p', { class: 'error', role: 'alert', 'data-test': 'not-offered' },
      t('costs.view_not_offered', { role: t(`role.${ctx.role}`) })));
    return null;
  }
  if (view === 'overview') return overview(body, year);
  const mod = await VIEWS[view].load();
  return mod.render(body, { year, params: params.slice(2) });
}

async function overview(root, year) {
  const q = (by) => api(`/api/v1/costs?year=${year}&by=${by}`);
  const [byMonth, byLevel, byCategory, byDepartment, byCustomer] = await Promise.all([q('month'), q('level'), q('category'), q('department'), q('customer')]);
  // The largest spenders first; the whole list is in the CSV.
  const topCustomers = { groups: [...(byCustomer.groups || [])].sort((a, b) => b.total_fen - a.total_fen).slice(0, TOP) };
  const s = byMonth;
  const kpi = (label, value, test) => h('div', { class: 'kpi', 'data-test': test }, h('span', { class: 'k' }, label), h('span', { class: 'v' }, value));
  const change = s.change_vs_previous_permille;
  fill(root,
    h('div', { class: 'kpis' },
      kpi(t('costs.total'), money(s.total_fen), 'total'),
      kpi(t('costs.company_paid'), money(s.company_paid_fen), 'company-paid'),
      kpi(t('costs.visitor_paid'), money(s.visitor_paid_fen), 'visitor-paid'),
      kpi(t('costs.over_cap'), money(s.over_cap_fen), 'over-cap'),
      kpi(t('costs.previous_year'), `${money(s.previous_year_total_fen)}${change == null ? '' : ` (${change > 0 ? '+' : ''}${permille(change)})`}`, 'previous'),
      kpi(t('costs.count'), number(s.count), 'count'),
      kpi(t('costs.per_visitor_day'), money(s.cost_per_visitor_day_fen), 'per-day'),
      kpi(t('costs.cap_use'), permille(s.cap_utilisation_permille), 'cap-use')),
    h('div', { class: 'grid charts' },
      chartCard(t('costs.by_month'), byMonth, (k) => k.slice(5), 'chart-month'),
      chartCard(t('costs.by_level'), byLevel, (k) => word('level', k), 'chart-level'),
      chartCard(t('costs.by_category'), byCategory, (k) => word('category', k), 'chart-category'),
      overCap(s),
      groupTable(t('costs.by_department'), byDepartment, (k) => k, true),
      groupTable(t('costs.top_customers', { n: TOP }), topCustomers, (k) => k, true)));
  return null;
}

function chartCard(title, answer, label, testId) {
  const groups = answer.groups || [];
  return section(title,
    barChart({
      labels: groups.map((g) => label(String(g.key))),
      series: [
        { name: t('costs.company_paid'), cls: 'company', values: groups.map((g) => g.company_paid_fen) },
        { name: t('costs.visitor_paid'), cls: 'visitor', values: groups.map((g) => g.visitor_paid_fen) },
      ],
      format: money, short: moneyShort, testId, caption: title,
    }),
    groupTable(null, answer, label));
}

function overCap(s) {
  return section(t('costs.over_cap_split'),
    barChart({
      labels: [t('decision.approved'), t('decision.rejected'), t('decision.pending')],
      series: [{ name: t('costs.over_cap'), cls: 'over', values: [s.over_cap_approved_fen, s.over_cap_rejected_fen, s.over_cap_pending_fen] }],
      format: money, short: moneyShort, testId: 'chart-over-cap', caption: t('costs.over_cap_split'),
    }));
}

function groupTable(title, answer, label, wide) {
  const groups = answer.groups || [];
  const rows = groups.map((g) => h('tr', { 'data-key': g.key },
    h('td', {}, label(String(g.key))), h('td', { class: 'num', 'data-fen': g.total_fen }, money(g.total_fen)),
    h('td', { class: 'num' }, money(g.company_paid_fen)), h('td', { class: 'num' }, money(g.visitor_paid_fen)),
    h('td', { class: 'num' }, money(g.over_cap_fen)), h('td', { class: 'num' }, number(g.count))));
  const tbl = table([t('col.group'), t('costs.total'), t('costs.company_paid'), t('costs.visitor_paid'), t('costs.over_cap'), t('costs.count')], rows, { class: 'figures' });
  if (!title) return h('details', {}, h('summary', {}, t('costs.figures')), tbl);
  const card = section(title, tbl);
  if (wide) card.classList.add('wide');
  return card;
}
