// The shell: language, sign-in, navigation and the hash router that mounts one page
// module at a time (each page owns only the <main> element it is given).
import { load, lang, choose, t, LANGS } from './i18n.js';
import { takeTokenFromLink, token, setToken, clearToken, api } from './api.js';
import { h, fill } from './dom.js';

const PAGES = {
  board: () => import('./pages/board.js'),
  visit: () => import('./pages/visit.js'),
  costs: () => import('./pages/costs.js'),
  customers: () => import('./pages/customers.js'),
  complaints: () => import('./pages/complaints.js'),
  audit: () => import('./pages/audit.js'),
  notifications: () => import('./pages/notifications.js'),
};
const NAV = ['board', 'costs', 'customers', 'complaints', 'audit'];
// The area of the API each page reads (GET /api/v1/me lists the caller's areas).
const AREA = { board: 'board', visit: 'board', costs: 'costs', customers: 'customers', complaints: 'complaints', audit: 'audit' };

const main = document.getElementById('page');
let unmount = null;
let signOutReason = null;
// Who the token belongs to: { token, user, role, areas }, asked once per token.
let me = null;

async function whoAmI() {
  if (me && me.token === token()) return me;
  const answer = await api('/api/v1/me');
  me = { ...answer, token: token() };
  return me;
}

function offered(page) {
  // everyone reads their own notifications
  return !me || page === 'notifications' || me.areas.includes(AREA[page]);
}

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const name = PAGES[parts[0]] ? parts[0] : 'board';
  return { name, params: parts.slice(1) };
}

function renderChrome() {
  document.title = t('app.title');
  document.querySelector('.brand').textContent = t('app.title');
  const current = route().name;
  // no navigation until the caller's areas are known: a page the role may not read is
  // never offered, not even for the moment before GET /api/v1/me answers
  fill(document.getElementById('nav'), !token() || !me ? [] : NAV.filter(offered).map((p) => h('a', {
    href: `#/${p}`,
    'data-test': `nav-${p}`,
    'aria-current': (current === p || (p === 'board' && current === 'visit')) ? 'page' : null,
  }, t(`nav.${p}`))));
  const inbox = document.getElementById('inbox');
  inbox.hidden = !token() || !me;
  inbox.textContent = t('inbox.title');
  inbox.setAttribute('aria-current', current === 'notifications' ? 'page' : null);
  const other = LANGS.find((l) => l !== lang());
  const sw = document.getElementById('lang');
  sw.textContent = t(`lang.switch_to.${other}`);
  sw.setAttribute('aria-label', t('lang.switch'));
  sw.onclick = async () => { await choose(other); show(); };
  const out = document.getElementById('signout');
  out.hidden = !token();
  out.textContent = t('signin.out');
  const who = document.getElementById('who');
  who.textContent = token() && me ? `${me.user} · ${t(`role.${me.role}`)}` : '';
  out.onclick = () => { clearToken(); signOutReason = null; show(); };
}

/** The connection state shown in the header and, when lost, as a banner. */
export function connection(state, info) {
  const el = document.getElementById('conn');
  const banner = document.getElementById('banner');
  el.dataset.state = state || '';
  el.textContent = state ? t(`conn.${state}`) : '';
  if (state === 'lost') {
    banner.hidden = false;
    banner.textContent = t('conn.lost_banner', { secs: Math.ceil((info?.retryIn || 0) / 1000) });
  } else {
    banner.hidden = true;
  }
}

function loginForm() {
  connection(null);
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true, 'data-test': 'token-input' });
  const form = h('form', { class: 'card login', 'data-test': 'login' },
    h('h1', {}, t('signin.title')),
    signOutReason ? h('p', { class: 'error', role: 'alert', 'data-test': 'signin-error' }, t(signOutReason)) : null,
    h('label', { for: 'token' }, t('signin.token')),
    input,
    h('p', { class: 'hint' }, t('signin.hint')),
    h('button', { type: 'submit' }, t('signin.submit')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value);
    signOutReason = null;
    show();
  });
  fill(main, form);
  input.focus();
}

// Each call of show() is one visit to a page; a page still loading when the viewer has
// moved on must not draw over the next one.
let shown = 0;

async function show() {
  const mine = ++shown;
  if (unmount) { try { unmount(); } catch { /* a page's cleanup must not block the next */ } }
  unmount = null;
  renderChrome();
  if (!token()) { loginForm(); return; }
  const { name, params } = route();
  connection(null);
  fill(main, h('p', { class: 'loading', 'aria-busy': 'true' }, t('common.loading')));
  try {
    await whoAmI();
    if (mine !== shown) return;
    renderChrome();
    if (!offered(name)) {
      fill(main, h('p', { class: 'error', role: 'alert', 'data-test': 'not-offered' },
        t('common.not_offered', { role: t(`role.${me.role}`) })));
      return;
    }
    const mod = await PAGES[name]();
    if (mine !== shown) return;
    // The page draws into its own element, which a later visit detaches: a page that
    // finishes loading after the viewer moved on draws out of sight and is cleaned up.
    const root = h('div', { class: 'view' }, h('p', { class: 'loading', 'aria-busy': 'true' }, t('common.loading')));
    fill(main, root);
    // A page offers its own sub-views by the same areas (the costs page's analyses).
    const ctx = { connection, rerender: show, areas: me.areas, role: me.role };
    const cleanup = (await mod.render(root, params, ctx)) || null;
    if (mine === shown) {
      unmount = cleanup;
    } else if (cleanup) {
      try { cleanup(); } catch { /* ignore */ }
    }
  } catch (e) {
    if (e.status === 401 || mine !== shown) return;
    fill(main, h('p', { class: 'error', role: 'alert', 'data-test': 'page-error' },
      t('common.error', { message: e.message || String(e) })));
  }
}

window.addEventListener('unauthenticated', () => {
  signOutReason = 'signin.rejected';
  if (unmount) { try { unmount(); } catch { /* ignore */ } unmount = null; }
  show();
});
window.addEventListener('hashchange', () => {
  if (takeTokenFromLink()) signOutReason = null;
  show();
});

await load();
takeTokenFromLink();
show();
