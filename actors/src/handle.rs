//! [`Connection`]: the typed handle `ConnectionBuilder::start` returns.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::SendError as MailboxSendError;
use actix::{Addr, Handler};
use tether::ConnectionState;

use crate::message::handover::Lost;
use crate::message::{
    BatchReport, Close, CloseWith, Delivery, GetStatus, Handover, Outgoing, OutgoingBatch,
    Reconnect, Reopen, WaitConnected,
};
use crate::{
    CloseError, ConnectionActor, ConnectionGone, ConnectionId, DeliveryError, NotConnected,
    Payload, Status,
};

/// A handle to a running [`ConnectionActor`]: cheap to clone, `Send`, with async methods
/// for everything the [`message`](crate::message) commands do.
///
/// Errors are folded: a send answers `Result<Delivery, DeliveryError>`, and a message
/// that cannot reach the actor (its system stopped) is handed back as
/// [`DeliveryError::Interrupted`], never lost in a `MailboxError`. For actix-style use,
/// [`addr`](Self::addr) and [`into_addr`](Self::into_addr) give the actor's address.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use tether_actix::ConnectionActor;
///
/// let connection = ConnectionActor::builder("ws://127.0.0.1:8080/ws").start()?;
/// connection.connected(Duration::from_secs(5)).await?;
/// connection.send("hello").await?;
/// connection.close().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Connection {
    addr: Addr<ConnectionActor>,
    id: ConnectionId,
    name: Option<Arc<str>>,
}

impl Connection {
    pub(crate) fn new(
        addr: Addr<ConnectionActor>,
        id: ConnectionId,
        name: Option<Arc<str>>,
    ) -> Self {
        Self { addr, id, name }
    }

    /// The connection's id, as carried by its events.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// The connection's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The actor's address, for `Addr::send` and recipients.
    pub fn addr(&self) -> &Addr<ConnectionActor> {
        &self.addr
    }

    /// The actor's address, consuming the handle.
    pub fn into_addr(self) -> Addr<ConnectionActor> {
        self.addr
    }

    /// Sends one message: see [`message::Outgoing`](crate::message::Outgoing) for the
    /// answers. Waits while the actor's mailbox is full (back-pressure).
    pub async fn send(&self, payload: impl Into<Payload>) -> Result<Delivery, DeliveryError> {
        self.send_outgoing(Outgoing::new(payload)).await
    }

    /// Sends one message and answers once the server confirmed it (see
    /// [`Outgoing::with_confirmation`]).
    pub async fn send_confirmed(
        &self,
        payload: impl Into<Payload>,
    ) -> Result<Delivery, DeliveryError> {
        self.send_outgoing(Outgoing::new(payload).with_confirmation())
            .await
    }

    /// Sends an [`Outgoing`] as it is (with or without confirmation).
    pub async fn send_outgoing(&self, message: Outgoing) -> Result<Delivery, DeliveryError> {
        match self.hand_over(message).await {
            Some(answer) => answer,
            None => Err(DeliveryError::Interrupted(Payload::empty())),
        }
    }

    /// Sends several messages in one mailbox envelope, in order (see
    /// [`OutgoingBatch`]); the report hands back every message not accepted.
    pub async fn send_batch(&self, batch: OutgoingBatch) -> BatchReport {
        self.hand_over(batch).await.unwrap_or_default()
    }

    /// Closes the connection (see [`Close`]); answers the terminal state.
    pub async fn close(&self) -> Result<ConnectionState, ConnectionGone> {
        self.addr.send(Close).await.map_err(|_| ConnectionGone)
    }

    /// Closes with a code, reason or flush deadline (see [`CloseWith`]):
    /// `connection.close_with(Close::with_code(4000, "bye"))`.
    pub async fn close_with(
        &self,
        close: CloseWith,
    ) -> Result<Result<ConnectionState, CloseError>, ConnectionGone> {
        self.addr.send(close).await.map_err(|_| ConnectionGone)
    }

    /// Brings a `Closed` or `Failed` connection back (see [`Reopen`]); whether it was
    /// reopened.
    pub async fn reopen(&self) -> Result<bool, ConnectionGone> {
        self.addr.send(Reopen).await.map_err(|_| ConnectionGone)
    }

    /// Connects again now (see [`Reconnect`]); whether anything was done.
    pub async fn reconnect(&self) -> Result<bool, ConnectionGone> {
        self.addr.send(Reconnect).await.map_err(|_| ConnectionGone)
    }

    /// A snapshot of the state and counters.
    pub async fn status(&self) -> Result<Status, ConnectionGone> {
        self.addr.send(GetStatus).await.map_err(|_| ConnectionGone)
    }

    /// Waits until the connection is Connected (with an
    /// [`on_connect`](crate::ConnectionBuilder::on_connect) setup: until the setup is
    /// done), at most `timeout`. Answered by the actor when it enters Connected, not by
    /// polling. Returns at once if it already is, or if it is `Closed` or `Failed`.
    pub async fn connected(&self, timeout: Duration) -> Result<(), NotConnected> {
        match actix::clock::timeout(timeout, self.addr.send(WaitConnected)).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(state))) => Err(NotConnected::Ended { state }),
            Ok(Err(_)) => Err(NotConnected::Gone),
            Err(_) => Err(NotConnected::TimedOut { after: timeout }),
        }
    }

    /// Hands `message` to the actor with its own reply channel: without waiting when
    /// the mailbox has room, else waiting for room. Whatever happens, the channel is
    /// answered (a message dropped unhandled answers itself, handing its payloads back);
    /// `None` only if that guarantee were broken.
    async fn hand_over<M>(&self, message: M) -> Option<M::Result>
    where
        M: Lost + Send + 'static,
        M::Result: Send,
        ConnectionActor: Handler<Handover<M>>,
    {
        let (handover, answer) = Handover::new(message);
        match self.addr.try_send(handover) {
            Ok(()) => {}
            Err(MailboxSendError::Full(handover)) => {
                tracing::trace!(connection = %self.id, "mailbox full: waiting for room");
                // A `MailboxError` here means the handover was dropped: it answered.
                let _ = self.addr.send(handover).await;
            }
            Err(MailboxSendError::Closed(handover)) => drop(handover),
        }
        let answer = answer.await.ok();
        if answer.is_none() {
            tracing::error!(connection = %self.id, "a handed-over message was not answered");
        }
        answer
    }
}

impl From<Connection> for Addr<ConnectionActor> {
    fn from(connection: Connection) -> Self {
        connection.into_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::Connection;

    fn clone_and_send<T: Clone + Send + 'static>() {}

    #[test]
    fn the_handle_is_clone_and_send() {
        clone_and_send::<Connection>();
    }
}
