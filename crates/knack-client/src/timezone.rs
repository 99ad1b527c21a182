//! The app's timezone: Knack's names ("Central Time (US & Canada)", the Rails
//! `ActiveSupport::TimeZone` names the builder offers) mapped to IANA zones, and the two
//! conversions Knack's dates need. A raw `unix_timestamp` is the app's local wall-clock time
//! written as if it were UTC; `to_instant` turns it into the real instant, `to_wall` does the
//! reverse for writes. DST is the bundled IANA database's (jiff), the same on every platform.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// Knack's (Rails') timezone names and their IANA zones.
pub const KNACK_ZONES: &[(&str, &str)] = &[
    ("International Date Line West", "Etc/GMT+12"),
    ("Midway Island", "Pacific/Midway"),
    ("American Samoa", "Pacific/Pago_Pago"),
    ("Hawaii", "Pacific/Honolulu"),
    ("Alaska", "America/Juneau"),
    ("Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("Tijuana", "America/Tijuana"),
    ("Mountain Time (US & Canada)", "America/Denver"),
    ("Arizona", "America/Phoenix"),
    ("Chihuahua", "America/Chihuahua"),
    ("Mazatlan", "America/Mazatlan"),
    ("Central Time (US & Canada)", "America/Chicago"),
    ("Saskatchewan", "America/Regina"),
    ("Guadalajara", "America/Mexico_City"),
    ("Mexico City", "America/Mexico_City"),
    ("Monterrey", "America/Monterrey"),
    ("Central America", "America/Guatemala"),
    ("Eastern Time (US & Canada)", "America/New_York"),
    ("Indiana (East)", "America/Indiana/Indianapolis"),
    ("Bogota", "America/Bogota"),
    ("Lima", "America/Lima"),
    ("Quito", "America/Lima"),
    ("Atlantic Time (Canada)", "America/Halifax"),
    ("Caracas", "America/Caracas"),
    ("La Paz", "America/La_Paz"),
    ("Santiago", "America/Santiago"),
    ("Newfoundland", "America/St_Johns"),
    ("Brasilia", "America/Sao_Paulo"),
    ("Buenos Aires", "America/Argentina/Buenos_Aires"),
    ("Montevideo", "America/Montevideo"),
    ("Georgetown", "America/Guyana"),
    ("Puerto Rico", "America/Puerto_Rico"),
    ("Greenland", "America/Nuuk"),
    ("Mid-Atlantic", "Atlantic/South_Georgia"),
    ("Azores", "Atlantic/Azores"),
    ("Cape Verde Is.", "Atlantic/Cape_Verde"),
    ("Dublin", "Europe/Dublin"),
    ("Edinburgh", "Europe/London"),
    ("Lisbon", "Europe/Lisbon"),
    ("London", "Europe/London"),
    ("Casablanca", "Africa/Casablanca"),
    ("Monrovia", "Africa/Monrovia"),
    ("UTC", "Etc/UTC"),
    ("Belgrade", "Europe/Belgrade"),
    ("Bratislava", "Europe/Bratislava"),
    ("Budapest", "Europe/Budapest"),
    ("Ljubljana", "Europe/Ljubljana"),
    ("Prague", "Europe/Prague"),
    ("Sarajevo", "Europe/Sarajevo"),
    ("Skopje", "Europe/Skopje"),
    ("Warsaw", "Europe/Warsaw"),
    ("Zagreb", "Europe/Zagreb"),
    ("Brussels", "Europe/Brussels"),
    ("Copenhagen", "Europe/Copenhagen"),
    ("Madrid", "Europe/Madrid"),
    ("Paris", "Europe/Paris"),
    ("Amsterdam", "Europe/Amsterdam"),
    ("Berlin", "Europe/Berlin"),
    ("Bern", "Europe/Zurich"),
    ("Zurich", "Europe/Zurich"),
    ("Rome", "Europe/Rome"),
    ("Stockholm", "Europe/Stockholm"),
    ("Vienna", "Europe/Vienna"),
    ("West Central Africa", "Africa/Algiers"),
    ("Bucharest", "Europe/Bucharest"),
    ("Cairo", "Africa/Cairo"),
    ("Helsinki", "Europe/Helsinki"),
    ("Kyiv", "Europe/Kyiv"),
    ("Kyev", "Europe/Kyiv"),
    ("Riga", "Europe/Riga"),
    ("Sofia", "Europe/Sofia"),
    ("Tallinn", "Europe/Tallinn"),
    ("Vilnius", "Europe/Vilnius"),
    ("Athens", "Europe/Athens"),
    ("Istanbul", "Europe/Istanbul"),
    ("Minsk", "Europe/Minsk"),
    ("Jerusalem", "Asia/Jerusalem"),
    ("Harare", "Africa/Harare"),
    ("Pretoria", "Africa/Johannesburg"),
    ("Kaliningrad", "Europe/Kaliningrad"),
    ("Moscow", "Europe/Moscow"),
    ("St. Petersburg", "Europe/Moscow"),
    ("Volgograd", "Europe/Volgograd"),
    ("Samara", "Europe/Samara"),
    ("Kuwait", "Asia/Kuwait"),
    ("Riyadh", "Asia/Riyadh"),
    ("Nairobi", "Africa/Nairobi"),
    ("Baghdad", "Asia/Baghdad"),
    ("Tehran", "Asia/Tehran"),
    ("Abu Dhabi", "Asia/Muscat"),
    ("Muscat", "Asia/Muscat"),
    ("Baku", "Asia/Baku"),
    ("Tbilisi", "Asia/Tbilisi"),
    ("Yerevan", "Asia/Yerevan"),
    ("Kabul", "Asia/Kabul"),
    ("Ekaterinburg", "Asia/Yekaterinburg"),
    ("Islamabad", "Asia/Karachi"),
    ("Karachi", "Asia/Karachi"),
    ("Tashkent", "Asia/Tashkent"),
    ("Chennai", "Asia/Kolkata"),
    ("Kolkata", "Asia/Kolkata"),
    ("Mumbai", "Asia/Kolkata"),
    ("New Delhi", "Asia/Kolkata"),
    ("Kathmandu", "Asia/Kathmandu"),
    ("Astana", "Asia/Dhaka"),
    ("Dhaka", "Asia/Dhaka"),
    ("Sri Jayawardenepura", "Asia/Colombo"),
    ("Almaty", "Asia/Almaty"),
    ("Novosibirsk", "Asia/Novosibirsk"),
    ("Rangoon", "Asia/Yangon"),
    ("Bangkok", "Asia/Bangkok"),
    ("Hanoi", "Asia/Bangkok"),
    ("Jakarta", "Asia/Jakarta"),
    ("Krasnoyarsk", "Asia/Krasnoyarsk"),
    ("Beijing", "Asia/Shanghai"),
    ("Chongqing", "Asia/Chongqing"),
    ("Hong Kong", "Asia/Hong_Kong"),
    ("Urumqi", "Asia/Urumqi"),
    ("Kuala Lumpur", "Asia/Kuala_Lumpur"),
    ("Singapore", "Asia/Singapore"),
    ("Taipei", "Asia/Taipei"),
    ("Perth", "Australia/Perth"),
    ("Irkutsk", "Asia/Irkutsk"),
    ("Ulaanbaatar", "Asia/Ulaanbaatar"),
    ("Ulaan Bataar", "Asia/Ulaanbaatar"),
    ("Seoul", "Asia/Seoul"),
    ("Osaka", "Asia/Tokyo"),
    ("Sapporo", "Asia/Tokyo"),
    ("Tokyo", "Asia/Tokyo"),
    ("Yakutsk", "Asia/Yakutsk"),
    ("Darwin", "Australia/Darwin"),
    ("Adelaide", "Australia/Adelaide"),
    ("Canberra", "Australia/Melbourne"),
    ("Melbourne", "Australia/Melbourne"),
    ("Sydney", "Australia/Sydney"),
    ("Brisbane", "Australia/Brisbane"),
    ("Hobart", "Australia/Hobart"),
    ("Vladivostok", "Asia/Vladivostok"),
    ("Guam", "Pacific/Guam"),
    ("Port Moresby", "Pacific/Port_Moresby"),
    ("Magadan", "Asia/Magadan"),
    ("Srednekolymsk", "Asia/Srednekolymsk"),
    ("Solomon Is.", "Pacific/Guadalcanal"),
    ("New Caledonia", "Pacific/Noumea"),
    ("Fiji", "Pacific/Fiji"),
    ("Kamchatka", "Asia/Kamchatka"),
    ("Marshall Is.", "Pacific/Majuro"),
    ("Auckland", "Pacific/Auckland"),
    ("Wellington", "Pacific/Auckland"),
    ("Nuku'alofa", "Pacific/Tongatapu"),
    ("Tokelau Is.", "Pacific/Fakaofo"),
    ("Chatham Is.", "Pacific/Chatham"),
    ("Samoa", "Pacific/Apia"),
];

/// The app's zone: Knack's name, the IANA zone it maps to, and the rules.
#[derive(Debug, Clone)]
pub struct AppZone {
    /// The name the metadata gave (`settings.timezone`), if any.
    pub knack: Option<String>,
    /// The IANA zone used; `None` when the name is unknown (then a fixed offset from
    /// `timezone_offset`, or UTC).
    pub iana: Option<String>,
    tz: TimeZone,
}

impl AppZone {
    /// From the metadata's `settings.timezone` and `settings.timezone_offset` (seconds, a
    /// string or a number). The name may be Knack's ("Central Time (US & Canada)"), with or
    /// without a "(GMT-06:00) " prefix, or already an IANA name.
    pub fn new(name: Option<&str>, offset_seconds: Option<i64>) -> AppZone {
        let knack = name.map(str::trim).filter(|n| !n.is_empty());
        let iana = knack.and_then(iana_of);
        let tz = match iana.as_deref().and_then(|z| TimeZone::get(z).ok()) {
            Some(tz) => tz,
            None => offset_seconds
                .and_then(|s| i32::try_from(s).ok())
                .and_then(|s| Offset::from_seconds(s).ok())
                .map(TimeZone::fixed)
                .unwrap_or(TimeZone::UTC),
        };
        AppZone {
            knack: knack.map(str::to_owned),
            iana,
            tz,
        }
    }

    pub fn utc() -> AppZone {
        AppZone::new(None, None)
    }

    /// Knack's wall-clock milliseconds (local time written as UTC) -> the real instant (ms).
    /// A wall time that happens twice (the hour DST ends) is the first; one that does not
    /// exist (the hour DST starts) is moved forward by the gap, as JavaScript's `Date` does.
    pub fn to_instant(&self, wall_ms: i64) -> Option<i64> {
        let dt = wall_datetime(wall_ms)?;
        let ts = self.tz.to_ambiguous_timestamp(dt).compatible().ok()?;
        Some(ts.as_millisecond())
    }

    /// The real instant (ms) -> the app's wall clock as (year, month, day, hour, minute).
    pub fn to_wall(&self, instant_ms: i64) -> Option<Wall> {
        let ts = Timestamp::from_millisecond(instant_ms).ok()?;
        let dt = self.tz.to_datetime(ts);
        Some(Wall {
            year: i32::from(dt.year()),
            month: dt.month() as u8,
            day: dt.day() as u8,
            hour: dt.hour() as u8,
            minute: dt.minute() as u8,
        })
    }
}

/// A local wall-clock time, to the minute (Knack's date fields have no seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wall {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
}

fn wall_datetime(wall_ms: i64) -> Option<DateTime> {
    let ts = Timestamp::from_millisecond(wall_ms).ok()?;
    Some(TimeZone::UTC.to_datetime(ts))
}

/// The IANA zone of a Knack timezone name (or of an IANA name itself).
pub fn iana_of(name: &str) -> Option<String> {
    let name = strip_gmt_prefix(name.trim());
    if let Some((_, z)) = KNACK_ZONES
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
    {
        return Some((*z).to_owned());
    }
    if name.contains('/') {
        let tz = TimeZone::get(name).ok()?;
        return Some(tz.iana_name().unwrap_or(name).to_owned());
    }
    None
}

/// "(GMT-06:00) Central Time (US & Canada)" -> "Central Time (US & Canada)".
fn strip_gmt_prefix(name: &str) -> &str {
    if let Some(rest) = name
        .strip_prefix("(GMT")
        .or_else(|| name.strip_prefix("(UTC"))
    {
        if let Some(i) = rest.find(')') {
            return rest[i + 1..].trim_start();
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn wall(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> i64 {
        let dt = DateTime::new(y, mo, d, h, mi, 0, 0).unwrap();
        TimeZone::UTC.to_timestamp(dt).unwrap().as_millisecond()
    }

    #[test]
    fn every_knack_zone_name_maps_to_a_zone_of_the_bundled_database() {
        for (name, zone) in KNACK_ZONES {
            assert!(TimeZone::get(zone).is_ok(), "{name} -> {zone}");
            assert_eq!(AppZone::new(Some(name), None).iana.as_deref(), Some(*zone));
        }
        assert!(KNACK_ZONES.len() >= 150);
    }

    #[test]
    fn knack_names_with_a_gmt_prefix_and_iana_names_are_understood() {
        assert_eq!(
            iana_of("(GMT-06:00) Central Time (US & Canada)").as_deref(),
            Some("America/Chicago")
        );
        assert_eq!(
            iana_of("america/chicago").as_deref(),
            Some("America/Chicago")
        );
        assert_eq!(iana_of("Europe/Berlin").as_deref(), Some("Europe/Berlin"));
        assert_eq!(iana_of("Atlantis"), None);
    }

    #[test]
    fn central_time_is_six_hours_behind_in_winter_and_five_in_summer() {
        let z = AppZone::new(Some("Central Time (US & Canada)"), None);
        // 2019-09-11 00:00 wall (CDT, UTC-5) -> 05:00Z; 2019-01-11 00:00 (CST) -> 06:00Z.
        assert_eq!(
            z.to_instant(wall(2019, 9, 11, 0, 0)),
            Some(wall(2019, 9, 11, 5, 0))
        );
        assert_eq!(
            z.to_instant(wall(2019, 1, 11, 0, 0)),
            Some(wall(2019, 1, 11, 6, 0))
        );
    }

    #[test]
    fn us_dst_transitions_resolve_like_javascript_dates() {
        let z = AppZone::new(Some("Eastern Time (US & Canada)"), None);
        // Spring forward, 2024-03-10: 02:30 does not exist; it becomes 03:30 EDT = 07:30Z.
        assert_eq!(
            z.to_instant(wall(2024, 3, 10, 2, 30)),
            Some(wall(2024, 3, 10, 7, 30))
        );
        // 01:59 EST is still -5, 03:00 EDT is -4.
        assert_eq!(
            z.to_instant(wall(2024, 3, 10, 1, 59)),
            Some(wall(2024, 3, 10, 6, 59))
        );
        assert_eq!(
            z.to_instant(wall(2024, 3, 10, 3, 0)),
            Some(wall(2024, 3, 10, 7, 0))
        );
        // Fall back, 2024-11-03: 01:30 happens twice; the first (EDT) is 05:30Z.
        assert_eq!(
            z.to_instant(wall(2024, 11, 3, 1, 30)),
            Some(wall(2024, 11, 3, 5, 30))
        );
        assert_eq!(
            z.to_instant(wall(2024, 11, 3, 2, 0)),
            Some(wall(2024, 11, 3, 7, 0))
        );
    }

    #[test]
    fn writes_turn_an_instant_back_into_the_apps_wall_clock() {
        let z = AppZone::new(Some("Pacific Time (US & Canada)"), None);
        let instant = wall(2024, 7, 4, 19, 15); // 19:15Z = 12:15 PDT
        assert_eq!(
            z.to_wall(instant),
            Some(Wall {
                year: 2024,
                month: 7,
                day: 4,
                hour: 12,
                minute: 15
            })
        );
        for h in [0, 1, 5, 6, 7, 12, 23] {
            let i = wall(2024, 11, 3, h, 0);
            let w = z.to_wall(i).unwrap();
            let back = wall(
                w.year as i16,
                w.month as i8,
                w.day as i8,
                w.hour as i8,
                w.minute as i8,
            );
            // Round trip except inside the repeated hour, where the first is chosen.
            let again = z.to_instant(back).unwrap();
            assert!(again == i || again == i - H, "{h}");
        }
    }

    #[test]
    fn an_unknown_zone_uses_the_metadata_offset_or_utc() {
        let z = AppZone::new(Some("Atlantis"), Some(-21600));
        assert_eq!(z.iana, None);
        assert_eq!(z.knack.as_deref(), Some("Atlantis"));
        assert_eq!(z.to_instant(0), Some(6 * H));
        assert_eq!(AppZone::utc().to_instant(12345), Some(12345));
    }
}
