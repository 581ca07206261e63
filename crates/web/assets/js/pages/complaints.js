// Complaints: the open ones with their deadlines and clocks, the monthly analysis for
// a chosen month, and the case library.
import { api } from '../api.js';
import { t, word } from '../i18n.js';
import { h, fill, table, section } from '../dom.js';
import { dateTime, relative, permille, number } from '../fmt.js';

export async function render(root, params) {
  const now = new Date();
  const month = params[0] || `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
  const [open, report] = await Promise.all([
    api('/api/v1/complaints?status=open'),
    api(`/api/v1/complaints/report?month=${month}`),
  ]);
  const list = open.complaints || [];
  const monthInput = h('input', { type: 'month', id: 'month', value: month, 'data-test': 'month',
    onchange: (e) => { if (e.target.value) location.hash = `#/complaints/${e.target.value}`; } });
  const rows = list.map((c) => {
    const next = (c.deadlines || []).find((d) => !d.met_at);
    return h('tr', { class: c.overdue ? 'over' : '', 'data-test': 'complaint-row' },
      h('td', {}, c.customer), h('td', {}, word('severity', c.severity)), h('td', {}, word('category', c.category)),
      h('td', {}, word('status', c.status)),
      h('td', {}, next ? [word('step', next.item), h('br'), dateTime(next.due_at), ' (', relative(next.due_at), ')'] : '—'),
      h('td', {}, c.overdue ? h('span', { class: 'flag urgent' }, t('common.overdue')) : '✓'));
  });
  const counts = (obj, family) => h('ul', { class: 'plain' }, Object.entries(obj || {}).map(([k, n]) => h('li', {}, word(family, k), ': ', number(n))));
  fill(root, h('div', { 'data-test': 'complaints' },
    h('div', { class: 'toolbar' }, h('h1', {}, t('complaints.title'))),
    h('section', { class: 'card wide' }, h('h2', {}, t('complaints.open'), ` (${list.length})`),
      rows.length ? table([t('col.customer'), t('complaints.severity'), t('col.category'), t('complaints.status'), t('complaints.next_deadline'), ''], rows)
        : h('p', { class: 'empty' }, t('complaints.none'))),
    h('div', { class: 'toolbar' }, h('h2', {}, t('complaints.report')), h('label', { for: 'month' }, t('complaints.month')), monthInput),
    h('div', { class: 'grid', 'data-test': 'report' },
      section(t('complaints.summary'), h('dl', { class: 'facts' },
        h('dt', {}, t('complaints.total')), h('dd', { 'data-test': 'report-total' }, number(report.total)),
        h('dt', {}, t('complaints.resolved')), h('dd', {}, number(report.resolved)),
        h('dt', {}, t('complaints.escalated')), h('dd', {}, number(report.escalated)),
        h('dt', {}, t('complaints.on_time')), h('dd', {}, `${permille(report.deadline_compliance_permille)} (${number(report.deadlines_met_on_time)}/${number(report.deadlines_due)})`),
        h('dt', {}, t('complaints.return_rate')), h('dd', {}, permille(report.return_visit_rate_permille)),
        h('dt', {}, t('complaints.mean_resolve')), h('dd', {}, report.mean_time_to_resolve_secs == null ? '—'
          : t('complaints.hours', { n: number(Math.round(report.mean_time_to_resolve_secs / 360) / 10) })),
        h('dt', {}, t('complaints.valid')), h('dd', { 'data-test': 'report-valid' },
          `${number(report.valid ?? 0)} / ${number(report.unreasonable ?? 0)} / ${number(report.unjudged ?? 0)}`),
        h('dt', {}, t('complaints.missed')), h('dd', {}, number(report.missed_deadlines_recorded ?? 0),
          report.misses_reported_to_head ? ` (${t('complaints.reported_to_head', { n: number(report.misses_reported_to_head) })})` : ''),
        h('dt', {}, t('complaints.letters')), h('dd', {},
          `${number(report.letters_sent ?? 0)} · ${t('complaints.letters_answered', { n: number(report.letters_answered ?? 0) })} · ${t('complaints.letters_overdue', { n: number(report.letters_overdue ?? 0) })}`),
        h('dt', {}, t('complaints.satisfaction')), h('dd', {}, report.mean_satisfaction_milli == null ? '—'
          : (report.mean_satisfaction_milli / 1000).toFixed(1)))),
      section(t('complaints.by_category'), counts(report.by_category, 'category')),
      section(t('complaints.by_severity'), counts(report.by_severity, 'severity')),
      section(t('complaints.by_department'), counts(report.by_department, 'dept'))),
    cases()));
}

// C11: the case library (案例库), searched as the viewer types.
function cases() {
  const results = h('div', { 'data-test': 'cases' });
  const input = h('input', { type: 'search', id: 'case-q', 'data-test': 'case-search', placeholder: t('complaints.case_search') });
  let asked = 0;
  async function search() {
    const n = ++asked;
    const answer = await api(`/api/v1/complaints/cases?q=${encodeURIComponent(input.value)}`);
    if (n !== asked) return;
    const list = answer.cases || [];
    fill(results, list.length
      ? h('ul', { class: 'plain' }, list.map((c) => h('li', {},
        h('strong', {}, c.title), ' · ', c.customer, ' · ', word('category', c.category), ' · ', word('severity', c.severity),
        c.valid === false ? [' · ', t('complaints.unreasonable')] : null,
        h('div', {}, c.lesson), h('div', { class: 'muted' }, dateTime(c.added_at)))))
      : h('p', { class: 'empty' }, t('complaints.no_cases')));
  }
  input.addEventListener('input', search);
  search();
  return h('section', { class: 'card wide' }, h('h2', {}, t('complaints.cases')),
    h('label', { for: 'case-q' }, t('complaints.case_search')), input, results);
}
