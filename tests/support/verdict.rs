//! Verdicts shared by the hostile-server tests: was a failure final or retried, is the
//! actor alive, did the server get the close code it should have.

use std::time::Duration;

use actix::Addr;
use tether_actix::message::{self, Delivery, GetStatus};
use tether_actix::{
    ConnectionActor, ConnectionState, DeliveryError, DisconnectReason, Payload,
    ResiliencyConfigBuilder, UndeliveredReason,
};

use super::{connect, wait_until, Events, RawServer, PATIENCE};

use ConnectionState::{Connected, Connecting, Disconnected, Failed, Reconnecting};

/// Long enough for a retry to show up if there were one: ten times the 20 ms backoff of
/// the test timings.
pub(crate) const NO_RETRY_WINDOW: Duration = Duration::from_millis(200);

/// The actor is alive (no panic) and reports `expected`, or any non-terminal state.
pub(crate) async fn assert_alive(
    connection: &Addr<ConnectionActor>,
    expected: Option<ConnectionState>,
) {
    let status = connection
        .send(GetStatus)
        .await
        .expect("connection actor alive");
    match expected {
        Some(state) => assert_eq!(status.state, state, "{status:?}"),
        None => assert!(!status.state.is_terminal(), "{status:?}"),
    }
}

/// The failure was final: `Failed` right after the one `Disconnected`, both carrying a
/// reason accepted by `same`, a single attempt and no further one within
/// [`NO_RETRY_WINDOW`], and later sends refused with their message handed back.
pub(crate) async fn assert_final(
    connection: &Addr<ConnectionActor>,
    events: &Events,
    was_connected: bool,
    same: impl Fn(&DisconnectReason) -> bool,
    attempts: impl Fn() -> usize,
) {
    assert!(
        events.wait_entered(Failed, 1).await,
        "{:?}",
        events.entered()
    );
    let expected: &[ConnectionState] = if was_connected {
        &[Connecting, Connected, Disconnected, Failed]
    } else {
        &[Connecting, Disconnected, Failed]
    };
    assert_eq!(events.entered(), expected);
    for state in [Disconnected, Failed] {
        let reason = events.first_entry(state).reason;
        assert!(reason.as_ref().is_some_and(&same), "{state}: {reason:?}");
    }
    let made = attempts();
    assert_eq!(made, 1, "one attempt only");
    assert!(
        !wait_until(NO_RETRY_WINDOW, || attempts() > made).await,
        "a final failure was retried"
    );
    assert_eq!(
        events.entered().len(),
        expected.len(),
        "nothing after Failed"
    );

    // The sender learns: a send now is refused with its message handed back.
    let reply = connection
        .send(message::Outgoing::text("too late"))
        .await
        .expect("actor alive");
    assert!(
        matches!(&reply, Err(DeliveryError::Failed(payload)) if payload.as_text() == Some("too late")),
        "{reply:?}"
    );
    assert_alive(connection, Some(Failed)).await;
}

/// The failure was retried: `Disconnected` with a reason accepted by `same`, then
/// `Reconnecting` with the same reason and the first backoff delay, then a new attempt
/// that reached the server; never `Failed`.
pub(crate) async fn assert_retried(
    connection: &Addr<ConnectionActor>,
    events: &Events,
    was_connected: bool,
    same: impl Fn(&DisconnectReason) -> bool,
    attempts: impl Fn() -> usize,
) {
    assert!(
        events.wait_entered(Connecting, 2).await,
        "{:?}",
        events.entered()
    );
    assert!(wait_until(PATIENCE, || attempts() >= 2).await);
    let expected: &[ConnectionState] = if was_connected {
        &[
            Connecting,
            Connected,
            Disconnected,
            Reconnecting,
            Connecting,
        ]
    } else {
        &[Connecting, Disconnected, Reconnecting, Connecting]
    };
    assert_eq!(&events.entered()[..expected.len()], expected);
    let lost = events.first_entry(Disconnected);
    assert!(lost.reason.as_ref().is_some_and(&same), "{:?}", lost.reason);
    let waiting = events.first_entry(Reconnecting);
    assert_eq!(
        waiting.reason, lost.reason,
        "Reconnecting repeats the reason"
    );
    assert_eq!(waiting.attempt, 1);
    assert_eq!(waiting.next_delay, Some(Duration::from_millis(20)));
    assert_eq!(events.times_entered(Failed), 0);
    assert_alive(connection, None).await;
}

/// Sends one message right away: the first attempt is still running, so it is buffered.
pub(crate) async fn buffer_one(connection: &Addr<ConnectionActor>) {
    let delivery = connection
        .send(message::Outgoing::text("queued"))
        .await
        .expect("actor alive")
        .expect("accepted while connecting");
    assert_eq!(delivery, Delivery::Buffered);
}

/// The message buffered by [`buffer_one`] came back as undelivered because of `Failed`.
pub(crate) async fn assert_handed_back(events: &Events) {
    assert!(wait_until(PATIENCE, || !events.undelivered().is_empty()).await);
    let undelivered = events.undelivered();
    assert_eq!(undelivered.len(), 1);
    assert_eq!(undelivered[0].reason, UndeliveredReason::Failed);
    assert_eq!(undelivered[0].payload, Payload::from("queued"));
}

/// A connection to `server` with test timings.
pub(crate) fn connect_raw(
    server: &RawServer,
    adjust: impl FnOnce(ResiliencyConfigBuilder) -> ResiliencyConfigBuilder,
) -> (Addr<ConnectionActor>, Events) {
    super::init_tracing();
    connect(&server.url(), adjust)
}

pub(crate) fn protocol_error(reason: &DisconnectReason) -> bool {
    matches!(reason, DisconnectReason::ProtocolError { .. })
}

/// Waits until the server received a close frame with `code` from the client.
pub(crate) async fn assert_client_closed_with(server: &RawServer, code: u16) {
    assert!(
        wait_until(PATIENCE, || server.close_codes().contains(&code)).await,
        "close codes: {:?}",
        server.close_codes()
    );
}
