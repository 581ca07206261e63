// The board: open visits (filtered by stage and host, paged), today's timeline, open
// complaints with their clocks and people on site; live from the board stream.
import { openStream } from '../stream.js';
import { t, word } from '../i18n.js';
import { h, fill, table, section } from '../dom.js';
import { dateTime, time, relative, number } from '../fmt.js';

const STAGES = ['requested', 'level_assigned', 'plan_drafted', 'plan_approved', 'ready', 'on_site', 'departed'];
const PAGE = 50;
// Flags that need someone now are red; the others amber.
const URGENT = new Set(['car_late', 'plan_overdue', 'readiness_overdue', 'late_request']);

export function flagChips(flags) {
  return h('ul', { class: 'flags' }, (flags || []).map((f) => h('li', {
    class: `flag ${URGENT.has(f) ? 'urgent' : 'warn'}`, 'data-flag': f,
  }, h('span', { 'aria-hidden': 'true' }, URGENT.has(f) ? '▲ ' : '⚠ '), word('flag', f))));
}

export async function render(root, _params, ctx) {
  const state = { board: null, stage: '', host: '', page: 0, updated: null };
  const body = h('div', { class: 'board', 'data-test': 'board' });
  fill(root, body);

  function draw() {
    const b = state.board;
    if (!b) { fill(body, h('p', { class: 'loading' }, t('common.loading'))); return; }
    const visits = b.visits || [];
    const hosts = [...new Set(visits.map((v) => v.host).filter(Boolean))].sort();
    const shown = visits.filter((v) => (!state.stage || v.stage === state.stage) && (!state.host || v.host === state.host));
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const page = shown.slice(state.page * PAGE, (state.page + 1) * PAGE);

    const counts = Object.fromEntries(STAGES.map((s) => [s, 0]));
    for (const v of visits) counts[v.stage] = (counts[v.stage] || 0) + 1;
    const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': t('board.filter_stage') },
      [['', visits.length], ...STAGES.map((s) => [s, counts[s]])].map(([s, n]) => h('button', {
        type: 'button', 'aria-pressed': String(state.stage === s), 'data-test': `stage-${s || 'all'}`,
        onclick: () => { state.stage = s; state.page = 0; draw(); },
      }, `${s ? word('stage', s) : t('board.all_stages')} (${number(n)})`)));
    const hostSel = h('select', { id: 'host-filter', 'data-test': 'host-filter',
      onchange: (e) => { state.host = e.target.value; state.page = 0; draw(); } },
      h('option', { value: '' }, t('board.all_hosts')),
      hosts.map((x) => h('option', { value: x, selected: x === state.host }, x)));

    const rows = page.map((v) => h('tr', { 'data-test': 'board-row', 'data-visit': v.visit_id },
      h('td', {}, h('a', { href: `#/visit/${v.visit_id}` }, v.customer)),
      h('td', {}, word('level', v.level)),
      h('td', {}, h('span', { class: `stage stage-${v.stage}` }, word('stage', v.stage))),
      h('td', {}, v.host || t('board.no_host')),
      h('td', {}, word('step', v.next_step)),
      h('td', { class: dueClass(v.next_due) }, v.next_due
        ? [dateTime(v.next_due), h('br'), h('small', { 'data-due': v.next_due }, relative(v.next_due))] : '—'),
      h('td', {}, flagChips(v.flags))));

    const pager = pages > 1 ? h('nav', { class: 'pager', 'aria-label': t('common.pages') },
      h('button', { type: 'button', disabled: state.page === 0, onclick: () => { state.page--; draw(); } }, t('common.prev')),
      h('span', {}, t('common.page_of', { page: state.page + 1, pages })),
      h('button', { type: 'button', disabled: state.page >= pages - 1, onclick: () => { state.page++; draw(); } }, t('common.next'))) : null;

    // A pushed update must not take the keyboard focus away from a filter.
    const focused = body.contains(document.activeElement) ? document.activeElement.dataset.test : null;
    fill(body,
      h('div', { class: 'toolbar' },
        h('h1', {}, t('board.title')),
        h('span', { class: 'muted', 'data-test': 'open-count' }, t('board.open_count', { n: number(visits.length) })),
        state.updated ? h('span', { class: 'muted' }, t('board.updated', { at: time(state.updated) })) : null),
      h('div', { class: 'filters' }, tabs, h('label', { for: 'host-filter' }, t('board.filter_host')), hostSel),
      h('div', { class: 'grid' },
        h('section', { class: 'card wide' },
          h('h2', {}, t('board.visits'), ' ', h('span', { class: 'muted' }, `(${number(shown.length)})`)),
          shown.length ? table([t('col.customer'), t('col.level'), t('col.stage'), t('col.host'), t('col.next_step'),
            t('col.due'), t('col.flags')], rows, { class: 'visits' }) : h('p', { class: 'empty' }, t('board.none')),
          pager),
        today(b.today || []), followUps(b.follow_ups || []), complaints(b.complaints || []), onSite(b.on_site || [])));
    if (focused) body.querySelector(`[data-test="${focused}"]`)?.focus();
  }

  // The shell names the live feed (the same path on the writer and on read replicas).
  const stream = openStream(document.getElementById('page').dataset.boardStream || '/api/v1/board/stream', {
    onEvent: (name, data) => {
      if (name !== 'board') return;
      state.board = data;
      state.updated = new Date().toISOString();
      draw();
    },
    onState: (s, info) => ctx.connection(s, info),
  });
  // The countdowns move without new data.
  const tick = setInterval(() => {
    for (const el of body.querySelectorAll('[data-due]')) el.textContent = relative(el.dataset.due);
  }, 30000);
  draw();
  return () => { stream.close(); clearInterval(tick); ctx.connection(null); };
}

function dueClass(iso) {
  if (!iso) return '';
  return new Date(iso).getTime() < Date.now() ? 'overdue' : '';
}

function today(items) {
  return section(t('board.today'), items.length
    ? h('ol', { class: 'timeline', 'data-test': 'today' }, items.map((i) => h('li', {},
      h('time', { datetime: i.at }, time(i.at)), ' ',
      h('strong', {}, word('kind', i.kind)), ' ', i.kind === 'task' ? word('task', i.title) : i.title,
      i.place ? [' · ', i.place] : null, ' · ',
      h('a', { href: `#/visit/${i.visit_id}` }, i.customer))))
    : h('p', { class: 'empty' }, t('board.today_none')));
}

function complaints(list) {
  return section(t('board.complaints'), list.length
    ? h('ul', { class: 'plain', 'data-test': 'board-complaints' }, list.map((c) => {
      const next = (c.deadlines || []).find((d) => !d.met_at);
      return h('li', { class: c.overdue ? 'overdue' : '' },
        h('strong', {}, c.customer), ' · ', word('severity', c.severity), ' · ', word('status', c.status),
        next ? [h('br'), word('step', next.item), ': ', dateTime(next.due_at), ' (', relative(next.due_at), ')'] : null,
        c.overdue ? [' ', h('span', { class: 'flag urgent' }, t('common.overdue'))] : null);
    }))
    : h('p', { class: 'empty' }, t('board.complaints_none')));
}

// V28: the follow-ups (督办) still open, overdue first; they outlive their visits.
function followUps(list) {
  const sorted = [...list].sort((a, b) => (b.overdue - a.overdue) || String(a.due).localeCompare(String(b.due)));
  return section(t('board.follow_ups'), sorted.length
    ? h('ul', { class: 'plain', 'data-test': 'board-follow-ups' }, sorted.map((f) => h('li', { class: f.overdue ? 'overdue' : '' },
      h('a', { href: `#/visit/${f.visit_id}` }, h('strong', {}, f.customer)), ' · ', f.text, ' · ', t('col.owner'), ': ', f.owner,
      f.due ? [h('br'), dateTime(f.due), ' (', h('span', { 'data-due': f.due }, relative(f.due)), ')'] : null,
      f.overdue ? [' ', h('span', { class: 'flag urgent' }, t('common.overdue'))] : null)))
    : h('p', { class: 'empty' }, t('board.follow_ups_none')));
}

function onSite(list) {
  return section(t('board.on_site'), list.length
    ? h('ul', { class: 'plain', 'data-test': 'on-site' }, list.map((p) => h('li', {},
      h('strong', {}, p.name), ` ×${p.party_size} · `, p.reason, ' · ', t('col.host'), ': ', p.host,
      p.customer ? [' · ', h('a', { href: `#/visit/${p.visit_id}` }, p.customer)] : null,
      p.since ? [' · ', t('board.since', { at: time(p.since) })] : null)))
    : h('p', { class: 'empty' }, t('board.on_site_none')));
}
