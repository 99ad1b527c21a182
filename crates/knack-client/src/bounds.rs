//! The bounds of every numeric option, declared once, as constants on the core types they
//! configure (`CallPolicy::TIMEOUT_MS`, `ListQuery::ROWS_PER_PAGE`, ...). The binding checks
//! what JS passes against them; JS itself checks only what JS alone can (types, unknown keys).

use crate::error::{Error, Result};

/// A whole number in `min..=max`, named as the user spells the option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub name: &'static str,
    pub min: u64,
    pub max: u64,
}

impl Bound {
    pub const fn new(name: &'static str, min: u64, max: u64) -> Bound {
        Bound { name, min, max }
    }

    /// `v` as a whole number within the bound, or `KNACK_INVALID_ARGUMENT` saying why.
    pub fn check(self, v: f64) -> Result<u64> {
        if v.is_finite() && v.fract() == 0.0 && v >= self.min as f64 && v <= self.max as f64 {
            return Ok(v as u64);
        }
        Err(Error::invalid(format!(
            "{} must be a whole number from {} to {}, got {}",
            self.name,
            self.min,
            self.max,
            describe(v)
        )))
    }
}

/// A number as JavaScript prints it (`NaN`, `Infinity`, `1.5`).
fn describe(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{v}")
    }
}

/// One day in milliseconds: the longest timeout or deadline.
pub const DAY_MS: u64 = 86_400_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_takes_whole_numbers_within_it_and_names_the_option_otherwise() {
        let b = Bound::new("timeoutMs", 1, DAY_MS);
        assert_eq!(b.check(1.0).unwrap(), 1);
        assert_eq!(b.check(86_400_000.0).unwrap(), DAY_MS);
        for (bad, shown) in [
            (0.0, "0"),
            (-5.0, "-5"),
            (1.5, "1.5"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (86_400_001.0, "86400001"),
        ] {
            let e = b.check(bad).unwrap_err();
            assert_eq!(e.code(), "KNACK_INVALID_ARGUMENT");
            assert_eq!(
                e.message,
                format!("timeoutMs must be a whole number from 1 to 86400000, got {shown}")
            );
        }
    }
}
