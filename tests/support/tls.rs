//! A `wss://` echo server on 127.0.0.1 with a certificate made at test time, and a
//! client configuration trusting it.

use std::sync::{Arc, Once};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws;
use rcgen::CertifiedKey;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Echoes text and answers pings.
struct TlsEcho;

impl actix::Actor for TlsEcho {
    type Context = ws::WebsocketContext<Self>;
}

impl actix::StreamHandler<Result<ws::Message, ws::ProtocolError>> for TlsEcho {
    fn handle(&mut self, frame: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        match frame {
            Ok(ws::Message::Text(text)) => ctx.text(text),
            Ok(ws::Message::Ping(payload)) => ctx.pong(&payload),
            _ => {}
        }
    }
}

async fn upgrade(request: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    ws::start(TlsEcho, &request, body)
}

/// Installs ring as the process-wide provider, for the test's own rustls builders.
pub(crate) fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A TLS echo server at `/ws` and the certificate it presents.
pub(crate) struct TlsEchoServer {
    port: u16,
    certificate: CertifiedKey,
}

impl std::fmt::Debug for TlsEchoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsEchoServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl TlsEchoServer {
    /// Starts one on a free port of 127.0.0.1, presenting a self-signed certificate for
    /// `names`; the server offers ALPN `h2` and `http/1.1`, as actix-web does.
    pub(crate) fn start(names: &[&str]) -> Self {
        install_crypto();
        let names = names
            .iter()
            .map(|name| (*name).to_owned())
            .collect::<Vec<_>>();
        let certificate = rcgen::generate_simple_self_signed(names).expect("certificate");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certificate.key_pair.serialize_der(),
        ));
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![certificate.cert.der().clone()], key)
            .expect("server certificate");
        let server = HttpServer::new(|| App::new().route("/ws", web::get().to(upgrade)))
            .workers(1)
            .disable_signals()
            .bind_rustls_0_23(("127.0.0.1", 0), config)
            .expect("bind on loopback");
        let port = server.addrs()[0].port();
        actix::spawn(server.run());
        Self { port, certificate }
    }

    /// The port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// A client configuration trusting exactly this server's certificate, with `alpn`.
    pub(crate) fn client_config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.certificate.cert.der().clone())
            .expect("valid root");
        let mut config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
        Arc::new(config)
    }
}
