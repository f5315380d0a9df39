//! End-to-end: messages sent with `do_send` have no reply to carry a refusal, so a
//! refused one reaches the undelivered subscribers instead of vanishing.

use std::time::Duration;

use crate::support;
use crate::support::{recorded, setup, wait_until, PATIENCE};
use tether_actix::message::{self, GetStatus};
use tether_actix::{ConnectionActor, ConnectionState, UndeliveredReason};

#[actix_web::test]
async fn a_message_refused_by_a_full_buffer_is_reported_undelivered() {
    let server = setup().await;
    server.stop().await;
    let (builder, events) = recorded(ConnectionActor::builder(server.url()).configure(|config| {
        support::quick(config)
            .message_buffer_size(2)
            .base_backoff(Duration::from_secs(30))
            .max_backoff(Duration::from_secs(30))
    }));
    let connection = builder.start().expect("valid configuration").into_addr();

    for n in 0..5 {
        connection.do_send(message::Outgoing::text(format!("m{n}")));
    }
    assert!(
        wait_until(PATIENCE, || events.undelivered().len() == 3).await,
        "undelivered: {:?}",
        events.undelivered()
    );
    assert_eq!(
        events.undelivered_texts(UndeliveredReason::Refused),
        ["m2", "m3", "m4"]
    );
    let status = connection.send(GetStatus).await.expect("actor alive");
    assert_eq!(status.buffered, 2, "the first two wait in the buffer");
    assert_eq!(status.counters.rejected, 3);
}

#[actix_web::test]
async fn messages_for_a_closed_connection_are_reported_undelivered() {
    let server = setup().await;
    let (builder, events) = recorded(ConnectionActor::builder(server.url()));
    let connection = builder.start().expect("valid configuration").into_addr();
    let state = connection.send(message::Close).await.expect("actor alive");
    assert_eq!(state, ConnectionState::Closed);

    connection.do_send(message::Outgoing::text("late"));
    connection.do_send(message::OutgoingBatch::new([
        tether_actix::Payload::from("later"),
        tether_actix::Payload::from("latest"),
    ]));
    assert!(
        wait_until(PATIENCE, || events.undelivered().len() == 3).await,
        "undelivered: {:?}",
        events.undelivered()
    );
    assert_eq!(
        events.undelivered_texts(UndeliveredReason::Closed),
        ["late", "later", "latest"]
    );
}
