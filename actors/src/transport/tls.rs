//! The rustls configuration handed to awc for `wss://`.

use std::sync::Arc;

use rustls::ClientConfig;

use crate::BuildError;

/// The only ALPN protocol a WebSocket upgrade can use: HTTP/2 has no `Upgrade`.
const HTTP_11: &[u8] = b"http/1.1";

/// The configuration for a WebSocket client: a copy of the caller's with ALPN set to
/// `http/1.1` only (a server that picks `h2` cannot upgrade), or the default one.
///
/// awc would build its default with rustls' process-wide provider, which panics when
/// more than one provider is linked into the program and none is installed; the default
/// here names its provider (ring) instead.
pub(crate) fn for_websocket(
    config: Option<&Arc<ClientConfig>>,
) -> Result<Arc<ClientConfig>, BuildError> {
    let mut config = match config {
        Some(config) => ClientConfig::clone(config),
        None => default_config()?,
    };
    config.alpn_protocols = vec![HTTP_11.to_vec()];
    Ok(Arc::new(config))
}

fn default_config() -> Result<ClientConfig, BuildError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| BuildError::TlsSetup {
            message: error.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_is_forced_on_a_copy() {
        let mut theirs = default_config().unwrap();
        theirs.alpn_protocols = vec![b"h2".to_vec(), HTTP_11.to_vec()];
        let theirs = Arc::new(theirs);
        let ours = for_websocket(Some(&theirs)).unwrap();
        assert_eq!(ours.alpn_protocols, [HTTP_11.to_vec()]);
        assert_eq!(
            theirs.alpn_protocols.len(),
            2,
            "the caller's config is untouched"
        );
        assert!(!Arc::ptr_eq(&ours, &theirs));
    }

    #[test]
    fn the_default_needs_no_process_wide_provider() {
        let config = for_websocket(None).unwrap();
        assert_eq!(config.alpn_protocols, [HTTP_11.to_vec()]);
    }
}
