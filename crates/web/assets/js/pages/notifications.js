// The signed-in person's own notifications (GET /api/v1/me/notifications): newest
// first, unread marked, each with a link to what it is about; "mark all read".
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, fill } from '../dom.js';
import { dateTime, number } from '../fmt.js';

export async function render(root) {
  const mine = await api('/api/v1/me/notifications?limit=200');
  const items = mine.notifications || [];
  const unread = items.filter((n) => !n.read).map((n) => n.id);
  const markAll = h('button', {
    type: 'button', 'data-test': 'mark-read', disabled: unread.length ? null : true,
    onclick: async () => {
      await api('/api/v1/me/notifications/read', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: unread }) });
      await render(root);
    },
  }, t('inbox.mark_read'));
  const rows = items.map((n) => h('li', { class: n.read ? 'note' : 'note unread', 'data-test': 'notification' },
    h('div', {},
      n.urgent ? h('span', { class: 'flag urgent' }, t('inbox.urgent')) : null,
      n.read ? null : h('span', { class: 'flag' }, t('inbox.unread')),
      h('strong', {}, n.title)),
    h('p', {}, n.body),
    h('p', { class: 'hint' }, dateTime(n.created_at), ' · ', h('a', { href: n.link }, t('inbox.open')))));
  fill(root, h('div', { 'data-test': 'inbox' },
    h('div', { class: 'toolbar' },
      h('h1', {}, t('inbox.title')),
      h('span', { 'data-test': 'unread-count' }, t('inbox.unread_count', { n: number(mine.unread) })),
      markAll),
    items.length ? h('ul', { class: 'plain notes' }, rows) : h('p', { class: 'empty' }, t('inbox.none'))));
}
