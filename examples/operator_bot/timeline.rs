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
const LEGEND_HEIGHT: u32 = 40;
const FONT: &str = "sans-serif";
/// Room left of the plot for the bot names.
const LABEL_WIDTH: i32 = 70;

/// Where, inside a bot's row (0 at its bottom, 1 at its top), things are drawn.
const STRIP: (f64, f64) = (0.62, 0.92);
const DEPTH: (f64, f64) = (0.08, 0.55);
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
        chart.draw_series(spans.into_iter().map(|(from, to, state)| {
            Rectangle::new(
                [(from, base + STRIP.0), (to, base + STRIP.1)],
                state_color(state).filled(),
            )
        }))?;
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
        // The name left of the row, in pixels on the root area.
        let (x, y) = chart.backend_coord(&(0.0, base + 0.5));
        root.draw(&Text::new(
            bot.name.clone(),
            (x - LABEL_WIDTH + 6, y - 8),
            (FONT, 15).into_font().style(FontStyle::Bold),
        ))?;
    }

    draw_legend(&legend, config.timings.buffer_size)?;
    root.present()?;
    Ok(())
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
    let mut x = 20;
    let y = 12;
    let hub: Vec<_> = Misbehaviour::ALL
        .iter()
        .map(|&what| (what.to_string(), misbehaviour_color(what), true))
        .collect();
    for (index, (label, color, filled)) in keys.into_iter().chain(hub).enumerate() {
        if index == states.len() + 2 {
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
