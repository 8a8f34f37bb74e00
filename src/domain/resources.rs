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

fn format_thousandths(value: i64) -> String {
    let whole = value / 1000;
    let frac = (value % 1000).abs();
    if frac == 0 {
        whole.to_string()
    } else {
        let frac = format!("{frac:03}");
        format!("{whole},{}", frac.trim_end_matches('0'))
    }
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
    }
}
