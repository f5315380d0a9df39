//! The live terminal view: a progress line for the run and one status line per bot
//! (`indicatif`), with log lines printed above them without garbling them.

use std::fmt;
use std::io::{self, IsTerminal as _, Write as _};
use std::mem;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::scenario::{BotSample, Sample};

/// How often the spinners move, independent of the samples.
const SPIN: Duration = Duration::from_millis(120);

/// Installs the `tracing` subscriber: to stderr, above the bars, filtered by `RUST_LOG`
/// (default: this example's info lines; warnings only from tether and actix, whose
/// state-change logs would repeat the bots' own).
pub(crate) fn init_tracing(multi: &MultiProgress) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,tether_actix=warn,actix_server=warn,actix_web=warn")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(AboveBars(multi.clone()))
        .with_ansi(io::stderr().is_terminal())
        .with_target(false)
        .with_timer(Elapsed(Instant::now()))
        .init();
}

/// Log time stamps: seconds since the start, to the millisecond.
#[derive(Debug)]
struct Elapsed(Instant);

impl FormatTime for Elapsed {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        write!(w, "{:>7.3}s", self.0.elapsed().as_secs_f64())
    }
}

/// A `tracing` writer that prints each log line with the bars briefly hidden.
#[derive(Debug, Clone)]
struct AboveBars(MultiProgress);

impl<'a> MakeWriter<'a> for AboveBars {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine {
            multi: self.0.clone(),
            text: Vec::new(),
        }
    }
}

/// One log line, collected, then printed in one piece when dropped (the formatter
/// makes one writer per event).
#[derive(Debug)]
struct LogLine {
    multi: MultiProgress,
    text: Vec<u8>,
}

impl io::Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let text = mem::take(&mut self.text);
        // `suspend` clears the bars, runs this, and redraws them below. (Unlike
        // `MultiProgress::println`, it also prints when stderr is not a terminal.)
        self.multi.suspend(|| {
            let _ = io::stderr().write_all(&text);
        });
    }
}

/// The bars: the run's progress, then one line per bot.
#[derive(Debug)]
pub(crate) struct Dashboard {
    multi: MultiProgress,
    run: ProgressBar,
    bots: Vec<ProgressBar>,
}

impl Dashboard {
    /// A dashboard for a run of `duration`, described by `title`.
    pub(crate) fn new(multi: MultiProgress, duration: Duration, title: String) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        let run = multi.add(ProgressBar::new(millis));
        run.set_style(
            ProgressStyle::with_template("{msg} [{bar:40.cyan/blue}] {elapsed}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        run.set_message(title);
        Self {
            multi,
            run,
            bots: Vec::new(),
        }
    }

    /// Shows a new sample.
    pub(crate) fn update(&mut self, sample: &Sample) {
        if self.bots.is_empty() {
            let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {wide_msg}")
                .expect("the template is valid");
            for bot in &sample.bots {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(bot.name.clone());
                bar.enable_steady_tick(SPIN);
                self.bots.push(bar);
            }
        }
        self.run
            .set_position(u64::try_from(sample.at.as_millis()).unwrap_or(u64::MAX));
        for (bar, bot) in self.bots.iter().zip(&sample.bots) {
            bar.set_message(status_line(bot));
        }
    }

    /// Removes the bars; the summary follows.
    pub(crate) fn finish(&self) {
        for bar in &self.bots {
            bar.finish_and_clear();
        }
        self.run.finish_and_clear();
    }
}

/// `connected     primary  attempt  0  next    —  buffered   0  sent   412  confirmed   409  at hub   410`
///
/// "confirmed" is tether's count (the hub's WebSocket layer answered a ping written
/// after them), "at hub" the hub's own.
fn status_line(bot: &BotSample) -> String {
    let Some(status) = &bot.status else {
        return "connection actor not answering".into();
    };
    let next = status.next_delay.map_or_else(
        || "—".to_owned(),
        |delay| format!("{:.1}s", delay.as_secs_f64()),
    );
    let at_hub = bot
        .at_hub
        .map_or_else(|| "?".to_owned(), |count| count.to_string());
    format!(
        "{:<12}  {:<7}  attempt {:>2}  next {:>5}  buffered {:>3}  sent {:>5}  confirmed {:>5}  at hub {:>5}",
        status.state.to_string(),
        if status.endpoint.index == 0 { "primary" } else { "backup" },
        status.attempt,
        next,
        status.buffered,
        status.counters.sent,
        status.counters.confirmed,
        at_hub,
    )
}
