//! The server clock (real time plus an offset moved by `/_fake/clock`), calendar maths and
//! the app's time zone (Knack stores date/time values as the app's local wall clock).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub const MS_PER_DAY: i64 = 86_400_000;

/// Real time plus an offset.
#[derive(Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        real_now_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves the clock by `secs` (clamped to 1000 years either way in total).
    pub fn advance_secs(&self, secs: i64) {
        const LIMIT: i64 = 1000 * 365 * MS_PER_DAY;
        let cur = self.offset_ms.load(Ordering::Relaxed);
        let next = cur
            .saturating_add(secs.saturating_mul(1000))
            .clamp(-LIMIT, LIMIT);
        self.offset_ms.store(next, Ordering::Relaxed);
    }

    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

pub fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) for days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// 0 = Sunday.
fn weekday(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// Day number of the n-th (1-based) Sunday of a month.
fn nth_sunday(y: i64, m: u32, n: i64) -> i64 {
    let first = days_from_civil(y, m, 1);
    let to_sunday = (7 - weekday(first)) % 7;
    first + to_sunday + 7 * (n - 1)
}

fn last_sunday(y: i64, m: u32) -> i64 {
    let last = days_from_civil(y, m, days_in_month(y, m));
    last - weekday(last)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dst {
    None,
    Us,
    Eu,
}

/// A time zone known by its Knack (Windows-style) display name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tz {
    std_offset_min: i64,
    dst: Dst,
}

impl Tz {
    /// Unknown names fall back to UTC.
    pub fn from_name(name: &str) -> Tz {
        let (std_offset_min, dst) = match name {
            "Eastern Time (US & Canada)" | "Indiana (East)" => (-300, Dst::Us),
            "Central Time (US & Canada)" => (-360, Dst::Us),
            "Mountain Time (US & Canada)" => (-420, Dst::Us),
            "Arizona" => (-420, Dst::None),
            "Pacific Time (US & Canada)" => (-480, Dst::Us),
            "Alaska" => (-540, Dst::Us),
            "Hawaii" => (-600, Dst::None),
            "London" | "Dublin" | "Lisbon" | "Edinburgh" => (0, Dst::Eu),
            "Amsterdam" | "Berlin" | "Paris" | "Madrid" | "Rome" | "Brussels" | "Vienna"
            | "Stockholm" | "Copenhagen" | "Prague" | "Warsaw" => (60, Dst::Eu),
            "Athens" | "Helsinki" | "Kyiv" | "Bucharest" => (120, Dst::Eu),
            "Tokyo" | "Osaka" | "Sapporo" => (540, Dst::None),
            _ => (0, Dst::None),
        };
        Tz {
            std_offset_min,
            dst,
        }
    }

    /// Offset from UTC (minutes) in force at the UTC instant `utc_ms`.
    pub fn offset_min(&self, utc_ms: i64) -> i64 {
        let std = self.std_offset_min;
        match self.dst {
            Dst::None => std,
            Dst::Us => {
                let local_std = utc_ms + std * 60_000;
                let (y, _, _) = civil_from_days(local_std.div_euclid(MS_PER_DAY));
                // 02:00 local standard time on the second Sunday of March, until 02:00
                // local daylight time (01:00 standard) on the first Sunday of November.
                let start = nth_sunday(y, 3, 2) * MS_PER_DAY + 2 * 3_600_000;
                let end = nth_sunday(y, 11, 1) * MS_PER_DAY + 3_600_000;
                if local_std >= start && local_std < end {
                    std + 60
                } else {
                    std
                }
            }
            Dst::Eu => {
                let (y, _, _) = civil_from_days(utc_ms.div_euclid(MS_PER_DAY));
                let start = last_sunday(y, 3) * MS_PER_DAY + 3_600_000;
                let end = last_sunday(y, 10) * MS_PER_DAY + 3_600_000;
                if utc_ms >= start && utc_ms < end {
                    std + 60
                } else {
                    std
                }
            }
        }
    }

    /// The local wall clock (as milliseconds on a UTC scale) for a UTC instant.
    pub fn to_local(self, utc_ms: i64) -> i64 {
        utc_ms + self.offset_min(utc_ms) * 60_000
    }
}

/// Broken-down wall-clock time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
}

impl Civil {
    /// The start of a calendar day.
    pub fn midnight(year: i64, month: u32, day: u32) -> Civil {
        Civil {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            milli: 0,
        }
    }

    pub fn from_ms(ms: i64) -> Civil {
        let days = ms.div_euclid(MS_PER_DAY);
        let rem = ms.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3_600_000) as u32,
            minute: (rem / 60_000 % 60) as u32,
            second: (rem / 1000 % 60) as u32,
            milli: (rem % 1000) as u32,
        }
    }

    pub fn to_ms(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * MS_PER_DAY
            + i64::from(self.hour) * 3_600_000
            + i64::from(self.minute) * 60_000
            + i64::from(self.second) * 1000
            + i64::from(self.milli)
    }
}

/// Parses a date/time string written to a date field. Returns (local ms, had_time).
/// Accepted: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM]` (with a zone it is an
/// instant, converted to the app's local time), `MM/DD/YYYY`, `MM/DD/YYYY h:mm[ ]am|pm`,
/// `MM/DD/YYYY HH:MM`.
pub fn parse_date(s: &str, tz: &Tz) -> Option<(i64, bool)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.as_bytes().get(4) == Some(&b'-') {
        parse_iso(s, tz)
    } else {
        parse_us(s)
    }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn valid(c: &Civil) -> bool {
    (1..=12).contains(&c.month)
        && c.day >= 1
        && c.day <= days_in_month(c.year, c.month)
        && c.hour < 24
        && c.minute < 60
        && c.second < 60
}

fn parse_iso(s: &str, tz: &Tz) -> Option<(i64, bool)> {
    let (date, rest) = if s.len() > 10 {
        (s.get(..10)?, s.get(10..)?)
    } else {
        (s, "")
    };
    let mut parts = date.split('-');
    let year = i64::from(num(parts.next()?)?);
    let month = num(parts.next()?)?;
    let day = num(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    let mut c = Civil::midnight(year, month, day);
    if rest.is_empty() {
        return valid(&c).then(|| (c.to_ms(), false));
    }
    let rest = rest.strip_prefix(['T', ' '])?;
    // Split off a zone designator.
    let (time, zone) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, Some(0i64))
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (t, z) = rest.split_at(pos);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let z = &z[1..];
        let (zh, zm) = match z.split_once(':') {
            Some((h, m)) => (num(h)?, num(m)?),
            None if z.len() == 4 => (num(&z[..2])?, num(&z[2..])?),
            None => (num(z)?, 0),
        };
        (t, Some(sign * i64::from(zh * 60 + zm)))
    } else {
        (rest, None)
    };
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (time, None),
    };
    let mut t = hms.split(':');
    c.hour = num(t.next()?)?;
    c.minute = num(t.next()?)?;
    c.second = match t.next() {
        Some(x) => num(x)?,
        None => 0,
    };
    if t.next().is_some() {
        return None;
    }
    if let Some(f) = frac {
        let digits: String = f.chars().take(3).collect();
        if digits.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u32 = digits.parse().ok()?;
        c.milli = v * 10u32.pow(3 - digits.len() as u32);
    }
    if !valid(&c) {
        return None;
    }
    let ms = c.to_ms();
    Some(match zone {
        Some(off) => (tz.to_local(ms - off * 60_000), true),
        None => (ms, true),
    })
}

fn parse_us(s: &str) -> Option<(i64, bool)> {
    let (date, time) = match s.split_once(' ') {
        Some((d, t)) => (d, Some(t.trim())),
        None => (s, None),
    };
    let mut parts = date.split('/');
    let month = num(parts.next()?)?;
    let day = num(parts.next()?)?;
    let year = i64::from(num(parts.next()?)?);
    if parts.next().is_some() {
        return None;
    }
    let mut c = Civil::midnight(year, month, day);
    let Some(time) = time.filter(|t| !t.is_empty()) else {
        return valid(&c).then(|| (c.to_ms(), false));
    };
    let lower = time.to_ascii_lowercase();
    let (clock, ampm) = if let Some(t) = lower.strip_suffix("am") {
        (t.trim().to_string(), Some(false))
    } else if let Some(t) = lower.strip_suffix("pm") {
        (t.trim().to_string(), Some(true))
    } else {
        (lower.clone(), None)
    };
    let (h, m) = clock.split_once(':')?;
    let mut hour = num(h)?;
    let minute = num(m)?;
    if let Some(pm) = ampm {
        if hour == 0 || hour > 12 {
            return None;
        }
        hour %= 12;
        if pm {
            hour += 12;
        }
    }
    c.hour = hour;
    c.minute = minute;
    valid(&c).then(|| (c.to_ms(), true))
}

/// Start (local ms) of the day containing `local_ms`.
pub fn start_of_day(local_ms: i64) -> i64 {
    local_ms.div_euclid(MS_PER_DAY) * MS_PER_DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for d in [-1000i64, 0, 1, 19_000, 20_000, 60_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn central_time_dst() {
        let tz = Tz::from_name("Central Time (US & Canada)");
        // 2024-01-15 12:00 UTC -> 06:00 CST
        let jan = Civil {
            year: 2024,
            month: 1,
            day: 15,
            hour: 12,
            minute: 0,
            second: 0,
            milli: 0,
        }
        .to_ms();
        assert_eq!(Civil::from_ms(tz.to_local(jan)).hour, 6);
        // 2024-07-15 12:00 UTC -> 07:00 CDT
        let jul = Civil {
            month: 7,
            ..Civil::from_ms(jan)
        }
        .to_ms();
        assert_eq!(Civil::from_ms(tz.to_local(jul)).hour, 7);
    }

    #[test]
    fn parses_dates() {
        let tz = Tz::from_name("UTC");
        let (a, t) = parse_date("2024-01-15", &tz).expect("iso date");
        assert!(!t);
        let (b, _) = parse_date("01/15/2024", &tz).expect("us date");
        assert_eq!(a, b);
        let (c, t) = parse_date("01/15/2024 3:04pm", &tz).expect("us time");
        assert!(t);
        assert_eq!(Civil::from_ms(c).hour, 15);
        let (d, _) = parse_date("2024-01-15T15:04:00Z", &tz).expect("iso time");
        assert_eq!(c, d);
        assert!(parse_date("2024-02-30", &tz).is_none());
        assert!(parse_date("nonsense", &tz).is_none());
        assert!(parse_date("13/01/2024", &tz).is_none());
        let (e, _) = parse_date("2024-01-15T10:04:00-05:00", &tz).expect("offset");
        assert_eq!(e, d);
    }
}
