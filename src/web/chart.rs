//! A stacked bar chart of daily cost by stage, as geometry for an inline SVG
//! template (`_chart.html`).
//!
//! Written here rather than taken from a charting crate: the Rust ones either
//! need a font rasteriser to lay out text, or write `style` attributes that
//! our CSP forbids, and none marks its output up for screen readers. The
//! chart is decoration over the data table printed beside it; all it needs
//! is rectangles, a scale and a legend.

use super::lang::{Lang, Worded, t};
use crate::{
    billing::DayCost,
    domain::{Cents, Stage},
};

pub const WIDTH: i64 = 720;
pub const HEIGHT: i64 = 260;
const LEFT: i64 = 64;
const RIGHT: i64 = 8;
const TOP: i64 = 12;
const BOTTOM: i64 = 28;

pub struct Segment {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    /// `kontor-chart__stage-N`, coloured by the stylesheet.
    pub class: String,
    pub title: String,
}

pub struct Tick {
    pub y: i64,
    pub label: String,
}

pub struct DayLabel {
    pub x: i64,
    pub label: String,
}

pub struct Chart {
    pub width: i64,
    pub height: i64,
    pub plot_left: i64,
    pub plot_right: i64,
    pub plot_bottom: i64,
    pub label_y: i64,
    pub segments: Vec<Segment>,
    pub ticks: Vec<Tick>,
    pub days: Vec<DayLabel>,
    pub legend: Vec<(String, String)>,
    pub empty: bool,
}

/// The smallest 1, 2 or 5 × 10ⁿ cents at or above `max`, so the axis reads
/// in round numbers.
fn nice_ceiling(max: i64) -> i64 {
    let mut step = 1_i64;
    loop {
        for m in [1, 2, 5] {
            if step * m >= max {
                return step * m;
            }
        }
        step *= 10;
    }
}

fn euro_short(cents: i64) -> String {
    if cents % 100 == 0 {
        format!("{} €", super::format::count(cents / 100))
    } else {
        super::format::number_in(Lang::current(), Cents(cents).to_string())
    }
}

pub fn daily(days: &[DayCost]) -> Chart {
    let max = days.iter().map(|d| d.total().0).max().unwrap_or(0);
    let top = nice_ceiling(max.max(1));
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - RIGHT;
    let slot = plot_w / (days.len().max(1) as i64);
    let bar_w = (slot * 7 / 10).max(2);
    let y_of = |cents: i64| {
        TOP + plot_h - (i128::from(cents) * i128::from(plot_h) / i128::from(top)) as i64
    };
    let mut segments = Vec::new();
    let mut labels = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let x = LEFT + i as i64 * slot + (slot - bar_w) / 2;
        let mut base = 0_i64;
        for (s, stage) in Stage::ALL.iter().enumerate() {
            let c = day.by_stage[s].0;
            if c <= 0 {
                continue;
            }
            let (y_top, y_bottom) = (y_of(base + c), y_of(base));
            segments.push(Segment {
                x,
                y: y_top,
                width: bar_w,
                height: (y_bottom - y_top).max(1),
                class: format!("kontor-chart__stage-{}", s + 1),
                title: format!(
                    "{}: {} {}",
                    // The month is the page's: the day alone, `01.12.` / `1 Dec`.
                    match Lang::current() {
                        Lang::De => day.date.strftime("%d.%m.").to_string(),
                        Lang::En => day.date.strftime("%-d %b").to_string(),
                    },
                    t(&stage.message_id()),
                    super::format::number_in(Lang::current(), Cents(c).to_string())
                ),
            });
            base += c;
        }
        let n = day.date.day();
        if n == 1 || n % 5 == 0 {
            labels.push(DayLabel {
                x: x + bar_w / 2,
                label: n.to_string(),
            });
        }
    }
    let ticks = (0..=4)
        .map(|k| {
            let cents = top * k / 4;
            Tick {
                y: y_of(cents),
                label: euro_short(cents),
            }
        })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        plot_left: LEFT,
        plot_right: WIDTH - RIGHT,
        plot_bottom: TOP + plot_h,
        label_y: HEIGHT - 8,
        empty: max == 0,
        segments,
        ticks,
        days: labels,
        legend: Stage::ALL
            .iter()
            .enumerate()
            .map(|(s, st)| {
                (
                    format!("kontor-chart__stage-{}", s + 1),
                    t(&st.message_id()),
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_on_a_round_number() {
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(4321), 5000);
        assert_eq!(nice_ceiling(5001), 10000);
        assert_eq!(nice_ceiling(20000), 20000);
    }

    #[test]
    fn stacked_segments_sit_on_each_other_and_stay_inside_the_plot() {
        let date = "2026-11-01".parse().unwrap();
        let days = [DayCost {
            date,
            by_stage: [Cents(100), Cents(0), Cents(0), Cents(300)],
        }];
        let c = daily(&days);
        assert_eq!(c.segments.len(), 2);
        let (a, b) = (&c.segments[0], &c.segments[1]);
        assert_eq!(a.y, b.y + b.height, "the second stage stacks on the first");
        assert_eq!(a.y + a.height, c.plot_bottom);
        assert!(b.y >= TOP);
        assert!(b.title.contains("Produktion") && b.title.contains("3,00 €"));
    }
}
