//! End-to-end: how many messages are unconfirmed when a link dies under a steady
//! producer, and how many of those had in fact arrived.
//!
//! A measurement more than a check, so it is ignored by default:
//! `cargo test --test e2e confirmation_outages:: -- --ignored --nocapture`. It still fails
//! when a message is neither received nor reported, or when the counts disagree.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use crate::support::{connect, setup, wait_status, Cut, FaultProxy};
use tether_actix::message;
use tether_actix::{ConnectionState, UndeliveredReason};

use ConnectionState::{Connected, Disconnected};

/// Outages to cause.
const OUTAGES: usize = 24;
/// The producer's pace: 200 messages per second.
const SEND_EVERY: Duration = Duration::from_millis(5);

#[actix_web::test]
#[ignore = "a measurement: run with `cargo test --test e2e confirmation_outages:: -- --ignored --nocapture`"]
async fn unconfirmed_messages_per_outage_at_200_messages_per_second() {
    let server = setup().await;
    let proxy = FaultProxy::start(server.addr()).await;
    // Default confirmation timings; quick reconnects so the outages come fast.
    let (connection, events) = connect(&proxy.url("/ws"), |config| {
        config
            .base_backoff(Duration::from_millis(10))
            .max_backoff(Duration::from_millis(20))
            .message_buffer_size(4096)
    });
    assert!(events.wait_entered(Connected, 1).await);

    let sent = Rc::new(Cell::new(0_usize));
    let stop = Rc::new(Cell::new(false));
    let producer = {
        let (connection, sent, stop) = (connection.clone(), sent.clone(), stop.clone());
        actix::spawn(async move {
            let mut ticks = tokio::time::interval(SEND_EVERY);
            while !stop.get() {
                ticks.tick().await;
                let n = sent.get();
                connection
                    .send(message::Outgoing::text(format!("m{n}")))
                    .await
                    .expect("actor alive")
                    .expect("accepted");
                sent.set(n + 1);
            }
        })
    };

    for outage in 0..OUTAGES {
        // Irregular spacing, so that the cuts do not fall in step with the producer.
        let wait = 150 + (outage as u64 * 37) % 100;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        proxy.cut_all(Cut::Rst);
        assert!(events.wait_entered(Disconnected, outage + 1).await);
        assert!(events.wait_entered(Connected, outage + 2).await);
    }
    stop.set(true);
    producer.await.expect("producer ran");
    let (status, drained) = wait_status(&connection, |status| {
        status.state == Connected && status.buffered == 0 && status.unconfirmed == 0
    })
    .await;
    assert!(drained, "{status:?}");
    // Everything is confirmed now, so the server has recorded all it will get.
    let total = sent.get();

    let per_outage: Vec<usize> = events
        .states()
        .iter()
        .filter(|change| change.to == Disconnected)
        .map(|change| change.unconfirmed)
        .collect();
    assert!(per_outage.len() >= 20, "{per_outage:?}");
    let unconfirmed: usize = per_outage.iter().sum();
    let mean = unconfirmed as f64 / per_outage.len() as f64;

    let received: BTreeSet<String> = server.received_texts().into_iter().collect();
    let lost = events.undelivered_texts(UndeliveredReason::Unconfirmed);
    assert_eq!(
        lost.len(),
        unconfirmed,
        "every unconfirmed message is reported"
    );
    let arrived_anyway = lost.iter().filter(|text| received.contains(*text)).count();
    let lost_set: BTreeSet<&String> = lost.iter().collect();
    for n in 0..total {
        let text = format!("m{n}");
        assert!(
            received.contains(&text) || lost_set.contains(&text),
            "{text} neither arrived nor was reported"
        );
    }
    println!(
        "{} outages, {total} messages at 200/s: unconfirmed per outage mean {mean:.2} \
         (min {}, max {}); {unconfirmed} reported unconfirmed, {arrived_anyway} of them \
         had arrived; per outage {per_outage:?}",
        per_outage.len(),
        per_outage.iter().min().unwrap_or(&0),
        per_outage.iter().max().unwrap_or(&0),
    );
}
