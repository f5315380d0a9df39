//! Which server endpoint an attempt, a link or a status concerns.

use std::fmt;
use std::sync::Arc;

/// One of the connection's server endpoints, as events and status show it.
///
/// The list is the one given to the builder: [`ConnectionActor::builder`]'s URL is
/// index 0, each [`ConnectionBuilder::endpoint`] adds the next.
///
/// [`ConnectionActor::builder`]: crate::ConnectionActor::builder
/// [`ConnectionBuilder::endpoint`]: crate::ConnectionBuilder::endpoint
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Its position in the list (0 = the first, preferred one).
    pub index: usize,
    /// Its URL without user info, query or fragment (they may hold credentials).
    pub url: Arc<str>,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}", self.index, self.url)
    }
}
