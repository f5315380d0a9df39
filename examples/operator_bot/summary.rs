//! The closing summary: one row per bot, the accounting of every event, and what the
//! hub did to them.

use std::fmt::Write as _;

use crate::accounting::Accounting;
use crate::hub::{HubStats, Misbehaviour};
use crate::scenario::{HubChoice, Report};
use crate::timings::humanize;

/// What the less obvious columns mean, printed under the table.
const LEGEND: &str =
    "  flushed      sent from tether's buffer after a reconnect (written while the link was down)
  unconfirmed  written, then the link died before the hub confirmed them: handed back,
               they may or may not have arrived (the hub's count tells)
  gaps         holes below the highest sequence number the hub saw (events that never came)
  dups         events the hub saw more than once (0: tether writes each at most once)
";

/// The summary of a run, as printed at the end.
pub(crate) fn render(report: &Report) -> String {
    let mut out = String::new();
    let headers = [
        "bot",
        "reconnects",
        "events",
        "sent",
        "flushed",
        "rejected",
        "undelivered",
        "unconfirmed",
        "at hub",
        "lost",
        "gaps",
        "dups",
        "closed",
        "accounted",
    ];
    let mut rows = Vec::new();
    for bot in &report.bots {
        let books = &bot.accounting;
        rows.push(vec![
            bot.name.clone(),
            bot.reconnects.to_string(),
            books.events.to_string(),
            books.sent.to_string(),
            books.flushed.to_string(),
            books.rejected.to_string(),
            books.undelivered.to_string(),
            books.unconfirmed.to_string(),
            books.at_hub.to_string(),
            books.lost.to_string(),
            books.gaps.to_string(),
            books.duplicates.to_string(),
            bot.closed
                .map_or_else(|| "no answer".to_owned(), |state| state.to_string()),
            if books.balanced() { "yes" } else { "NO" }.to_owned(),
        ]);
    }
    out.push_str(&table(&headers, &rows));
    out.push_str(LEGEND);
    out.push('\n');

    for bot in &report.bots {
        let b = &bot.accounting;
        let _ = writeln!(
            out,
            "{}: {} events = {} at the hub + {} lost ({} reported) + {} rejected + {} undelivered + {} still buffered{}",
            bot.name,
            b.events,
            b.at_hub,
            b.lost,
            b.lost - b.lost_unreported,
            b.rejected,
            b.undelivered,
            b.buffered,
            if b.pending > 0 {
                format!(" + {} without an outcome", b.pending)
            } else {
                String::new()
            },
        );
        for problem in &b.problems {
            let _ = writeln!(out, "  problem: {problem}");
        }
    }
    out.push('\n');

    if report.all_accounted() {
        out.push_str(
            "Every event accounted for: at the hub, or reported lost, rejected or undelivered;\n\
             tether's counters agree with what it told the bots.\n",
        );
    } else {
        out.push_str("NOT every event is accounted for: see the problems above.\n");
    }
    let total = |field: fn(&Accounting) -> u64| -> u64 {
        report.bots.iter().map(|bot| field(&bot.accounting)).sum()
    };
    let (unconfirmed, lost) = (total(|b| b.unconfirmed), total(|b| b.lost));
    let unreported = total(|b| b.lost_unreported);
    out.push_str("At most once: tether writes no event twice. ");
    if unconfirmed == 0 {
        out.push_str("No link died with events unconfirmed.\n");
    } else {
        let _ = writeln!(
            out,
            "{unconfirmed} events were handed back as unconfirmed\n\
             (written, then the link died before the hub confirmed them): {} had arrived \
             anyway, {} are lost.",
            unconfirmed - (lost - unreported),
            lost - unreported,
        );
    }
    if unreported == 0 {
        out.push_str("No event was lost without a report.\n");
    } else {
        let _ = writeln!(
            out,
            "{unreported} events were lost WITHOUT a report from tether."
        );
    }
    let late = total(|b| b.late);
    if late > 0 {
        let _ = writeln!(
            out,
            "{late} events reached the hub late: it read them only after playing dead."
        );
    }
    if report.all_closed() {
        out.push_str("Graceful close: every bot was closed and ended in Closed.\n");
    } else {
        out.push_str("NOT every bot ended in Closed.\n");
    }
    out.push('\n');
    out.push_str(&incidents(report));
    for bot in &report.bots {
        let _ = writeln!(
            out,
            "{}: longest outage {}, longest wait for a Send reply {} ms, {} tasks completed",
            bot.name,
            humanize(bot.longest_outage),
            bot.longest_send_wait.as_millis(),
            bot.completed,
        );
    }
    if let Some(hub) = &report.hub {
        let _ = writeln!(
            out,
            "hub: {} handshakes accepted, {} refused with 503, {} refused with 401, {} tasks assigned",
            hub.handshakes, hub.refused, hub.unauthorized, hub.tasks_issued
        );
    }
    out
}

/// What the hub did, one line.
fn incidents(report: &Report) -> String {
    if report.misbehaved.is_empty() {
        return match report.config.hub {
            HubChoice::Embedded => "The hub behaved (chaos off).\n".into(),
            HubChoice::External(_) => String::new(),
        };
    }
    let list: Vec<String> = report
        .misbehaved
        .iter()
        .map(|incident| {
            let lasted = incident.to.saturating_sub(incident.from);
            if incident.what == Misbehaviour::Drop {
                format!("{} at {}", incident.what, humanize(incident.from))
            } else {
                format!(
                    "{} at {} for {}",
                    incident.what,
                    humanize(incident.from),
                    humanize(lasted)
                )
            }
        })
        .collect();
    let times = match list.len() {
        1 => "once".to_owned(),
        n => format!("{n} times"),
    };
    format!(
        "The hub misbehaved {times} (chaos {}, seed {}):\n  {}.\n",
        report.config.chaos,
        report.config.seed,
        list.join(", ")
    )
}

/// The hub's own counts, for `--hub-only`.
pub(crate) fn render_hub(stats: &HubStats) -> String {
    let headers = [
        "bot",
        "received",
        "gaps",
        "dups",
        "late",
        "completed",
        "failed",
    ];
    let rows: Vec<Vec<String>> = stats
        .bots
        .iter()
        .map(|(name, bot)| {
            vec![
                name.clone(),
                bot.events.received.to_string(),
                bot.events.gaps.to_string(),
                bot.events.duplicates.to_string(),
                bot.events.late.to_string(),
                bot.completed.to_string(),
                bot.failed.to_string(),
            ]
        })
        .collect();
    table(&headers, &rows)
}

/// A plain text table: the first column left-aligned, the others right-aligned.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (index, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if index == 0 {
                let _ = write!(text, "{cell:<width$}");
            } else {
                let _ = write!(text, "  {cell:>width$}");
            }
        }
        text.push('\n');
        text
    };
    let mut out = line(headers.to_vec());
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    out.push_str(&line(rule.iter().map(String::as_str).collect()));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}
