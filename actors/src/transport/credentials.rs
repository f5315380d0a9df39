//! A proxy's username and password, kept out of logs.

use std::fmt;

use base64::Engine as _;

/// A username and password for a proxy. Neither is ever shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Credentials {
    username: Box<str>,
    password: Box<str>,
}

impl Credentials {
    pub(crate) fn new(username: impl Into<Box<str>>, password: impl Into<Box<str>>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    pub(crate) fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn password(&self) -> &str {
        &self.password
    }

    /// The value of a `Proxy-Authorization` header for HTTP Basic authentication.
    pub(crate) fn basic_authorization(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_authorization_is_rfc_7617() {
        // The example of RFC 7617, section 2.
        let credentials = Credentials::new("Aladdin", "open sesame");
        assert_eq!(
            credentials.basic_authorization(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn debug_shows_neither_part() {
        let shown = format!("{:?}", Credentials::new("alice", "hunter2"));
        assert!(
            !shown.contains("alice") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
