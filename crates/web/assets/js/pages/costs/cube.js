// The cost cube: a year's expenses by two dimensions crossed (or one), as a chart that
// stacks the second dimension's groups in bars of the first and a table of every
// figure the API gives per group, with the year's totals beneath.
import { api } from '../../api.js';
import { t } from '../../i18n.js';
import { h, fill, table, section } from '../../dom.js';
import { money, moneyShort, permille, number } from '../../fmt.js';
import { barChart } from '../../chart.js';
import { DIMENSIONS, keyLabel, choice, remember } from './common.js';

// The chart shows the largest groups of the first dimension, each bar stacking the
// largest values of the second and the rest together; the table shows every group.
const BARS = 12;
const STACK = 6;
const NONE = '';

export async function render(root, { year, params }) {
  let [first, second] = parse(params[0]);
  const results = h('div', { 'data-test': 'cube', 'aria-live': 'polite' });
  const controls = () => h('div', { class: 'filters' },
    choice({
      id: 'cube-first', label: t('cube.first'), value: first,
      options: DIMENSIONS.map((d) => [d, t(`costs.dim.${d}`)]),
      onchange: (v) => { first = v; if (second === first) second = NONE; redraw(); },
    }),
    choice({
      id: 'cube-second', label: t('cube.second'), value: second,
      options: [[NONE, t('cube.none')], ...DIMENSIONS.filter((d) => d !== first).map((d) => [d, t(`costs.dim.${d}`)])],
      onchange: (v) => { second = v; redraw(); },
    }));
  const bar = h('div', {});
  let asked = 0;
  async function redraw() {
    const mine = ++asked;
    const by = second ? `${first},${second}` : first;
    remember(year, 'cube', by);
    // the second choice loses the dimension chosen first
    const focused = document.activeElement?.id;
    fill(bar, controls());
    if (focused) document.getElementById(focused)?.focus();
    results.setAttribute('aria-busy', 'true');
    const answer = await api(`/api/v1/costs?year=${year}&by=${by}`);
    if (mine !== asked) return;
    results.removeAttribute('aria-busy');
    fill(results, chart(answer, first, second), figures(answer, first, second));
  }
  fill(root, section(t('cube.title'), h('p', { class: 'hint' }, t('cube.hint')), bar, results));
  await redraw();
  return null;
}

/** "level,category" from the address: two different dimensions, or one. */
function parse(raw) {
  const [a, b] = String(raw || 'level,category').split(',');
  const first = DIMENSIONS.includes(a) ? a : 'level';
  const second = DIMENSIONS.includes(b) && b !== first ? b : NONE;
  return [first, second];
}

/** Both parts of a group's key, whether one dimension or two. */
function parts(g) {
  return Array.isArray(g.key) ? g.key : [g.key, null];
}

function chart(answer, first, second) {
  const groups = answer.groups || [];
  const caption = second
    ? t('cube.chart_two', { a: t(`costs.dim.${first}`), b: t(`costs.dim.${second}`) })
    : t('cube.chart_one', { a: t(`costs.dim.${first}`) });
  if (!groups.length) return h('p', { class: 'empty' }, t('cube.empty'));
  const largest = (index) => {
    const sums = new Map();
    for (const g of groups) {
      const k = parts(g)[index];
      sums.set(k, (sums.get(k) || 0) + g.total_fen);
    }
    return [...sums.entries()].sort((x, y) => y[1] - x[1]).map(([k]) => k);
  };
  const bars = largest(0).slice(0, BARS);
  let series;
  if (!second) {
    const byKey = new Map(groups.map((g) => [g.key, g]));
    series = [
      { name: t('costs.company_paid'), cls: 'company', values: bars.map((k) => byKey.get(k).company_paid_fen) },
      { name: t('costs.visitor_paid'), cls: 'visitor', values: bars.map((k) => byKey.get(k).visitor_paid_fen) },
    ];
  } else {
    const stacked = largest(1).slice(0, STACK);
    const cell = (a, b) => groups.filter((g) => g.key[0] === a && (b === undefined ? !stacked.includes(g.key[1]) : g.key[1] === b))
      .reduce((s, g) => s + g.total_fen, 0);
    series = stacked.map((b, i) => ({ name: keyLabel(second, b), cls: `s${i}`, values: bars.map((a) => cell(a, b)) }));
    if (largest(1).length > STACK) {
      series.push({ name: t('cube.other'), cls: 's-other', values: bars.map((a) => cell(a, undefined)) });
    }
  }
  const more = largest(0).length > BARS ? h('p', { class: 'hint' }, t('cube.largest', { n: BARS })) : null;
  return h('div', {}, h('h3', {}, caption), more, barChart({
    labels: bars.map((k) => keyLabel(first, k)), series, format: money, short: moneyShort,
    testId: 'cube-chart', caption, labelled: Boolean(second),
  }));
}

function figures(answer, first, second) {
  const groups = answer.groups || [];
  const dims = second ? [first, second] : [first];
  const amounts = (x, perDay) => [
    h('td', { class: 'num', 'data-fen': x.total_fen, 'data-test': 'cube-total' }, money(x.total_fen)),
    h('td', { class: 'num' }, money(x.company_paid_fen)),
    h('td', { class: 'num' }, money(x.visitor_paid_fen)),
    h('td', { class: 'num' }, money(x.over_cap_fen)),
    h('td', { class: 'num' }, money(x.over_cap_approved_fen)),
    h('td', { class: 'num' }, money(x.over_cap_rejected_fen)),
    h('td', { class: 'num' }, money(x.over_cap_pending_fen)),
    h('td', { class: 'num' }, number(x.count)),
    h('td', { class: 'num' }, number(x.visitor_days)),
    h('td', { class: 'num' }, money(perDay)),
    h('td', { class: 'num' }, permille(x.cap_utilisation_permille)),
    h('td', { class: 'num' }, money(x.previous_year_total_fen)),
  ];
  const rows = groups.map((g) => h('tr', { 'data-test': 'cube-row', 'data-key': JSON.stringify(g.key) },
    parts(g).slice(0, dims.length).map((k, i) => h('td', {}, keyLabel(dims[i], k))),
    amounts(g, g.per_visitor_day_fen)));
  const headers = [
    ...dims.map((d) => t(`costs.dim.${d}`)),
    t('costs.total'), t('costs.company_paid'), t('costs.visitor_paid'), t('costs.over_cap'),
    t('cube.over_cap_approved'), t('cube.over_cap_rejected'), t('cube.over_cap_pending'),
    t('costs.count'), t('cube.visitor_days'), t('costs.per_visitor_day'), t('costs.cap_use'), t('costs.previous_year'),
  ];
  const tbl = table(headers, rows, { class: 'figures', 'data-test': 'cube-table' });
  tbl.append(h('tfoot', {}, h('tr', { 'data-test': 'cube-year' },
    h('th', { scope: 'row', colspan: dims.length }, t('cube.year_total')),
    amounts(answer, answer.cost_per_visitor_day_fen))));
  return h('div', { class: 'scroll' }, tbl);
}
