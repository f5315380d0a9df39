use std::sync::Arc;

use crate::{ConnectionId, Endpoint};

/// The attempt a [`CredentialsProvider`](crate::CredentialsProvider) is asked to
/// authenticate.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The connection.
    pub connection: ConnectionId,
    /// Its name, if it was given one.
    pub name: Option<Arc<str>>,
    /// The reconnect attempt counter (0 for the first connect, and after a stable link).
    pub attempt: u32,
    /// The endpoint this attempt goes to.
    pub endpoint: Endpoint,
}
