//! TLS to PostgreSQL with a certificate that verifies, on the test host's binary and on real Spin.
//!
//! A throwaway PostgreSQL instance (its own port, `hostssl` entries only, so a plain connection is
//! refused) presents a server certificate for `127.0.0.1` issued by a throwaway CA. Spin 4.0.2's
//! PostgreSQL client (tokio-postgres over native-tls, i.e. OpenSSL on Linux) verifies the chain
//! against OpenSSL's default trust store and the address against the certificate for both
//! `sslmode=prefer` and `require`; Spin 3.4–4.0.2 have no runtime-config setting for a PostgreSQL
//! CA, and the guest-side `connection-builder.set-ca-root` exists only from `spin:postgres@4.1.0`
//! (Spin 4.0), so the CA is trusted through OpenSSL's `SSL_CERT_FILE` in the host's environment —
//! what `docs/operations.md` ("TLS to PostgreSQL") tells a deployment to do. This proves it: the
//! CA in `SSL_CERT_FILE` connects over TLS, a trust store without it and an address the
//! certificate does not name are refused with OpenSSL's reason, and `sslmode=disable` is refused
//! by the server.
//!
//! Needs PostgreSQL's server binaries (`pg_config --bindir`, else `/usr/lib/postgresql/15/bin`)
//! and `openssl`; as root the instance runs as the `postgres` user. Without them the test is
//! recorded as skipped, and fails under `CI`.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed request fails the test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use shopnow_testkit::{Backend, Host, SpawnOptions, TestApp, host_available, record_skip};

const FIXTURE: &str = "crates/shopnow-testhost/tests/fixtures/pg-tls.toml";

/// What the probe runs: one row saying whether this session is encrypted.
const SSL_IN_USE: &str = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn pg_bindir() -> Option<PathBuf> {
    let from_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    [
        from_config,
        Some(PathBuf::from("/usr/lib/postgresql/15/bin")),
    ]
    .into_iter()
    .flatten()
    .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

/// A PostgreSQL server command, as the `postgres` user when this test runs as root (the server
/// refuses to run as root).
fn pg_command(bindir: &Path, program: &str, as_postgres: bool) -> Command {
    let program = bindir.join(program);
    if as_postgres {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// A throwaway CA, and a PostgreSQL instance serving a certificate it issued; stopped on drop.
struct TlsPostgres {
    dir: tempfile::TempDir,
    bindir: PathBuf,
    as_postgres: bool,
    port: u16,
}

impl TlsPostgres {
    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self, host: &str, sslmode: &str) -> String {
        format!(
            "postgres://postgres@{host}:{}/postgres?sslmode={sslmode}",
            self.port
        )
    }

    fn start() -> Result<Self, String> {
        let bindir = pg_bindir().ok_or("no PostgreSQL server binaries (initdb, pg_ctl)")?;
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("shopnow-pg-tls-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let d = dir.path();
        let ssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(d));
        // A fresh P-256 key, unencrypted, for each certificate request.
        let new_key: &[&str] = &[
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        ssl(&[
            &["req", "-x509"][..],
            new_key,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
            &["-subj", "/CN=ShopNow throwaway test CA"],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ]
        .concat())?;
        ssl(&[
            &["req"][..],
            new_key,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat())?;
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\n\
             keyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n",
        )
        .map_err(|e| e.to_string())?;
        ssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ])?;
        let data = d.join("data");
        std::fs::create_dir(&data).map_err(|e| e.to_string())?;
        if as_postgres {
            run(Command::new("chmod").arg("755").arg(d))?;
            run(Command::new("chown").arg("postgres:postgres").arg(&data))?;
        }
        run(pg_command(&bindir, "initdb", as_postgres)
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-D"])
            .arg(&data))?;
        // The key must belong to the server's user and be readable by it alone.
        for file in ["server.crt", "server.key"] {
            std::fs::copy(d.join(file), data.join(file)).map_err(|e| e.to_string())?;
        }
        run(Command::new("chmod")
            .arg("600")
            .arg(data.join("server.key")))?;
        if as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(data.join("server.crt"))
                .arg(data.join("server.key")))?;
        }
        let port = {
            let l = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
            l.local_addr().map_err(|e| e.to_string())?.port()
        };
        let conf = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1,127.0.0.2'\n\
             unix_socket_directories = '{}'\nssl = on\nssl_cert_file = 'server.crt'\n\
             ssl_key_file = 'server.key'\nfsync = off\nmax_connections = 100\n",
            data.display()
        );
        append(&data.join("postgresql.conf"), &conf)?;
        // TLS only: a plain connection finds no matching entry.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.0/8 trust\n",
        )
        .map_err(|e| e.to_string())?;
        let pg = TlsPostgres {
            dir,
            bindir,
            as_postgres,
            port,
        };
        run(pg_command(&pg.bindir, "pg_ctl", as_postgres)
            .args(["-w", "-t", "60", "-l"])
            .arg(pg.data().join("server.log"))
            .arg("-D")
            .arg(pg.data())
            .arg("start"))
        .map_err(|e| {
            let log = std::fs::read_to_string(pg.data().join("server.log")).unwrap_or_default();
            format!("{e}\n{log}")
        })?;
        Ok(pg)
    }
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let _ = pg_command(&self.bindir, "pg_ctl", self.as_postgres)
            .args(["-m", "immediate", "-t", "30", "-D"])
            .arg(self.data())
            .arg("stop")
            .output();
    }
}

/// The probe on `host` (the test host as its own process, or Spin), reaching `url` with
/// `SSL_CERT_FILE` naming `trust`.
async fn probe(host: Host, url: &str, trust: &Path) -> TestApp {
    let opts = SpawnOptions::default()
        .manifest(FIXTURE)
        .variable("pg_database_url", url)
        .process_env("SSL_CERT_FILE", &trust.to_string_lossy())
        .test_host_binary(env!("CARGO_BIN_EXE_shopnow-testhost"));
    TestApp::spawn_on(host, Backend::Embedded, opts).await
}

async fn ask(app: &TestApp) -> (u16, String) {
    let resp = app
        .post("/probe/pg")
        .timeout(Duration::from_secs(30))
        .body(SSL_IN_USE)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// A trust store that does not hold the throwaway CA: the system's bundle where there is one.
fn system_trust(pg: &TlsPostgres) -> PathBuf {
    let bundle = PathBuf::from("/etc/ssl/certs/ca-certificates.crt");
    if bundle.is_file() {
        return bundle;
    }
    let empty = pg.dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    empty
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_the_trusted_ca_connects_over_tls_and_nothing_else_does() {
    let pg = match TlsPostgres::start() {
        Ok(pg) => pg,
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI needs this test to run: {e}"),
        Err(e) => return record_skip(&e),
    };
    for host in [Host::TestHost, Host::Spin] {
        if !host_available(host) {
            continue;
        }
        for mode in ["require", "prefer"] {
            let app = probe(host, &pg.url("127.0.0.1", mode), &pg.ca()).await;
            let (status, body) = ask(&app).await;
            assert_eq!(status, 200, "{host:?} sslmode={mode}: {body}");
            assert!(
                body.contains("Boolean(true)"),
                "{host:?}: not encrypted: {body}"
            );
        }

        let untrusted = probe(host, &pg.url("127.0.0.1", "require"), &system_trust(&pg)).await;
        let (status, body) = ask(&untrusted).await;
        assert_eq!(
            status, 502,
            "{host:?}: an untrusted CA must be refused: {body}"
        );
        assert!(
            body.contains("certificate verify failed"),
            "{host:?}: {body}"
        );

        // 127.0.0.2 reaches the same server, but the certificate names 127.0.0.1 only.
        let misnamed = probe(host, &pg.url("127.0.0.2", "require"), &pg.ca()).await;
        let (status, body) = ask(&misnamed).await;
        assert_eq!(
            status, 502,
            "{host:?}: a misnamed server must be refused: {body}"
        );
        assert!(body.contains("IP address mismatch"), "{host:?}: {body}");

        let plain = probe(host, &pg.url("127.0.0.1", "disable"), &pg.ca()).await;
        let (status, body) = ask(&plain).await;
        assert_eq!(status, 502, "{host:?}: the server takes TLS only: {body}");
        assert!(body.contains("no encryption"), "{host:?}: {body}");
    }
}
