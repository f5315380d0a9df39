//! End-to-end: a stuck undelivered subscriber cannot make the connection queue events
//! for it without bound. Under `DropOldest`, once 64 undelivered events wait for its
//! full mailbox, new messages are refused (the sender learns) instead of evicting
//! older ones.

use std::time::Duration;

use crate::support;
use crate::support::{gated, recorded, setup};
use tether_actix::message::{self, Delivery, GetStatus};
use tether_actix::{ConnectionActor, DeliveryError, OverflowPolicy, Undelivered};

#[actix_web::test]
async fn drop_oldest_refuses_instead_of_evicting_into_a_stuck_subscriber() {
    const SENDS: usize = 1_000;
    let server = setup().await;
    server.stop().await;
    // Takes one event and then never returns.
    let (stuck, _gate) = gated::<Undelivered>();
    let (builder, _events) = recorded(ConnectionActor::builder(server.url()).configure(|config| {
        support::quick(config)
            .message_buffer_size(2)
            .overflow_policy(OverflowPolicy::DropOldest)
            .base_backoff(Duration::from_secs(30))
            .max_backoff(Duration::from_secs(30))
    }));
    let connection = builder
        .on_undelivered(stuck.recipient())
        .start()
        .expect("valid configuration")
        .into_addr();

    let (mut buffered, mut refused) = (0, 0);
    for n in 0..SENDS {
        match connection
            .send(message::Outgoing::text(format!("m{n}")))
            .await
            .expect("actor alive")
        {
            Ok(Delivery::Buffered) => buffered += 1,
            Err(DeliveryError::BufferFull { message, .. }) => {
                assert_eq!(message.as_text(), Some(format!("m{n}").as_str()));
                refused += 1;
            }
            other => panic!("send {n}: {other:?}"),
        }
    }
    let status = connection.send(GetStatus).await.expect("actor alive");
    // The recorder takes every event at once; the stuck subscriber takes one, holds
    // one in its mailbox, and 64 more wait for room. Then eviction stops.
    assert!(
        status.counters.evicted <= 70,
        "{} evicted into a stuck subscriber",
        status.counters.evicted
    );
    assert!(refused > 0, "nothing was refused");
    assert_eq!(buffered + refused, SENDS);
    assert_eq!(status.counters.rejected as usize, refused);
    assert_eq!(
        status.counters.evicted as usize + status.buffered,
        buffered,
        "every accepted message is held or was reported evicted"
    );
}
