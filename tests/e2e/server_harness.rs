//! Proves the shared test server (`tests/support`) behaves as documented, using a raw
//! awc WebSocket client and no tether types.

use std::time::Duration;

use crate::support::{wait_until, Mode, Received, ServerMessage, TestServer};
use actix_http::ws::Item;
use awc::{
    error::{WsClientError, WsProtocolError},
    ws::{CloseCode, Frame, Message},
};
use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};

/// Generous deadline for things that must happen.
const DEADLINE: Duration = Duration::from_secs(5);
/// Window in which something must NOT happen.
const QUIET: Duration = Duration::from_millis(300);

/// Opens a raw awc WebSocket connection (frames up to 4 MiB).
async fn connect(
    url: &str,
) -> impl Stream<Item = Result<Frame, WsProtocolError>> + Sink<Message, Error = WsProtocolError> + Unpin
{
    let (_response, conn) = awc::Client::new()
        .ws(url)
        .max_frame_size(4 * 1024 * 1024)
        .connect()
        .await
        .expect("websocket connect");
    conn
}

/// The next frame; `None` when the stream ended or failed. Panics after [`DEADLINE`].
async fn next_frame<S, E>(conn: &mut S) -> Option<Frame>
where
    S: Stream<Item = Result<Frame, E>> + Unpin,
{
    match tokio::time::timeout(DEADLINE, conn.next()).await {
        Ok(Some(Ok(frame))) => Some(frame),
        Ok(Some(Err(_)) | None) => None,
        Err(_) => panic!("no frame and no end of stream within {DEADLINE:?}"),
    }
}

#[actix_web::test]
async fn echo_round_trip_text_binary_ping_large_and_fragments() {
    let server = TestServer::start().await;
    assert_eq!(server.url(), format!("ws://127.0.0.1:{}/ws", server.port()));
    assert_eq!(server.addr().port(), server.port());
    let mut conn = connect(&server.url()).await;

    conn.send(Message::Text("hello".into())).await.unwrap();
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Text("hello".into()))
    );

    conn.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Binary(vec![1, 2, 3].into()))
    );

    conn.send(Message::Ping("p".into())).await.unwrap();
    assert_eq!(next_frame(&mut conn).await, Some(Frame::Pong("p".into())));

    // Bigger than awc's and actix's 64 KiB default frame limit.
    let big = vec![7u8; 1024 * 1024 + 1];
    conn.send(Message::Binary(big.clone().into()))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Binary(big.clone().into()))
    );

    // Client fragments are joined before recording and echoed whole.
    for item in [
        Item::FirstText("ab".into()),
        Item::Continue("cd".into()),
        Item::Last("ef".into()),
    ] {
        conn.send(Message::Continuation(item)).await.unwrap();
    }
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Text("abcdef".into()))
    );

    assert_eq!(
        server.received(),
        vec![
            Received::Text("hello".into()),
            Received::Binary(vec![1, 2, 3]),
            Received::Binary(big),
            Received::Text("abcdef".into()),
        ]
    );
    assert_eq!(server.received_count(), 4);
    assert_eq!(server.pings_received(), 1);
    assert_eq!(server.handshakes(), 1);
    assert_eq!(server.handshake_attempts(), 1);
    assert_eq!(server.open_sessions(), 1);
    // Taking the records forgets them; the count goes on.
    assert_eq!(server.take_received().len(), 4);
    assert!(server.received().is_empty());
    assert_eq!(server.received_count(), 4);

    drop(conn);
    assert!(wait_until(DEADLINE, || server.open_sessions() == 0).await);
}

#[actix_web::test]
async fn stop_drops_connections_and_restart_reuses_the_port() {
    let server = TestServer::start().await;
    let port = server.port();
    let mut conn = connect(&server.url()).await;
    assert_eq!(server.open_sessions(), 1);

    server.stop().await;
    // The stream ends without a close frame.
    assert_eq!(next_frame(&mut conn).await, None);
    assert_eq!(server.open_sessions(), 0);
    let refused = awc::Client::new().ws(server.url()).connect().await;
    assert!(refused.is_err(), "stopped server still accepts");

    server.restart().await;
    assert_eq!(server.port(), port);
    let mut conn = connect(&server.url()).await;
    conn.send(Message::Text("again".into())).await.unwrap();
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Text("again".into()))
    );
    assert_eq!(server.handshakes(), 2);

    // A second cycle, to be sure restart is repeatable.
    server.restart().await;
    assert_eq!(next_frame(&mut conn).await, None);
    let mut conn = connect(&server.url()).await;
    conn.send(Message::Text("third".into())).await.unwrap();
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Text("third".into()))
    );
}

#[actix_web::test]
async fn silent_server_answers_nothing_but_keeps_the_link_and_records() {
    let server = TestServer::start().await;
    let mut conn = connect(&server.url()).await;
    server.set_mode(Mode::Silent);

    conn.send(Message::Ping("anyone?".into())).await.unwrap();
    conn.send(Message::Text("recorded".into())).await.unwrap();
    let answer = tokio::time::timeout(QUIET, conn.next()).await;
    assert!(answer.is_err(), "silent server answered: {answer:?}");
    assert_eq!(server.open_sessions(), 1);
    assert!(wait_until(DEADLINE, || server.pings_received() == 1).await);
    assert_eq!(server.received(), vec![Received::Text("recorded".into())]);

    // Back to echo: the same session answers again.
    server.set_mode(Mode::Echo);
    conn.send(Message::Ping("back".into())).await.unwrap();
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Pong("back".into()))
    );
}

#[actix_web::test]
async fn refuse_answers_with_status_and_retry_after() {
    let server = TestServer::start().await;
    server.set_mode(Mode::Refuse {
        status: 401,
        retry_after: Some(7),
    });

    let err = awc::Client::new()
        .ws(server.url())
        .bearer_auth("secret-token")
        .connect()
        .await
        .err()
        .expect("refused handshake must fail");
    match err {
        WsClientError::InvalidResponseStatus(status) => assert_eq!(status.as_u16(), 401),
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(server.handshake_attempts(), 1);
    assert_eq!(server.handshakes(), 0);
    assert_eq!(server.open_sessions(), 0);
    let headers = server.request_headers();
    assert_eq!(headers.len(), 1);
    assert!(headers[0].contains(&("authorization".into(), "Bearer secret-token".into())));
    assert_eq!(server.take_request_headers(), headers);
    assert!(server.request_headers().is_empty());
    assert_eq!(server.handshake_attempts(), 1);

    // The ws client does not expose the refusal's headers: check with plain HTTP.
    let http_url = format!("http://127.0.0.1:{}/ws", server.port());
    let response = awc::Client::new().get(http_url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers().get("retry-after").unwrap(), "7");
    assert_eq!(server.handshake_attempts(), 2);
}

#[actix_web::test]
async fn hang_never_answers_the_handshake() {
    let server = TestServer::start().await;
    server.set_mode(Mode::Hang);

    let attempt = tokio::time::timeout(QUIET, awc::Client::new().ws(server.url()).connect()).await;
    assert!(attempt.is_err(), "hung handshake completed");
    assert!(wait_until(DEADLINE, || server.handshake_attempts() == 1).await);
    assert_eq!(server.handshakes(), 0);

    // Releasing the hang lets new handshakes through.
    server.set_mode(Mode::Echo);
    let mut conn = connect(&server.url()).await;
    conn.send(Message::Text("ok".into())).await.unwrap();
    assert_eq!(next_frame(&mut conn).await, Some(Frame::Text("ok".into())));
    assert_eq!(server.handshakes(), 1);
}

#[actix_web::test]
async fn stop_releases_a_hung_handshake() {
    let server = TestServer::start().await;
    server.set_mode(Mode::Hang);
    let url = server.url();
    let pending = actix_web::rt::spawn(async move {
        let client = awc::Client::builder().timeout(DEADLINE * 2).finish();
        client.ws(url).connect().await.map(|_| ())
    });
    assert!(wait_until(DEADLINE, || server.handshake_attempts() == 1).await);

    server.stop().await;
    let outcome = tokio::time::timeout(DEADLINE, pending)
        .await
        .expect("hung handshake still pending after stop")
        .unwrap();
    assert!(outcome.is_err(), "hung handshake was upgraded");
    assert_eq!(server.handshakes(), 0);
}

#[actix_web::test]
async fn send_all_pushes_text_binary_and_continuation_frames() {
    let server = TestServer::start().await;
    let mut conn = connect(&server.url()).await;

    server.send_all(ServerMessage::Text("t".into()));
    assert_eq!(next_frame(&mut conn).await, Some(Frame::Text("t".into())));
    server.send_all(ServerMessage::Binary(vec![9]));
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Binary(vec![9].into()))
    );

    server.send_all(ServerMessage::FragmentedText(vec![
        "hel".into(),
        "lo ".into(),
        "world".into(),
    ]));
    let expected = [
        Item::FirstText("hel".into()),
        Item::Continue("lo ".into()),
        Item::Last("world".into()),
    ];
    for item in expected {
        assert_eq!(next_frame(&mut conn).await, Some(Frame::Continuation(item)));
    }

    server.send_all(ServerMessage::FragmentedBinary(vec![vec![1], vec![2]]));
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Continuation(Item::FirstBinary(vec![1].into())))
    );
    assert_eq!(
        next_frame(&mut conn).await,
        Some(Frame::Continuation(Item::Last(vec![2].into())))
    );
}

#[actix_web::test]
async fn close_all_sends_the_close_code_or_just_drops() {
    let server = TestServer::start().await;
    let mut first = connect(&server.url()).await;
    let mut second = connect(&server.url()).await;
    assert_eq!(server.open_sessions(), 2);

    server.close_all(Some(1011));
    for conn in [&mut first, &mut second] {
        match next_frame(conn).await {
            Some(Frame::Close(Some(reason))) => assert_eq!(reason.code, CloseCode::Error),
            other => panic!("expected close 1011, got {other:?}"),
        }
        assert_eq!(next_frame(conn).await, None);
    }
    assert!(wait_until(DEADLINE, || server.open_sessions() == 0).await);

    let mut third = connect(&server.url()).await;
    server.close_all(None);
    assert_eq!(next_frame(&mut third).await, None);
    assert!(wait_until(DEADLINE, || server.open_sessions() == 0).await);
}
