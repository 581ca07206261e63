// Audit: the global event feed, paged (newest page first), the hash chain's
// verification, and finding a visit by id or a customer by name.
import { api } from '../api.js';
import { t, word } from '../i18n.js';
import { h, fill, table } from '../dom.js';
import { dateTime, number } from '../fmt.js';

const PAGE = 50;

export async function render(root, params) {
  let after = params[0] !== undefined ? Number(params[0]) : null;
  if (after === null) {
    const probe = await api('/api/v1/events?after=0&limit=1');
    after = Math.max(0, probe.head - PAGE);
  }
  const feed = await api(`/api/v1/events?after=${after}&limit=${PAGE}`);
  const verify = h('div', { 'data-test': 'verify-result', role: 'status' });
  const find = h('input', { id: 'find', 'data-test': 'find', placeholder: t('audit.find_hint') });
  const go = (e) => {
    e.preventDefault();
    const v = find.value.trim();
    if (/^[0-9a-f-]{36}$/i.test(v)) location.hash = `#/visit/${v}`;
    else if (v) location.hash = `#/customers/q/${encodeURIComponent(v)}`;
  };
  const rows = (feed.events || []).map((e) => h('tr', { 'data-test': 'feed-row' },
    h('td', { class: 'num' }, e.seq), h('td', {}, dateTime(e.recorded_at)), h('td', {}, word('ev', e.type)),
    h('td', {}, e.stream.startsWith('visit-') ? h('a', { href: `#/visit/${e.stream.slice(6)}` }, e.stream) : e.stream),
    h('td', {}, e.actor?.user, ' (', word('role', e.actor?.role), ')'), h('td', { class: 'mono short', title: e.hash }, e.hash.slice(0, 16), '…')));
  const prev = Math.max(0, after - PAGE);
  fill(root, h('div', { 'data-test': 'audit' },
    h('div', { class: 'toolbar' }, h('h1', {}, t('audit.title')),
      h('button', { type: 'button', 'data-test': 'verify', onclick: () => runVerify(verify) }, t('audit.verify')), verify),
    h('form', { class: 'toolbar', onsubmit: go }, h('label', { for: 'find' }, t('audit.find')), find, h('button', { type: 'submit' }, t('audit.go'))),
    h('section', { class: 'card wide' },
      h('h2', {}, t('audit.feed', { from: number(after + 1), to: number(feed.next_after), head: number(feed.head) })),
      table(['#', t('col.when'), t('audit.type'), t('audit.stream'), t('audit.actor'), t('visit.hash')], rows),
      h('nav', { class: 'pager' },
        h('a', { href: `#/audit/0` }, t('audit.first')),
        after > 0 ? h('a', { href: `#/audit/${prev}` }, t('common.prev')) : null,
        feed.next_after < feed.head ? h('a', { href: `#/audit/${feed.next_after}` }, t('common.next')) : null,
        h('a', { href: '#/audit' }, t('audit.latest'))))));
}

async function runVerify(el) {
  fill(el, t('audit.verifying'));
  const r = await api('/api/v1/audit/verify');
  el.className = r.ok ? 'ok' : 'error';
  fill(el, r.ok ? t('audit.ok', { n: number(r.events_checked) }) : t('audit.broken', { seq: r.first_bad_seq, n: number(r.events_checked) }),
    r.reason ? h('div', { 'data-test': 'verify-reason' }, r.reason) : null,
    // every event after the log adopted its key is signed by the key in force
    r.key_id ? h('div', { 'data-test': 'verify-signed' }, t('audit.signed', { n: number(r.signed ?? 0), key: r.key_id })) : null,
    h('div', { class: 'mono short' }, r.head_hash || ''));
}
