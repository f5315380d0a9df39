//! Scenario 6: thousands of idle connections with 1 s heartbeats.
//!
//! The hub runs in a child process (the open-file limit is per process), and so does
//! each client population (raw awc first, then tether), so that each starts from a
//! fresh heap: memory freed by one population cannot flatter the other's RSS growth.
//! All three are this bench binary re-executed with `TETHER_BENCH_ROLE` set.

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use awc::ws::{Frame, Message};
use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};

use crate::clients::{raw_client, raw_connect, Probe};
use crate::report::Row;
use crate::server::BenchServer;
use crate::system::{cpu_time, raise_nofile, rss_kib};
use crate::{Outcome, Sizes};

const HEARTBEAT: Duration = Duration::from_secs(1);
/// Handshakes in progress at once while a population connects.
const CONNECT_BATCH: usize = 250;

/// Role `hub`: an echo server in this process; prints `PORT <n>`, runs until stdin
/// closes.
pub(crate) fn hub_main() {
    raise_nofile();
    let system = actix::System::new();
    system.block_on(async {
        let server = BenchServer::start();
        println!("PORT {}", server.port());
        let _ = std::io::stdout().flush();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            let _ = tx.send(());
        });
        let _ = rx.await;
        drop(server);
    });
}

/// Role `scale-client`: opens `TETHER_BENCH_SCALE_N` connections of kind
/// `TETHER_BENCH_SCALE_KIND` (`raw` or `tether`) to `TETHER_BENCH_SCALE_URL`, measures,
/// prints one `RESULT <json>` line.
pub(crate) fn client_main() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let kind = var("TETHER_BENCH_SCALE_KIND");
    let url = var("TETHER_BENCH_SCALE_URL");
    let n: u64 = var("TETHER_BENCH_SCALE_N").parse().unwrap_or(500);
    let window = Duration::from_secs(var("TETHER_BENCH_SCALE_WINDOW").parse().unwrap_or(2));
    let limit = raise_nofile();
    // One descriptor per connection, plus the runtime's own; stay under the limit.
    let n = n.min(limit.saturating_sub(256));
    if kind == "tether-recorded" {
        // Scenario 9: the same population with a real metrics recorder installed.
        crate::metrics_cost::install_recorder();
    }
    let system = actix::System::new();
    let result = system.block_on(async move {
        let rss_start = rss_kib();
        let warm = (n / 100).max(10).min(n);
        let mut population = Population::new(&kind);
        let started = Instant::now();
        population.grow(&url, warm).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let rss_warm = rss_kib();
        population.grow(&url, n - warm).await;
        let connect_secs = started.elapsed().as_secs_f64();
        // At least one heartbeat everywhere before measuring.
        tokio::time::sleep(HEARTBEAT + Duration::from_millis(500)).await;
        let lost_before = population.lost();
        let cpu_before = cpu_time();
        let t = Instant::now();
        tokio::time::sleep(window).await;
        let cpu = (cpu_time() - cpu_before).as_secs_f64() / t.elapsed().as_secs_f64();
        let rss_full = rss_kib();
        json!({
            "kind": kind, "n": n, "warm": warm, "connected": population.connected(),
            "lost": population.lost(), "lost_during_window": population.lost() - lost_before,
            "open_file_limit": limit, "connect_seconds": connect_secs,
            "rss_start_kib": rss_start, "rss_warm_kib": rss_warm, "rss_full_kib": rss_full,
            "kib_per_connection": (rss_full as f64 - rss_warm as f64) / (n - warm) as f64,
            "cpu_per_second": cpu,
        })
    });
    println!("RESULT {result}");
}

/// The connections of one client process.
enum Population {
    Raw {
        client: awc::Client,
        connected: u64,
        lost: Rc<Cell<u64>>,
    },
    Tether {
        probe: Probe,
        addrs: Vec<actix::Addr<tether_actix::ConnectionActor>>,
    },
}

impl std::fmt::Debug for Population {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Population")
            .field("connected", &self.connected())
            .finish_non_exhaustive()
    }
}

impl Population {
    fn new(kind: &str) -> Self {
        match kind {
            "tether" | "tether-recorded" => Self::Tether {
                probe: Probe::start(false),
                addrs: Vec::new(),
            },
            _ => Self::Raw {
                client: raw_client(),
                connected: 0,
                lost: Rc::default(),
            },
        }
    }

    fn connected(&self) -> u64 {
        match self {
            Self::Raw { connected, .. } => *connected,
            Self::Tether { probe, .. } => probe.connected(),
        }
    }

    fn lost(&self) -> u64 {
        match self {
            Self::Raw { lost, .. } => lost.get(),
            Self::Tether { probe, .. } => probe.disconnected(),
        }
    }

    /// Opens `more` connections, `CONNECT_BATCH` handshakes at a time.
    async fn grow(&mut self, url: &str, more: u64) {
        match self {
            Self::Raw {
                client,
                connected,
                lost,
            } => {
                let mut pending = FuturesUnordered::new();
                let mut started = 0;
                while started < more || !pending.is_empty() {
                    while started < more && pending.len() < CONNECT_BATCH {
                        pending.push(raw_connect(client, url));
                        started += 1;
                    }
                    match pending.next().await {
                        Some(Ok(conn)) => {
                            *connected += 1;
                            let lost = lost.clone();
                            actix::spawn(async move {
                                raw_idle(conn).await;
                                lost.set(lost.get() + 1);
                            });
                        }
                        Some(Err(err)) => eprintln!("scale: raw connect failed: {err}"),
                        None => {}
                    }
                }
            }
            Self::Tether { probe, addrs } => {
                let target = addrs.len() as u64 + more;
                while (addrs.len() as u64) < target {
                    let batch = (target - addrs.len() as u64).min(CONNECT_BATCH as u64);
                    for _ in 0..batch {
                        addrs.push(probe.connect(url, |c| {
                            c.heartbeat_interval(HEARTBEAT)
                                .connect_timeout(Duration::from_secs(30))
                        }));
                    }
                    let want = addrs.len() as u64;
                    if !probe.wait_connected(want, Duration::from_secs(60)).await {
                        eprintln!(
                            "scale: only {} of {want} tether connections up",
                            probe.connected()
                        );
                    }
                }
            }
        }
    }
}

/// An idle raw connection with the same heartbeat rule as tether: a ping per second,
/// the link is dead when nothing arrived for a heartbeat interval + 5 s.
async fn raw_idle(mut conn: crate::clients::RawConn) {
    let mut tick = tokio::time::interval_at((Instant::now() + HEARTBEAT).into(), HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    loop {
        tokio::select! {
            frame = conn.stream.next() => match frame {
                Some(Ok(Frame::Ping(payload))) => {
                    last_seen = Instant::now();
                    if conn.sink.send(Message::Pong(payload)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => last_seen = Instant::now(),
                _ => return,
            },
            _ = tick.tick() => {
                if last_seen.elapsed() > HEARTBEAT + Duration::from_secs(5) {
                    return;
                }
                if conn.sink.send(Message::Ping(Bytes::new())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A child process of this binary.
pub(crate) fn spawn_role(role: &str, env: &[(&str, String)]) -> Child {
    let exe = std::env::current_exe().expect("current exe");
    let mut command = Command::new(exe);
    command
        .env("TETHER_BENCH_ROLE", role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().expect("spawn bench child")
}

/// Runs one client population to completion; its `RESULT` JSON.
pub(crate) fn run_client(kind: &str, url: &str, sizes: &Sizes) -> Value {
    let mut child = spawn_role(
        "scale-client",
        &[
            ("TETHER_BENCH_SCALE_KIND", kind.to_owned()),
            ("TETHER_BENCH_SCALE_URL", url.to_owned()),
            ("TETHER_BENCH_SCALE_N", sizes.idle_connections.to_string()),
            (
                "TETHER_BENCH_SCALE_WINDOW",
                sizes.cpu_window_secs.to_string(),
            ),
        ],
    );
    let stdout = child.stdout.take().expect("piped");
    let mut result = Value::Null;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(json) = line.strip_prefix("RESULT ") {
            result = serde_json::from_str(json).unwrap_or(Value::Null);
        }
    }
    let _ = child.wait();
    result
}

pub(crate) async fn scale(sizes: &Sizes) -> Outcome {
    let mut hub = spawn_role("hub", &[]);
    let mut port_line = String::new();
    BufReader::new(hub.stdout.take().expect("piped"))
        .read_line(&mut port_line)
        .expect("hub prints its port");
    let port: u16 = port_line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .expect("PORT <n>");
    let url = format!("ws://127.0.0.1:{port}/ws");

    // Blocking is fine here: nothing else runs on this thread meanwhile.
    let raw = run_client("raw", &url, sizes);
    // Let the hub drop the raw sessions before the next population arrives.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tether = run_client("tether", &url, sizes);
    drop(hub.stdin.take());
    let _ = hub.wait();

    let get = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let n = sizes.idle_connections;
    let mem = Row::new(
        format!("6. memory per idle connection, {n} connections"),
        "KiB",
        get(&tether, "kib_per_connection"),
        get(&raw, "kib_per_connection"),
    );
    let met = mem.ratio <= 1.25;
    let cpu = Row::new(
        format!("6. CPU with 1 s heartbeats, {n} connections"),
        "% core",
        get(&tether, "cpu_per_second") * 100.0,
        get(&raw, "cpu_per_second") * 100.0,
    );
    let mut notes = vec![format!(
        "6. hub and each client population in child processes; memory = VmRSS growth \
         from {} warm connections to all {n}, after ≥1 heartbeat and the CPU window; \
         raw awc shares one awc::Client and runs one task per connection (ping each 1 s)",
        get(&raw, "warm")
    )];
    for (label, v) in [("raw", &raw), ("tether", &tether)] {
        let connected = get(v, "connected");
        let lost = get(v, "lost");
        if connected.is_nan() || connected < n as f64 || lost > 0.0 {
            notes.push(format!(
                "6. {label}: {connected} of {n} connected, {lost} links lost"
            ));
        }
    }
    Outcome {
        rows: vec![mem.goal("≤ 1.25×", met), cpu],
        details: json!({"raw": raw, "tether": tether}),
        notes,
    }
}
