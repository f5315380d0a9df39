use std::fmt;

/// Why a [`CredentialsProvider`](crate::CredentialsProvider) could not give
/// credentials. The attempt fails with
/// [`DisconnectReason::CredentialsFailed`](crate::DisconnectReason::CredentialsFailed).
///
/// The message is published in events and logs: never put a secret in it.
///
/// ```
/// use tether_actix::CredentialsError;
///
/// // The identity service is down: try again later.
/// let retried = CredentialsError::new("identity service answered 503");
/// assert!(!retried.is_final());
/// // The account is locked: no point in retrying this endpoint.
/// let given_up = CredentialsError::final_("account locked");
/// assert!(given_up.is_final());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsError {
    message: String,
    final_: bool,
}

impl CredentialsError {
    /// A failure worth retrying: the retry policy decides (the default policy retries).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            final_: false,
        }
    }

    /// A final failure: the endpoint of this attempt is not tried again, whatever the
    /// retry policy says; once every endpoint is given up, the connection is `Failed`.
    pub fn final_(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            final_: true,
        }
    }

    /// Whether the provider called this failure final.
    pub fn is_final(&self) -> bool {
        self.final_
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CredentialsError {}
