// What the costs page's analysis views share: a group key in words, a figure tile, a
// labelled choice, and the view's settings kept in the address without a reload.
import { t, word } from '../../i18n.js';
import { h } from '../../dom.js';
import { month } from '../../fmt.js';

/** The dimensions of the cost cube, as the API names them. */
export const DIMENSIONS = ['level', 'month', 'department', 'customer', 'category', 'subcategory', 'host'];

/** A group's key of dimension `dim` in words ("" is a group without that value). */
export function keyLabel(dim, key) {
  if (key === null || key === undefined || key === '') return t('costs.unset');
  switch (dim) {
    case 'level': return word('level', key);
    case 'month': return month(key);
    case 'department': return word('dept', key);
    case 'category': return word('category', key);
    case 'subcategory': return word('subcategory', key);
    default: return String(key);
  }
}

/** A figure with its label, found by `data-test`. */
export function kpi(label, value, test, cls) {
  return h('div', { class: `kpi ${cls || ''}`, 'data-test': test },
    h('span', { class: 'k' }, label), h('span', { class: 'v' }, value));
}

/**
 * A labelled <select>: [label, select]. `options` are [value, text] pairs; `onchange`
 * gets the chosen value.
 */
export function choice({ id, label, options, value, onchange }) {
  const select = h('select', { id, 'data-test': id, onchange: (e) => onchange(e.target.value) },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return [h('label', { for: id }, label), select];
}

/** Keeps a view's settings in the address (for a reload or a link) without redrawing. */
export function remember(year, view, setting) {
  history.replaceState(null, '', `#/costs/${year}/${view}/${encodeURIComponent(setting)}`);
}
