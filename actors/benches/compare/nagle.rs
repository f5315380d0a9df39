//! Scenario 9: where Nagle's algorithm bites. Each round trip is a request written as
//! two small frames (the second written after the first was sent, so while it is
//! unacknowledged) and one reply, which the server sends only once it has both. With
//! Nagle on, the second frame waits for the ACK of the first, which the server delays
//! (up to 40 ms on Linux) because it has nothing to send yet.
//!
//! tether with `TCP_NODELAY` (its default) and without, against raw awc, whose
//! connector leaves Nagle on.

use std::time::Instant;

use actix::{Actor, StreamHandler};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws;
use awc::ws::Message;
use futures_util::SinkExt as _;
use serde_json::json;
use tether_actix::{message, ByteString, ConnectionActor};

use crate::clients::{raw_client, raw_connect, Probe, PATIENCE};
use crate::report::{percentile, Row};
use crate::{Outcome, Sizes};

/// Answers every second text frame with one text frame: a request in two parts.
struct PairReply {
    halves: u64,
}

impl Actor for PairReply {
    type Context = ws::WebsocketContext<Self>;
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for PairReply {
    fn handle(&mut self, frame: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        match frame {
            Ok(ws::Message::Text(text)) => {
                self.halves += 1;
                if self.halves % 2 == 0 {
                    ctx.text(text);
                }
            }
            Ok(ws::Message::Ping(payload)) => ctx.pong(&payload),
            Ok(ws::Message::Close(reason)) => ctx.close(reason),
            _ => {}
        }
    }
}

async fn upgrade(request: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    ws::start(PairReply { halves: 0 }, &request, body)
}

/// Starts the pair server on a free port; returns its URL.
fn start_pair_server() -> String {
    let server = HttpServer::new(|| App::new().route("/ws", web::get().to(upgrade)))
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind on loopback");
    let port = server.addrs()[0].port();
    actix::spawn(server.run());
    format!("ws://127.0.0.1:{port}/ws")
}

/// One tether round trip: two frames, each awaited until written, then the reply.
async fn tether_pair(
    probe: &Probe,
    connection: &actix::Addr<ConnectionActor>,
    half: &ByteString,
) -> f64 {
    probe.expect_total(probe.received() + 1);
    let start = Instant::now();
    for _ in 0..2 {
        connection
            .send(message::Outgoing::text(half.clone()))
            .await
            .expect("actor alive")
            .expect("sent");
    }
    (probe.reached().await - start).as_secs_f64() * 1e6
}

pub(crate) async fn nagle(sizes: &Sizes) -> Outcome {
    let url = start_pair_server();
    let half = ByteString::from("x".repeat(32));
    let mut samples: [Vec<f64>; 3] = Default::default();
    let mut probes = Vec::new();
    let mut connections = Vec::new();
    for nodelay in [true, false] {
        let probe = Probe::start(false);
        let connection =
            probe.connect_builder(ConnectionActor::builder(url.as_str()).tcp_nodelay(nodelay));
        assert!(probe.wait_connected(1, PATIENCE).await, "tether connects");
        probes.push(probe);
        connections.push(connection);
    }
    let client = raw_client();
    let mut raw = raw_connect(&client, &url).await.expect("raw connects");

    // Interleaved, so load from elsewhere lands on all three alike; the first rounds
    // warm up (Linux acknowledges at once early in a connection: "quick ACK" mode).
    let warm = 20;
    for i in 0..warm + sizes.nagle_round_trips {
        for (which, series) in samples.iter_mut().enumerate() {
            let us = if which < 2 {
                tether_pair(&probes[which], &connections[which], &half).await
            } else {
                let start = Instant::now();
                for _ in 0..2 {
                    raw.sink
                        .send(Message::Text(half.clone()))
                        .await
                        .expect("raw write");
                }
                raw.next_data().await.expect("raw reply");
                start.elapsed().as_secs_f64() * 1e6
            };
            if i >= warm {
                series.push(us);
            }
        }
    }
    for connection in &connections {
        connection.send(message::Close).await.ok();
    }
    let [on, off, raw_us] = &samples;
    let mut outcome = Outcome::default();
    for p in [50.0, 99.0] {
        outcome.rows.push(Row::new(
            format!(
                "9. 2 frames/round trip p{p}, TCP_NODELAY on (default), {} pairs",
                on.len()
            ),
            "µs",
            percentile(on, p),
            percentile(raw_us, p),
        ));
        outcome.rows.push(Row::new(
            format!(
                "9. 2 frames/round trip p{p}, TCP_NODELAY off, {} pairs",
                off.len()
            ),
            "µs",
            percentile(off, p),
            percentile(raw_us, p),
        ));
    }
    outcome.notes.push(
        "Scenario 9: raw awc leaves Nagle on; a request in two small frames then waits for \
         the server's delayed ACK on every round trip. tether sets TCP_NODELAY unless \
         `tcp_nodelay(false)`."
            .to_owned(),
    );
    let summary = |s: &Vec<f64>| {
        json!({"p50": percentile(s, 50.0), "p90": percentile(s, 90.0),
               "p99": percentile(s, 99.0), "max": percentile(s, 100.0)})
    };
    outcome.details = json!({
        "pairs": on.len(),
        "frame_bytes": half.len(),
        "tether_nodelay_on_us": summary(on),
        "tether_nodelay_off_us": summary(off),
        "raw_us": summary(raw_us),
    });
    outcome
}
