// What-if: the year's expenses judged again under proposed meal caps. The form starts
// from the policy in force; caps are shown and typed in yuan and sent as integer fen
// (parsed as text, never through a float). The server judges; the page shows its
// answer: over cap as recorded and as proposed, newly over cap, and the savings.
import { api } from '../../api.js';
import { t, word } from '../../i18n.js';
import { h, fill, table, section } from '../../dom.js';
import { money, moneyShort, number, parseYuan, yuanInput } from '../../fmt.js';
import { barChart } from '../../chart.js';
import { kpi, choice, keyLabel } from './common.js';

const MEALS = ['lunch', 'dinner'];

export async function render(root, { year }) {
  const book = await api('/api/v1/policy');
  const levels = book.in_force?.levels || [];
  let by = 'level';
  const inputs = new Map(); // `${level}.${meal}` -> <input>
  const problem = h('p', { class: 'error', role: 'alert', 'data-test': 'what-if-error', hidden: true });
  const answer = h('div', { 'data-test': 'what-if-answer', 'aria-live': 'polite' });

  const rows = levels.map((level) => {
    const perPerson = Boolean(level.meals?.per_person_fen);
    return h('tr', { 'data-level': level.id },
      h('th', { scope: 'row' }, word('level', level.id), perPerson ? h('div', { class: 'hint' }, t('what_if.per_person')) : null),
      MEALS.map((meal) => {
        const id = `cap-${level.id}-${meal}`;
        const now = capOf(level, meal);
        const input = h('input', {
          id, type: 'text', inputmode: 'decimal', size: 10, class: 'yuan', value: yuanInput(now),
          placeholder: t('what_if.uncapped'), 'data-test': id,
          'aria-describedby': `${id}-now`,
        });
        input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
        inputs.set(`${level.id}.${meal}`, input);
        return h('td', {},
          h('label', { class: 'sr-only', for: id }, `${word('level', level.id)} · ${t(`what_if.${meal}`)}`),
          h('span', { class: 'unit', 'aria-hidden': 'true' }, '¥'), input,
          h('div', { class: 'hint', id: `${id}-now` }, t('what_if.in_force', { cap: now == null ? t('what_if.uncapped') : money(now) })));
      }));
  });

  /** The proposed levels, or null after marking the boxes that are not amounts. */
  function proposal() {
    let bad = null;
    const proposed = levels.map((level) => {
      const copy = structuredClone(level);
      for (const meal of MEALS) {
        const input = inputs.get(`${level.id}.${meal}`);
        const text = input.value.trim();
        const fen = text === '' ? null : parseYuan(text);
        if (fen === undefined) {
          input.setAttribute('aria-invalid', 'true');
          bad = bad || input;
          continue;
        }
        setCap(copy, meal, fen);
      }
      return copy;
    });
    if (bad) {
      problem.hidden = false;
      problem.textContent = t('what_if.not_amount', { text: bad.value });
      bad.focus();
      return null;
    }
    return proposed;
  }

  let asked = 0;
  async function simulate() {
    problem.hidden = true;
    const proposed = proposal();
    if (!proposed) return;
    const mine = ++asked;
    answer.setAttribute('aria-busy', 'true');
    try {
      const a = await api('/api/v1/analysis/what-if', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ year, policy: { levels: proposed }, by }),
      });
      if (mine !== asked) return;
      fill(answer, result(a));
    } catch (e) {
      if (mine !== asked || e.status === 401) return;
      problem.hidden = false;
      problem.textContent = t('common.error', { message: e.message });
      fill(answer);
    } finally {
      if (mine === asked) answer.removeAttribute('aria-busy');
    }
  }

  const form = h('form', { class: 'what-if', 'data-test': 'what-if-form', novalidate: true },
    h('p', { class: 'hint' }, t('what_if.hint', { version: book.in_force?.version ?? '—' })),
    h('div', { class: 'scroll' }, table([t('col.level'), t('what_if.lunch'), t('what_if.dinner')], rows, { class: 'caps' })),
    h('div', { class: 'filters' },
      choice({
        id: 'what-if-by', label: t('what_if.by'), value: by,
        options: ['level', 'category', 'month', 'department'].map((d) => [d, t(`costs.dim.${d}`)]),
        onchange: (v) => { by = v; },
      }),
      h('button', { type: 'submit', class: 'primary', 'data-test': 'what-if-run' }, t('what_if.run')),
      h('button', { type: 'button', 'data-test': 'what-if-reset', onclick: reset }, t('what_if.reset'))),
    problem);
  form.addEventListener('submit', (e) => { e.preventDefault(); simulate(); });

  function reset() {
    for (const level of levels) {
      for (const meal of MEALS) inputs.get(`${level.id}.${meal}`).value = yuanInput(capOf(level, meal));
    }
    problem.hidden = true;
    fill(answer);
  }

  fill(root, section(t('what_if.title', { year }), form, answer));
  return () => { asked += 1; };
}

/** The meal cap a level's form edits: per person when the level caps per person (V25). */
function capOf(level, meal) {
  const meals = level.meals || {};
  return meals.per_person_fen ? meals.per_person_fen[meal] ?? null : meals[`${meal}_cap_fen`] ?? null;
}

function setCap(level, meal, fen) {
  level.meals = level.meals || {};
  if (level.meals.per_person_fen) level.meals.per_person_fen[meal] = fen;
  else level.meals[`${meal}_cap_fen`] = fen;
}

function result(a) {
  const groups = a.groups || [];
  const newly = groups.reduce((s, g) => s + g.newly_over_cap, 0);
  const noLonger = groups.reduce((s, g) => s + g.no_longer_over_cap, 0);
  const side = (x) => `${money(x.over_cap_fen)} · ${t('what_if.expenses', { n: number(x.over_cap_count) })}`;
  const rows = groups.map((g) => h('tr', { 'data-test': 'what-if-row', 'data-key': g.key, class: g.savings_fen > 0 ? 'over' : '' },
    h('td', {}, keyLabel(a.by, g.key)),
    h('td', { class: 'num' }, number(g.count)),
    h('td', { class: 'num' }, money(g.judged_fen)),
    h('td', { class: 'num' }, `${money(g.actual_over_cap_fen)} (${number(g.actual_over_cap_count)})`),
    h('td', { class: 'num' }, `${money(g.proposed_over_cap_fen)} (${number(g.proposed_over_cap_count)})`),
    h('td', { class: 'num' }, number(g.newly_over_cap)),
    h('td', { class: 'num' }, number(g.no_longer_over_cap)),
    h('td', { class: 'num' }, money(g.actual_excess_fen)),
    h('td', { class: 'num', 'data-fen': g.savings_fen, 'data-test': 'what-if-group-savings' }, money(g.savings_fen))));
  return h('div', {},
    h('div', { class: 'kpis' },
      kpi(t('what_if.savings'), money(a.savings_fen), 'what-if-savings', a.savings_fen > 0 ? 'good' : ''),
      kpi(t('what_if.judged'), `${money(a.judged_fen)} · ${t('what_if.expenses', { n: number(a.count) })}`, 'what-if-judged'),
      kpi(t('what_if.actual'), side(a.actual), 'what-if-actual'),
      kpi(t('what_if.proposed'), side(a.proposed), 'what-if-proposed'),
      kpi(t('what_if.newly'), number(newly), 'what-if-newly'),
      kpi(t('what_if.no_longer'), number(noLonger), 'what-if-no-longer'),
      kpi(t('what_if.visits'), number(a.visits), 'what-if-visits')),
    groups.length ? barChart({
      labels: groups.map((g) => keyLabel(a.by, g.key)),
      series: [
        { name: t('what_if.actual_excess'), cls: 'over', values: groups.map((g) => g.actual_excess_fen) },
        { name: t('what_if.savings'), cls: 'saving', values: groups.map((g) => g.savings_fen) },
      ],
      format: money, short: moneyShort, grouped: true, testId: 'what-if-chart', caption: t('what_if.chart'),
    }) : h('p', { class: 'empty' }, t('what_if.nothing')),
    h('div', { class: 'scroll' }, table([
      t(`costs.dim.${a.by}`), t('what_if.count'), t('what_if.judged'), t('what_if.actual'), t('what_if.proposed'),
      t('what_if.newly'), t('what_if.no_longer'), t('what_if.actual_excess'), t('what_if.savings'),
    ], rows, { class: 'figures', 'data-test': 'what-if-table' })));
}
