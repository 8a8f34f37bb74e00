//! Small view models shared by pages: usage bars, formatted figures.

use super::{
    format::{month_in, number_in},
    lang::{Arg, Lang},
};
use crate::{
    billing::{BudgetLevel, BudgetWatch},
    domain::{
        Cents, Kontingent, Limit,
        billing::Month,
        kontingent::Commitment,
        resources::{format_gib, format_vcpu},
    },
};

/// One Kontingent dimension as a bar with numbers.
pub struct UsageBar {
    pub label: String,
    pub text: String,
    pub percent: i64,
    /// `ok`, `warn` (≥ 80 %) or `over` (≥ 100 %).
    pub level: &'static str,
}

impl UsageBar {
    fn new(
        label: String,
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
        let lang = Lang::current();
        let id = match level {
            "over" => "usage-text-over",
            "warn" => "usage-text-warn",
            _ => "usage-text",
        };
        UsageBar {
            label,
            text: lang.t_with(
                id,
                &[
                    ("used", used_text.into()),
                    ("ceiling", ceiling_text.into()),
                    ("percent", percent.into()),
                ],
            ),
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
        let lang = Lang::current();
        let money = |c: &Cents| number_in(lang, c.to_string());
        let t = |id: &str, args: &[(&'static str, Arg)]| lang.t_with(id, args);
        let label = t("budget-label", &[("month", month_in(lang, w.month).into())]);
        if w.budget.0 <= 0 {
            return BudgetBar {
                month: w.month,
                label,
                text: t("budget-none", &[("forecast", money(&w.forecast).into())]),
                percent: 0,
                level: "ok",
                message: None,
            };
        }
        let level = w.level();
        let percent = w.forecast_percent();
        let so_far = || -> Arg { money(&w.so_far).into() };
        let forecast = || -> Arg { money(&w.forecast).into() };
        let budget = || -> Arg { money(&w.budget).into() };
        let (text, message) = if live {
            let text = t(
                "budget-live",
                &[
                    ("so_far", so_far()),
                    ("so_far_percent", w.so_far_percent().into()),
                    ("forecast", forecast()),
                    ("budget", budget()),
                    ("percent", percent.into()),
                ],
            );
            let message = match (w.so_far_level(), level) {
                (BudgetLevel::Exceeded, _) => Some(t(
                    "budget-live-exhausted",
                    &[
                        ("so_far", so_far()),
                        ("budget", budget()),
                        ("percent", w.so_far_percent().into()),
                    ],
                )),
                (_, BudgetLevel::Exceeded) => Some(t(
                    "budget-live-forecast-over",
                    &[
                        ("forecast", forecast()),
                        ("budget", budget()),
                        ("percent", percent.into()),
                    ],
                )),
                (_, BudgetLevel::Warning) => Some(t(
                    "budget-live-forecast-warn",
                    &[
                        ("forecast", forecast()),
                        ("budget", budget()),
                        ("percent", percent.into()),
                    ],
                )),
                _ => None,
            };
            (text, message)
        } else {
            let text = t(
                "budget-closed",
                &[
                    ("forecast", forecast()),
                    ("budget", budget()),
                    ("percent", percent.into()),
                ],
            );
            let message = match level {
                BudgetLevel::Exceeded => {
                    Some(t("budget-closed-over", &[("percent", percent.into())]))
                }
                BudgetLevel::Warning => {
                    Some(t("budget-closed-warn", &[("percent", percent.into())]))
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

/// A Kontingent dimension's name on the pages.
pub fn limit_label(lang: Lang, limit: Limit) -> String {
    lang.t(match limit {
        Limit::Vcpu => "limit-vcpu",
        Limit::Memory => "limit-memory",
        Limit::Storage => "limit-storage",
        Limit::MonthlyBudget => "limit-budget",
    })
}

/// A ceiling's value in words: `16 vCPU`, `2.500,00 € pro Monat`.
pub fn limit_value(lang: Lang, limit: Limit, value: i64) -> String {
    match limit {
        Limit::MonthlyBudget => lang.t_with(
            "limit-per-month",
            &[("amount", number_in(lang, Cents(value).to_string()).into())],
        ),
        other => number_in(lang, other.format(value)),
    }
}

pub fn usage_bars(k: &Kontingent, c: &Commitment) -> Vec<UsageBar> {
    let lang = Lang::current();
    let n = |german: String| number_in(lang, german);
    vec![
        UsageBar::new(
            limit_label(lang, Limit::Vcpu),
            c.resources.millicpu,
            k.millicpu,
            n(format_vcpu(c.resources.millicpu)),
            format!("{} vCPU", n(format_vcpu(k.millicpu))),
        ),
        UsageBar::new(
            limit_label(lang, Limit::Memory),
            c.resources.memory_mib,
            k.memory_mib,
            n(format_gib(c.resources.memory_mib)),
            format!("{} GiB", n(format_gib(k.memory_mib))),
        ),
        UsageBar::new(
            limit_label(lang, Limit::Storage),
            c.resources.storage_gib,
            k.storage_gib,
            super::format::count_in(lang, c.resources.storage_gib),
            format!("{} GiB", super::format::count_in(lang, k.storage_gib)),
        ),
        UsageBar::new(
            limit_label(lang, Limit::MonthlyBudget),
            c.monthly().0,
            k.monthly_budget.0,
            n(Cents(c.monthly().0).to_string()),
            n(k.monthly_budget.to_string()),
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
        let bar = |used| UsageBar::new("x".into(), used, 100, String::new(), String::new());
        assert_eq!(bar(79).level, "ok");
        assert_eq!(bar(80).level, "warn");
        assert_eq!(bar(100).level, "over");
        assert_eq!(bar(130).width_class(), "kontor-w-100");
        assert_eq!(bar(42).width_class(), "kontor-w-40");
        assert_eq!(bar(43).width_class(), "kontor-w-45");
    }
}
