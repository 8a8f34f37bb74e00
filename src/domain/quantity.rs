//! Kubernetes resource quantities (`500m`, `2`, `4Gi`, `1.5G`, `1e3`): the
//! canonical text Kontor writes and the exact reading of what a cluster
//! reports. Canonical, because the API server rewrites every quantity into
//! its canonical form; writing it that way is what lets a resync compare
//! desired and live objects without a false drift (`4096Mi` comes back as
//! `4Gi`).
//!
//! See <https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/>.

/// CPU in millicores: whole cores without a suffix, the rest in `m`.
pub fn cpu(millicpu: i64) -> String {
    if millicpu % 1000 == 0 {
        (millicpu / 1000).to_string()
    } else {
        format!("{millicpu}m")
    }
}

/// Memory in MiB, with the largest binary suffix that keeps it whole.
pub fn mebibytes(mib: i64) -> String {
    binary(i128::from(mib) << 20)
}

/// Storage in GiB, with the largest binary suffix that keeps it whole.
pub fn gibibytes(gib: i64) -> String {
    binary(i128::from(gib) << 30)
}

fn binary(bytes: i128) -> String {
    if bytes == 0 {
        return "0".into();
    }
    const SUFFIXES: [(&str, u32); 6] = [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ];
    for (suffix, shift) in SUFFIXES {
        let unit = 1i128 << shift;
        if bytes % unit == 0 {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

/// A parsed quantity: `digits × 10^exp10 × 2^exp2`, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    digits: i128,
    exp10: i32,
    exp2: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Kubernetes quantity: {0:?}")]
pub struct QuantityError(pub String);

impl Quantity {
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let err = || QuantityError(text.to_owned());
        let s = text.trim();
        let (sign, s) = match s.as_bytes().first() {
            Some(b'-') => (-1, &s[1..]),
            Some(b'+') => (1, &s[1..]),
            _ => (1, s),
        };
        let number_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, suffix) = s.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(err());
        }
        let mut digits: i128 = 0;
        for c in whole.bytes().chain(fraction.bytes()) {
            digits = digits
                .checked_mul(10)
                .and_then(|d| d.checked_add(i128::from(c - b'0')))
                .ok_or_else(err)?;
        }
        let frac_len = i32::try_from(fraction.len()).map_err(|_| err())?;
        let (exp10, exp2) = match suffix {
            "" => (0, 0),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            e if e.starts_with(['e', 'E']) => (e[1..].parse::<i32>().map_err(|_| err())?, 0),
            _ => return Err(err()),
        };
        if !(-30..=30).contains(&exp10) {
            return Err(err());
        }
        Ok(Quantity {
            digits: sign * digits,
            exp10: exp10 - frac_len,
            exp2,
        })
    }

    /// `ceil(self × scale / 2^shift)` as a whole number, saturating; for
    /// usage a fraction of a unit counts as a unit.
    fn ceil_scaled(self, scale: i128, shift: u32) -> i64 {
        let mut num = self.digits.saturating_mul(scale);
        let mut den: i128 = 1;
        if self.exp10 >= 0 {
            num = num.saturating_mul(10i128.saturating_pow(self.exp10.unsigned_abs()));
        } else {
            den = 10i128.saturating_pow(self.exp10.unsigned_abs());
        }
        // 2^exp2 / 2^shift, applied to whichever side keeps it whole.
        if self.exp2 >= shift {
            num = num.saturating_mul(1i128 << (self.exp2 - shift).min(100));
        } else {
            den = den.saturating_mul(1i128 << (shift - self.exp2).min(100));
        }
        let value = num.div_euclid(den) + i128::from(num.rem_euclid(den) != 0);
        i64::try_from(value.max(0)).unwrap_or(i64::MAX)
    }

    /// CPU in millicores.
    pub fn millicpu(self) -> i64 {
        self.ceil_scaled(1000, 0)
    }

    /// Bytes in MiB.
    pub fn mebibytes(self) -> i64 {
        self.ceil_scaled(1, 20)
    }

    /// Bytes in GiB.
    pub fn gibibytes(self) -> i64 {
        self.ceil_scaled(1, 30)
    }

    /// A plain count (pods).
    pub fn count(self) -> i64 {
        self.ceil_scaled(1, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_written_in_whole_cores_when_it_can_be() {
        assert_eq!(cpu(2000), "2");
        assert_eq!(cpu(500), "500m");
        assert_eq!(cpu(2500), "2500m");
        assert_eq!(cpu(0), "0");
    }

    #[test]
    fn memory_takes_the_largest_binary_suffix_that_keeps_it_whole() {
        assert_eq!(mebibytes(4096), "4Gi");
        assert_eq!(mebibytes(1536), "1536Mi");
        assert_eq!(mebibytes(512), "512Mi");
        assert_eq!(mebibytes(0), "0");
        assert_eq!(gibibytes(1024), "1Ti");
        assert_eq!(gibibytes(20), "20Gi");
    }

    #[test]
    fn written_quantities_read_back_to_the_same_value() {
        for m in [0, 1, 250, 1000, 2500, 64_000] {
            assert_eq!(Quantity::parse(&cpu(m)).unwrap().millicpu(), m);
        }
        for mib in [0, 128, 1536, 4096, 1 << 20] {
            assert_eq!(Quantity::parse(&mebibytes(mib)).unwrap().mebibytes(), mib);
        }
        for gib in [0, 5, 1024, 3072] {
            assert_eq!(Quantity::parse(&gibibytes(gib)).unwrap().gibibytes(), gib);
        }
    }

    #[test]
    fn every_suffix_form_a_cluster_reports_is_read_exactly() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        assert_eq!(q("1.5").millicpu(), 1500);
        assert_eq!(q("250m").millicpu(), 250);
        assert_eq!(
            q("100u").millicpu(),
            1,
            "a fraction of a millicore counts as one"
        );
        assert_eq!(q("1e3").count(), 1000);
        assert_eq!(q("1k").count(), 1000);
        assert_eq!(q("1G").mebibytes(), 954, "10^9 bytes, rounded up");
        assert_eq!(q("1Gi").mebibytes(), 1024);
        assert_eq!(q("0.5Gi").mebibytes(), 512);
        assert_eq!(q("1048576Ki").gibibytes(), 1);
        assert_eq!(q("1").mebibytes(), 1, "one byte is charged as a MiB");
        assert_eq!(q("0").millicpu(), 0);
        assert_eq!(q("3").count(), 3);
    }

    #[test]
    fn text_that_is_no_quantity_is_refused() {
        for bad in ["", "m", "1x", "1.2.3", "Gi", "1e", "--1", "1e99"] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?}");
        }
    }
}
