//! End-to-end tests, one module per topic, in one test binary: the shared support
//! code and the dependencies are compiled and linked once instead of once per topic.
//!
//! Tests that change process-wide state (the global tracing subscriber, environment
//! variables, the metrics recorder) stay in their own binaries beside this one.

#[path = "../support/mod.rs"]
mod support;

mod abandoned;
mod batch;
mod confirmation;
mod confirmation_outages;
mod connect_setup;
mod control;
mod credentials_provider;
mod delivery;
mod endpoints;
mod failure;
mod fire_and_forget;
mod handle;
mod hostile_frames;
mod hostile_handshake;
mod hostile_limits;
mod liveness;
mod observability;
mod proxy_harness;
mod reconnect;
mod reliability;
mod server_harness;
mod stalled_state_subscriber;
mod stalled_subscriber;
mod subscriptions;
mod tls;
mod transport_connect;
mod transport_pin;
mod transport_socks;
mod transport_tls;
mod undelivered_backlog;
