// Dates, times and money through Intl, in the company's time zone (the server's --tz,
// written into the page) and the chosen language.
import { lang } from './i18n.js';

export const TZ = (() => {
  const tz = document.querySelector('meta[name="tz"]')?.content || 'Asia/Shanghai';
  // A zone this browser does not know must not take every page down with it.
  try { new Intl.DateTimeFormat('en', { timeZone: tz }); return tz; } catch { return 'Asia/Shanghai'; }
})();

const cache = new Map();
function fmt(kind, make) {
  const key = `${lang()}|${kind}`;
  if (!cache.has(key)) cache.set(key, make(lang()));
  return cache.get(key);
}

/** ¥1,234.00 from integer fen. */
export function money(fen) {
  if (fen === null || fen === undefined) return '—';
  return fmt('money', (l) => new Intl.NumberFormat(l, {
    style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol',
  })).format(fen / 100);
}

/**
 * Integer fen from yuan as typed ("400", "1,234.5", "¥88.80"), by string arithmetic, never
 * through a float; `undefined` when the text is not an amount of at most two decimals.
 */
export function parseYuan(text) {
  const s = String(text ?? '').trim().replace(/^[¥￥]\s*/, '').replaceAll(',', '');
  const m = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

/** Integer fen as plain yuan for an input box: 40000 -> "400", 8880 -> "88.80". */
export function yuanInput(fen) {
  if (fen === null || fen === undefined) return '';
  const whole = Math.trunc(fen / 100);
  const cents = Math.abs(fen % 100);
  return cents ? `${whole}.${String(cents).padStart(2, '0')}` : String(whole);
}

/** ¥11万 / ¥114K: short figures written on chart bars. */
export function moneyShort(fen) {
  return fmt('money-short', (l) => new Intl.NumberFormat(l, {
    style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol', notation: 'compact', maximumSignificantDigits: 3,
  })).format((fen || 0) / 100);
}

export function number(n) {
  if (n === null || n === undefined) return '—';
  return fmt('number', (l) => new Intl.NumberFormat(l)).format(n);
}

/** A per-mille figure as a percentage. */
export function permille(p) {
  if (p === null || p === undefined) return '—';
  return fmt('pct', (l) => new Intl.NumberFormat(l, { style: 'percent', maximumFractionDigits: 1 }))
    .format(p / 1000);
}

/** The change from `before` to `now` (two API figures) as a signed percentage: +12.5%. */
export function change(now, before) {
  if (!before || now === null || now === undefined) return '—';
  return fmt('change', (l) => new Intl.NumberFormat(l, { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }))
    .format((now - before) / before);
}

/** A mean kept ×100 by the API (420) as 4.20. */
export function hundredths(x100) {
  if (x100 === null || x100 === undefined) return '—';
  return fmt('hundredths', (l) => new Intl.NumberFormat(l, { minimumFractionDigits: 2, maximumFractionDigits: 2 }))
    .format(x100 / 100);
}

/** "2026-03" as the month's name with its year (2026年3月 / Mar 2026). */
export function month(key) {
  const m = /^(\d{4})-(\d{2})$/.exec(key || '');
  if (!m) return key || '—';
  return fmt('month', (l) => new Intl.DateTimeFormat(l, { timeZone: 'UTC', year: 'numeric', month: 'short' }))
    .format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15)));
}

export function dateTime(iso) {
  if (!iso) return '—';
  return fmt('dt', (l) => new Intl.DateTimeFormat(l, {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  })).format(new Date(iso));
}

export function time(iso) {
  if (!iso) return '—';
  return fmt('time', (l) => new Intl.DateTimeFormat(l, { timeZone: TZ, hour: '2-digit', minute: '2-digit' }))
    .format(new Date(iso));
}

/** "in 3 hours" / "2 days ago" from now. */
export function relative(iso, now = Date.now()) {
  if (!iso) return '';
  const secs = (new Date(iso).getTime() - now) / 1000;
  const rtf = fmt('rel', (l) => new Intl.RelativeTimeFormat(l, { numeric: 'auto' }));
  const abs = Math.abs(secs);
  if (abs < 3600) return rtf.format(Math.round(secs / 60), 'minute');
  if (abs < 86400 * 2) return rtf.format(Math.round(secs / 3600), 'hour');
  return rtf.format(Math.round(secs / 86400), 'day');
}

/** YYYY-MM-DD of an instant in the company's time zone. */
export function dayKey(iso) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(iso));
}

export function list(items) {
  return fmt('list', (l) => new Intl.ListFormat(l, { style: 'short', type: 'conjunction' })).format(items);
}
