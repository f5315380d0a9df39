use std::fmt;

use awc::http::header::{HeaderName, HeaderValue, AUTHORIZATION};

/// What one attempt authenticates with: headers and URL query pairs, added to the
/// handshake request of that attempt only.
///
/// Header values and query values are treated as secrets: never logged, never shown by
/// `Debug` (only names and keys are), and header values are marked sensitive. An
/// invalid header name or value fails the attempt with
/// [`DisconnectReason::InvalidRequest`](crate::DisconnectReason::InvalidRequest),
/// which names neither.
///
/// ```
/// use tether_actix::Credentials;
///
/// let credentials = Credentials::new()
///     .bearer_auth("s3cret")
///     .query("tenant", "blue");
/// assert!(!format!("{credentials:?}").contains("s3cret"));
/// ```
#[derive(Clone, Default)]
pub struct Credentials {
    headers: Vec<(HeaderName, HeaderValue)>,
    query: Vec<(String, String)>,
    invalid_header: bool,
}

impl Credentials {
    /// No headers, no query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Send this header with the attempt (it replaces a builder header of the same name).
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        match (
            HeaderName::try_from(name.as_ref()),
            HeaderValue::try_from(value.as_ref()),
        ) {
            (Ok(name), Ok(mut value)) => {
                value.set_sensitive(true);
                self.headers.push((name, value));
            }
            _ => self.invalid_header = true,
        }
        self
    }

    /// Send `Authorization: Bearer <token>` with the attempt.
    pub fn bearer_auth(self, token: impl fmt::Display) -> Self {
        self.header(AUTHORIZATION.as_str(), format!("Bearer {token}"))
    }

    /// Append `key=value` (percent-encoded) to the URL's query for the attempt.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    pub(crate) fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    pub(crate) fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    pub(crate) fn has_invalid_header(&self) -> bool {
        self.invalid_header
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("headers", &header_names(&self.headers))
            .field(
                "query",
                &self.query.iter().map(|(key, _)| key).collect::<Vec<_>>(),
            )
            .field("invalid_header", &self.invalid_header)
            .finish()
    }
}

/// The names of `headers`, for `Debug` output that must not show their values.
pub(crate) fn header_names(headers: &[(HeaderName, HeaderValue)]) -> Vec<&HeaderName> {
    headers.iter().map(|(name, _)| name).collect()
}
