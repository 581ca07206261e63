// A year's reception spend: the year, the CSV export and the views, one module each
// under costs/: the overview (the API's figures by month, level and category, company
// against visitor paid, over cap approved / rejected / pending, the year before,
// narrowed to a department or a customer), the cube of two dimensions, budget against
// actual, and for the analysis roles the what-if of a proposed policy and the
// return-call satisfaction report.
import { download } from '../api.js';
import { t } from '../i18n.js';
import { h, fill } from '../dom.js';

// The views of the page: the module that draws each and the area of the API it reads.
const VIEWS = {
  overview: { area: 'costs', load: () => import('./costs/overview.js') },
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
  const sel = h('select', { id: 'year', 'data-test': 'year', onchange: (e) => {
    // the overview keeps its filter (a department or customer) into the other year
    const kept = view === 'overview' ? location.hash.split('/').slice(4).join('/') : '';
    location.hash = `#/costs/${e.target.value}/${view}${kept ? `/${kept}` : ''}`;
  } },
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
  const mod = await VIEWS[view].load();
  return mod.render(body, { year, params: params.slice(2) });
}
