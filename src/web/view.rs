//! Small view models shared by pages: usage bars, formatted figures.

use crate::domain::{
    Cents, Kontingent,
    kontingent::Commitment,
    resources::{format_gib, format_vcpu},
};

/// One Kontingent dimension as a bar with numbers.
pub struct UsageBar {
    pub label: &'static str,
    pub text: String,
    pub percent: i64,
    /// `ok`, `warn` (≥ 80 %) or `over` (≥ 100 %).
    pub level: &'static str,
}

impl UsageBar {
    fn new(
        label: &'static str,
        used: i64,
        ceiling: i64,
        used_text: String,
        ceiling_text: String,
    ) -> Self {
        let percent = if ceiling > 0 {
            ((used as i128 * 100) / ceiling as i128) as i64
        } else if used > 0 {
            100
        } else {
            0
        };
        let level = match percent {
            p if p >= 100 => "over",
            p if p >= 80 => "warn",
            _ => "ok",
        };
        let suffix = match level {
            "over" => " – ausgeschöpft",
            "warn" => " – Warnung",
            _ => "",
        };
        UsageBar {
            label,
            text: format!("{used_text} von {ceiling_text} ({percent} %){suffix}"),
            percent,
            level,
        }
    }

    /// Width class in steps of 5, clamped to the bar.
    pub fn width_class(&self) -> String {
        let w = ((self.percent.clamp(0, 100) + 2) / 5) * 5;
        format!("kontor-w-{w}")
    }
}

pub fn usage_bars(k: &Kontingent, c: &Commitment) -> Vec<UsageBar> {
    vec![
        UsageBar::new(
            "vCPU",
            c.resources.millicpu,
            k.millicpu,
            format_vcpu(c.resources.millicpu),
            format!("{} vCPU", format_vcpu(k.millicpu)),
        ),
        UsageBar::new(
            "Arbeitsspeicher",
            c.resources.memory_mib,
            k.memory_mib,
            format_gib(c.resources.memory_mib),
            format!("{} GiB", format_gib(k.memory_mib)),
        ),
        UsageBar::new(
            "Speicher",
            c.resources.storage_gib,
            k.storage_gib,
            c.resources.storage_gib.to_string(),
            format!("{} GiB", k.storage_gib),
        ),
        UsageBar::new(
            "Monatsbudget",
            c.monthly().0,
            k.monthly_budget.0,
            Cents(c.monthly().0).to_string(),
            k.monthly_budget.to_string(),
        ),
    ]
}

pub fn vcpu(millicpu: &i64) -> String {
    format_vcpu(*millicpu)
}

pub fn gib(mib: &i64) -> String {
    format_gib(*mib)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_warn_at_80_and_are_exhausted_at_100_percent() {
        let bar = |used| UsageBar::new("x", used, 100, String::new(), String::new());
        assert_eq!(bar(79).level, "ok");
        assert_eq!(bar(80).level, "warn");
        assert_eq!(bar(100).level, "over");
        assert_eq!(bar(130).width_class(), "kontor-w-100");
        assert_eq!(bar(42).width_class(), "kontor-w-40");
        assert_eq!(bar(43).width_class(), "kontor-w-45");
    }
}
