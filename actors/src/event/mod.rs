//! Events a connection publishes to its subscribers.

mod incoming;
mod incoming_batch;
mod state_changed;
mod undelivered;

pub use incoming::Incoming;
pub use incoming_batch::IncomingBatch;
pub use state_changed::StateChanged;
pub use undelivered::{Undelivered, UndeliveredReason};
