/**
 * Calendar arithmetic and Postgres-style text for date, time, timestamp(tz) and interval.
 * Everything works on integers (days, bigint microseconds) so values far outside the JS Date
 * range (years 0–9999 and beyond, BC dates, ±infinity) render exactly as Postgres renders them
 * with DateStyle `ISO, MDY` and IntervalStyle `postgres`.
 */

export const US_PER_DAY = 86_400_000_000n;
/** Days from 1970-01-01 (Arrow/DuckDB epoch) to 2000-01-01 (Postgres binary epoch). */
export const PG_EPOCH_DAYS = 10_957;
export const PG_EPOCH_US = BigInt(PG_EPOCH_DAYS) * US_PER_DAY;

/** DuckDB's date ±infinity (days since 1970); Postgres uses INT32_MAX / INT32_MIN. */
export const DUCKDB_DATE_INF = 2_147_483_647;
export const DUCKDB_DATE_NINF = -2_147_483_647;
/** DuckDB's timestamp ±infinity (µs since 1970); Postgres uses INT64_MAX / INT64_MIN. */
export const DUCKDB_TS_INF = 9_223_372_036_854_775_807n;
export const DUCKDB_TS_NINF = -9_223_372_036_854_775_807n;
export const PG_INT64_MIN = -9_223_372_036_854_775_808n;

/** Proleptic Gregorian civil date of a day count since 1970-01-01 (astronomical years). */
export function civilFromDays(days: number): { y: number; m: number; d: number } {
  // Howard Hinnant's algorithm: exact for the whole int32 range.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** Day count since 1970-01-01 of a proleptic Gregorian civil date (astronomical years). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

/** `YYYY-MM-DD` and the year flag: Postgres writes year 0 as `0001 BC`, -1 as `0002 BC`, … */
function ymd(days: number): { text: string; bc: boolean } {
  const { y, m, d } = civilFromDays(days);
  const bc = y <= 0;
  return { text: `${pad(bc ? 1 - y : y, 4)}-${pad(m, 2)}-${pad(d, 2)}`, bc };
}

/** Date text; `days` since 1970-01-01. */
export function formatDate(days: number): string {
  if (days >= DUCKDB_DATE_INF) return 'infinity';
  if (days <= DUCKDB_DATE_NINF) return '-infinity';
  const { text, bc } = ymd(days);
  return bc ? `${text} BC` : text;
}

/** `HH:MM:SS[.ffffff]` with trailing fraction zeros removed, as Postgres' AppendSeconds does. */
function hms(us: bigint): string {
  const totalSec = us / 1_000_000n;
  const frac = Number(us % 1_000_000n);
  const h = Number(totalSec / 3600n);
  const mi = Number((totalSec / 60n) % 60n);
  const s = Number(totalSec % 60n);
  let out = `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
  if (frac !== 0) out += '.' + pad(frac, 6).replace(/0+$/, '');
  return out;
}

/** Time-of-day text; `us` since midnight (24:00:00 is legal in both systems). */
export function formatTime(us: bigint): string {
  return hms(us);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** Timestamp text without zone; `us` since 1970-01-01 00:00. */
export function formatTimestamp(us: bigint): string {
  if (us >= DUCKDB_TS_INF) return 'infinity';
  if (us <= DUCKDB_TS_NINF) return '-infinity';
  const days = floorDiv(us, US_PER_DAY);
  const { text, bc } = ymd(Number(days));
  const t = hms(us - days * US_PER_DAY);
  return bc ? `${text} ${t} BC` : `${text} ${t}`;
}

/** `+HH`, `+HH:MM` or `+HH:MM:SS`, Postgres' compact ISO offset. */
export function formatOffset(offsetSec: number): string {
  const sign = offsetSec < 0 ? '-' : '+';
  const a = Math.abs(offsetSec);
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  const s = a % 60;
  let out = `${sign}${pad(h, 2)}`;
  if (m !== 0 || s !== 0) out += `:${pad(m, 2)}`;
  if (s !== 0) out += `:${pad(s, 2)}`;
  return out;
}

/** Timestamptz text in `zone`; `us` is the UTC instant since 1970. */
export function formatTimestamptz(us: bigint, zone: TimeZone): string {
  if (us >= DUCKDB_TS_INF) return 'infinity';
  if (us <= DUCKDB_TS_NINF) return '-infinity';
  const off = zone.offsetSeconds(us);
  const local = us + BigInt(off) * 1_000_000n;
  const days = floorDiv(local, US_PER_DAY);
  const { text, bc } = ymd(Number(days));
  const t = hms(local - days * US_PER_DAY);
  const out = `${text} ${t}${formatOffset(off)}`;
  return bc ? `${out} BC` : out;
}

/** Interval text in IntervalStyle `postgres` (EncodeInterval, INTSTYLE_POSTGRES). */
export function formatInterval(months: number, days: number, micros: bigint): string {
  const year = Math.trunc(months / 12);
  const mon = months % 12;
  let out = '';
  let isZero = true;
  let isBefore = false;
  const part = (value: number, unit: string) => {
    if (value === 0) return;
    out += `${isZero ? '' : ' '}${isBefore && value > 0 ? '+' : ''}${value} ${unit}${value !== 1 ? 's' : ''}`;
    isBefore = value < 0;
    isZero = false;
  };
  part(year, 'year');
  part(mon, 'mon');
  part(days, 'day');
  if (isZero || micros !== 0n) {
    const minus = micros < 0n;
    const a = minus ? -micros : micros;
    out += `${isZero ? '' : ' '}${minus ? '-' : isBefore ? '+' : ''}${hms(a)}`;
  }
  return out;
}

/** Resolves UTC offsets for a session TimeZone, with a fast path for UTC itself. */
export class TimeZone {
  private readonly fmt: Intl.DateTimeFormat | null;
  private readonly cache = new Map<number, number>();

  private constructor(readonly name: string, fmt: Intl.DateTimeFormat | null) {
    this.fmt = fmt;
  }

  static readonly UTC = new TimeZone('UTC', null);

  /** Returns null for zone names Intl does not know (the caller keeps the previous zone). */
  static resolve(name: string): TimeZone | null {
    const n = name.trim();
    if (/^(utc|etc\/utc|gmt|etc\/gmt|z|zulu|uct|universal|etc\/universal|etc\/uct|etc\/zulu|gmt0|etc\/gmt0|gmt\+0|gmt-0)$/i.test(n)) {
      return n === 'UTC' ? TimeZone.UTC : new TimeZone(n, null);
    }
    try {
      const fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: n,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
      return new TimeZone(n, fmt);
    } catch {
      return null;
    }
  }

  /** Offset east of UTC in seconds at the UTC instant `us` (µs since 1970). */
  offsetSeconds(us: bigint): number {
    if (this.fmt === null) return 0;
    // JS Date covers ±8.64e15 ms; beyond that use the nearest representable instant's offset.
    let ms = Number(floorDiv(us, 1000n));
    if (ms > 8.64e15) ms = 8.64e15;
    if (ms < -8.64e15) ms = -8.64e15;
    // Offsets change at most on whole minutes in practice, so cache per UTC minute.
    const key = Math.floor(ms / 60_000);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const instant = key * 60_000;
    const parts = this.fmt.formatToParts(new Date(instant));
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '0';
    let year = Number(get('year'));
    if (get('era') === 'BC' || get('era') === 'B') year = 1 - year;
    const localDays = daysFromCivil(year, Number(get('month')), Number(get('day')));
    const localMs = localDays * 86_400_000 + (Number(get('hour')) * 3600 + Number(get('minute')) * 60 + Number(get('second'))) * 1000;
    const off = Math.round((localMs - instant) / 1000);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, off);
    return off;
  }
}
