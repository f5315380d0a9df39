//! The bots' credentials provider: before every connect, a fresh connect token from
//! the `/token` endpoint of the hub port the attempt goes to, fetched with the hub's
//! secret.

use std::time::Duration;

use tether_actix::{Attempt, Credentials, CredentialsError};

/// How long fetching a token may take (tether's `credentials_timeout` bounds it too).
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

/// Fetches connect tokens with `secret`. (No `Debug`: `awc::Client` has none.)
#[derive(Clone)]
pub(crate) struct TokenSource {
    client: awc::Client,
    secret: String,
}

impl TokenSource {
    pub(crate) fn new(secret: String) -> Self {
        Self {
            client: awc::Client::builder().timeout(FETCH_TIMEOUT).finish(),
            secret,
        }
    }

    /// The provider for `ConnectionBuilder::credentials`.
    pub(crate) fn provider(
        self,
    ) -> impl Fn(
        &Attempt,
    ) -> futures_util::future::LocalBoxFuture<
        'static,
        Result<Credentials, CredentialsError>,
    > {
        move |attempt: &Attempt| {
            let source = self.clone();
            let url = token_url(&attempt.endpoint.url);
            Box::pin(async move { source.fetch(url?).await })
        }
    }

    /// A fresh connect token from `url` (`http://HOST:PORT/token`).
    pub(crate) async fn fetch(&self, url: String) -> Result<Credentials, CredentialsError> {
        let mut response = self
            .client
            .get(&url)
            .bearer_auth(&self.secret)
            .send()
            .await
            // The hub port is down: worth another try, perhaps on the other port.
            .map_err(|error| CredentialsError::new(format!("token endpoint: {error}")))?;
        let status = response.status();
        if status.as_u16() == 401 {
            // The secret is wrong: no retry can fix that, on this port.
            return Err(CredentialsError::final_("the hub refused the secret (401)"));
        }
        if !status.is_success() {
            return Err(CredentialsError::new(format!(
                "token endpoint answered {status}"
            )));
        }
        let body = response
            .body()
            .await
            .map_err(|error| CredentialsError::new(format!("token endpoint: {error}")))?;
        let token = std::str::from_utf8(&body)
            .map_err(|_| CredentialsError::new("token endpoint sent no text"))?;
        Ok(Credentials::new().bearer_auth(token.trim()))
    }
}

/// `http://HOST:PORT/token` for an endpoint `ws://HOST:PORT/bots/NAME`.
pub(crate) fn token_url(endpoint: &str) -> Result<String, CredentialsError> {
    let rest = endpoint
        .strip_prefix("ws://")
        .ok_or_else(|| CredentialsError::final_("the endpoint is not ws://"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    Ok(format!("http://{authority}/token"))
}

#[cfg(test)]
mod tests {
    use super::token_url;

    #[test]
    fn the_token_url_is_the_endpoint_ports_token_route() {
        assert_eq!(
            token_url("ws://127.0.0.1:9001/bots/op-1").ok().as_deref(),
            Some("http://127.0.0.1:9001/token")
        );
        assert!(token_url("wss://example.org/bots/op-1").is_err());
    }
}
