//! The timeline picture (SVG, `plotters`): per bot, a strip coloured by connection
//! state and lines of its buffer depth and unconfirmed messages; across all bots, the
//! hub's misbehaviour.

use std::error::Error;
use std::fs;
use std::path::Path;

use plotters::prelude::*;
use tether_actix::ConnectionState;

use crate::hub::Misbehaviour;
use crate::scenario::Report;

const WIDTH: u32 = 1200;
const ROW_HEIGHT: u32 = 90;
/// Caption, axis and legend.
const FRAME_HEIGHT: u32 = 150;
const LEGEND_HEIGHT: u32 = 56;
const FONT: &str = "sans-serif";
/// Room left of the plot for the bot names.
const LABEL_WIDTH: i32 = 70;

/// Where, inside a bot's row (0 at its bottom, 1 at its top), things are drawn.
const STRIP: (f64, f64) = (0.62, 0.92);
const DEPTH: (f64, f64) = (0.08, 0.55);
/// The narrowest a state is drawn, in pixels: a connect of a few milliseconds stays
/// visible in a picture of half a minute.
const MIN_STATE_PX: f64 = 3.0;
/// The plot's width in pixels, about (the picture less the names and margins).
const PLOT_PX: f64 = (WIDTH as i32 - LABEL_WIDTH - 24) as f64;
/// Room above the top row for the misbehaviour labels.
const HEADROOM: f64 = 0.4;

/// Draws `report` as an SVG file at `path`, creating its directory.
pub(crate) fn write(report: &Report, path: &Path) -> Result<(), Box<dyn Error>> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let rows = report.bots.len().max(1);
    let height = FRAME_HEIGHT + ROW_HEIGHT * rows as u32;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (main, legend) = root.split_vertically(height - LEGEND_HEIGHT);

    let end = report.elapsed.as_secs_f64().max(0.001);
    let top = rows as f64 + HEADROOM;
    let config = &report.config;
    let mut chart = ChartBuilder::on(&main)
        .caption(
            format!(
                "operator_bot: {} bots, chaos {}, seed {}",
                config.bots, config.chaos, config.seed
            ),
            (FONT, 22),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(LABEL_WIDTH)
        .build_cartesian_2d(0.0..end, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("seconds since start")
        .x_label_formatter(&|x| format!("{x:.0}s"))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;

    // The hub's misbehaviour, behind everything else.
    for incident in &report.misbehaved {
        let (from, to) = (incident.from.as_secs_f64(), incident.to.as_secs_f64());
        let color = misbehaviour_color(incident.what);
        if to - from < end / 300.0 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(from, 0.0), (from, rows as f64)],
                color.stroke_width(2),
            )))?;
        } else {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(from, 0.0), (to, rows as f64)],
                color.mix(0.18).filled(),
            )))?;
        }
        chart.draw_series(std::iter::once(Text::new(
            incident.what.to_string(),
            (from, rows as f64 + HEADROOM * 0.8),
            (FONT, 13).into_font().color(&color),
        )))?;
    }

    let capacity = config.timings.buffer_size.max(1) as f64;
    for (index, bot) in report.bots.iter().enumerate() {
        // The first bot on top.
        let base = (rows - 1 - index) as f64;
        // Before its first transition a connection is Disconnected.
        let mut spans = Vec::new();
        let mut since = (0.0, ConnectionState::Disconnected);
        for &(at, state) in &bot.states {
            spans.push((since.0, at.as_secs_f64(), since.1));
            since = (at.as_secs_f64(), state);
        }
        spans.push((since.0, end, since.1));
        chart.draw_series(
            widened(&spans, end * MIN_STATE_PX / PLOT_PX)
                .into_iter()
                .map(|(from, to, state)| {
                    Rectangle::new(
                        [(from, base + STRIP.0), (to, base + STRIP.1)],
                        state_color(state).filled(),
                    )
                }),
        )?;
        // Connected while the hub played dead, until the heartbeat noticed: hatched.
        for (from, to, noticed) in unnoticed_silence(report, &spans) {
            let stripes = hatch(from, to, base + STRIP.0, base + STRIP.1, end, noticed);
            chart.draw_series(stripes)?;
        }
        // Queue depths, against a faint line at the buffer's capacity.
        let level = |depth: usize| {
            let share = (depth as f64 / capacity).min(1.0);
            base + DEPTH.0 + (DEPTH.1 - DEPTH.0) * share
        };
        for y in [base, level(config.timings.buffer_size)] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, y), (end, y)],
                BLACK.mix(0.2),
            )))?;
        }
        chart.draw_series(LineSeries::new(
            bot.depth
                .iter()
                .map(|d| (d.at.as_secs_f64(), level(d.unconfirmed))),
            UNCONFIRMED.stroke_width(1),
        ))?;
        chart.draw_series(LineSeries::new(
            bot.depth
                .iter()
                .map(|d| (d.at.as_secs_f64(), level(d.buffered))),
            BUFFER.stroke_width(2),
        ))?;
        // The name left of the row, beside its state strip, in pixels on the root area.
        let (x, y) = chart.backend_coord(&(0.0, base + (STRIP.0 + STRIP.1) / 2.0));
        root.draw(&Text::new(
            bot.name.clone(),
            (x - LABEL_WIDTH + 6, y - 8),
            (FONT, 15).into_font().style(FontStyle::Bold),
        ))?;
        // Ticks of the depth lines: 0, half and the buffer's capacity.
        let size = config.timings.buffer_size;
        for depth in [0, size / 2, size] {
            let (x, y) = chart.backend_coord(&(0.0, level(depth)));
            let label = depth.to_string();
            root.draw(&PathElement::new(vec![(x - 4, y), (x, y)], BLACK))?;
            // About 6 px a digit at this size, right-aligned against the tick.
            let width = 6 * label.len() as i32;
            root.draw(&Text::new(label, (x - 7 - width, y - 6), (FONT, 11)))?;
        }
    }

    draw_legend(&legend, config.timings.buffer_size)?;
    root.present()?;
    Ok(())
}

/// The state spans, each at least `min` wide: a short one borrows from the next.
fn widened(spans: &[(f64, f64, ConnectionState)], min: f64) -> Vec<(f64, f64, ConnectionState)> {
    let mut out = Vec::with_capacity(spans.len());
    let mut drawn_to = 0.0_f64;
    for &(from, to, state) in spans {
        let from = from.max(drawn_to);
        let to = to.max(from + min);
        out.push((from, to, state));
        drawn_to = to;
    }
    out
}

/// Where a bot stayed Connected during a silent incident: from the start of the silence
/// to the end of that Connected span (the heartbeat noticing), within the incident;
/// `true` when the heartbeat noticed before the silence ended.
fn unnoticed_silence(
    report: &Report,
    spans: &[(f64, f64, ConnectionState)],
) -> Vec<(f64, f64, bool)> {
    let mut out = Vec::new();
    for incident in report
        .misbehaved
        .iter()
        .filter(|incident| incident.what == Misbehaviour::Silent)
    {
        let (quiet, loud) = (incident.from.as_secs_f64(), incident.to.as_secs_f64());
        for &(from, to, state) in spans {
            if state == ConnectionState::Connected && from < loud && to > quiet {
                out.push((from.max(quiet), to.min(loud), to < loud));
            }
        }
    }
    out
}

/// Diagonal stripes over `[from, to]` of a strip from `low` to `high`.
fn hatch(
    from: f64,
    to: f64,
    low: f64,
    high: f64,
    end: f64,
    noticed: bool,
) -> Vec<PathElement<(f64, f64)>> {
    // One stripe every 6 pixels, each leaning 6 pixels to the right.
    let step = end * 6.0 / PLOT_PX;
    let mut stripes = Vec::new();
    let mut x = from;
    while x < to {
        let right = (x + step).min(to);
        stripes.push(PathElement::new(
            vec![(x, low), (right, high)],
            SILENT_UNNOTICED.stroke_width(2),
        ));
        x += step;
    }
    if noticed {
        // The moment the heartbeat noticed.
        stripes.push(PathElement::new(
            vec![(to, low - 0.05), (to, high + 0.05)],
            BLACK.stroke_width(2),
        ));
    }
    stripes
}

/// A row of colour keys: states, buffer depth, misbehaviour.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    capacity: usize,
) -> Result<(), Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let states = [
        ConnectionState::Connected,
        ConnectionState::Connecting,
        ConnectionState::Reconnecting,
        ConnectionState::Disconnected,
        ConnectionState::Closed,
        ConnectionState::Failed,
    ];
    let mut keys: Vec<(String, RGBColor, bool)> = states
        .iter()
        .map(|&state| (state.to_string(), state_color(state), true))
        .collect();
    keys.push((format!("buffered (0..{capacity})"), BUFFER, false));
    keys.push(("unconfirmed".into(), UNCONFIRMED, false));
    keys.push((
        "connected through a silence; black bar: the heartbeat noticed".into(),
        SILENT_UNNOTICED,
        false,
    ));
    let mut x = 20;
    let mut y = 8;
    let hub: Vec<_> = Misbehaviour::ALL
        .iter()
        .map(|&what| (what.to_string(), misbehaviour_color(what), true))
        .collect();
    for (index, (label, color, filled)) in keys.into_iter().chain(hub).enumerate() {
        if index == states.len() + 3 {
            // The hub's keys on a line of their own.
            (x, y) = (20, 28);
            area.draw(&Text::new("hub:", (x, y), (FONT, 13)))?;
            x += 36;
        }
        if filled {
            area.draw(&Rectangle::new([(x, y), (x + 14, y + 14)], color.filled()))?;
        } else {
            area.draw(&PathElement::new(
                vec![(x, y + 7), (x + 14, y + 7)],
                color.stroke_width(2),
            ))?;
        }
        area.draw(&Text::new(label.clone(), (x + 20, y), (FONT, 13)))?;
        // The naive font metrics of a build without font support: about 7 px a letter.
        x += 30 + 7 * label.len() as i32;
    }
    Ok(())
}

const BUFFER: RGBColor = RGBColor(30, 90, 200);
const UNCONFIRMED: RGBColor = RGBColor(230, 80, 160);
const SILENT_UNNOTICED: RGBColor = RGBColor(130, 60, 200);

/// The colour of a state strip.
fn state_color(state: ConnectionState) -> RGBColor {
    match state {
        ConnectionState::Connected => RGBColor(46, 160, 67),
        ConnectionState::Connecting => RGBColor(240, 200, 60),
        ConnectionState::Reconnecting => RGBColor(245, 140, 40),
        ConnectionState::Disconnected => RGBColor(210, 60, 60),
        ConnectionState::Closed => RGBColor(140, 140, 140),
        // Failed, and any state tether adds later.
        _ => RGBColor(20, 20, 20),
    }
}

/// The colour of a misbehaviour band and its label.
fn misbehaviour_color(what: Misbehaviour) -> RGBColor {
    match what {
        Misbehaviour::Drop => RGBColor(200, 0, 0),
        Misbehaviour::Restart => RGBColor(80, 80, 80),
        Misbehaviour::Silent => RGBColor(130, 60, 200),
        Misbehaviour::Refuse => RGBColor(0, 140, 140),
    }
}
