//! Small view models shared by pages: usage bars, formatted figures.

use crate::{
    billing::{BudgetLevel, BudgetWatch},
    domain::{
        Cents, Kontingent,
        billing::Month,
        kontingent::Commitment,
        resources::{format_gib, format_vcpu},
    },
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

    pub fn width_class(&self) -> String {
        width_class(self.percent)
    }
}

/// Width class of a bar in steps of 5, clamped to the bar.
fn width_class(percent: i64) -> String {
    let w = ((percent.clamp(0, 100) + 2) / 5) * 5;
    format!("kontor-w-{w}")
}

fn level_class(level: BudgetLevel) -> &'static str {
    match level {
        BudgetLevel::Ok => "ok",
        BudgetLevel::Warning => "warn",
        BudgetLevel::Exceeded => "over",
    }
}

/// A month's cost against the monthly budget, as a bar with numbers and, at
/// 80 % and 100 %, a warning in words.
pub struct BudgetBar {
    /// For links to the statement.
    pub month: Month,
    pub label: String,
    pub text: String,
    pub percent: i64,
    /// `ok`, `warn` or `over`.
    pub level: &'static str,
    pub message: Option<String>,
}

impl BudgetBar {
    /// `live`: the month is running, so the forecast is what the bar shows.
    pub fn new(w: &BudgetWatch, live: bool) -> BudgetBar {
        let label = format!("Budget {}", w.month.label());
        if w.budget.0 <= 0 {
            return BudgetBar {
                month: w.month,
                label,
                text: format!("{} – kein Monatsbudget vereinbart", w.forecast),
                percent: 0,
                level: "ok",
                message: None,
            };
        }
        let level = w.level();
        let percent = w.forecast_percent();
        let (text, message) = if live {
            let text = format!(
                "bisher {} ({} %) · Prognose bis Monatsende {} von {} ({percent} %)",
                w.so_far,
                w.so_far_percent(),
                w.forecast,
                w.budget
            );
            let message = match (w.so_far_level(), level) {
                (BudgetLevel::Exceeded, _) => Some(format!(
                    "Das Monatsbudget ist bereits ausgeschöpft: bisher {} von {} ({} %).",
                    w.so_far,
                    w.budget,
                    w.so_far_percent()
                )),
                (_, BudgetLevel::Exceeded) => Some(format!(
                    "Die Prognose überschreitet das Monatsbudget: {} von {} ({percent} %).",
                    w.forecast, w.budget
                )),
                (_, BudgetLevel::Warning) => Some(format!(
                    "Die Prognose erreicht {percent} % des Monatsbudgets ({} von {}).",
                    w.forecast, w.budget
                )),
                _ => None,
            };
            (text, message)
        } else {
            let text = format!("{} von {} ({percent} %)", w.forecast, w.budget);
            let message = match level {
                BudgetLevel::Exceeded => Some(format!(
                    "Das Monatsbudget wurde überschritten ({percent} %)."
                )),
                BudgetLevel::Warning => {
                    Some(format!("Der Monat lag bei {percent} % des Monatsbudgets."))
                }
                BudgetLevel::Ok => None,
            };
            (text, message)
        };
        BudgetBar {
            month: w.month,
            label,
            text,
            percent,
            level: level_class(level),
            message,
        }
    }

    pub fn width_class(&self) -> String {
        width_class(self.percent)
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
            super::format::count(c.resources.storage_gib),
            format!("{} GiB", super::format::count(k.storage_gib)),
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
