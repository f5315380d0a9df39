//! End-to-end: the durable outbox (`ConnectionBuilder::durable`). What a connection held
//! when its actor ended without `Close` is on disk, and the next connection of the same
//! name writes it first, in order; confirmed and handed-back messages leave the store;
//! a store that cannot be used is a `BuildError`.

mod support;

// Shared with the store's own tests, which also remount it read-only.
#[allow(dead_code)]
#[path = "../actors/src/durable/tmpfs.rs"]
mod tmpfs;

use std::path::Path;
use std::time::Duration;

use support::{quick, recorded, setup, wait_until, Received, PATIENCE};
use tether_actix::durable::{DurableError, DurableStore};
use tether_actix::message::Delivery;
use tether_actix::message::{self, Close, OutgoingBatch};
use tether_actix::{BuildError, ConnectionActor, ConnectionState, DeliveryError};
use tmpfs::Tmpfs;

fn texts(received: Vec<Received>) -> Vec<String> {
    received
        .into_iter()
        .filter_map(|received| match received {
            Received::Text(text) => Some(text),
            Received::Binary(_) => None,
        })
        .collect()
}

/// Opens the store once the actor that held it has ended (its lock is released).
async fn reopen(dir: &Path, name: &str) -> DurableStore {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match DurableStore::open(dir, name) {
            Ok(store) => return store,
            Err(DurableError::Locked { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(error) => panic!("store {name} cannot be reopened: {error}"),
        }
    }
}

#[actix_web::test]
async fn buffered_messages_survive_the_actor_and_are_written_first_by_the_next_one() {
    let server = setup().await;
    server.stop().await;
    let dir = tempfile::tempdir().unwrap();

    // First "process": the server is down, so everything is buffered, on disk.
    let (builder, _events) = recorded(
        ConnectionActor::builder(server.url())
            .name("feed")
            .durable(dir.path())
            .configure(quick),
    );
    let connection = builder.start().unwrap().into_addr();
    for n in 0..5 {
        let reply = connection
            .send(message::Outgoing::text(format!("old{n}")))
            .await
            .unwrap();
        assert_eq!(reply.unwrap(), Delivery::Buffered);
    }
    let report = connection
        .send(OutgoingBatch::new((5..10).map(|n| format!("old{n}"))))
        .await
        .unwrap();
    assert_eq!(report.buffered, 5);
    // The actor ends without `Close` (its last address is dropped): the messages stay.
    drop(connection);
    let store = reopen(dir.path(), "feed").await;
    let held: Vec<String> = store
        .load()
        .unwrap()
        .into_iter()
        .map(|record| record.payload.as_text().unwrap().to_owned())
        .collect();
    assert_eq!(held, (0..10).map(|n| format!("old{n}")).collect::<Vec<_>>());
    drop(store);

    // Second "process": it writes the old messages first, then the new one.
    server.restart().await;
    let (builder, events) = recorded(
        ConnectionActor::builder(server.url())
            .name("feed")
            .durable(dir.path())
            .configure(quick),
    );
    let connection = builder.start().unwrap().into_addr();
    let reply = connection
        .send(message::Outgoing::text("new").with_confirmation())
        .await
        .unwrap();
    assert_eq!(reply.unwrap(), Delivery::Confirmed);
    let mut expected: Vec<String> = (0..10).map(|n| format!("old{n}")).collect();
    expected.push("new".into());
    assert_eq!(texts(server.received()), expected);
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);

    // Confirmed: they left the store.
    assert_eq!(
        connection.send(Close).await.unwrap(),
        ConnectionState::Closed
    );
    drop(connection);
    let store = reopen(dir.path(), "feed").await;
    assert!(store.is_empty(), "{} records left", store.len());
}

#[actix_web::test]
async fn confirmed_messages_leave_the_store_and_its_size_stays_bounded() {
    let server = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let (builder, events) = recorded(
        ConnectionActor::builder(server.url())
            .name("bounded")
            .durable(dir.path())
            .configure(|config| {
                quick(config)
                    .message_buffer_size(256)
                    .unconfirmed_window(64)
            }),
    );
    let connection = builder.start().unwrap().into_addr();
    assert!(events.wait_entered(ConnectionState::Connected, 1).await);
    let payload = "x".repeat(64);
    for _ in 0..40 {
        let report = connection
            .send(OutgoingBatch::new(vec![payload.clone(); 100]).with_confirmation())
            .await
            .unwrap();
        assert_eq!(report.confirmed, 100);
    }
    assert!(wait_until(PATIENCE, || server.received_count() == 4_000).await);
    assert_eq!(
        connection.send(Close).await.unwrap(),
        ConnectionState::Closed
    );
    drop(connection);
    let store = reopen(dir.path(), "bounded").await;
    assert!(store.is_empty(), "{} records left", store.len());
    let size = store.size_on_disk().unwrap();
    // 4,000 messages passed through; the store holds at most buffer + window at once.
    assert!(size < 2 << 20, "store is {size} bytes after 4,000 messages");
    println!("durable store after 4,000 confirmed messages: {size} bytes");
}

#[actix_web::test]
async fn messages_handed_back_on_close_leave_the_store() {
    let server = setup().await;
    server.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let (builder, _events) = recorded(
        ConnectionActor::builder(server.url())
            .name("closed")
            .durable(dir.path())
            .configure(quick),
    );
    let connection = builder.start().unwrap().into_addr();
    for n in 0..3 {
        let reply = connection
            .send(message::Outgoing::text(format!("m{n}")))
            .await
            .unwrap();
        assert_eq!(reply.unwrap(), Delivery::Buffered);
    }
    assert_eq!(
        connection.send(Close).await.unwrap(),
        ConnectionState::Closed
    );
    drop(connection);
    let store = reopen(dir.path(), "closed").await;
    assert!(
        store.is_empty(),
        "closed: handed back, so {} left",
        store.len()
    );
}

#[actix_web::test]
async fn a_store_that_cannot_be_used_is_a_build_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = "ws://127.0.0.1:9/ws";

    let unnamed = ConnectionActor::builder(url).durable(dir.path()).build();
    assert!(matches!(unnamed, Err(BuildError::DurableWithoutName)));

    let bad_name = ConnectionActor::builder(url)
        .name("../escape")
        .durable(dir.path())
        .build();
    assert!(matches!(
        bad_name,
        Err(BuildError::Durable(DurableError::InvalidName { .. }))
    ));

    // Held by a live connection: a second one with the same name is refused.
    let first = ConnectionActor::builder(url)
        .name("shared")
        .durable(dir.path())
        .build()
        .unwrap();
    let second = ConnectionActor::builder(url)
        .name("shared")
        .durable(dir.path())
        .build();
    assert!(
        matches!(
            second,
            Err(BuildError::Durable(DurableError::Locked { .. }))
        ),
        "{second:?}"
    );
    drop(first);

    std::fs::write(
        dir.path().join("garbage.outbox.sqlite"),
        vec![0x5a_u8; 8192],
    )
    .unwrap();
    let corrupt = ConnectionActor::builder(url)
        .name("garbage")
        .durable(dir.path())
        .build();
    assert!(
        matches!(
            corrupt,
            Err(BuildError::Durable(DurableError::Corrupt { .. }))
        ),
        "{corrupt:?}"
    );
    // Nothing was replaced by an empty store.
    assert_eq!(
        std::fs::read(dir.path().join("garbage.outbox.sqlite")).unwrap(),
        vec![0x5a_u8; 8192]
    );
}

#[actix_web::test]
async fn a_full_disk_hands_messages_back_as_not_persisted_and_space_brings_it_back() {
    let disk = Tmpfs::mount("512k");
    // Most of the disk is taken by something else.
    let ballast = disk.path().join("ballast");
    std::fs::write(&ballast, vec![0_u8; 256 * 1024]).unwrap();
    let server = setup().await;
    server.stop().await;
    let connection = ConnectionActor::builder(server.url())
        .name("feed")
        .durable(disk.path())
        .configure(|config| quick(config).message_buffer_size(100_000))
        .start()
        .expect("the store opens")
        .into_addr();

    // Kilobyte messages, buffered (the server is down) until the disk is full.
    let (mut sent, mut accepted) = (0_usize, 0_usize);
    let refused = loop {
        assert!(sent < 100_000, "the disk never filled");
        let report = connection
            .send(OutgoingBatch::new(
                (sent..sent + 64).map(|n| format!("{n:0>1024}")),
            ))
            .await
            .expect("actor alive");
        sent += 64;
        accepted += report.accepted();
        if !report.refused.is_empty() {
            break report.refused;
        }
    };
    assert!(accepted > 0, "not even one batch fitted");
    // Every refused message comes back, as not persisted, with its payload.
    assert_eq!(accepted + refused.len(), sent);
    for error in &refused {
        assert!(matches!(error, DeliveryError::NotPersisted(_)), "{error:?}");
        assert_eq!(error.message().len(), 1024);
    }

    // Space comes back: the next message is on disk again.
    std::fs::remove_file(&ballast).unwrap();
    let delivery = connection
        .send(message::Outgoing::text("after"))
        .await
        .expect("actor alive")
        .expect("stored");
    assert_eq!(delivery, Delivery::Buffered);
    // The store is closed before the file system is unmounted.
    drop(connection);
    drop(reopen(disk.path(), "feed").await);
}
