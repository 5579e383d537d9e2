//! The terraform driver end to end with the real Terraform binary (1.0.3 from the project's
//! virtualenv): a module of variables and outputs, since providers cannot be downloaded here.

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use ordo_iac::DriverKind;
use ordo_provision::model::{status, ApplyDecision, ProvisionRequest, SENSITIVE_MASK};
use support::{poll, Env};
use tokio::io::{AsyncBufReadExt as _, BufReader};

const MODULE: &str = "terraform/outputs_module";

fn request(prefix: &str) -> ProvisionRequest {
    let mut request = ProvisionRequest::for_directory(MODULE);
    request.driver = DriverKind::Terraform;
    request.vars.insert("prefix".into(), prefix.into());
    request.retry_initial_interval_ms = 200;
    request
}

fn state_outputs(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("terraform.tfstate")).expect("terraform wrote its state");
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["outputs"].clone()
}

/// Plan, policy, apply and outputs through the real CLI; then destroy empties the state.
#[tokio::test]
async fn terraform_module_applies_and_destroys_for_real() {
    let env = Env::start().await;
    let id = env.client.start(&request("ci"), false).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    assert_eq!(result.outputs["namespace_name"].value, "ci-ns-local");
    assert!(result.outputs["api_token"].sensitive);
    assert_eq!(result.outputs["api_token"].value, SENSITIVE_MASK);
    let view = env.client.view(&id).await.unwrap();
    assert!(view.state.plan.contains("namespace_name"), "the human plan is Terraform's: {}", view.state.plan);

    let dir = env.root.path().join(MODULE);
    assert_eq!(state_outputs(&dir)["namespace_name"]["value"], "ci-ns-local");

    let destroy = env.client.start(&request("ci"), true).await.unwrap();
    let done = env.wait_for(&destroy, "completion", |v| v.execution_status != "Running").await;
    assert_eq!(done.state.status, status::DESTROYED, "{done:#?}");
    assert!(state_outputs(&dir).as_object().is_none_or(|o| o.is_empty()));
}

/// A worker killed with SIGKILL in the middle of `terraform apply` leaves its terraform running
/// (an orphan: its own process group, its output going to files that outlive the worker). The
/// orphan waits for the state lock, which the test holds, so it is still running when a new
/// worker's attempt starts; that attempt recognises it from the workspace marker (pid and start
/// time), stops it with SIGINT, waits for it to exit and only then applies, once.
#[tokio::test]
async fn worker_killed_mid_apply_completes_on_a_new_worker() {
    let mut env = Env::without_worker().await;
    let tool = WrappedTerraform::install(env.data.path());
    let review = env.root.path().join("review");
    std::fs::create_dir(&review).unwrap();
    std::fs::write(
        review.join("review.rego"),
        "package ordo.review\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := \"every apply is reviewed\"\n}\n",
    )
    .unwrap();
    let bin = tool.bin.to_str().unwrap().to_owned();
    let doomed = env.spawn_worker_with_env(&[("ORDO_TERRAFORM_BIN", &bin)], &[]);

    // A reviewed plan: the test takes the state lock before approving, so the apply's terraform
    // waits for it.
    let mut req = request("killed");
    req.policy = Some("review".into());
    let id = env.client.start(&req, false).await.unwrap();
    env.wait_status(&id, status::AWAITING_APPROVAL).await;
    let dir = env.root.path().join(MODULE).canonicalize().unwrap();
    let serial = state_serial(&dir);
    let lock = StateLock::take(&dir).await;
    let decision = ApplyDecision { is_approved: true, reason: Some("reviewed".into()), ..ApplyDecision::default() };
    env.decide(&id, decision, false).await.unwrap();

    let marker = dir.join(".ordo-run.json");
    let (pid, started) = poll("terraform apply to wait for the state lock", Duration::from_secs(60), async || {
        let recorded: Option<(u32, u64)> = std::fs::read(&marker)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|m| Some((m["pid"].as_u64()?.try_into().ok()?, m["pid_started"].as_u64()?)));
        match recorded {
            Some((pid, started)) if group_runs_terraform(pid) => Ok((pid, started)),
            other => Err((other, tool.log())),
        }
    })
    .await;
    assert_eq!(tool.log().starts(), vec![(pid, started)], "the marker names the apply's process and start time");
    env.kill_worker(doomed);

    // (a) The orphan outlived its worker: the same process, terraform still in its group.
    assert_eq!(start_time(pid), Some(started), "the apply's process is gone with its worker");
    assert!(group_runs_terraform(pid), "terraform is gone with its worker: {:?}", tool.log());

    // (b) The next attempt stops it: SIGINT, terraform shuts down (exit 1: "Error acquiring the
    // state lock"; a tool that died of a broken pipe exits 255), nothing applied meanwhile.
    env.spawn_worker_with_env(&[("ORDO_TERRAFORM_BIN", &bin)], &[]);
    poll("the next attempt to stop the orphan", Duration::from_secs(120), async || {
        let log = tool.log();
        if log.exit(pid).is_some() && !group_alive(pid) {
            Ok(())
        } else {
            Err(log)
        }
    })
    .await;
    let log = tool.log();
    assert!(log.interrupted(pid), "the orphan got SIGINT: {log:?}");
    assert_eq!(log.exit(pid), Some(1), "terraform shut down on SIGINT: {log:?}");
    assert_eq!(state_serial(&dir), serial, "the orphan applied nothing");
    assert_eq!(log.started_before(pid, "exit"), 1, "the next apply waited for the orphan to exit: {log:?}");

    // (c) Released, the run applies once and completes.
    lock.release().await;
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    assert_eq!(result.outputs["namespace_name"].value, "killed-ns-local");
    let log = tool.log();
    let starts = log.starts();
    assert_eq!(starts.len(), 2, "one apply on each worker: {log:?}");
    assert_eq!(log.exit(starts[1].0), Some(0), "{log:?}");
    assert!(!log.interrupted(starts[1].0), "{log:?}");
    assert_eq!(state_serial(&dir), serial + 1, "the state was written by one apply");
    assert_eq!(state_outputs(&dir)["namespace_name"]["value"], "killed-ns-local");
    assert!(!dir.join(".terraform.tfstate.lock.info").exists(), "no state lock info is left behind");
    assert!(!marker.exists(), "the run's marker is cleaned up");
    assert!(support::apply_attempts(&env, &id).await >= 2, "the apply was retried on the new worker");
}

/// An apply whose outputs cannot be read right after it (`terraform output` fails once) is not
/// applied again: the apply's result carries no outputs, the run reads them in a
/// `terraform_output` step of their own and ends APPLIED with them.
#[tokio::test]
async fn outputs_the_apply_could_not_read_are_read_by_a_step_of_their_own() {
    let mut env = Env::without_worker().await;
    let dir = env.data.path().join("flaky-output");
    std::fs::create_dir_all(&dir).unwrap();
    let failed_once = dir.join("output-failed-once");
    let bin = dir.join("terraform");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = output ] && [ ! -e '{failed}' ]; then\n  : > '{failed}'\n  echo 'simulated: the state could not be read' >&2\n  exit 1\nfi\nexec '{terraform}' \"$@\"\n",
        failed = failed_once.display(),
        terraform = support::terraform_binary().display()
    );
    std::fs::write(&bin, script).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.spawn_worker_with_env(&[("ORDO_TERRAFORM_BIN", bin.to_str().unwrap())], &[]);

    let id = env.client.start(&request("flaky"), false).await.unwrap();
    let result = env.client.result(&id).await.unwrap();
    assert_eq!(result.status, status::APPLIED);
    assert_eq!(result.outputs["namespace_name"].value, "flaky-ns-local");
    assert!(failed_once.exists(), "the apply's own read of the outputs failed");
    let kinds = env.history_kinds(&id).await;
    let count = |name: &str| kinds.iter().filter(|k| *k == &format!("ActivityTaskScheduled {name}")).count();
    assert_eq!((count("terraform_apply"), count("terraform_output")), (1, 1), "{kinds:?}");
}

fn state_serial(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("terraform.tfstate")).expect("terraform wrote its state");
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["serial"].as_u64().expect("a state serial")
}

/// The real terraform behind a wrapper, as a worker runs it (`ORDO_TERRAFORM_BIN`): every `apply`
/// waits up to 10 minutes for the state lock, and is recorded in a log — its pid and start time,
/// whether it got SIGINT, how terraform exited. Dropped, it kills the applies still running.
struct WrappedTerraform {
    bin: PathBuf,
    log: PathBuf,
}

impl WrappedTerraform {
    fn install(dir: &Path) -> Self {
        let bin = dir.join("bin/terraform");
        let log = dir.join("applies.log");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        let script = format!(
            r#"#!/bin/sh
terraform='{terraform}'
log='{log}'
if [ "$1" != apply ]; then exec "$terraform" "$@"; fi
shift
echo "$$ start $(cut -d' ' -f22 /proc/$$/stat)" >> "$log"
trap 'echo "$$ sigint" >> "$log"' INT
"$terraform" apply -lock-timeout=600s "$@"
status=$?
echo "$$ exit $status" >> "$log"
exit $status
"#,
            terraform = support::terraform_binary().display(),
            log = log.display()
        );
        std::fs::write(&bin, script).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        Self { bin, log }
    }

    fn log(&self) -> ApplyLog {
        ApplyLog(std::fs::read_to_string(&self.log).unwrap_or_default())
    }
}

impl Drop for WrappedTerraform {
    fn drop(&mut self) {
        for (pid, started) in self.log().starts() {
            if start_time(pid) == Some(started) {
                let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
        }
    }
}

/// The wrapper's log: lines of `<pid> start <start time>`, `<pid> sigint`, `<pid> exit <status>`.
#[derive(Debug)]
struct ApplyLog(String);

impl ApplyLog {
    fn events(&self) -> impl Iterator<Item = (u32, &str, Option<u64>)> {
        self.0.lines().filter_map(|line| {
            let mut words = line.split(' ');
            let pid = words.next()?.parse().ok()?;
            Some((pid, words.next()?, words.next().and_then(|v| v.parse().ok())))
        })
    }

    /// The applies started, in order: pid and start time.
    fn starts(&self) -> Vec<(u32, u64)> {
        self.events().filter(|e| e.1 == "start").filter_map(|(pid, _, started)| Some((pid, started?))).collect()
    }

    /// How many applies had started when `pid` logged `event`.
    fn started_before(&self, pid: u32, event: &str) -> usize {
        self.events().take_while(|e| !(e.0 == pid && e.1 == event)).filter(|e| e.1 == "start").count()
    }

    fn interrupted(&self, pid: u32) -> bool {
        self.events().any(|e| e == (pid, "sigint", None))
    }

    fn exit(&self, pid: u32) -> Option<u64> {
        self.events().find(|e| e.0 == pid && e.1 == "exit").and_then(|e| e.2)
    }
}

/// The local backend's state lock, held as a running terraform holds it (an `fcntl` lock on the
/// state plus the lock info file), by a process that lets go when its stdin closes. The info
/// file stays behind, as a killed terraform leaves it: the next terraform overwrites it.
struct StateLock(tokio::process::Child);

impl StateLock {
    async fn take(dir: &Path) -> Self {
        let script = r#"
import fcntl, sys
f = open('terraform.tfstate', 'r+')
fcntl.lockf(f, fcntl.LOCK_EX)
open('.terraform.tfstate.lock.info', 'w').write('{"ID":"held-by-test","Operation":"OperationTypeApply","Info":"","Who":"test@holder","Version":"1.0.3","Created":"2026-01-01T00:00:00Z","Path":"terraform.tfstate"}')
print('locked', flush=True)
sys.stdin.read()
"#;
        let mut child = tokio::process::Command::new("python3")
            .args(["-c", script])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the lock holder");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).await.unwrap();
        assert_eq!(line.trim(), "locked");
        Self(child)
    }

    async fn release(mut self) {
        drop(self.0.stdin.take());
        assert!(self.0.wait().await.unwrap().success());
    }
}

/// When process `pid` started (`/proc/<pid>/stat` field 22), while it exists.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
}

/// The `argv[0]` file names of the live processes of process group `pgid`.
fn group_members(pgid: u32) -> Vec<String> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
        if fields.get(2) != Some(&pgid.to_string().as_str()) || matches!(fields.first(), Some(&"Z" | &"X")) {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        members.push(
            Path::new(&*String::from_utf8_lossy(argv0))
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        );
    }
    members
}

fn group_alive(pgid: u32) -> bool {
    !group_members(pgid).is_empty()
}

fn group_runs_terraform(pgid: u32) -> bool {
    group_members(pgid).iter().any(|m| m == "terraform")
}
