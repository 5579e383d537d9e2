//! mTLS for real: the dev server speaks plain gRPC, so nginx (Debian's, installed by
//! `make setup`) terminates TLS in front of it, verifies client certificates against a CA the test
//! generates with the `openssl` CLI, and forwards with `grpc_pass`. An `ordo worker` and the
//! `ordo provision` CLI configured only through environment variables (seed 001's
//! `TEMPORAL_CERT_PATH` / `TEMPORAL_KEY_PATH`, the SDK's `TEMPORAL_TLS_SERVER_CA_CERT_PATH` and
//! `TEMPORAL_TLS_SERVER_NAME`) complete a run through it; clients without a certificate, or with
//! one from another CA, are refused with a clear error.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ordo_core::devserver::free_port;
use ordo_provision::model::status;
use support::Env;

/// The name the proxy's certificate is issued for (not the address we dial: this exercises
/// `TEMPORAL_TLS_SERVER_NAME`).
const SERVER_NAME: &str = "temporal.ordo.test";

/// A child process killed when the test ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx_binary() -> Option<PathBuf> {
    let candidates = [PathBuf::from("/usr/sbin/nginx"), PathBuf::from("/usr/local/sbin/nginx")];
    candidates.into_iter().find(|p| p.is_file()).or_else(|| {
        let found = Command::new("nginx").arg("-v").stderr(Stdio::null()).status().is_ok();
        found.then(|| PathBuf::from("nginx"))
    })
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl CLI runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, and a certificate it signs for `name` with the given extended key usage.
fn issue(dir: &Path, ca: &str, name: &str, cn: &str, extensions: &str) {
    openssl(
        dir,
        &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &format!("{name}.key")],
    );
    openssl(
        dir,
        &["req", "-new", "-key", &format!("{name}.key"), "-subj", &format!("/CN={cn}"), "-out", &format!("{name}.csr")],
    );
    std::fs::write(dir.join(format!("{name}.ext")), extensions).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &format!("{name}.key")],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-subj",
            &format!("/CN=Ordo test CA {name}"),
            "-days",
            "2",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// Writes the certificates: `ca` signs the proxy's and the worker's; `rogue-ca` signs an
/// impostor's client certificate.
fn certificates(dir: &Path) {
    make_ca(dir, "ca");
    make_ca(dir, "rogue-ca");
    let server = format!("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:{SERVER_NAME}\n");
    let client = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
    issue(dir, "ca", "server", SERVER_NAME, &server);
    issue(dir, "ca", "client", "ordo-worker", client);
    issue(dir, "rogue-ca", "rogue", "ordo-worker", client);
}

/// nginx as a TLS terminator with client-certificate verification, forwarding gRPC to `upstream`.
fn start_nginx(nginx: &Path, dir: &Path, port: u16, upstream: &str) -> Process {
    let d = dir.display();
    let conf = format!(
        r#"# One process, no workers: killing it at the end of the test leaves nothing behind.
master_process off;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {d}/server.pem;
        ssl_certificate_key {d}/server.key;
        ssl_client_certificate {d}/ca.pem;
        ssl_verify_client on;
        ssl_protocols TLSv1.2 TLSv1.3;
        client_max_body_size 0;
        location / {{
            grpc_pass grpc://{upstream};
            # Workers long-poll for up to ~70 s.
            grpc_read_timeout 300s;
            grpc_send_timeout 300s;
        }}
    }}
}}
"#
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = ordo_core::devserver::bound_command(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nginx starts");
    Process(child)
}

async fn wait_for_port(port: u16, dir: &Path) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nginx never listened on {port}: {}", std::fs::read_to_string(dir.join("error.log")).unwrap_or_default());
}

/// An `ordo` command pointed at the proxy with the given TLS material (paths in `dir`).
fn through_proxy(env: &Env, args: &[&str], port: u16, dir: &Path, client: Option<&str>) -> Command {
    let mut command = env.ordo(args);
    command
        .env("TEMPORAL_ADDRESS", format!("127.0.0.1:{port}"))
        .env("TEMPORAL_TLS_SERVER_CA_CERT_PATH", dir.join("ca.pem"))
        .env("TEMPORAL_TLS_SERVER_NAME", SERVER_NAME)
        .env_remove("TEMPORAL_CERT_PATH")
        .env_remove("TEMPORAL_KEY_PATH")
        .env_remove("TEMPORAL_TLS_CLIENT_CERT_PATH")
        .env_remove("TEMPORAL_TLS_CLIENT_KEY_PATH")
        .env_remove("TEMPORAL_CLOUD_API_KEY")
        .env_remove("TEMPORAL_API_KEY");
    if let Some(name) = client {
        command
            .env("TEMPORAL_CERT_PATH", dir.join(format!("{name}.pem")))
            .env("TEMPORAL_KEY_PATH", dir.join(format!("{name}.key")));
    }
    command
}

/// A run completes through the mTLS proxy with seed 001's certificate variables; the proxy saw
/// the traffic; a client without a certificate and one signed by another CA are refused.
#[tokio::test]
async fn a_run_completes_through_an_mtls_proxy_and_certificateless_clients_are_refused() {
    // Set-up installs nginx: missing, the test fails rather than passing untested.
    let nginx = nginx_binary().expect("nginx is missing: run `make setup` (it installs Debian's nginx-light)");
    let env = Env::without_worker().await;
    let tls = tempfile::tempdir().unwrap();
    let dir = tls.path();
    certificates(dir);
    let port = free_port().unwrap();
    let _proxy = start_nginx(&nginx, dir, port, &env.address);
    wait_for_port(port, dir).await;

    let _worker = Process(
        through_proxy(&env, &["worker"], port, dir, Some("client"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ordo worker starts"),
    );
    let request = env.scenario("happy_path");
    let input = dir.join("request.json");
    std::fs::write(&input, serde_json::to_vec(&request).unwrap()).unwrap();
    let out = through_proxy(
        &env,
        &["provision", "start", "--input", input.to_str().unwrap(), "--watch"],
        port,
        dir,
        Some("client"),
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "the run through the proxy failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().trim().to_owned();
    assert!(id.starts_with("provision-infra-"), "{id}");
    // Checked directly on the dev server: the run really happened, and really went through nginx.
    assert_eq!(env.client.result(&id).await.unwrap().status, status::APPLIED);
    let access = std::fs::read_to_string(dir.join("access.log")).unwrap();
    assert!(access.contains("PollWorkflowTaskQueue"), "the worker polled through the proxy");
    assert!(access.contains("StartWorkflowExecution"), "the CLI started the run through the proxy");

    // No client certificate: refused, and the error says what is missing.
    let out = through_proxy(&env, &["provision", "list"], port, dir, None).output().unwrap();
    assert!(!out.status.success(), "a client without a certificate must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("client certificate"), "the error names the missing client certificate: {stderr}");
    assert!(stderr.contains("TEMPORAL_CERT_PATH"), "the error says how to send one: {stderr}");
    eprintln!("without a certificate: {stderr}");

    // A certificate from another CA: refused too.
    let out = through_proxy(&env, &["provision", "list"], port, dir, Some("rogue")).output().unwrap();
    assert!(!out.status.success(), "a certificate from another CA must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refused the TLS client certificate"),
        "the error names the rejected client certificate: {stderr}"
    );
    eprintln!("with another CA's certificate: {stderr}");
}
