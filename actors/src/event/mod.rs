//! Events a connection publishes to its subscribers.

mod incoming;
mod state_changed;
mod undelivered;

pub use incoming::Incoming;
pub use state_changed::StateChanged;
pub use undelivered::{Undelivered, UndeliveredReason};
