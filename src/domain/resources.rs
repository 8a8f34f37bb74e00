use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// A resource vector: what a size grants and what a Kontingent allows.
/// CPU in millicores and memory in MiB, as Kubernetes counts them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct Resources {
    /// CPU in millicores (1000 = 1 vCPU).
    pub millicpu: i64,
    /// Memory in MiB.
    pub memory_mib: i64,
    /// Persistent storage in GiB.
    pub storage_gib: i64,
    /// Maximum number of pods.
    pub pods: i64,
}

impl Resources {
    /// Whether this holds persistent storage (a storage product's size):
    /// cancelling it deletes the data kept there, so the person confirms.
    pub fn holds_data(&self) -> bool {
        self.storage_gib > 0
    }
}

impl Add for Resources {
    type Output = Resources;
    fn add(self, o: Resources) -> Resources {
        Resources {
            millicpu: self.millicpu + o.millicpu,
            memory_mib: self.memory_mib + o.memory_mib,
            storage_gib: self.storage_gib + o.storage_gib,
            pods: self.pods + o.pods,
        }
    }
}

impl Sub for Resources {
    type Output = Resources;
    fn sub(self, o: Resources) -> Resources {
        Resources {
            millicpu: self.millicpu - o.millicpu,
            memory_mib: self.memory_mib - o.memory_mib,
            storage_gib: self.storage_gib - o.storage_gib,
            pods: self.pods - o.pods,
        }
    }
}

/// `2500` millicores → `2,5`.
pub fn format_vcpu(millicpu: i64) -> String {
    format_thousandths(millicpu)
}

/// `12288` MiB → `12`, `1536` → `1,5` (GiB).
pub fn format_gib(mib: i64) -> String {
    let thousandths = (mib as i128 * 1000 / 1024) as i64;
    format_thousandths(thousandths)
}

/// German display: decimal comma, whole part grouped by thousands
/// (`2.000`), the exact thousandths kept (a booked size is never rounded).
fn format_thousandths(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let whole = group_thousands((value / 1000).unsigned_abs());
    let frac = (value % 1000).abs();
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let frac = format!("{frac:03}");
        format!("{sign}{whole},{}", frac.trim_end_matches('0'))
    }
}

/// A whole quantity for people: `2000` → `2.000`.
pub fn format_whole(n: i64) -> String {
    let grouped = group_thousands(n.unsigned_abs());
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// A number the domain wrote the German way (`2.000`, `2.500,00 €`) for a
/// message in the language of the request being answered.
pub fn in_current_language(german: String) -> String {
    crate::i18n::number_in(crate::i18n::Lang::current(), german)
}

/// `2000` → `2.000`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory_display_in_whole_units() {
        assert_eq!(format_vcpu(2000), "2");
        assert_eq!(format_vcpu(2500), "2,5");
        assert_eq!(format_gib(8192), "8");
        assert_eq!(format_gib(1536), "1,5");
        assert_eq!(format_vcpu(2_000_000), "2.000");
        assert_eq!(format_gib(2000 * 1024 + 512), "2.000,5");
        assert_eq!(format_whole(5000), "5.000");
        assert_eq!(format_whole(-1200), "-1.200");
    }
}
