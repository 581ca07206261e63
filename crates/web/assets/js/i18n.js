// The language catalogues (one per language, same keys) and the choice between them:
// remembered in localStorage, else taken from the browser, Chinese when in doubt.

export const LANGS = ['zh-CN', 'en'];
let current = 'zh-CN';
let catalogue = {};

function initial() {
  const saved = localStorage.getItem('lang');
  if (LANGS.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || '']) {
    if (/^zh/i.test(l)) return 'zh-CN';
    if (/^en/i.test(l)) return 'en';
  }
  return 'zh-CN';
}

export async function load(lang) {
  current = LANGS.includes(lang) ? lang : initial();
  const res = await fetch(`/assets/i18n/${current}.json`);
  catalogue = await res.json();
  document.documentElement.lang = current;
}

export function lang() { return current; }

export async function choose(l) {
  localStorage.setItem('lang', l);
  await load(l);
}

/** The text of `key` with {name} placeholders filled; the key itself when missing. */
export function t(key, vars) {
  let s = catalogue[key];
  if (s === undefined) return key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** A word for an identifier of a family (stage, flag, ev, step, ...), or the raw id. */
export function word(family, id) {
  if (id === null || id === undefined || id === '') return '—';
  const key = `${family}.${id}`;
  return catalogue[key] === undefined ? String(id) : catalogue[key];
}
