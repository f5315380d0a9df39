//! The results: a markdown table on stdout and JSON under `target/bench/`.

use std::path::PathBuf;

use serde_json::{json, Value};

/// Whether a row's goal was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Met,
    Missed,
    /// Reported for information; the issue sets no goal on it.
    Info,
}

impl Verdict {
    pub(crate) fn of(met: bool) -> Self {
        if met {
            Self::Met
        } else {
            Self::Missed
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Met => "yes",
            Self::Missed => "**no**",
            Self::Info => "info",
        }
    }
}

/// One line of the table. Values are kept as numbers for the JSON, with their unit.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) unit: &'static str,
    pub(crate) tether: f64,
    pub(crate) baseline: f64,
    /// What the baseline column holds when it is not raw awc.
    pub(crate) baseline_label: Option<&'static str>,
    pub(crate) ratio: f64,
    pub(crate) goal: String,
    pub(crate) verdict: Verdict,
    /// How the goal was judged, when not by the ratio (e.g. a difference).
    pub(crate) judged_on: Option<String>,
}

impl Row {
    pub(crate) fn new(
        scenario: impl Into<String>,
        unit: &'static str,
        tether: f64,
        raw: f64,
    ) -> Self {
        Self {
            scenario: scenario.into(),
            unit,
            tether,
            baseline: raw,
            baseline_label: None,
            ratio: if raw == 0.0 { f64::NAN } else { tether / raw },
            goal: "—".to_owned(),
            verdict: Verdict::Info,
            judged_on: None,
        }
    }

    pub(crate) fn goal(mut self, goal: impl Into<String>, met: bool) -> Self {
        self.goal = goal.into();
        self.verdict = Verdict::of(met);
        self
    }

    pub(crate) fn judged_on(mut self, how: impl Into<String>) -> Self {
        self.judged_on = Some(how.into());
        self
    }

    pub(crate) fn baseline_is(mut self, label: &'static str) -> Self {
        self.baseline_label = Some(label);
        self
    }

    pub(crate) fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = ratio;
        self
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "scenario": self.scenario,
            "unit": self.unit,
            "tether": finite(self.tether),
            "baseline": finite(self.baseline),
            "baseline_is": self.baseline_label.unwrap_or("raw awc"),
            "ratio": finite(self.ratio),
            "goal": self.goal,
            "met": match self.verdict {
                Verdict::Met => Value::Bool(true),
                Verdict::Missed => Value::Bool(false),
                Verdict::Info => Value::Null,
            },
            "judged_on": self.judged_on,
        })
    }
}

fn finite(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// A number with about four significant digits.
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_owned();
    }
    let a = x.abs();
    if a >= 10_000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// The markdown table.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | tether | raw awc | ratio | goal | met? |\n|---|---:|---:|---:|---|---|\n",
    );
    for row in rows {
        let baseline = match row.baseline_label {
            Some(label) => format!("{} {} ({label})", num(row.baseline), row.unit),
            None => format!("{} {}", num(row.baseline), row.unit),
        };
        let goal = match &row.judged_on {
            Some(how) => format!("{} ({how})", row.goal),
            None => row.goal.clone(),
        };
        out.push_str(&format!(
            "| {} | {} {} | {} | {}× | {} | {} |\n",
            row.scenario,
            num(row.tether),
            row.unit,
            baseline,
            num(row.ratio),
            goal,
            row.verdict.label(),
        ));
    }
    out
}

/// `<target dir>/bench`, from the bench executable's path (`<target>/<profile>/deps/..`).
pub(crate) fn out_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")))
        .join("bench")
}

/// The `p`-th percentile (0..=100, nearest rank) of `samples`; NaN when empty.
pub(crate) fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of `samples`.
pub(crate) fn median(samples: &[f64]) -> f64 {
    percentile(samples, 50.0)
}
