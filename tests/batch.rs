//! End-to-end: many messages per mailbox envelope, outbound (`OutgoingBatch`) and inbound
//! (`IncomingBatch`), with the guarantees of their one-message forms.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use support::{connect, recorded, setup, wait_until, ServerMessage, PATIENCE};
use tether_actix::message::{self, OutgoingBatch};
use tether_actix::{
    ConnectionActor, ConnectionState, DeliveryError, DeliveryMode, FullReason, IncomingBatch,
};

use ConnectionState::Connected;

fn numbered(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("{prefix}{n}")).collect()
}

#[actix_web::test]
async fn a_batch_is_written_in_order_and_never_interleaved() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| config);
    assert!(events.wait_entered(Connected, 1).await);

    // Single sends race the batch through the same mailbox; the batch stays whole.
    let single = {
        let connection = connection.clone();
        actix::spawn(async move {
            for n in 0..50 {
                let _ = connection
                    .send(message::Outgoing::text(format!("s{n}")))
                    .await;
            }
        })
    };
    let report = connection
        .send(OutgoingBatch::new(numbered("b", 0..200)))
        .await
        .expect("actor alive");
    single.await.expect("single sends ran");
    assert_eq!(
        (report.sent, report.buffered, report.refused.len()),
        (200, 0, 0)
    );

    assert!(wait_until(PATIENCE, || server.received_count() == 250).await);
    let received = server.received_texts();
    let batch: Vec<usize> = received
        .iter()
        .enumerate()
        .filter(|(_, text)| text.starts_with('b'))
        .map(|(at, _)| at)
        .collect();
    assert_eq!(batch.len(), 200);
    assert_eq!(
        batch[199] - batch[0],
        199,
        "the batch was interleaved: {received:?}"
    );
    let in_batch: Vec<String> = received
        .iter()
        .filter(|t| t.starts_with('b'))
        .cloned()
        .collect();
    assert_eq!(in_batch, numbered("b", 0..200));
}

#[actix_web::test]
async fn a_batch_into_a_full_buffer_hands_back_every_refused_message_in_order() {
    let server = setup().await;
    server.stop().await;
    let (connection, events) = connect(&server.url(), |config| {
        config
            .message_buffer_size(5)
            .base_backoff(Duration::from_secs(30))
            .max_backoff(Duration::from_secs(30))
    });
    let report = connection
        .send(OutgoingBatch::new(numbered("m", 0..8)))
        .await
        .expect("actor alive");
    assert_eq!((report.buffered, report.sent, report.accepted()), (5, 0, 5));
    let refused: Vec<String> = report
        .refused
        .into_iter()
        .map(|error| {
            assert!(
                matches!(
                    error,
                    DeliveryError::BufferFull {
                        reason: FullReason::Count,
                        ..
                    }
                ),
                "{error:?}"
            );
            error.into_message().as_text().expect("text").to_owned()
        })
        .collect();
    assert_eq!(refused, numbered("m", 5..8));
    let status = connection
        .send(message::GetStatus)
        .await
        .expect("actor alive");
    assert_eq!((status.buffered, status.counters.rejected), (5, 3));

    // Closing hands the buffered ones back too: nothing is lost without a word.
    connection.send(message::Close).await.expect("actor alive");
    assert!(wait_until(PATIENCE, || events.undelivered().len() == 5).await);
}

#[actix_web::test]
async fn a_confirmed_batch_answers_once_the_server_read_every_message() {
    let server = setup().await;
    let (connection, events) = connect(&server.url(), |config| {
        config
            .delivery(DeliveryMode::AtLeastOnce)
            .confirm_interval(Duration::from_millis(10))
    });
    assert!(events.wait_entered(Connected, 1).await);
    let report = connection
        .send(OutgoingBatch::new(numbered("c", 0..100)).with_confirmation())
        .await
        .expect("actor alive");
    assert_eq!(
        (report.confirmed, report.sent, report.refused.len()),
        (100, 0, 0)
    );
    // Confirmed means read by the server.
    assert_eq!(server.received_texts(), numbered("c", 0..100));
}

/// Records every batch it receives.
struct BatchRecorder(Arc<Mutex<Vec<Vec<String>>>>);

impl Actor for BatchRecorder {
    type Context = Context<Self>;
}

impl Handler<IncomingBatch> for BatchRecorder {
    type Result = ();

    fn handle(&mut self, batch: IncomingBatch, _: &mut Context<Self>) {
        let texts = batch
            .messages
            .iter()
            .map(|payload| payload.as_text().unwrap_or_default().to_owned())
            .collect();
        self.0.lock().expect("not poisoned").push(texts);
    }
}

#[actix_web::test]
async fn incoming_batches_carry_every_message_once_in_order_within_their_bounds() {
    const COUNT: usize = 2_000;
    let server = setup().await;
    let batches = Arc::new(Mutex::new(Vec::new()));
    let recorder = BatchRecorder(batches.clone()).start();
    let (builder, events) =
        recorded(ConnectionActor::builder(server.url()).configure(support::quick));
    let connection = builder
        .on_incoming_batch(recorder.recipient())
        .start()
        .expect("valid configuration");
    assert!(events.wait_entered(Connected, 1).await);

    for n in 0..COUNT {
        server.send_all(ServerMessage::Text(format!("i{n}")));
    }
    let total = || {
        batches
            .lock()
            .expect("not poisoned")
            .iter()
            .map(Vec::len)
            .sum::<usize>()
    };
    assert!(
        wait_until(PATIENCE, || total() == COUNT).await,
        "{} of {COUNT}",
        total()
    );
    let batches = batches.lock().expect("not poisoned").clone();
    assert!(batches
        .iter()
        .all(|batch| !batch.is_empty() && batch.len() <= IncomingBatch::MAX_MESSAGES));
    assert!(batches.len() < COUNT, "some reads carried several messages");
    let flat: Vec<String> = batches.into_iter().flatten().collect();
    assert_eq!(flat, numbered("i", 0..COUNT));
    // The single-message subscription sees the same messages, one by one.
    assert!(events.wait_incoming(COUNT).await);
    assert_eq!(events.incoming_texts(), numbered("i", 0..COUNT));
    drop(connection);
}
