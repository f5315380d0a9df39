//! What a connect hook learns about the new link.

use std::sync::Arc;

use crate::ConnectionId;

/// The link a [`ConnectionBuilder::on_connect`](crate::ConnectionBuilder::on_connect)
/// hook sets up.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// The connection.
    pub connection: ConnectionId,
    /// Its name, if it has one.
    pub name: Option<Arc<str>>,
    /// Which link this is: 1 for the first, counting every handshake that succeeded
    /// (a link whose setup failed counts too).
    pub link: u64,
    /// Reconnect attempts since the last stable connection (0 for a first connect).
    pub attempt: u32,
}
