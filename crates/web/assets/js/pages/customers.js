// The customer archive: search by company or visitor, and one customer's profile with
// every visit, preferences and taboos, complaints and the "last time" digest.
import { api } from '../api.js';
import { t, word } from '../i18n.js';
import { h, fill, table, section } from '../dom.js';
import { dateTime } from '../fmt.js';

export async function render(root, params) {
  if (params[0] && params[0] !== 'q') return profile(root, params[0]);
  const input = h('input', { type: 'search', id: 'q', 'data-test': 'customer-search', placeholder: t('customers.search_hint'), value: params[0] === 'q' ? params[1] || '' : '' });
  const results = h('div', {});
  let seq = 0;
  async function search() {
    const mine = ++seq;
    const ans = await api(`/api/v1/customers?q=${encodeURIComponent(input.value)}`);
    if (mine !== seq) return;
    const list = ans.customers || [];
    fill(results, list.length ? table(
      [t('col.customer'), t('customers.country'), t('customers.visits'), t('customers.last_arrival'), t('customers.visitors')],
      list.slice(0, 200).map((c) => h('tr', { 'data-test': 'customer-row' },
        h('td', {}, h('a', { href: `#/customers/${encodeURIComponent(c.customer_id)}` }, c.company)),
        h('td', {}, c.country), h('td', { class: 'num' }, c.visits), h('td', {}, dateTime(c.last_arrival)),
        h('td', {}, (c.matched_visitors || []).join(', ')))))
      : h('p', { class: 'empty' }, t('customers.none')));
  }
  let timer;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 250); });
  fill(root, h('div', { 'data-test': 'customers' }, h('div', { class: 'toolbar' }, h('h1', {}, t('customers.title')),
    h('label', { for: 'q' }, t('customers.search')), input), results));
  await search();
  input.focus();
  return () => clearTimeout(timer);
}

async function profile(root, id) {
  const c = await api(`/api/v1/customers/${encodeURIComponent(id)}`);
  const last = c.last_time;
  fill(root, h('div', { 'data-test': 'customer' },
    h('div', { class: 'toolbar' }, h('h1', {}, c.company), h('span', { class: 'muted' }, c.country, c.foreign ? ` · ${t('customers.foreign')}` : '')),
    h('div', { class: 'grid' },
      section(t('customers.last_time'), last ? h('dl', { class: 'facts', 'data-test': 'last-time' },
        h('dt', {}, t('visit.arrival')), h('dd', {}, h('a', { href: `#/visit/${last.visit_id}` }, dateTime(last.arrival))),
        h('dt', {}, t('col.level')), h('dd', {}, word('level', last.level)),
        h('dt', {}, t('col.host')), h('dd', {}, last.host || '—'),
        h('dt', {}, t('customers.hotels')), h('dd', {}, (last.hotels || []).join(', ') || '—'),
        h('dt', {}, t('customers.venues')), h('dd', {}, (last.venues || []).join(', ') || '—'),
        h('dt', {}, t('customers.gifts')), h('dd', {}, (last.gifts || []).map((g) => g.item || g).join(', ') || '—'),
        h('dt', {}, t('customers.satisfaction')), h('dd', {}, last.satisfaction ?? '—'),
        h('dt', {}, t('customers.open_issues')), h('dd', {}, (last.open_issues || []).map((x) => x.text || JSON.stringify(x)).join('; ') || '—'))
        : h('p', { class: 'empty' }, t('visit.none'))),
      section(t('customers.preferences'), (c.preferences || []).length ? h('ul', { class: 'plain', 'data-test': 'preferences' },
        c.preferences.map((p) => h('li', {}, h('strong', {}, word('pref', p.kind)), ' · ', p.subject, ': ', p.text))) : h('p', { class: 'empty' }, t('visit.none'))),
      section(t('customers.visitors'), h('ul', { class: 'plain' }, (c.visitors || []).map((v) => h('li', {}, v.name, v.title ? ` · ${v.title}` : '', v.phone ? ` · ${v.phone}` : '')))),
      section(t('nav.complaints'), (c.complaints || []).length ? h('ul', { class: 'plain' }, c.complaints.map((x) => h('li', {},
        word('severity', x.severity), ' · ', word('category', x.category), ' · ', word('status', x.status), ' · ', x.description || '')))
        : h('p', { class: 'empty' }, t('visit.none'))),
      h('section', { class: 'card wide' }, h('h2', {}, t('customers.visits'), ` (${(c.visits || []).length})`),
        table([t('visit.arrival'), t('col.level'), t('col.host'), t('customers.department'), t('customers.purpose'), t('complaints.status')],
          (c.visits || []).slice().reverse().map((v) => h('tr', { 'data-test': 'customer-visit' },
            h('td', {}, h('a', { href: `#/visit/${v.visit_id}` }, dateTime(v.arrival))), h('td', {}, word('level', v.level)),
            h('td', {}, v.host || '—'), h('td', {}, v.department || ''), h('td', {}, v.purpose || ''), h('td', {}, word('vstatus', v.status)))))))));
}
