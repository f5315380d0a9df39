//! Building and starting a connection.

use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use actix::{Recipient, Supervisor};
use awc::http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use awc::ws::WebsocketsRequest;
use tether::{
    Backoff, ConfigError, Outbox, ResiliencyConfig, ResiliencyConfigBuilder, StateMachine,
};

use super::dialer::{Customize, Dialer, TlsConfig};
use super::endpoints::Endpoints;
use super::inbox::Inbox;
use super::journal::Journal;
use super::lifecycle::Attempts;
use super::metrics::Meter;
use super::outbound::Outbound;
use super::setup::Setup;
use super::ConnectionActor;
use crate::subscribers::Subscribers;
use crate::target::Target;
use crate::transport::{ProxyChoice, TransportConfig};
use crate::{
    BuildError, Connection, ConnectionId, Counters, CredentialsProvider, DefaultRetryPolicy,
    Incoming, IncomingBatch, LinkInfo, Payload, RetryPolicy, StateChanged, Undelivered,
};

/// Configures a [`ConnectionActor`]. Obtained from [`ConnectionActor::builder`].
///
/// Every mistake (bad URL, bad header, bad configuration) is reported by
/// [`build`](Self::build) or [`start`](Self::start), before anything connects.
///
/// ```no_run
/// use std::time::Duration;
/// use tether_actix::ConnectionActor;
///
/// # #[actix::main] async fn main() -> Result<(), tether_actix::BuildError> {
/// let connection = ConnectionActor::builder("ws://127.0.0.1:8080/ws")
///     .configure(|config| config.heartbeat_interval(Duration::from_secs(5)))
///     .bearer_auth("s3cret")
///     .start()?;
/// # let _ = connection; Ok(()) }
/// ```
pub struct ConnectionBuilder {
    /// The endpoints in failover order; the first is preferred.
    urls: Vec<String>,
    credentials: Option<Rc<dyn CredentialsProvider>>,
    name: Option<Arc<str>>,
    config: Result<ResiliencyConfig, ConfigError>,
    seed: Option<u64>,
    policy: Box<dyn RetryPolicy>,
    headers: Vec<(HeaderName, HeaderValue)>,
    invalid_header: Option<String>,
    customize: Option<Customize>,
    subscribers: Subscribers,
    mailbox_capacity: Option<usize>,
    tls: Option<TlsConfig>,
    transport: TransportConfig,
    setup: Option<Setup>,
    /// The directory of the durable store, in durable mode.
    #[cfg(feature = "durable")]
    durable: Option<std::path::PathBuf>,
}

impl ConnectionBuilder {
    pub(super) fn new(urls: Vec<String>) -> Self {
        Self {
            urls,
            credentials: None,
            name: None,
            config: Ok(ResiliencyConfig::default()),
            seed: None,
            policy: Box::new(DefaultRetryPolicy),
            headers: Vec::new(),
            invalid_header: None,
            customize: None,
            subscribers: Subscribers::default(),
            mailbox_capacity: None,
            tls: None,
            transport: TransportConfig::default(),
            setup: None,
            #[cfg(feature = "durable")]
            durable: None,
        }
    }

    /// Names the connection (`"feed-eu-1"`): its events, its [`Status`](crate::Status),
    /// its tracing span and its metrics carry the name. Unnamed connections are known by
    /// their [`ConnectionId`] alone. An empty name is a [`BuildError::EmptyName`].
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Keep the outbox on disk, in an embedded SQLite store under `dir` named after the
    /// connection's [`name`](Self::name) (required), so it survives a crash or restart
    /// of the process.
    ///
    /// - `build` opens the store; whatever a previous process left is written first, in
    ///   order, before anything new. A store that cannot be used is a
    ///   [`BuildError::Durable`], never an empty outbox.
    /// - An `Outgoing` answered [`Buffered`](crate::message::Delivery::Buffered) or
    ///   [`Sent`](crate::message::Delivery::Sent) is on disk. The messages accepted in one
    ///   mailbox drain (or while the previous group was being committed) are committed
    ///   together (one `fsync`), on a thread of the store's own, before any of them is
    ///   written or answered; a failed commit hands them back as
    ///   [`DeliveryError::NotPersisted`](crate::DeliveryError::NotPersisted).
    /// - Confirmed messages leave the store, and so do messages handed back (evicted,
    ///   closed, failed, unconfirmed at-most-once). When the actor ends without `Close`
    ///   (its last address dropped, its system stopped, or its process killed), what it
    ///   held stays on disk for the next process.
    ///
    /// Delivery is at-least-once across restarts: a message written just before the
    /// process ended, but not yet confirmed, is written again by the next one.
    #[cfg(feature = "durable")]
    pub fn durable(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.durable = Some(dir.into());
        self
    }

    /// Use this configuration (the default is [`ResiliencyConfig::default`]).
    pub fn config(mut self, config: ResiliencyConfig) -> Self {
        self.config = Ok(config);
        self
    }

    /// Adjust the configuration in place; an invalid result is reported by `build`.
    pub fn configure(
        mut self,
        adjust: impl FnOnce(ResiliencyConfigBuilder) -> ResiliencyConfigBuilder,
    ) -> Self {
        self.config = self
            .config
            .and_then(|config| adjust(config.to_builder()).build());
        self
    }

    /// Seed the backoff jitter, for repeatable delays in tests. Without a seed each
    /// connection draws its own from the operating system.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Decide which failures are retried (default: [`DefaultRetryPolicy`]).
    pub fn retry_policy(mut self, policy: impl RetryPolicy) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// Send this header with every handshake. Values are treated as secrets: never
    /// logged, and marked sensitive.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let name_text = name.as_ref();
        match (
            HeaderName::try_from(name_text),
            HeaderValue::try_from(value.as_ref()),
        ) {
            (Ok(name), Ok(mut value)) => {
                value.set_sensitive(true);
                self.headers.push((name, value));
            }
            _ => {
                self.invalid_header
                    .get_or_insert_with(|| name_text.to_owned());
            }
        }
        self
    }

    /// Send `Authorization: Bearer <token>` with every handshake (in a header, never in
    /// the URL). For a token that changes, use [`on_request`](Self::on_request).
    pub fn bearer_auth(self, token: impl fmt::Display) -> Self {
        self.header(AUTHORIZATION.as_str(), format!("Bearer {token}"))
    }

    /// Adjust the handshake request of every attempt, after the fixed headers: for
    /// example to set a freshly read token on each reconnect.
    pub fn on_request(
        mut self,
        customize: impl Fn(WebsocketsRequest) -> WebsocketsRequest + 'static,
    ) -> Self {
        self.customize = Some(Rc::new(customize));
        self
    }

    /// Add a fallback endpoint, tried after the ones before it (`ws://`; `wss://` needs
    /// TLS support). Headers, credentials, proxy and TLS settings apply to every
    /// endpoint.
    ///
    /// Failover rule: the connection stays on an endpoint while it works. After a
    /// failure the next attempt goes to the next endpoint in the list that is not given
    /// up, wrapping around after the last; switching to another endpoint within a pass
    /// through the list is immediate, and only the attempt that completes a pass waits
    /// the backoff delay, which grows per pass. There is no automatic return to the
    /// first endpoint while another one works.
    ///
    /// The retry policy judges each failure for the endpoint that failed: a final one
    /// (say a 401) gives up on that endpoint only, a `Retry-After` (429, 503) holds back
    /// that endpoint only (the rotation skips it while another is ready). The
    /// connection enters `Failed` when every endpoint is given up, with the last
    /// failure's reason, or when `max_reconnect_attempts` (counting every attempt, on
    /// any endpoint) are used up. [`StateChanged::endpoint`] and
    /// [`Status::endpoint`](crate::Status::endpoint) say which endpoint.
    ///
    /// Every URL is validated by [`build`](Self::build); with several endpoints an
    /// invalid one is reported as [`BuildError::InvalidEndpoint`] with its index.
    ///
    /// ```no_run
    /// use tether_actix::ConnectionActor;
    ///
    /// # #[actix::main] async fn main() -> Result<(), tether_actix::BuildError> {
    /// let connection = ConnectionActor::builder("ws://127.0.0.1:8080/ws")
    ///     .endpoint("ws://127.0.0.1:8081/ws")
    ///     .start()?;
    /// # let _ = connection; Ok(()) }
    /// ```
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.urls.push(url.into());
        self
    }

    /// Add several fallback endpoints, in order: see [`endpoint`](Self::endpoint).
    pub fn endpoints<I>(mut self, urls: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.urls.extend(urls.into_iter().map(Into::into));
        self
    }

    /// Ask this provider for the credentials of every attempt, just before it: headers
    /// and URL query pairs for that attempt only, on top of the fixed
    /// [`header`](Self::header)s. See [`CredentialsProvider`] (closures implement it)
    /// and [`credentials_timeout`](tether::ResiliencyConfig::credentials_timeout).
    ///
    /// A provider error fails the attempt with
    /// [`DisconnectReason::CredentialsFailed`](crate::DisconnectReason::CredentialsFailed):
    /// retried under the default policy, unless the provider calls it final, which
    /// gives up on the attempt's endpoint. Header values and query values are never
    /// logged nor shown by `Debug`.
    pub fn credentials(mut self, provider: impl CredentialsProvider) -> Self {
        self.credentials = Some(Rc::new(provider));
        self
    }

    /// Write these messages first on every new link, right after the handshake: the
    /// setup a server needs before anything else (authenticate, subscribe, resume from
    /// a position). `hook` is called once per link and returns the messages, in order.
    ///
    /// Buffered messages never overtake them: the buffer flushes only once the setup is
    /// written (and, with [`confirm_setup`](Self::confirm_setup), confirmed). Until
    /// then the connection stays `Connecting`, and messages sent meanwhile are
    /// buffered: **`Connected` is published once the setup is done**, so a Connected
    /// connection is ready for use. A setup not done within
    /// [`setup_timeout`](tether::ResiliencyConfig::setup_timeout), or a link that ends
    /// during it (the server closes or refuses), fails the attempt with
    /// [`DisconnectReason::SetupFailed`](crate::DisconnectReason::SetupFailed), judged
    /// by the retry policy like any failed attempt; nothing buffered was written, so
    /// the buffer is intact. An empty list means no setup.
    pub fn on_connect(mut self, hook: impl Fn(&LinkInfo) -> Vec<Payload> + 'static) -> Self {
        let confirm = self.setup.as_ref().is_some_and(|setup| setup.confirm);
        self.setup = Some(Setup {
            hook: Rc::new(hook),
            confirm,
        });
        self
    }

    /// Whether the setup of [`on_connect`](Self::on_connect) must be confirmed before
    /// the buffer flushes (default: no): a ping follows the setup messages, and only its
    /// Pong, which proves the server's WebSocket layer read them, completes the setup.
    /// Without it, writing them is enough.
    pub fn confirm_setup(mut self, confirm: bool) -> Self {
        match self.setup.as_mut() {
            Some(setup) => setup.confirm = confirm,
            None if confirm => {
                self.setup = Some(Setup {
                    hook: Rc::new(|_: &LinkInfo| Vec::new()),
                    confirm,
                })
            }
            None => {}
        }
        self
    }

    /// Publish every state change to this recipient, in order. The connection never
    /// waits for it: a subscriber that falls more than 256 transitions behind misses
    /// the oldest, and [`StateChanged::skipped`] says how many.
    pub fn on_state(mut self, recipient: Recipient<StateChanged>) -> Self {
        self.subscribers.subscribe_state(recipient);
        self
    }

    /// Publish every incoming message to this recipient.
    pub fn on_incoming(mut self, recipient: Recipient<Incoming>) -> Self {
        self.subscribers.subscribe_incoming(recipient);
        self
    }

    /// Publish incoming messages to this recipient in batches: one [`IncomingBatch`] of
    /// every message decoded from one read of the socket. Fewer mailbox envelopes than
    /// [`on_incoming`](Self::on_incoming) for small messages, with the same order and
    /// back-pressure.
    pub fn on_incoming_batch(mut self, recipient: Recipient<IncomingBatch>) -> Self {
        self.subscribers.subscribe_incoming_batch(recipient);
        self
    }

    /// The former name of [`on_incoming`](Self::on_incoming).
    #[deprecated(since = "0.2.0", note = "renamed to `on_incoming`")]
    pub fn on_message(self, recipient: Recipient<Incoming>) -> Self {
        self.on_incoming(recipient)
    }

    /// The former name of [`on_incoming_batch`](Self::on_incoming_batch).
    #[deprecated(since = "0.2.0", note = "renamed to `on_incoming_batch`")]
    pub fn on_message_batch(self, recipient: Recipient<IncomingBatch>) -> Self {
        self.on_incoming_batch(recipient)
    }

    /// Hand buffered messages that will never be sent to this recipient.
    pub fn on_undelivered(mut self, recipient: Recipient<Undelivered>) -> Self {
        self.subscribers.subscribe_undelivered(recipient);
        self
    }

    /// Capacity of the actor's mailbox: `Addr::send` waits while it is full. The
    /// default is `message_buffer_size`, so a producer with that many sends in flight
    /// meets the buffer's bound rather than actix's default of 16 (whose "mailbox full"
    /// path costs allocations on every send).
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = Some(capacity);
        self
    }

    /// Use this TLS configuration for `wss://` (for example a private root store).
    /// Without it, the webpki root certificates are trusted.
    ///
    /// ALPN is set by the connector (HTTP/1.1 only, as WebSocket needs).
    #[cfg(feature = "rustls")]
    pub fn tls_config(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Connect through this proxy: `http://[user:password@]host[:port]` (an HTTP
    /// `CONNECT` tunnel, with Basic credentials when given), `socks5://…` (the server's
    /// name is resolved here) or `socks5h://…` (resolved by the proxy), optionally with
    /// a username and password. Percent-encode reserved characters in credentials.
    ///
    /// `wss://` still runs TLS end to end: the certificate and SNI are the server's.
    /// An invalid URL, or an `https://` proxy (not supported), is reported by `build`,
    /// without the URL (it may hold a password). Credentials never appear in logs or
    /// `Debug` output.
    pub fn proxy(mut self, url: impl AsRef<str>) -> Self {
        self.transport.proxy = ProxyChoice::Explicit(url.as_ref().into());
        self
    }

    /// Connect directly, with no proxy (the default): undoes [`proxy`](Self::proxy) and
    /// [`proxy_from_env`](Self::proxy_from_env).
    pub fn no_proxy(mut self) -> Self {
        self.transport.proxy = ProxyChoice::Direct;
        self
    }

    /// Take the proxy from the environment, read when the connection is built:
    /// `https_proxy` / `HTTPS_PROXY` for `wss://`, `http_proxy` / `HTTP_PROXY` for
    /// `ws://`, else `all_proxy` / `ALL_PROXY`; no proxy for a host that `no_proxy` /
    /// `NO_PROXY` lists (comma-separated: `*`, host names matching themselves and their
    /// subdomains, IP addresses, CIDR blocks, each optionally with `:port`). A value
    /// without a scheme is an HTTP proxy.
    pub fn proxy_from_env(mut self) -> Self {
        self.transport.proxy = ProxyChoice::FromEnv;
        self
    }

    /// Set `TCP_NODELAY` on the socket (default: on). With it off, a small frame written
    /// while an earlier one is unacknowledged can wait for Nagle's algorithm, up to a
    /// delayed-ACK period (40 ms on Linux). Through a proxy it applies to the socket to
    /// the proxy.
    pub fn tcp_nodelay(mut self, nodelay: bool) -> Self {
        self.transport.nodelay = nodelay;
        self
    }

    /// Connect to this address instead of resolving the URL's host, which still names
    /// the server in the `Host` header (with the URL's port) and for TLS (SNI and the
    /// certificate check). Through a proxy, the proxy is asked for this address.
    pub fn connect_to(mut self, addr: SocketAddr) -> Self {
        self.transport.pin = Some(addr);
        self
    }

    /// Validate everything and build the actor, without starting it.
    pub fn build(mut self) -> Result<ConnectionActor, BuildError> {
        let targets = self.targets()?;
        if let Some(name) = self.invalid_header {
            return Err(BuildError::InvalidHeader { name });
        }
        let config = std::mem::replace(&mut self.config, Ok(ResiliencyConfig::default()))?;
        let mailbox_capacity = self
            .mailbox_capacity
            .unwrap_or(config.message_buffer_size());
        if mailbox_capacity == 0 {
            return Err(BuildError::ZeroMailboxCapacity);
        }
        let backoff = match self.seed {
            Some(seed) => Backoff::with_seed(&config, seed),
            None => Backoff::new(&config),
        };
        if self.name.as_deref() == Some("") {
            return Err(BuildError::EmptyName);
        }
        let target = targets[0].clone();
        let mut outbox = Outbox::from_config(&config);
        let journal = self.open_journal(&mut outbox)?;
        let id = ConnectionId::next();
        let span = tracing::info_span!(
            "tether.connection",
            id = %id,
            name = self.name.as_deref(),
            url = %target.redacted()
        );
        let machine = StateMachine::from_config(&config);
        let meter = match self.name.as_deref() {
            Some(name) => Meter::new(name, machine.state()),
            None => Meter::new(&id.to_string(), machine.state()),
        };
        let several = targets.len() > 1;
        let mut dialers = Vec::with_capacity(targets.len());
        for (index, target) in targets.into_iter().enumerate() {
            let dialer = Dialer::new(
                target,
                (self.headers.clone(), self.customize.clone()),
                &config,
                self.tls.as_ref().cloned(),
                &self.transport,
            )
            .map_err(|error| BuildError::at_endpoint(several, index, error))?;
            dialers.push(dialer);
        }
        let dialer = Endpoints::new(dialers, self.credentials).ok_or(BuildError::NoEndpoint)?;
        Ok(ConnectionActor {
            id,
            name: self.name.clone(),
            machine,
            outbox,
            journal,
            inbox: Inbox::new(id, config.read_ahead_bytes()),
            orphans: Default::default(),
            backoff,
            attempts: Attempts::default(),
            dialer,
            policy: self.policy,
            subscribers: self.subscribers,
            counters: Counters::default(),
            link: None,
            generation: 0,
            mailbox_capacity,
            closing: None,
            close_serial: 0,
            setup: self.setup,
            ready_waiters: Vec::new(),
            span,
            config,
            meter,
        })
    }

    /// Every URL, validated; with several, an error names the endpoint's index.
    fn targets(&self) -> Result<Vec<Target>, BuildError> {
        if self.urls.is_empty() {
            return Err(BuildError::NoEndpoint);
        }
        let several = self.urls.len() > 1;
        self.urls
            .iter()
            .enumerate()
            .map(|(index, url)| {
                Target::parse(url).map_err(|error| BuildError::at_endpoint(several, index, error))
            })
            .collect()
    }

    /// The durable store, with what it holds restored to the front of `outbox`.
    #[cfg(feature = "durable")]
    fn open_journal(&self, outbox: &mut Outbox<Outbound>) -> Result<Journal, BuildError> {
        let Some(dir) = self.durable.as_ref() else {
            return Ok(Journal::default());
        };
        let name = self.name.as_deref().ok_or(BuildError::DurableWithoutName)?;
        let store = crate::durable::DurableStore::open(dir, name)?;
        let (journal, restored) = Journal::open(store)?;
        outbox.restore(
            restored
                .into_iter()
                .map(|record| {
                    let mut item = Outbound::buffered(record.payload);
                    item.set_seq(record.seq);
                    item
                })
                .collect(),
        );
        Ok(journal)
    }

    #[cfg(not(feature = "durable"))]
    fn open_journal(&self, _outbox: &mut Outbox<Outbound>) -> Result<Journal, BuildError> {
        Ok(Journal::default())
    }

    /// Validate, build and start the actor under an actix [`Supervisor`](actix::Supervisor)
    /// on the current arbiter (call it from inside a running actix `System`). It
    /// connects at once. The [`Connection`] handle gives the actor's address with
    /// [`addr`](Connection::addr) or [`into_addr`](Connection::into_addr).
    pub fn start(self) -> Result<Connection, BuildError> {
        let actor = self.build()?;
        let (id, name) = (actor.id, actor.name.clone());
        let addr = Supervisor::start(move |_| actor);
        Ok(Connection::new(addr, id, name))
    }
}

impl fmt::Debug for ConnectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionBuilder")
            .field("config", &self.config)
            .field("seed", &self.seed)
            .field("endpoints", &self.urls.len())
            .field("credentials", &self.credentials.is_some())
            .field("policy", &self.policy)
            .field("headers", &self.headers.len())
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}
