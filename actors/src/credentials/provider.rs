use std::future::Future;

use futures_util::future::LocalBoxFuture;

use super::{Attempt, Credentials, CredentialsError};

/// Gives the credentials of each connection attempt, asynchronously: it may fetch a
/// token over HTTP, read a file, ask a vault.
///
/// Called before every attempt, on the connection's own thread (hence a local future).
/// While it runs, the connection is `Connecting` and `Outgoing` messages keep being
/// buffered. Taking longer than
/// [`credentials_timeout`](crate::ResiliencyConfig::credentials_timeout), or an error,
/// fails the attempt like a refused handshake.
///
/// Closures implement it: `Fn(&Attempt) -> impl Future<Output = Result<Credentials,
/// CredentialsError>>`. Give the argument its type, so that the closure accepts any
/// borrow of it:
///
/// ```no_run
/// use tether_actix::{Attempt, ConnectionActor, Credentials, CredentialsError};
///
/// async fn fetch_token(endpoint: usize) -> Result<String, CredentialsError> {
///     // An HTTP request to the identity service, in a real application.
///     Ok(format!("token-for-{endpoint}"))
/// }
///
/// # #[actix::main] async fn main() -> Result<(), tether_actix::BuildError> {
/// let connection = ConnectionActor::builder("ws://127.0.0.1:8080/ws")
///     .credentials(|attempt: &Attempt| {
///         let endpoint = attempt.endpoint.index;
///         async move { Ok(Credentials::new().bearer_auth(fetch_token(endpoint).await?)) }
///     })
///     .start()?;
/// # let _ = connection; Ok(()) }
/// ```
pub trait CredentialsProvider: 'static {
    /// The credentials for `attempt`. The future must not borrow `attempt`: copy what it
    /// needs.
    fn credentials(
        &self,
        attempt: &Attempt,
    ) -> LocalBoxFuture<'static, Result<Credentials, CredentialsError>>;
}

impl<F, Fut> CredentialsProvider for F
where
    F: Fn(&Attempt) -> Fut + 'static,
    Fut: Future<Output = Result<Credentials, CredentialsError>> + 'static,
{
    fn credentials(
        &self,
        attempt: &Attempt,
    ) -> LocalBoxFuture<'static, Result<Credentials, CredentialsError>> {
        Box::pin(self(attempt))
    }
}
