//! The setup of a new link: the connect hook's messages, written before anything
//! buffered, and optionally a ping whose Pong confirms that the server read them.
//!
//! While a link is in setup the connection stays Connecting, the writer takes nothing
//! from the outbox, and new messages are buffered; Connected is published once the
//! setup is done. A setup that does not finish within `setup_timeout`, or a link that
//! dies during it, fails the attempt.

use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use awc::ws::Message;
use bytes::Bytes;

use crate::{LinkInfo, Payload};

/// The hook given to `ConnectionBuilder::on_connect`.
pub(crate) type ConnectHook = Rc<dyn Fn(&LinkInfo) -> Vec<Payload>>;

/// The configured setup of every link.
#[derive(Clone)]
pub(crate) struct Setup {
    pub(crate) hook: ConnectHook,
    /// Wait for the server's Pong before the buffer flushes.
    pub(crate) confirm: bool,
}

impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The messages may hold credentials: never shown.
        f.debug_struct("Setup")
            .field("confirm", &self.confirm)
            .finish_non_exhaustive()
    }
}

/// Where one link's setup stands.
#[derive(Debug)]
pub(crate) struct SetupPhase {
    /// Messages not yet written, in order.
    pending: VecDeque<Payload>,
    /// The payload of the confirmation ping, while one is due or awaited; distinct from
    /// checkpoint pings (those are 8 bytes) and from other links' setup pings.
    ping: Option<Bytes>,
    ping_written: bool,
}

impl SetupPhase {
    /// The setup of link `generation`; `None` if there is nothing to do.
    pub(crate) fn new(messages: Vec<Payload>, confirm: bool, generation: u64) -> Option<Self> {
        if messages.is_empty() && !confirm {
            return None;
        }
        Some(Self {
            pending: messages.into(),
            ping: confirm.then(|| Bytes::from(format!("tether-setup-{generation}"))),
            ping_written: false,
        })
    }

    /// The next frame to write: the messages, then the confirmation ping.
    pub(crate) fn next_frame(&mut self) -> Option<Message> {
        if let Some(payload) = self.pending.pop_front() {
            return Some(payload.to_frame());
        }
        match &self.ping {
            Some(ping) if !self.ping_written => {
                self.ping_written = true;
                Some(Message::Ping(ping.clone()))
            }
            _ => None,
        }
    }

    /// Whether every frame is written and nothing needs confirming (once flushed, the
    /// setup is done).
    pub(crate) fn written_unconfirmed(&self) -> bool {
        self.pending.is_empty() && self.ping.is_none()
    }

    /// A Pong arrived: whether it confirms the setup.
    pub(crate) fn pong(&mut self, payload: &[u8]) -> bool {
        let confirms = self.ping_written && self.ping.as_deref() == Some(payload);
        if confirms {
            self.ping = None;
        }
        confirms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_first_then_the_ping_whose_pong_alone_confirms() {
        assert!(SetupPhase::new(Vec::new(), false, 1).is_none());
        let mut setup = SetupPhase::new(vec![Payload::from("auth"), Payload::from("sub")], true, 7)
            .expect("something to do");
        assert!(matches!(setup.next_frame(), Some(Message::Text(t)) if t == "auth"));
        assert!(
            !setup.pong(b"tether-setup-7"),
            "the ping is not written yet"
        );
        assert!(matches!(setup.next_frame(), Some(Message::Text(t)) if t == "sub"));
        assert!(
            matches!(setup.next_frame(), Some(Message::Ping(p)) if &p[..] == b"tether-setup-7")
        );
        assert!(setup.next_frame().is_none());
        assert!(!setup.written_unconfirmed());
        assert!(!setup.pong(b"tether-setup-6"), "another link's ping");
        assert!(!setup.pong(&[0; 8]), "a checkpoint ping");
        assert!(setup.pong(b"tether-setup-7"));
        assert!(setup.written_unconfirmed());
    }

    #[test]
    fn without_confirmation_writing_is_enough() {
        let mut setup = SetupPhase::new(vec![Payload::from("hi")], false, 1).expect("a message");
        assert!(!setup.written_unconfirmed());
        assert!(setup.next_frame().is_some());
        assert!(setup.next_frame().is_none());
        assert!(setup.written_unconfirmed());
    }
}
