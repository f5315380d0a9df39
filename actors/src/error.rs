//! Errors of the actor crate.

use tether::buffer::FullReason;
use tether::ConfigError;

use crate::Payload;

/// Why a message was not sent. Every variant hands the message back.
///
/// ```
/// # use tether_actix::{Payload, DeliveryError};
/// fn retry_later(error: DeliveryError) -> Payload {
///     // Whatever went wrong, the message is not lost.
///     error.into_message()
/// }
/// # let _ = retry_later;
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The outbound buffer is full (by count, by bytes, or the message alone is larger
    /// than the byte bound); the buffer keeps its older messages.
    #[error("outbound buffer full ({reason:?}); message handed back")]
    BufferFull {
        /// The message that did not fit.
        message: Payload,
        /// Which bound was hit.
        reason: FullReason,
    },
    /// The message was buffered, then evicted by a newer one under
    /// [`OverflowPolicy::DropOldest`](tether::OverflowPolicy::DropOldest).
    #[error("message evicted from the full buffer by a newer one")]
    Evicted(Payload),
    /// The connection was closed on request before the message could be written.
    #[error("connection closed; message handed back")]
    Closed(Payload),
    /// The connection gave up for good before the message could be written.
    #[error("connection failed permanently; message handed back")]
    Failed(Payload),
    /// The message was written, but the server had not confirmed it when its link died
    /// (at-most-once mode: it is not written again) or when the connection ended (a
    /// close that timed out). It may or may not have arrived.
    #[error("link lost before the server confirmed the message; handed back")]
    Unconfirmed(Payload),
    /// The actor ended while the message waited: its last address was dropped, its
    /// system stopped, or it panicked. The message may have been written (and may have
    /// arrived) if it was waiting for confirmation.
    #[error("connection actor stopped; message handed back")]
    Interrupted(Payload),
    /// Durable mode: the message could not be written to the durable store (the disk is
    /// full, say), so it was not accepted: it left the outbox and was never sent.
    #[error("message could not be stored in the durable outbox; handed back")]
    NotPersisted(Payload),
}

impl DeliveryError {
    /// The message that was not sent.
    pub fn message(&self) -> &Payload {
        match self {
            Self::BufferFull { message, .. }
            | Self::Evicted(message)
            | Self::Closed(message)
            | Self::Failed(message)
            | Self::Unconfirmed(message)
            | Self::Interrupted(message)
            | Self::NotPersisted(message) => message,
        }
    }

    /// Take the message back.
    pub fn into_message(self) -> Payload {
        match self {
            Self::BufferFull { message, .. }
            | Self::Evicted(message)
            | Self::Closed(message)
            | Self::Failed(message)
            | Self::Unconfirmed(message)
            | Self::Interrupted(message)
            | Self::NotPersisted(message) => message,
        }
    }
}

/// Why a [`ConnectionActor`](crate::ConnectionActor) could not be built.
///
/// These are mistakes in the program, not network conditions: they are reported before
/// anything connects, never turned into a reconnect loop.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The URL does not parse.
    #[error("invalid URL: {0}")]
    InvalidUrl(#[from] url::ParseError),
    /// The URL's scheme is not `ws` or `wss`.
    #[error("unsupported URL scheme `{0}`: expected `ws` or `wss`")]
    UnsupportedScheme(String),
    /// The URL has no host.
    #[error("URL has no host")]
    MissingHost,
    /// `wss://` was asked for, but this build has no TLS support (enable the `rustls`
    /// feature).
    #[error("`wss://` needs the `rustls` feature of tether-actix")]
    TlsUnavailable,
    /// A header name or value given to the builder is not valid HTTP.
    #[error("invalid header `{name}`")]
    InvalidHeader {
        /// The header name as given (the value is never shown).
        name: String,
    },
    /// The proxy URL (given to the builder or found in the environment) is not a
    /// supported proxy. The reason never contains the URL, which may hold a password.
    #[error("invalid proxy: {reason}")]
    InvalidProxy {
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS configuration could not be built.
    #[error("TLS setup failed: {message}")]
    TlsSetup {
        /// The error as text.
        message: String,
    },
    /// The mailbox capacity is zero.
    #[error("mailbox capacity must be at least 1")]
    ZeroMailboxCapacity,
    /// [`ConnectionBuilder::name`](crate::ConnectionBuilder::name) was given an empty
    /// name.
    #[error("connection name must not be empty")]
    EmptyName,
    /// The resiliency configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The builder was given no endpoint
    /// ([`ConnectionActor::builder_for`](crate::ConnectionActor::builder_for) with an
    /// empty list).
    #[error("no endpoint to connect to")]
    NoEndpoint,
    /// With several endpoints: endpoint `index` (0 = the first) is invalid. The URL is
    /// not shown (it may hold credentials).
    #[error("endpoint {index}: {source}")]
    InvalidEndpoint {
        /// Its position in the list.
        index: usize,
        /// What is wrong with it.
        source: Box<BuildError>,
    },
    /// [`ConnectionBuilder::durable`](crate::ConnectionBuilder::durable) was asked for
    /// without a [`name`](crate::ConnectionBuilder::name): the store is found by it.
    #[cfg(feature = "durable")]
    #[error("a durable connection needs a name (ConnectionBuilder::name)")]
    DurableWithoutName,
    /// The durable store cannot be opened or read: corrupt, unreadable, locked by another
    /// live process, or of an unknown schema version. Nothing was started, and the store
    /// was left as it is.
    #[cfg(feature = "durable")]
    #[error(transparent)]
    Durable(#[from] crate::durable::DurableError),
}

impl BuildError {
    /// `error` of endpoint `index`, named by its index when there are several.
    pub(crate) fn at_endpoint(several: bool, index: usize, error: BuildError) -> BuildError {
        if several {
            BuildError::InvalidEndpoint {
                index,
                source: Box::new(error),
            }
        } else {
            error
        }
    }
}

/// Why a [`CloseWith`](crate::message::CloseWith) was refused; nothing was closed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseError {
    /// The code may not be sent in a close frame: only 1000 and 3000 to 4999 may.
    #[error("close code {code} may not be sent: use 1000 or 3000-4999")]
    InvalidCode {
        /// The refused code.
        code: u16,
    },
    /// The reason is longer than the 123 bytes a close frame can carry.
    #[error("close reason of {len} bytes is longer than 123")]
    ReasonTooLong {
        /// Its length in bytes.
        len: usize,
    },
}

/// Why [`Connection::connected`](crate::Connection::connected) returned without a
/// connection.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotConnected {
    /// Not Connected within the time given.
    #[error("not connected within {after:?}")]
    TimedOut {
        /// The time given.
        after: std::time::Duration,
    },
    /// The connection ended first (`Closed` or `Failed`); [`Reopen`](crate::message::Reopen)
    /// brings it back.
    #[error("connection ended: {state}")]
    Ended {
        /// The terminal state.
        state: tether::ConnectionState,
    },
    /// The connection actor is gone (its system stopped).
    #[error("connection actor is gone")]
    Gone,
}

/// The connection actor is gone (its system stopped), so the request could not be
/// made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("connection actor is gone")]
pub struct ConnectionGone;
