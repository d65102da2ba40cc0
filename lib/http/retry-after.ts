/**
 * The one Retry-After reader, for the cloud client's retries (lib/sdrs/retry.ts) and the webhook sender
 * (lib/notify/webhook.ts). RFC 9110 §10.2.3: `Retry-After = HTTP-date / delay-seconds`, where
 * delay-seconds is `1*DIGIT` and an HTTP-date (§5.6.7) is the preferred IMF-fixdate or one of the two
 * obsolete forms every recipient must still accept (RFC 850, asctime). Anything else is unusable, and so
 * is a date naming a day that does not exist. Hand-written because it is small and exact: Date.parse
 * accepts far more than HTTP-date (it reads "-1" as a year and ISO dates as dates).
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH = MONTHS.join("|");
const DAY_NAME = "Mon|Tue|Wed|Thu|Fri|Sat|Sun";
const DAY_NAME_LONG = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday";
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";

/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = new RegExp(`^(?:${DAY_NAME}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
/** Obsolete RFC 850 date: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE = new RegExp(`^(?:${DAY_NAME_LONG}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
/** Obsolete asctime date: `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space). */
const ASCTIME_DATE = new RegExp(`^(?:${DAY_NAME}) (${MONTH}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/** RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31 seconds. */
const MAX_DELAY_SECONDS = 2 ** 31;

interface DateParts {
  year: number;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

function utcMs(parts: DateParts): number | undefined {
  const month = MONTHS.indexOf(parts.month);
  const [day, hour, minute, second] = [parts.day, parts.hour, parts.minute, parts.second].map(Number) as [
    number,
    number,
    number,
    number,
  ];
  // 60 allows a leap second (§5.6.7); Date.UTC rolls it into the next minute.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = Date.UTC(parts.year, month, day, hour, minute, second);
  // Date.UTC rolls 31 Feb into March: such a date does not exist.
  return new Date(ms).getUTCDate() === day || second === 60 ? ms : undefined;
}

/**
 * RFC 850's two-digit year (§5.6.7): "a timestamp that appears to be more than 50 years in the future"
 * is "the most recent year in the past that had the same last two digits".
 */
function rfc850Year(twoDigits: number, nowMs: number): number {
  const thisYear = new Date(nowMs).getUTCFullYear();
  const year = Math.floor(thisYear / 100) * 100 + twoDigits;
  return year > thisYear + 50 ? year - 100 : year;
}

/** An HTTP-date in any of its three forms as epoch milliseconds; undefined if it is none of them. */
export function parseHttpDate(text: string, nowMs: number): number | undefined {
  const fixdate = IMF_FIXDATE.exec(text);
  if (fixdate) {
    const [, day = "", month = "", year = "", hour = "", minute = "", second = ""] = fixdate;
    return utcMs({ year: Number(year), month, day, hour, minute, second });
  }
  const rfc850 = RFC850_DATE.exec(text);
  if (rfc850) {
    const [, day = "", month = "", year = "", hour = "", minute = "", second = ""] = rfc850;
    return utcMs({ year: rfc850Year(Number(year), nowMs), month, day, hour, minute, second });
  }
  const asctime = ASCTIME_DATE.exec(text);
  if (asctime) {
    const [, month = "", day = "", hour = "", minute = "", second = "", year = ""] = asctime;
    return utcMs({ year: Number(year), month, day: day.trim(), hour, minute, second });
  }
  return undefined;
}

/**
 * How long `Retry-After` asks to wait, in milliseconds from `nowMs`: delay-seconds, or the time until
 * the HTTP-date (0 when it has passed). Undefined when the header is absent or unusable, so the caller
 * falls back to its own backoff.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  // Field values carry no leading or trailing whitespace (RFC 9110 §5.5); a lenient sender's is dropped.
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text), MAX_DELAY_SECONDS) * 1000;
  const at = parseHttpDate(text, nowMs);
  return at === undefined ? undefined : Math.max(0, at - nowMs);
}
