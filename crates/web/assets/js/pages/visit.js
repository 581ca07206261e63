// One visit: its current state, flags and deadlines, its approval and budget, its
// preparation tasks and follow-ups, bookings against their caps, expenses with their
// judgement, the timeline of its events in words, and a replay
// slider that shows the visit as it stood after any event (history?as_of=), its flags
// as the server judged them at that instant.
import { api } from '../api.js';
import { t, word } from '../i18n.js';
import { h, fill, table, section } from '../dom.js';
import { dateTime, money, relative } from '../fmt.js';
import { flagChips } from './board.js';

// Fields of an event's data that carry ids or repeat the envelope: not shown in words.
const HIDDEN = new Set(['visit_id', 'booking_id', 'expense_id', 'souvenir_id', 'matter_id', 'car_id', 'policy_version', 'follow_up_id', 'attempt_id']);

export async function render(root, params) {
  const id = params[0];
  const [current, history] = await Promise.all([
    api(`/api/v1/visits/${encodeURIComponent(id)}`),
    api(`/api/v1/visits/${encodeURIComponent(id)}/history`),
  ]);
  const events = history.events || [];
  const head = h('div', {});
  const replay = h('section', { class: 'card', 'data-test': 'replay' });
  const details = h('div', { class: 'grid' });
  const timeline = h('section', { class: 'card wide' });
  fill(root, h('div', { class: 'visit', 'data-test': 'visit' }, head, replay, details, timeline));

  fill(head, h('div', { class: 'toolbar' },
    h('h1', { 'data-test': 'visit-customer' }, current.customer?.company || id),
    h('span', { class: 'muted' }, current.purpose || '')));

  let seqShown = events.length;
  const slider = h('input', {
    type: 'range', id: 'replay', min: 0, max: events.length, value: events.length, step: 1,
    'data-test': 'replay-slider', 'aria-label': t('visit.replay'),
  });
  const at = h('output', { for: 'replay', 'data-test': 'replay-at' });
  const asOf = h('div', { 'data-test': 'replay-state' });
  fill(replay, h('h2', {}, t('visit.replay')), h('p', { class: 'hint' }, t('visit.replay_hint')),
    h('div', { class: 'slider' }, slider, at), asOf);

  async function showAt(n) {
    seqShown = n;
    const ev = events[n - 1];
    if (n >= events.length) {
      at.textContent = t('visit.now');
      drawState(asOf, current, current.flags, true);
      return;
    }
    if (n === 0) {
      at.textContent = t('visit.before_all');
      fill(asOf, h('p', { class: 'empty' }, t('visit.nothing_yet')));
      return;
    }
    at.textContent = t('visit.after_event', { n, type: word('ev', ev.type), at: dateTime(ev.occurred_at), recorded: dateTime(ev.recorded_at) });
    const past = await api(`/api/v1/visits/${encodeURIComponent(id)}/history?as_of=${encodeURIComponent(ev.recorded_at)}`);
    // A later move of the slider may have answered first.
    if (seqShown !== n) return;
    // The flags as the server judged them at that instant (never recomputed here).
    drawState(asOf, past.state, past.flags, false, past.events.length, past.flags_at);
  }
  slider.addEventListener('input', () => showAt(Number(slider.value)));
  await showAt(events.length);

  const wide = (el) => { el.classList.add('wide'); return el; };
  fill(details, approval(current), wide(tasks(current)), wide(bookings(current)), wide(expenses(current)),
    wide(deadlines(current)), followUps(current));
  fill(timeline, h('h2', {}, t('visit.timeline'), ' ', h('span', { class: 'muted' }, `(${events.length})`)),
    h('ol', { class: 'events', 'data-test': 'timeline' }, events.map((e, i) => eventItem(e, i, slider, showAt))));
}

function drawState(el, s, flags, isNow, count, judgedAt) {
  fill(el, h('dl', { class: 'facts' },
    h('dt', {}, t('col.stage')), h('dd', { 'data-test': 'state-stage' }, h('span', { class: `stage stage-${s.stage}` }, word('stage', s.stage))),
    h('dt', {}, t('col.level')), h('dd', { 'data-test': 'state-level' }, word('level', s.level)),
    h('dt', {}, t('col.host')), h('dd', {}, s.host || t('board.no_host')),
    h('dt', {}, t('visit.headcount')), h('dd', {}, s.headcount ?? '—'),
    h('dt', {}, t('visit.arrival')), h('dd', {}, dateTime(s.arrival?.at)),
    h('dt', {}, t('visit.departure')), h('dd', {}, dateTime(s.departure?.at)),
    isNow ? [h('dt', {}, t('col.next_step')), h('dd', {}, word('step', s.next_step), s.next_due ? ` · ${dateTime(s.next_due)} (${relative(s.next_due)})` : '')] : null,
    h('dt', {}, t('col.flags')), h('dd', { 'data-test': 'state-flags' }, flags && flags.length ? flagChips(flags) : t('visit.no_flags'),
      isNow ? null : h('div', { class: 'muted' }, t('visit.flags_at', { at: dateTime(judgedAt) }))),
    isNow ? null : [h('dt', {}, t('visit.events_applied')), h('dd', {}, count)]));
}

function bookings(v) {
  const b = v.bookings || {};
  const rows = [];
  for (const [kind, list] of Object.entries(b)) {
    for (const x of list || []) {
      const amount = x.budget_fen ?? x.total_fen ?? (x.rate_fen != null ? x.rate_fen * (x.rooms || 1) * (x.nights || 1) : null);
      rows.push(h('tr', { class: x.over_cap ? 'over' : '' },
        h('td', {}, word('booking', kind), x.meal ? ` · ${word('meal', x.meal)}` : ''),
        h('td', {}, dateTime(x.at)),
        h('td', {}, x.venue || x.hotel || x.kind || ''),
        h('td', { class: 'num' }, money(amount)),
        h('td', { class: 'num' }, x.cap_fen == null ? t('visit.no_cap') : money(x.cap_fen)),
        h('td', {}, x.over_cap ? h('span', { class: 'flag warn' }, t('visit.over_cap')) : t('visit.within_cap'),
          x.override ? h('div', { class: 'muted' }, t('visit.override', { reason: x.override.reason })) : null)));
    }
  }
  return section(t('visit.bookings'), rows.length
    ? table([t('col.kind'), t('col.when'), t('col.place'), t('col.amount'), t('col.cap'), t('col.judgement')], rows, { 'data-test': 'bookings' })
    : h('p', { class: 'empty' }, t('visit.none')));
}

// V22: who approved the request, or why it was returned or rejected.
function approval(v) {
  const a = v.approval || {};
  const given = (a.given || []).map((g) => h('li', {},
    word('approval', g.as), ' · ', g.approver, ' · ', dateTime(g.at), g.comments ? ` · ${g.comments}` : ''));
  const budget = v.budget_fen == null ? t('visit.no_budget') : money(v.budget_fen);
  return section(t('visit.approval'), h('dl', { class: 'facts', 'data-test': 'approval' },
    h('dt', {}, t('visit.approval_status')), h('dd', { 'data-test': 'approval-status' }, a.required === false ? t('visit.approval_not_required')
      // approvals given and a level assigned: the request went through
      : word('approval_status', a.status === 'pending' && (a.given || []).length && v.level ? 'approved' : a.status)),
    h('dt', {}, t('visit.budget')), h('dd', {}, budget),
    h('dt', {}, t('visit.cost_department')), h('dd', {}, v.cost_department || v.department || '—'),
    a.comments ? [h('dt', {}, t('col.comments')), h('dd', {}, a.comments)] : null),
  given.length ? h('ul', {}, given) : null);
}

// V26: the preparation tasks with their due times.
function tasks(v) {
  const rows = (v.tasks || []).map((x) => h('tr', { class: x.overdue ? 'over' : '' },
    h('td', {}, word('task', x.id)), h('td', {}, dateTime(x.due)),
    h('td', {}, x.done_at ? dateTime(x.done_at) : t('visit.open')),
    h('td', {}, x.notes || ''),
    h('td', {}, x.overdue ? h('span', { class: 'flag urgent' }, t('common.overdue')) : (x.done_at ? '✓' : ''))));
  return section(t('visit.tasks'), rows.length
    ? table([t('col.item'), t('col.due'), t('col.met'), t('col.notes'), ''], rows, { 'data-test': 'tasks' })
    : h('p', { class: 'empty' }, t('visit.none')));
}

// V28: follow-ups (督办) on the confirmed matters, open ones outlive the visit.
function followUps(v) {
  const now = Date.now();
  const rows = (v.follow_ups || []).map((f) => {
    const late = !f.completed && Date.parse(f.due) < now;
    return h('tr', { class: late ? 'over' : '' },
      h('td', {}, f.text), h('td', {}, f.owner), h('td', {}, dateTime(f.due)),
      h('td', {}, f.completed ? dateTime(f.completed.completed_at) : t('visit.open')),
      h('td', {}, late ? h('span', { class: 'flag urgent' }, t('common.overdue')) : (f.completed ? '✓' : '')));
  });
  return section(t('visit.follow_ups'), rows.length
    ? table([t('col.item'), t('col.owner'), t('col.due'), t('col.met'), ''], rows, { 'data-test': 'follow-ups' })
    : h('p', { class: 'empty' }, t('visit.none')));
}

function expenses(v) {
  const rows = (v.expenses || []).map((x) => h('tr', { class: x.over_cap ? 'over' : '' },
    h('td', {}, word('category', x.category), x.subcategory ? ` · ${word('subcategory', x.subcategory)}` : '',
      x.description ? h('div', { class: 'muted' }, x.description, x.vendor ? ` · ${x.vendor}` : '') : null),
    h('td', {}, dateTime(x.spent_at || x.recorded_at)),
    h('td', { class: 'num' }, money(x.amount_fen)),
    h('td', {}, word('paid_by', x.paid_by)),
    h('td', { class: 'num' }, x.cap_fen == null ? t('visit.no_cap') : money(x.cap_fen)),
    h('td', {}, x.over_cap ? h('span', { class: 'flag warn' }, t('visit.over_cap')) : t('visit.within_cap')),
    h('td', {}, decision(x))));
  return section(t('visit.expenses'), rows.length
    ? table([t('col.category'), t('col.spent_at'), t('col.amount'), t('col.paid_by'), t('col.cap'), t('col.judgement'), t('col.decision')], rows, { 'data-test': 'expenses' })
    : h('p', { class: 'empty' }, t('visit.none')));
}

function decision(x) {
  if (!x.over_cap) return '—';
  if (!x.decision) return h('span', { class: 'flag warn' }, t('decision.pending'));
  return x.decision.approved ? t('decision.approved') : h('span', { class: 'flag urgent' }, t('decision.rejected'));
}

function deadlines(v) {
  const rows = (v.deadlines || []).map((d) => h('tr', { class: d.overdue ? 'over' : '' },
    h('td', {}, word('step', d.item)), h('td', {}, d.rule || ''), h('td', {}, dateTime(d.due_at)),
    h('td', {}, d.met_at ? dateTime(d.met_at) : t('visit.open')),
    h('td', {}, d.overdue ? h('span', { class: 'flag urgent' }, t('common.overdue')) : (d.met_at ? '✓' : ''))));
  return section(t('visit.deadlines'), rows.length
    ? table([t('col.item'), t('col.rule'), t('col.due'), t('col.met'), ''], rows) : h('p', { class: 'empty' }, t('visit.none')));
}

function describe(data) {
  const parts = [];
  for (const [k, v] of Object.entries(data || {})) {
    if (HIDDEN.has(k) || v === null || v === undefined || typeof v === 'object') continue;
    let val = v;
    if (k.endsWith('_fen')) val = money(v);
    else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) val = dateTime(v);
    else if (typeof v === 'boolean') val = v ? t('common.yes') : t('common.no');
    else if (['level', 'category', 'paid_by', 'leg', 'meal', 'task', 'subcategory', 'severity'].includes(k)) val = word(k, v);
    else if (k === 'previous_level' || k === 'proposed_level') val = word('level', v);
    else if (k === 'as') val = word('approval', v);
    parts.push(h('span', { class: 'kv' }, h('span', { class: 'k' }, word('field', k)), ' ', String(val)));
  }
  return parts;
}

function eventItem(e, i, slider, showAt) {
  return h('li', { 'data-test': 'event', 'data-type': e.type },
    h('div', { class: 'ev-head' },
      h('strong', {}, word('ev', e.type)), ' · ',
      h('time', { datetime: e.occurred_at }, dateTime(e.occurred_at)), ' · ',
      t('visit.by', { user: e.actor?.user || '?', role: word('role', e.actor?.role) }),
      ' ', h('button', { type: 'button', class: 'link', onclick: () => { slider.value = i + 1; showAt(i + 1); slider.scrollIntoView({ block: 'center' }); } }, t('visit.replay_here'))),
    h('div', { class: 'ev-data' }, describe(e.data)),
    h('details', {}, h('summary', {}, t('visit.raw', { seq: e.seq })),
      h('p', { class: 'mono' }, t('visit.hash'), ': ', e.hash), h('p', { class: 'mono' }, t('visit.prev_hash'), ': ', e.prev_hash),
      h('pre', {}, JSON.stringify(e, null, 2))));
}
