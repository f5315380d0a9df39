//! Proves the fault-injecting proxy (`tests/support/proxy.rs`) behaves as documented:
//! a raw awc WebSocket client talks to the echo [`TestServer`] through a [`FaultProxy`],
//! with no tether types involved.

use std::{io, time::Duration};

use crate::support::{
    setup, wait_until, ChaosSchedule, Cut, Fault, FaultProxy, Outage, Received, TestServer,
};
use awc::{
    error::{ConnectError, SendRequestError, WsClientError, WsProtocolError},
    ws::{Frame, Message},
};
use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};
use rand::{rngs::StdRng, Rng as _, SeedableRng as _};
use tokio::time::Instant;

/// Generous deadline for things that must happen.
const DEADLINE: Duration = Duration::from_secs(5);
/// Window in which something must NOT happen.
const QUIET: Duration = Duration::from_millis(300);
/// Deadline for a 64 KiB echo one byte at a time (about 2 s on an idle 2-core machine,
/// in a debug build).
const SLICED_DEADLINE: Duration = Duration::from_secs(30);

/// A raw awc WebSocket connection.
trait WsConn:
    Stream<Item = Result<Frame, WsProtocolError>> + Sink<Message, Error = WsProtocolError> + Unpin
{
}

impl<T> WsConn for T where
    T: Stream<Item = Result<Frame, WsProtocolError>>
        + Sink<Message, Error = WsProtocolError>
        + Unpin
{
}

/// Attempts a WebSocket handshake at `url` (frames up to 4 MiB).
async fn try_connect(url: &str) -> Result<impl WsConn, WsClientError> {
    let (_response, conn) = awc::Client::new()
        .ws(url)
        .max_frame_size(4 * 1024 * 1024)
        .connect()
        .await?;
    Ok(conn)
}

/// A WebSocket connection to the echo server through `proxy`.
async fn connect(proxy: &FaultProxy) -> impl WsConn {
    try_connect(&proxy.url("/ws"))
        .await
        .expect("websocket connect through the proxy")
}

/// A server and a proxy in front of it.
async fn server_and_proxy() -> (TestServer, FaultProxy) {
    let server = setup().await;
    let proxy = FaultProxy::start(server.addr()).await;
    (server, proxy)
}

/// The next stream item; panics if there is none within [`DEADLINE`].
async fn next_item(conn: &mut impl WsConn) -> Option<Result<Frame, WsProtocolError>> {
    next_item_within(conn, DEADLINE).await
}

/// The next stream item; panics if there is none within `limit`.
async fn next_item_within(
    conn: &mut impl WsConn,
    limit: Duration,
) -> Option<Result<Frame, WsProtocolError>> {
    tokio::time::timeout(limit, conn.next())
        .await
        .expect("no frame and no end of stream within the deadline")
}

/// Sends `text` and returns the echoed frame (panics on anything else).
async fn echo(conn: &mut impl WsConn, text: &str) {
    conn.send(Message::Text(text.into()))
        .await
        .expect("send text");
    match next_item(conn).await {
        Some(Ok(Frame::Text(echoed))) => assert_eq!(echoed, text.as_bytes()),
        other => panic!("expected echo of {text:?}, got {other:?}"),
    }
}

/// Whether `err` is a TCP connect refused by the peer.
fn is_refused(err: &WsClientError) -> bool {
    matches!(
        err,
        WsClientError::SendRequest(SendRequestError::Connect(ConnectError::Io(io)))
            if io.kind() == io::ErrorKind::ConnectionRefused
    )
}

#[actix_web::test]
async fn pass_through_echoes_and_counts() {
    let (server, proxy) = server_and_proxy().await;
    assert_eq!(
        proxy.url("/ws"),
        format!("ws://127.0.0.1:{}/ws", proxy.port())
    );
    assert_eq!(proxy.addr().port(), proxy.port());
    assert_ne!(proxy.port(), server.port());
    assert_eq!(proxy.fault(), Fault::PassThrough);

    let mut conn = connect(&proxy).await;
    echo(&mut conn, "hello").await;
    let big = vec![3u8; 256 * 1024];
    conn.send(Message::Binary(big.clone().into()))
        .await
        .expect("send binary");
    match next_item(&mut conn).await {
        Some(Ok(Frame::Binary(echoed))) => assert_eq!(echoed, big),
        other => panic!("expected the binary echo, got {other:?}"),
    }

    assert_eq!(proxy.connections_accepted(), 1);
    assert_eq!(proxy.open_connections(), 1);
    assert_eq!(server.handshakes(), 1);
    // Handshake plus frames, in each direction.
    assert!(proxy.bytes_up() > 256 * 1024, "up: {}", proxy.bytes_up());
    assert!(
        proxy.bytes_down() > 256 * 1024,
        "down: {}",
        proxy.bytes_down()
    );

    // The client hanging up is forwarded: the server session and the proxy connection end.
    drop(conn);
    assert!(wait_until(DEADLINE, || server.open_sessions() == 0).await);
    assert!(wait_until(DEADLINE, || proxy.open_connections() == 0).await);
}

#[actix_web::test]
async fn cut_fin_ends_the_stream_cleanly_and_new_connections_still_work() {
    let (server, proxy) = server_and_proxy().await;
    let mut first = connect(&proxy).await;
    let mut second = connect(&proxy).await;
    echo(&mut first, "before").await;
    assert_eq!(proxy.open_connections(), 2);

    proxy.cut_all(Cut::Fin);
    // A clean end of stream (EOF, no close frame, no error) on every connection.
    for conn in [&mut first, &mut second] {
        match next_item(conn).await {
            None => {}
            other => panic!("expected a clean end of stream, got {other:?}"),
        }
    }
    assert!(wait_until(DEADLINE, || proxy.open_connections() == 0).await);
    assert!(wait_until(DEADLINE, || server.open_sessions() == 0).await);

    let mut third = connect(&proxy).await;
    echo(&mut third, "after").await;
    assert_eq!(proxy.connections_accepted(), 3);
}

#[actix_web::test]
async fn cut_rst_resets_the_client() {
    let (server, proxy) = server_and_proxy().await;
    let mut conn = connect(&proxy).await;
    echo(&mut conn, "before").await;

    proxy.cut_all(Cut::Rst);
    // awc surfaces the reset as an I/O error, unlike the clean EOF of `Cut::Fin`.
    match next_item(&mut conn).await {
        Some(Err(WsProtocolError::Io(err))) => {
            assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        }
        other => panic!("expected a connection reset, got {other:?}"),
    }
    assert!(wait_until(DEADLINE, || proxy.open_connections() == 0).await);
    assert!(wait_until(DEADLINE, || server.open_sessions() == 0).await);

    let mut again = connect(&proxy).await;
    echo(&mut again, "after").await;
}

#[actix_web::test]
async fn black_hole_holds_data_and_delivers_it_late_in_order() {
    let (server, proxy) = server_and_proxy().await;
    let mut conn = connect(&proxy).await;
    echo(&mut conn, "warm-up").await;
    let (up, down) = (proxy.bytes_up(), proxy.bytes_down());

    proxy.set_fault(Fault::BlackHole);
    conn.send(Message::Text("held".into()))
        .await
        .expect("send during black hole");
    let answer = tokio::time::timeout(QUIET, conn.next()).await;
    assert!(
        answer.is_err(),
        "black hole let an answer through: {answer:?}"
    );
    // Both TCP connections are still open, and nothing went through.
    assert_eq!(proxy.open_connections(), 1);
    assert_eq!(server.open_sessions(), 1);
    assert_eq!(server.received_count(), 1);
    assert_eq!((proxy.bytes_up(), proxy.bytes_down()), (up, down));

    // New connections are accepted at the TCP level, but their handshake hangs.
    let late = tokio::time::timeout(QUIET, try_connect(&proxy.url("/ws"))).await;
    assert!(late.is_err(), "handshake completed through a black hole");
    assert_eq!(proxy.connections_accepted(), 2);
    assert_eq!(server.handshake_attempts(), 1);

    // Lifting the fault delivers what was held, late but intact and in order.
    proxy.set_fault(Fault::PassThrough);
    match next_item(&mut conn).await {
        Some(Ok(Frame::Text(echoed))) => assert_eq!(echoed, "held".as_bytes()),
        other => panic!("expected the held message, got {other:?}"),
    }
    echo(&mut conn, "after").await;
    assert_eq!(
        server.received(),
        vec![
            Received::Text("warm-up".into()),
            Received::Text("held".into()),
            Received::Text("after".into()),
        ]
    );
    // The abandoned handshake is flushed too, and its connection then closes.
    assert!(wait_until(DEADLINE, || proxy.open_connections() == 1).await);
}

#[actix_web::test]
async fn refuse_new_refuses_connects_but_keeps_open_connections() {
    let (server, proxy) = server_and_proxy().await;
    let mut open = connect(&proxy).await;

    proxy.set_fault(Fault::RefuseNew);
    let err = try_connect(&proxy.url("/ws"))
        .await
        .err()
        .expect("connect must fail while refusing");
    assert!(is_refused(&err), "expected connection refused, got {err:?}");
    assert_eq!(proxy.connections_accepted(), 1);
    assert_eq!(server.handshake_attempts(), 1);
    // The open connection is untouched.
    echo(&mut open, "still here").await;

    // Leaving the fault binds the same port again at once.
    proxy.set_fault(Fault::PassThrough);
    let mut conn = connect(&proxy).await;
    echo(&mut conn, "back").await;
    assert_eq!(proxy.connections_accepted(), 2);
}

#[actix_web::test]
async fn refuse_for_expires_and_restores_the_previous_fault() {
    let (_server, proxy) = server_and_proxy().await;
    proxy.set_fault(Fault::Latency(Duration::from_millis(1)));

    proxy.refuse_for(Duration::from_millis(200));
    assert_eq!(proxy.fault(), Fault::RefuseNew);
    let err = try_connect(&proxy.url("/ws"))
        .await
        .err()
        .expect("connect must fail while refusing");
    assert!(is_refused(&err), "expected connection refused, got {err:?}");

    assert!(
        wait_until(DEADLINE, || proxy.fault()
            == Fault::Latency(Duration::from_millis(1)))
        .await
    );
    let mut conn = connect(&proxy).await;
    echo(&mut conn, "works again").await;

    // A fault set meanwhile is not overridden when the period ends.
    proxy.refuse_for(Duration::from_millis(50));
    proxy.set_fault(Fault::BlackHole);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(proxy.fault(), Fault::BlackHole);
}

#[actix_web::test]
async fn latency_delays_each_direction() {
    let (_server, proxy) = server_and_proxy().await;
    let mut conn = connect(&proxy).await;
    echo(&mut conn, "warm-up").await;

    proxy.set_fault(Fault::Latency(Duration::from_millis(50)));
    for _ in 0..3 {
        let start = Instant::now();
        echo(&mut conn, "slow").await;
        let round_trip = start.elapsed();
        assert!(
            round_trip >= Duration::from_millis(100),
            "round trip took only {round_trip:?}"
        );
    }
}

#[actix_web::test]
async fn bandwidth_paces_each_direction() {
    let (_server, proxy) = server_and_proxy().await;
    let mut conn = connect(&proxy).await;
    proxy.set_fault(Fault::Bandwidth {
        bytes_per_sec: 100_000,
    });

    // 20 kB at 100 kB/s takes 200 ms each way.
    let data = vec![5u8; 20_000];
    let start = Instant::now();
    conn.send(Message::Binary(data.clone().into()))
        .await
        .expect("send binary");
    match next_item(&mut conn).await {
        Some(Ok(Frame::Binary(echoed))) => assert_eq!(echoed, data),
        other => panic!("expected the binary echo, got {other:?}"),
    }
    let round_trip = start.elapsed();
    assert!(
        round_trip >= Duration::from_millis(350),
        "round trip took only {round_trip:?}"
    );
}

#[actix_web::test]
async fn slice_delivers_large_messages_intact() {
    let (server, proxy) = server_and_proxy().await;
    let mut conn = connect(&proxy).await;
    proxy.set_fault(Fault::Slice { max_segment: 1 });

    let mut data = vec![0u8; 64 * 1024];
    StdRng::seed_from_u64(7).fill(&mut data[..]);
    conn.send(Message::Binary(data.clone().into()))
        .await
        .expect("send binary");
    match next_item_within(&mut conn, SLICED_DEADLINE).await {
        Some(Ok(Frame::Binary(echoed))) => assert_eq!(echoed, data),
        other => panic!("expected the binary echo, got {other:?}"),
    }
    echo(&mut conn, "and text").await;
    assert_eq!(server.received_count(), 2);
}

#[actix_web::test]
async fn chaos_schedule_is_deterministic_and_bounded() {
    let gap = Duration::from_millis(200);
    let outage = Duration::from_millis(100);
    let schedule = ChaosSchedule::new(42, 50, gap, outage);
    assert_eq!(schedule, ChaosSchedule::new(42, 50, gap, outage));
    assert_ne!(
        schedule.outages(),
        ChaosSchedule::new(43, 50, gap, outage).outages()
    );
    assert_eq!(schedule.seed(), 42);
    assert_eq!(schedule.outages().len(), 50);

    // Ordered, never overlapping, within the documented bounds, every kind present.
    let mut end = Duration::ZERO;
    for timed in schedule.outages() {
        assert!(
            timed.at >= end + gap / 2 && timed.at < end + gap * 3 / 2,
            "{timed:?}"
        );
        let duration = timed.outage.duration();
        if !matches!(timed.outage, Outage::Cut(_)) {
            assert!(
                duration >= outage / 2 && duration < outage * 3 / 2,
                "{timed:?}"
            );
        }
        end = timed.at + duration;
    }
    assert_eq!(schedule.total_duration(), end);
    let has = |kind: fn(&Outage) -> bool| schedule.outages().iter().any(|t| kind(&t.outage));
    assert!(has(|o| *o == Outage::Cut(Cut::Fin)));
    assert!(has(|o| *o == Outage::Cut(Cut::Rst)));
    assert!(has(|o| matches!(o, Outage::BlackHole(_))));
    assert!(has(|o| matches!(o, Outage::Refuse(_))));
}

#[actix_web::test]
async fn chaos_schedule_run_applies_every_outage_in_order() {
    let (_server, proxy) = server_and_proxy().await;
    let schedule = ChaosSchedule::new(7, 8, Duration::from_millis(30), Duration::from_millis(30));
    let expected: Vec<Outage> = schedule.outages().iter().map(|t| t.outage).collect();
    let total = schedule.total_duration();

    let start = Instant::now();
    let applied = schedule.clone().run(&proxy).await;
    let elapsed = start.elapsed();
    assert_eq!(
        applied.iter().map(|t| t.outage).collect::<Vec<_>>(),
        expected
    );
    for (applied, planned) in applied.iter().zip(schedule.outages()) {
        assert!(applied.at >= planned.at, "{applied:?} before {planned:?}");
    }
    assert!(
        elapsed >= total && elapsed < total + DEADLINE,
        "{elapsed:?}"
    );
    // Every timed outage restored the fault in force before it.
    assert_eq!(proxy.fault(), Fault::PassThrough);
    let mut conn = connect(&proxy).await;
    echo(&mut conn, "survived").await;
}
