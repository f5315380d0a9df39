//! Scenario 10, for information: the round trip of scenario 2 with tether going
//! through a real HTTP CONNECT proxy (`tinyproxy`, Debian package `tinyproxy`) on
//! 127.0.0.1, against raw awc connecting directly.

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt as _;

use serde_json::json;
use tether_actix::{message, ByteString, ConnectionActor};

use crate::clients::{raw_client, raw_connect, Probe, PATIENCE};
use crate::report::{percentile, Row};
use crate::server::BenchServer;
use crate::throughput::paired_round_trips;
use crate::{Outcome, Sizes};

/// A tinyproxy process on a free port; killed (with its process group) on drop.
struct Tinyproxy {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Tinyproxy {
    fn start() -> Result<Self, String> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let dir =
            std::env::temp_dir().join(format!("tether-bench-tinyproxy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let config = dir.join("tinyproxy.conf");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 600\nAllow 127.0.0.1\nLogLevel Warning\n\
                 LogFile \"{}\"\nDisableViaHeader Yes\n",
                dir.join("tinyproxy.log").display()
            ),
        )
        .map_err(|e| e.to_string())?;
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("tinyproxy: {e} (install the Debian package `tinyproxy`)"))?;
        let proxy = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if Instant::now() > deadline {
                return Err("tinyproxy did not start listening".to_owned());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(proxy)
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) async fn proxied_round_trip(sizes: &Sizes) -> Outcome {
    let mut outcome = Outcome::default();
    let proxy = match Tinyproxy::start() {
        Ok(proxy) => proxy,
        Err(why) => {
            outcome.notes.push(format!("Scenario 10 not run: {why}."));
            return outcome;
        }
    };
    let server = BenchServer::start();
    let url = server.url();
    let probe = Probe::start(false);
    let tether = probe.connect_builder(
        ConnectionActor::builder(url.as_str()).proxy(format!("http://127.0.0.1:{}", proxy.port)),
    );
    assert!(
        probe.wait_connected(1, PATIENCE).await,
        "tether connects through tinyproxy"
    );
    let client = raw_client();
    let mut raw = raw_connect(&client, &url).await.expect("raw connects");
    let text = ByteString::from("x".repeat(64));

    let warm = 200;
    // Pairs alternate which client goes first.
    let (tether_us, raw_us) = paired_round_trips(
        &tether,
        &probe,
        &mut raw,
        &text,
        warm + sizes.round_trips,
        warm,
        |i| i % 2 == 0,
    )
    .await;
    tether.send(message::Close).await.ok();
    for p in [50.0, 99.0] {
        outcome.rows.push(
            Row::new(
                format!(
                    "10. round trip p{p} through tinyproxy, {} pairs",
                    tether_us.len()
                ),
                "µs",
                percentile(&tether_us, p),
                percentile(&raw_us, p),
            )
            .baseline_is("raw awc, direct"),
        );
    }
    outcome.details = json!({
        "pairs": tether_us.len(),
        "tether_via_proxy_us": {"p50": percentile(&tether_us, 50.0), "p99": percentile(&tether_us, 99.0)},
        "raw_direct_us": {"p50": percentile(&raw_us, 50.0), "p99": percentile(&raw_us, 99.0)},
    });
    outcome
}
