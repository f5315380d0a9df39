//! [`Ledger`]: what a [`TestServer`](super::TestServer) saw, kept for the test to
//! inspect. Records (messages, request headers) can be taken out, which forgets them, so
//! that a long test holds one round's worth at a time; counts keep counting.

/// A data message received by the server, after joining continuation frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Received {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// The headers of one request, names lower-case.
pub(crate) type Headers = Vec<(String, String)>;

/// Records and counts of everything the server saw since it started.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// Data messages since the last [`Ledger::take_messages`], in arrival order.
    messages: Vec<Received>,
    /// Data messages since the start, taken ones included.
    message_count: usize,
    /// Request headers since the last [`Ledger::take_requests`], one entry per attempt.
    requests: Vec<Headers>,
    /// Requests to `/ws` since the start, taken ones included.
    attempts: usize,
    /// Accepted upgrades.
    handshakes: usize,
    /// Ping frames from clients.
    pings: usize,
}

impl Ledger {
    /// Records a whole data message.
    pub(crate) fn message(&mut self, msg: Received) {
        self.messages.push(msg);
        self.message_count += 1;
    }

    /// Records a request to `/ws`, whatever its outcome.
    pub(crate) fn attempt(&mut self, headers: Headers) {
        self.requests.push(headers);
        self.attempts += 1;
    }

    /// Records an accepted upgrade.
    pub(crate) fn handshake(&mut self) {
        self.handshakes += 1;
    }

    /// Records a ping frame.
    pub(crate) fn ping(&mut self) {
        self.pings += 1;
    }

    /// The data messages not taken yet, in arrival order.
    pub(crate) fn messages(&self) -> &[Received] {
        &self.messages
    }

    /// Hands over the data messages not taken yet and forgets them.
    pub(crate) fn take_messages(&mut self) -> Vec<Received> {
        std::mem::take(&mut self.messages)
    }

    /// Data messages since the start, taken ones included.
    pub(crate) fn message_count(&self) -> usize {
        self.message_count
    }

    /// The request headers not taken yet, one entry per attempt.
    pub(crate) fn requests(&self) -> &[Headers] {
        &self.requests
    }

    /// Hands over the request headers not taken yet and forgets them.
    pub(crate) fn take_requests(&mut self) -> Vec<Headers> {
        std::mem::take(&mut self.requests)
    }

    /// Requests to `/ws` since the start, taken ones included.
    pub(crate) fn attempts(&self) -> usize {
        self.attempts
    }

    /// Accepted upgrades since the start.
    pub(crate) fn handshakes(&self) -> usize {
        self.handshakes
    }

    /// Ping frames since the start.
    pub(crate) fn pings(&self) -> usize {
        self.pings
    }
}
