//! Real proxy servers from Debian packages, started by the tests on a free port of
//! `127.0.0.1` with a generated configuration file:
//! - `tinyproxy` (package `tinyproxy`): HTTP `CONNECT`, optionally with Basic auth;
//! - `microsocks` (package `microsocks`): SOCKS5, optionally with a username/password;
//! - `danted` (package `dante-server`): SOCKS5 without authentication.
//!
//! A missing binary fails the test with the package to install. Each proxy runs in its
//! own process group, killed as a whole (dante forks workers that serve open tunnels).

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use std::os::unix::process::CommandExt as _;

/// How long a proxy may take to accept connections after it is started.
const READY_DEADLINE: Duration = Duration::from_secs(10);

/// Which proxy program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProxyKind {
    /// `tinyproxy`: HTTP CONNECT.
    Tinyproxy,
    /// `microsocks`: SOCKS5.
    Microsocks,
    /// `danted`: SOCKS5.
    Dante,
}

impl ProxyKind {
    /// The program: found on `PATH`, or in `/usr/sbin` (where `danted` lives, which a
    /// non-root `PATH` may lack).
    fn program(self) -> PathBuf {
        let sbin = Path::new("/usr/sbin").join(self.binary());
        let on_path = std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| dir.join(self.binary()).is_file())
        });
        if !on_path && sbin.is_file() {
            sbin
        } else {
            PathBuf::from(self.binary())
        }
    }

    fn binary(self) -> &'static str {
        match self {
            Self::Tinyproxy => "tinyproxy",
            Self::Microsocks => "microsocks",
            Self::Dante => "danted",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Self::Tinyproxy => "tinyproxy",
            Self::Microsocks => "microsocks",
            Self::Dante => "dante-server",
        }
    }

    /// The scheme of its URL for tether.
    fn scheme(self) -> &'static str {
        match self {
            Self::Tinyproxy => "http",
            Self::Microsocks | Self::Dante => "socks5",
        }
    }
}

/// A running (or killed, restartable) proxy process. Dropping it kills it.
#[derive(Debug)]
pub(crate) struct ProxyServer {
    kind: ProxyKind,
    port: u16,
    dir: PathBuf,
    credentials: Option<(String, String)>,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

fn scratch_dir(kind: ProxyKind) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tether-{}-{}-{}",
        kind.binary(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

impl ProxyServer {
    /// Starts `kind`, with these credentials required when `Some`, and waits until it
    /// accepts connections. Dante runs without authentication (its username method
    /// checks system accounts); passing credentials for it is a test bug.
    pub(crate) async fn start(kind: ProxyKind, credentials: Option<(&str, &str)>) -> Self {
        assert!(
            !(kind == ProxyKind::Dante && credentials.is_some()),
            "dante is started without authentication"
        );
        let mut server = Self {
            kind,
            port: free_port(),
            dir: scratch_dir(kind),
            credentials: credentials.map(|(user, pass)| (user.to_owned(), pass.to_owned())),
            child: None,
        };
        server.resume().await;
        server
    }

    /// The proxy's port, the same across restarts.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The proxy URL for tether, with the configured credentials.
    pub(crate) fn url(&self) -> String {
        match &self.credentials {
            Some((user, pass)) => self.url_with(user, pass),
            None => format!("{}://127.0.0.1:{}", self.kind.scheme(), self.port),
        }
    }

    /// The proxy URL with other credentials (for example wrong ones).
    pub(crate) fn url_with(&self, user: &str, pass: &str) -> String {
        format!(
            "{}://{user}:{pass}@127.0.0.1:{}",
            self.kind.scheme(),
            self.port
        )
    }

    /// The proxy URL with another scheme (`socks5h` for DNS at the proxy).
    pub(crate) fn url_scheme(&self, scheme: &str) -> String {
        match &self.credentials {
            Some((user, pass)) => format!("{scheme}://{user}:{pass}@127.0.0.1:{}", self.port),
            None => format!("{scheme}://127.0.0.1:{}", self.port),
        }
    }

    /// What the proxy logged so far (its log file and its output).
    pub(crate) fn log(&self) -> String {
        ["proxy.log", "output.log"]
            .iter()
            .filter_map(|name| fs::read_to_string(self.dir.join(name)).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Kills the proxy and every process it forked: open tunnels are cut.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The group id is the child's pid (`process_group(0)`).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the proxy again on its port (after [`kill`](Self::kill)) and waits until it
    /// accepts connections.
    pub(crate) async fn resume(&mut self) {
        assert!(self.child.is_none(), "the proxy is running");
        let mut command = self.command();
        let output = fs::File::create(self.dir.join("output.log")).expect("output log");
        let errors = output.try_clone().expect("output log");
        command
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .process_group(0);
        let child = match command.spawn() {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "`{}` is not installed: install the Debian package `{}` \
                 (apt-get install {}); .ci/run does",
                self.kind.binary(),
                self.kind.package(),
                self.kind.package()
            ),
            Err(error) => panic!("starting {}: {error}", self.kind.binary()),
        };
        self.child = Some(child);
        self.wait_ready().await;
    }

    async fn wait_ready(&mut self) {
        let deadline = tokio::time::Instant::now() + READY_DEADLINE;
        loop {
            if tokio::net::TcpStream::connect(self.addr()).await.is_ok() {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "{} exited with {status} before accepting:\n{}",
                    self.kind.binary(),
                    self.log()
                );
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "{} did not accept connections within {READY_DEADLINE:?}:\n{}",
                    self.kind.binary(),
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn command(&self) -> Command {
        let port = self.port;
        match self.kind {
            ProxyKind::Tinyproxy => {
                let mut config = format!(
                    "Port {port}\nListen 127.0.0.1\nTimeout 600\nMaxClients 200\n\
                     Allow 127.0.0.1\nLogLevel Info\nLogFile \"{}\"\nDisableViaHeader Yes\n",
                    self.dir.join("proxy.log").display()
                );
                if let Some((user, pass)) = &self.credentials {
                    config.push_str(&format!("BasicAuth {user} {pass}\n"));
                }
                let path = write(&self.dir, "tinyproxy.conf", &config);
                let mut command = Command::new(self.kind.program());
                command.arg("-d").arg("-c").arg(path);
                command
            }
            ProxyKind::Microsocks => {
                let mut command = Command::new(self.kind.program());
                command.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
                if let Some((user, pass)) = &self.credentials {
                    command.args(["-u", user, "-P", pass]);
                }
                command
            }
            ProxyKind::Dante => {
                let config = format!(
                    "logoutput: {}\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\n\
                     socksmethod: none\nclientmethod: none\n\
                     client pass {{\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n}}\n\
                     socks pass {{\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n  protocol: tcp\n  \
                     command: connect\n  log: connect\n}}\n",
                    self.dir.join("proxy.log").display()
                );
                let path = write(&self.dir, "danted.conf", &config);
                let mut command = Command::new(self.kind.program());
                command
                    .arg("-f")
                    .arg(path)
                    .arg("-p")
                    .arg(self.dir.join("danted.pid"))
                    .args(["-N", "1"]);
                command
            }
        }
    }
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, contents).expect("proxy configuration");
    path
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
