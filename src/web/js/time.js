// @ts-check
// Times are shown in Beijing time whatever the browser's own zone (a desk in 乌鲁木齐 or a
// laptop set to UTC sees the same due times as the hotline).

const ZONE = 'Asia/Shanghai';
const full = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
});
const dayOnly = new Intl.DateTimeFormat('zh-CN', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const parts = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });

/** "2026/12/05 14:03" in Beijing time; "" for nothing. */
export function when(/** @type {string | null | undefined} */ iso) {
  return iso ? full.format(new Date(iso)) : '';
}

/** "2026/12/05" in Beijing time. */
export function day(/** @type {string | null | undefined} */ iso) {
  return iso ? dayOnly.format(new Date(iso)) : '';
}

/** The Beijing calendar day of an instant as YYYY-MM-DD (what a date input holds). */
export function isoDay(/** @type {Date} */ d) {
  return parts.format(d);
}

/** A date input's YYYY-MM-DD as the start of that day in Beijing, for the API. */
export function startOfDay(/** @type {string} */ ymd) {
  return `${ymd}T00:00:00+08:00`;
}

/** The day after a date input's YYYY-MM-DD, as the start of that day in Beijing. */
export function endOfDay(/** @type {string} */ ymd) {
  const d = new Date(`${ymd}T00:00:00+08:00`);
  d.setUTCDate(d.getUTCDate() + 1);
  return `${isoDay(d)}T00:00:00+08:00`;
}

/** What is left until `iso` ("剩 2天3小时"), or how long ago it passed ("超时 5小时"). */
export function left(/** @type {string} */ iso, now = Date.now()) {
  const ms = new Date(iso).getTime() - now;
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const span = d > 0 ? `${d}天${h}小时` : h > 0 ? `${h}小时${m}分` : `${m}分钟`;
  return ms >= 0 ? `剩 ${span}` : `超时 ${span}`;
}
