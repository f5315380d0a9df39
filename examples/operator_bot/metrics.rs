//! `--metrics ADDR`: tether's metrics as Prometheus text on `http://ADDR/metrics`.
//!
//! tether-actix records through the `metrics` facade (its `metrics` feature); the
//! application picks the exporter. Here it is `metrics-exporter-prometheus`, serving
//! for as long as the process runs. Install it before the bots start: a connection
//! takes its metric handles when it is built.

use std::net::SocketAddr;

use metrics_exporter_prometheus::{BuildError, PrometheusBuilder};

/// Buckets of the seconds histograms (round trip, time to reconnect): from half a
/// millisecond on loopback to half a minute of outage.
const SECONDS_BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the global recorder and serves it on `addr`; call from within the runtime.
pub(crate) fn serve(addr: SocketAddr) -> Result<(), BuildError> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(&SECONDS_BUCKETS)?
        .install()
}
