//! The chart in BENCHMARKS.md: payload throughput (MB/s) against message size, for
//! Sinew, libzmq and (when measured) zmq.rs over tcp and ipc, with the raw TCP and Unix-socket bandwidth
//! as flat lines, drawn as SVG with plotters (SVG backend only). inproc is left
//! out: it passes pointers, so its "bandwidth" grows with the size without bound
//! and would flatten everything else (the table has it).
//!
//! This file must never compute a figure: it draws what the run measured.

use crate::Results;
use crate::measure::{Implementation, Summary, Transport, Workload};
use crate::report::megabytes;
use plotters::prelude::*;

/// The transports drawn.
const CHARTED: [Transport; 2] = [Transport::Tcp, Transport::Ipc];

/// The implementations drawn, in legend order.
const IMPLEMENTATIONS: [Implementation; 3] = [
    Implementation::Sinew,
    Implementation::Libzmq,
    Implementation::ZmqRs,
];

fn display_name(implementation: Implementation) -> &'static str {
    match implementation {
        Implementation::Sinew => "Sinew",
        Implementation::Libzmq => "libzmq",
        Implementation::ZmqRs => "zmq.rs",
    }
}

fn colour(implementation: Implementation, transport: Transport) -> RGBColor {
    let tcp = transport == Transport::Tcp;
    match implementation {
        Implementation::Sinew if tcp => RGBColor(200, 30, 30),
        Implementation::Sinew => RGBColor(240, 130, 30),
        Implementation::Libzmq if tcp => RGBColor(30, 60, 200),
        Implementation::Libzmq => RGBColor(40, 170, 220),
        Implementation::ZmqRs if tcp => RGBColor(20, 120, 50),
        Implementation::ZmqRs => RGBColor(110, 190, 90),
    }
}

/// Width and height of the chart, in pixels.
const DIMENSIONS: (u32, u32) = (900, 560);

/// The chart as SVG text.
pub fn draw(results: &Results) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, DIMENSIONS).into_drawing_area();
        draw_on(&root, results).map_err(|error| format!("cannot draw the chart: {error}"))?;
        root.present()
            .map_err(|error| format!("cannot draw the chart: {error}"))?;
    }
    Ok(svg)
}

type Failure = DrawingAreaErrorKind<std::io::Error>;

fn series(
    results: &Results,
    transport: Transport,
    implementation: Implementation,
) -> Vec<(f64, f64)> {
    results
        .rows
        .iter()
        .filter(|row| row.transport == transport && row.workload == Workload::Throughput)
        .filter(|row| !row.runs(implementation).throughput.is_empty())
        .map(|row| {
            let runs = row.runs(implementation);
            (
                row.size as f64,
                megabytes(runs.messages_per_second().median, row.size).max(1e-3),
            )
        })
        .collect()
}

fn draw_on(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    results: &Results,
) -> Result<(), Failure> {
    root.fill(&WHITE)?;
    let sizes: Vec<f64> = results
        .rows
        .iter()
        .filter(|row| row.transport != Transport::Inproc)
        .map(|row| row.size as f64)
        .collect();
    let x_low = sizes.iter().copied().fold(f64::INFINITY, f64::min).min(1.0);
    let x_high = sizes.iter().copied().fold(0.0, f64::max).max(2.0) * 1.5;
    let floors: Vec<(Transport, f64)> = results
        .floors
        .iter()
        .map(|floor| (floor.transport, Summary::of(&floor.bandwidth).median / 1e6))
        .collect();
    let mut all: Vec<f64> = floors.iter().map(|(_, value)| *value).collect();
    for transport in CHARTED {
        for implementation in IMPLEMENTATIONS {
            all.extend(
                series(results, transport, implementation)
                    .iter()
                    .map(|(_, value)| *value),
            );
        }
    }
    let y_low = all.iter().copied().fold(f64::INFINITY, f64::min).min(1.0) / 2.0;
    let y_high = all.iter().copied().fold(0.0, f64::max).max(10.0) * 2.0;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "PUSH/PULL throughput against message size, tcp and ipc (payload MB/s, log-log)",
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d((x_low..x_high).log_scale(), (y_low..y_high).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("message size (bytes)")
        .y_desc("MB/s of payload")
        .x_label_formatter(&|size| format!("{}", size.round()))
        .y_label_formatter(&|value| format!("{value}"))
        .draw()?;
    // Sinew warm colours with circles, libzmq blues with triangles, zmq.rs greens
    // with squares; tcp darker, ipc lighter.
    for transport in CHARTED {
        for implementation in IMPLEMENTATIONS {
            let points = series(results, transport, implementation);
            if points.is_empty() {
                continue;
            }
            let colour = colour(implementation, transport);
            let label = format!("{} {}", display_name(implementation), transport.name());
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            match implementation {
                Implementation::Sinew => chart.draw_series(
                    points
                        .iter()
                        .map(|&point| Circle::new(point, 4, colour.filled())),
                )?,
                Implementation::Libzmq => chart.draw_series(
                    points
                        .iter()
                        .map(|&point| TriangleMarker::new(point, 5, colour.filled())),
                )?,
                Implementation::ZmqRs => chart.draw_series(
                    points
                        .iter()
                        .map(|&point| Cross::new(point, 4, colour.stroke_width(2))),
                )?,
            };
        }
    }
    for (transport, value) in floors {
        let colour = match transport {
            Transport::Tcp => BLACK,
            _ => RGBColor(130, 130, 130),
        };
        let label = match transport {
            Transport::Tcp => "raw TCP (1 MiB writes)",
            _ => "raw Unix socket (1 MiB writes)",
        };
        chart
            .draw_series(LineSeries::new(
                [(x_low, value), (x_high, value)],
                colour.stroke_width(2),
            ))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
