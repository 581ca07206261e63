// A year's spend at a glance: the figures, charts by month, level and category, the
// over-cap split, and the tables by department and of the largest customers, each
// group beside its total of the year before. A filter narrows every figure to one
// department or one customer: the API's groups of two dimensions crossed
// (`by=department,month`) whose first key is the one chosen, and that department's
// (or customer's) own group for the figures; nothing is added up here.
import { api } from '../../api.js';
import { t, word } from '../../i18n.js';
import { h, fill, table, section } from '../../dom.js';
import { money, moneyShort, permille, number, change } from '../../fmt.js';
import { barChart } from '../../chart.js';
import { keyLabel, kpi, remember } from './common.js';

const TOP = 15;
const FILTERS = ['department', 'customer'];

export async function render(root, { year, params }) {
  let filter = parseFilter(params[0]);
  const q = (by) => api(`/api/v1/costs?year=${year}&by=${by}`);
  // Every department and customer with spend in the year: the choices of the filter,
  // and the figures of the one chosen.
  const [byDepartment, byCustomer] = await Promise.all([q('department'), q('customer')]);
  const whole = { department: byDepartment, customer: byCustomer };
  const bar = h('div', { class: 'filters', 'data-test': 'cost-filters' });
  const body = h('div', { 'data-test': 'overview', 'aria-live': 'polite' });
  fill(root, bar, body);

  let asked = 0;
  async function draw() {
    const mine = ++asked;
    remember(year, 'overview', filter ? `${filter.dim}:${filter.key}` : '');
    fill(bar, controls(filter, whole, (f) => { filter = f; draw(); }));
    body.setAttribute('aria-busy', 'true');
    const figures = await load(q, filter, whole);
    if (mine !== asked) return;
    body.removeAttribute('aria-busy');
    fill(body, overview(figures, filter, year));
  }
  await draw();
  return null;
}

/** "department:east-sales" or "customer:<name>" from the address; null for none. */
function parseFilter(raw) {
  const s = String(raw || '');
  const at = s.indexOf(':');
  const dim = s.slice(0, at);
  return at > 0 && FILTERS.includes(dim) && s.length > at + 1 ? { dim, key: s.slice(at + 1) } : null;
}

/** The keys of an answer's groups (one dimension). */
function keys(answer) {
  return (answer.groups || []).map((g) => String(g.key));
}

/**
 * The figures the page draws: `summary` (the year's, or the chosen group's), the
 * groups by month, level and category, and the tables by department and customer.
 */
async function load(q, filter, whole) {
  if (!filter) {
    const [month, level, category] = await Promise.all([q('month'), q('level'), q('category')]);
    return { summary: month, month, level, category, department: whole.department, customer: whole.customer };
  }
  const { dim, key } = filter;
  const own = (whole[dim].groups || []).find((g) => String(g.key) === key);
  // The chosen group's answer narrowed to its second dimension.
  const crossed = async (other) => {
    if (other === dim) return { groups: own ? [own] : [] };
    const answer = await q(`${dim},${other}`);
    return { groups: (answer.groups || []).filter((g) => g.key[0] === key).map((g) => ({ ...g, key: g.key[1] })) };
  };
  const [month, level, category, department, customer] = await Promise.all(
    ['month', 'level', 'category', 'department', 'customer'].map(crossed));
  const summary = own
    ? { ...own, cost_per_visitor_day_fen: own.per_visitor_day_fen }
    : { total_fen: 0, company_paid_fen: 0, visitor_paid_fen: 0, over_cap_fen: 0, over_cap_approved_fen: 0,
      over_cap_rejected_fen: 0, over_cap_pending_fen: 0, count: 0, previous_year_total_fen: 0 };
  return { summary, month, level, category, department, customer, empty: !own };
}

function controls(filter, whole, set) {
  const chosen = (dim) => (filter?.dim === dim ? filter.key : '');
  const dept = h('select', {
    id: 'filter-department', 'data-test': 'filter-department',
    onchange: (e) => set(e.target.value ? { dim: 'department', key: e.target.value } : null),
  }, h('option', { value: '' }, t('costs.all_departments')),
  keys(whole.department).map((k) => h('option', { value: k, selected: k === chosen('department') }, keyLabel('department', k))));

  const customers = keys(whole.customer);
  const note = h('span', { class: 'muted', role: 'status', 'data-test': 'filter-note' });
  const search = h('input', {
    type: 'search', id: 'filter-customer', 'data-test': 'filter-customer', list: 'customer-names',
    value: chosen('customer'), placeholder: t('costs.customer_search'), autocomplete: 'off',
  });
  // A name from the list, or a part of exactly one name.
  search.addEventListener('change', () => {
    const typed = search.value.trim();
    if (!typed) { if (filter?.dim === 'customer') set(null); return; }
    const lower = typed.toLowerCase();
    const found = customers.includes(typed) ? [typed] : customers.filter((c) => c.toLowerCase().includes(lower));
    if (found.length === 1) set({ dim: 'customer', key: found[0] });
    else note.textContent = t('costs.customer_matches', { n: found.length });
  });
  const clear = filter ? h('button', { type: 'button', 'data-test': 'filter-clear', onclick: () => set(null) }, t('costs.clear_filter')) : null;
  return [
    h('label', { for: 'filter-department' }, t('costs.dim.department')), dept,
    h('label', { for: 'filter-customer' }, t('costs.dim.customer')), search,
    h('datalist', { id: 'customer-names' }, customers.map((c) => h('option', { value: c }))),
    clear, note,
  ];
}

function overview(f, filter, year) {
  const s = f.summary;
  const yoy = s.change_vs_previous_permille !== undefined
    ? (s.change_vs_previous_permille == null ? '' : ` (${s.change_vs_previous_permille > 0 ? '+' : ''}${permille(s.change_vs_previous_permille)})`)
    : (s.previous_year_total_fen ? ` (${change(s.total_fen, s.previous_year_total_fen)})` : '');
  const what = filter ? keyLabel(filter.dim, filter.key) : null;
  // The largest spenders first; the whole list is in the CSV.
  const topCustomers = { groups: [...(f.customer.groups || [])].sort((a, b) => b.total_fen - a.total_fen).slice(0, TOP) };
  return [
    filter ? h('p', { class: 'hint', 'data-test': 'filter-on' }, t(`costs.only_${filter.dim}`, { what }),
      f.empty ? [' ', t('costs.no_spend', { what, year })] : null) : null,
    h('div', { class: 'kpis' },
      kpi(t('costs.total'), money(s.total_fen), 'total'),
      kpi(t('costs.company_paid'), money(s.company_paid_fen), 'company-paid'),
      kpi(t('costs.visitor_paid'), money(s.visitor_paid_fen), 'visitor-paid'),
      kpi(t('costs.over_cap'), money(s.over_cap_fen), 'over-cap'),
      kpi(t('costs.previous_year'), `${money(s.previous_year_total_fen)}${yoy}`, 'previous'),
      kpi(t('costs.count'), number(s.count), 'count'),
      kpi(t('costs.per_visitor_day'), money(s.cost_per_visitor_day_fen), 'per-day'),
      kpi(t('costs.cap_use'), permille(s.cap_utilisation_permille), 'cap-use')),
    h('div', { class: 'grid charts' },
      chartCard(t('costs.by_month'), f.month, (k) => k.slice(5), 'chart-month'),
      chartCard(t('costs.by_level'), f.level, (k) => word('level', k), 'chart-level'),
      chartCard(t('costs.by_category'), f.category, (k) => word('category', k), 'chart-category'),
      overCap(s),
      groupTable(t('costs.by_department'), f.department, (k) => keyLabel('department', k), 'table-department'),
      groupTable(t('costs.top_customers', { n: TOP }), topCustomers, (k) => k, 'table-customer')),
  ];
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

/** A group per row, its total beside the same group's of the year before. */
function groupTable(title, answer, label, testId) {
  const groups = answer.groups || [];
  const rows = groups.map((g) => h('tr', { 'data-key': g.key, 'data-test': testId ? `${testId}-row` : null },
    h('td', {}, label(String(g.key))),
    h('td', { class: 'num', 'data-fen': g.total_fen }, money(g.total_fen)),
    h('td', { class: 'num', 'data-previous-fen': g.previous_year_total_fen }, money(g.previous_year_total_fen)),
    h('td', { class: 'num' }, g.previous_year_total_fen ? change(g.total_fen, g.previous_year_total_fen) : '—'),
    h('td', { class: 'num' }, money(g.company_paid_fen)), h('td', { class: 'num' }, money(g.visitor_paid_fen)),
    h('td', { class: 'num' }, money(g.over_cap_fen)), h('td', { class: 'num' }, number(g.count))));
  const tbl = table([t('col.group'), t('costs.total'), t('costs.previous_year'), t('costs.change'), t('costs.company_paid'),
    t('costs.visitor_paid'), t('costs.over_cap'), t('costs.count')], rows, { class: 'figures', 'data-test': testId || null });
  if (!title) return h('details', {}, h('summary', {}, t('costs.figures')), tbl);
  const card = section(title, h('div', { class: 'scroll' }, tbl));
  card.classList.add('wide');
  return card;
}
