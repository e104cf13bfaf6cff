//! Scale-out, proven on one machine: two worker processes at R/2 against one reference
//! server (started on its own with `agentcert serve`, since the embedded one lives inside each
//! agentcert process), merged, against one process at R; the merge's refusals; and the
//! Kubernetes manifests in deploy/k8s, read as YAML and checked field by field.
//!
//! The tests that send load hold a lock, so that they never compete with each other for the
//! machine's two cores (cargo runs test binaries one at a time, so tests/load.rs's are apart
//! already). The 2% rate agreement is not loosened for a loaded machine: the workers' Goose
//! users are up well before the shared start.

use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Held by every test that sends load.
static LOAD: Mutex<()> = Mutex::new(());

const RATE: f64 = 100.0;
const DURATION: &str = "4s";

fn agentcert(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentcert"));
    c.args(args).env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    agentcert(args).output().expect("agentcert runs")
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("agentcert-workers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `agentcert serve` on a free loopback port, stopped (by its own pid) when dropped.
struct Server {
    child: Child,
    issuer: String,
}

impl Server {
    fn start() -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child =
            agentcert(&["serve", "--listen", &format!("127.0.0.1:{port}")]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        // "agentcert reference server: issuer http://127.0.0.1:PORT"
        let issuer = line.trim().rsplit_once("issuer ").map(|(_, i)| i.to_string()).unwrap_or_else(|| panic!("no issuer in {line:?}"));
        assert_eq!(issuer, format!("http://127.0.0.1:{port}"));
        Server { child, issuer }
    }

    /// fixtures/targets/reference.toml pointed at this server, its key paths made absolute.
    fn profile(&self, dir: &Path) -> PathBuf {
        let root = env!("CARGO_MANIFEST_DIR");
        let fixture = std::fs::read_to_string(format!("{root}/fixtures/targets/reference.toml")).unwrap();
        assert!(fixture.contains("issuer = \"http://127.0.0.1:0\""));
        let text = fixture
            .replace("issuer = \"http://127.0.0.1:0\"", &format!("issuer = \"{}\"", self.issuer))
            .replace("\"../keys/", &format!("\"{root}/fixtures/keys/"));
        let path = dir.join("target.toml");
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn results(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap()
}

/// The values recorded in an interval log, over all its intervals.
fn hlog_count(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    let mut n = 0;
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(i) = entry.expect("a well-formed interval log") {
            let raw = base64::engine::general_purpose::STANDARD.decode(i.encoded_histogram()).unwrap();
            let h: Histogram<u64> = Deserializer::new().deserialize(&mut &raw[..]).expect("a V2 histogram");
            n += h.len();
        }
    }
    n
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// The issue's local proof: two workers at R/2 from a shared start, merged, agree with one
/// process at R within 2%, and the merge loses no value.
#[test]
fn two_workers_at_half_the_rate_merge_into_the_single_process_run() {
    let _one = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    let server = Server::start();
    let dir = temp_dir("proof");
    let profile = server.profile(&dir);
    let rate = RATE.to_string();
    let common = ["load", "--scenario", "issuance", "--rate", &rate, "--duration", DURATION, "--target", s(&profile)];

    // A start a few seconds ahead: both workers' users are up and waiting when it comes.
    let start = format!("{}", unix_now().ceil() as u64 + 5);
    let workers: Vec<(PathBuf, Child)> = (0..2)
        .map(|i| {
            let out = dir.join(format!("worker-{i}"));
            let index = i.to_string();
            let mut args = common.to_vec();
            args.extend(["--workers", "2", "--worker-index", &index, "--start-at", &start, "--out", s(&out)]);
            let child = agentcert(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            (out, child)
        })
        .collect();
    let mut outs = vec![];
    for (out, child) in workers {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("worker"), "{}", text(&o));
        outs.push(out);
    }

    let merged = dir.join("merged");
    let o = run(&["merge", s(&outs[0]), s(&outs[1]), "--out", s(&merged)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("merged from 2 workers"), "{}", text(&o));

    let single = dir.join("single");
    let mut args = common.to_vec();
    args.extend(["--out", s(&single)]);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let w: Vec<Value> = outs.iter().map(|d| results(d)["load"][0].clone()).collect();
    let m = results(&merged)["load"][0].clone();
    let one = results(&single)["load"][0].clone();
    for (i, r) in w.iter().enumerate() {
        eprintln!("worker {i}: {r}");
        assert_eq!((r["worker"]["index"].as_u64(), r["worker"]["count"].as_u64()), (Some(i as u64), Some(2)), "{r}");
        assert_eq!(r["target_rate"], RATE / 2.0, "{r}");
        assert_eq!(r["requests"].as_u64().unwrap() + r["dropped"].as_u64().unwrap(), 200, "each worker has half the slots: {r}");
        assert_eq!(r["worker"]["start_at"], w[0]["worker"]["start_at"], "one shared start");
        assert_eq!(r["errors"], 0, "{r}");
    }
    eprintln!("merged: {m}");
    eprintln!("single: {one}");

    // Rates: the merge over the common window, against one process at R.
    let (merged_rate, single_rate) = (m["achieved_rate"].as_f64().unwrap(), one["achieved_rate"].as_f64().unwrap());
    assert_eq!(m["target_rate"], RATE, "{m}");
    assert!(
        (merged_rate - single_rate).abs() <= single_rate * 0.02,
        "merged {merged_rate}/s and single {single_rate}/s differ by more than 2%"
    );
    assert!((merged_rate - RATE).abs() <= RATE * 0.02, "merged {merged_rate}/s is not within 2% of {RATE}/s");
    let sum = |k: &str| w.iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
    for k in ["requests", "http_requests", "errors", "late", "dropped", "concurrency"] {
        assert_eq!(m[k].as_u64().unwrap(), sum(k), "{k} is the workers' sum");
    }
    assert_eq!(m["requests"].as_u64().unwrap() + m["dropped"].as_u64().unwrap(), 400, "the union is the whole schedule: {m}");

    // Histograms: the merged log holds every value the workers' logs hold, no more, no less.
    let worker_counts: Vec<u64> = outs.iter().zip(&w).map(|(d, r)| hlog_count(&d.join(r["histogram_file"].as_str().unwrap()))).collect();
    let merged_count = hlog_count(&merged.join(m["histogram_file"].as_str().unwrap()));
    eprintln!("histogram counts: workers {worker_counts:?}, merged {merged_count}");
    assert_eq!(merged_count, worker_counts.iter().sum::<u64>());
    assert_eq!(merged_count, m["latency_ms"]["samples"].as_u64().unwrap());
    assert_eq!(merged_count, sum("requests"), "every answered operation is in the merged log");
    let table = std::fs::read_to_string(merged.join(m["percentiles_file"].as_str().unwrap())).unwrap();
    assert!(table.contains(&format!("Total count    = {:>12}", merged_count)), "{table}");
    assert_eq!(m["worker"]["count"], 2);
    assert!(m["worker"].get("index").is_none(), "a merge is no one worker: {m}");

    // What merge refuses: the same directories, one short, doubled, or mixed with a plain run.
    for (dirs, says) in [
        (vec![&outs[0]], "missing worker 1 of 2"),
        (vec![&outs[1], &outs[1]], "worker 1 of 2 is there twice"),
        (vec![&outs[0], &single], "was not run as a worker"),
        (vec![&outs[0], &merged], "already a merge"),
    ] {
        let out = dir.join("refused");
        let mut args: Vec<&str> = vec!["merge"];
        args.extend(dirs.iter().map(|d| s(d)));
        args.extend(["--out", s(&out)]);
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{dirs:?}: {}", text(&o));
        assert!(err.contains(says) && err.trim().lines().count() == 1, "{dirs:?}: expected {says:?} in {err:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Workers of different runs: another scenario, another worker count. Made by editing a
/// worker's results.json, so no load is sent.
#[test]
fn merge_refuses_mismatched_workers_with_exit_2() {
    let dir = temp_dir("mismatch");
    let worker = |name: &str, index: u32, count: u32, scenario: &str, model: &str| {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        let doc = serde_json::json!({
            "schema_version": "1.0", "agentcert_version": "0", "started_at": "2026-03-01T12:00:00Z", "duration_ms": 4000,
            "target": { "name": "t", "issuer": "http://127.0.0.1:1", "profile": "t.toml", "mode": "strict" },
            "capabilities": {}, "summary": { "total": 0, "pass": 0, "fail": 0, "warn": 0, "skip": 0, "error": 0, "expected_failures": 0, "stale_baseline": 0 },
            "checks": [],
            "load": [{
                "scenario": scenario, "model": model, "achieved_rate": 50.0, "duration_s": 4.0, "concurrency": 8, "requests": 0,
                "http_requests": 0, "errors": 0, "errors_by_class": {}, "late": 0, "dropped": 0,
                "latency_ms": { "samples": 0, "p50": 0.0, "p90": 0.0, "p99": 0.0, "p999": 0.0, "max": 0.0, "mean": 0.0 },
                "latency_basis": "intended send time", "histogram_file": "x.hlog", "percentiles_file": "x.txt",
                "worker": { "index": index, "count": count, "start_at": "2026-03-01T12:00:00Z", "send_end": "2026-03-01T12:00:04Z" }
            }]
        });
        std::fs::write(d.join("results.json"), doc.to_string()).unwrap();
        d
    };
    let a = worker("a", 0, 2, "issuance", "open");
    for (other, says) in [
        (worker("b", 1, 3, "issuance", "open"), "mismatched worker counts"),
        (worker("c", 1, 2, "revocation", "open"), "mismatched scenarios: "),
        (worker("d", 1, 2, "issuance", "ramp"), "mismatched scenarios: "),
    ] {
        let o = run(&["merge", s(&a), s(&other), "--out", s(&dir.join("out"))]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(err.contains(says) && err.trim().lines().count() == 1, "expected {says:?} in {err:?}");
    }
    let o = run(&["merge", s(&dir.join("nowhere")), "--out", s(&dir.join("out"))]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"), "{}", text(&o));
    assert!(!dir.join("out").exists(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_worker_options_are_a_one_line_error_and_exit_2() {
    let dir = temp_dir("options");
    let profile = dir.join("target.toml");
    std::fs::write(&profile, "not read: the options are refused first").unwrap();
    let past = format!("{}", unix_now() as u64 - 60);
    for (args, expect) in [
        (vec!["--workers", "2", "--worker-index", "0", "--start-at", past.as_str()], "was 6"),
        (vec!["--workers", "2", "--worker-index", "2"], "not below --workers 2"),
        (vec!["--workers", "2"], "needs --worker-index"),
        (vec!["--worker-index", "1"], "add --workers N"),
        (vec!["--workers", "2", "--worker-index", "0", "--start-at", "soon"], "neither RFC 3339"),
    ] {
        let out = dir.join("out");
        let mut full = vec!["load", "--scenario", "issuance", "--target", s(&profile), "--out", s(&out)];
        full.extend(&args);
        let o = run(&full);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(err.contains(expect) && err.trim().lines().count() == 1, "{args:?}: expected {expect:?} in {err:?}");
        assert!(!out.exists(), "{args:?}: nothing written");
    }
    // The embedded server is per process: workers must share a named target.
    let o = run(&["load", "--scenario", "issuance", "--workers", "2", "--worker-index", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("name it with --target"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- deploy/k8s --------------------------------------------------------------------------

fn manifest(name: &str) -> serde_norway::Value {
    let path = format!("{}/deploy/k8s/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A string at `path` (keys, or indexes into sequences) in `v`.
fn at<'a>(v: &'a serde_norway::Value, path: &str) -> &'a serde_norway::Value {
    path.split('.').fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) => v.get(i).unwrap_or_else(|| panic!("no [{i}] on the way to {path}")),
        Err(_) => v.get(k).unwrap_or_else(|| panic!("no {k} on the way to {path}")),
    })
}

fn str_at<'a>(v: &'a serde_norway::Value, path: &str) -> &'a str {
    at(v, path).as_str().unwrap_or_else(|| panic!("{path} is not a string"))
}

/// Expands `$(VAR)` the way the kubelet does, from the container's literal env values.
fn expand(arg: &str, env: &[(String, String)]) -> String {
    env.iter().fold(arg.to_string(), |a, (k, v)| a.replace(&format!("$({k})"), v))
}

#[test]
fn the_worker_job_is_an_indexed_job_whose_pods_are_the_workers() {
    let job = manifest("job-workers.yaml");
    assert_eq!((str_at(&job, "apiVersion"), str_at(&job, "kind")), ("batch/v1", "Job"));
    let spec = at(&job, "spec");
    assert_eq!(str_at(spec, "completionMode"), "Indexed");
    let completions = at(spec, "completions").as_u64().unwrap();
    assert!(completions >= 2, "a split load");
    assert_eq!(at(spec, "parallelism").as_u64(), Some(completions), "every worker at once");
    assert_eq!(at(spec, "backoffLimit").as_u64(), Some(0), "a retried worker would miss the shared start");
    let pod = at(spec, "template.spec");
    assert!(["Never", "OnFailure"].contains(&str_at(pod, "restartPolicy")));
    let containers = at(pod, "containers").as_sequence().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(at(c, "command").as_sequence().unwrap().iter().map(|v| v.as_str().unwrap()).collect::<Vec<_>>(), ["agentcert"]);
    let args: Vec<&str> = at(c, "args").as_sequence().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(args[0], "load");

    // The worker index is the completion index, through the env; the count is completions.
    let env = at(c, "env").as_sequence().unwrap();
    let index_env = env.iter().find(|e| str_at(e, "name") == "JOB_COMPLETION_INDEX").expect("JOB_COMPLETION_INDEX in env");
    assert_eq!(str_at(index_env, "valueFrom.fieldRef.fieldPath"), "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    assert!(args.contains(&"--worker-index=$(JOB_COMPLETION_INDEX)"), "{args:?}");
    let mut values: Vec<(String, String)> =
        env.iter().filter_map(|e| Some((str_at(e, "name").to_string(), e.get("value")?.as_str()?.to_string()))).collect();
    let flag =
        |name: &str| args.iter().find_map(|a| a.strip_prefix(&format!("--{name}="))).unwrap_or_else(|| panic!("--{name}= in {args:?}"));
    assert_eq!(expand(flag("workers"), &values), completions.to_string(), "--workers matches completions");
    assert_eq!(flag("start-at"), "$(START_AT)", "the start comes from the env that run.sh stamps");

    // Mounts: the profile from the ConfigMap at the path --target names, results on the
    // shared volume in a directory of the worker's own.
    let mounts = at(c, "volumeMounts").as_sequence().unwrap();
    let volumes = at(pod, "volumes").as_sequence().unwrap();
    let volume = |mount_path: &str| {
        let m = mounts
            .iter()
            .find(|m| mount_path.starts_with(&format!("{}/", str_at(m, "mountPath"))))
            .unwrap_or_else(|| panic!("nothing mounted over {mount_path}"));
        volumes.iter().find(|v| str_at(v, "name") == str_at(m, "name")).expect("a volume for every mount")
    };
    let target = flag("target");
    let configmap = manifest("configmap-target.yaml");
    assert_eq!(str_at(&configmap, "kind"), "ConfigMap");
    assert_eq!(str_at(volume(target), "configMap.name"), str_at(&configmap, "metadata.name"));
    let file = target.rsplit('/').next().unwrap();
    let profile = at(&configmap, "data").get(file).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("the ConfigMap has no {file}"));
    // Its key files come from a Secret at run time; a fixture key stands in for them here.
    let key = |_: &Path| {
        std::fs::read_to_string(format!("{}/fixtures/keys/agent-a.key.pem", env!("CARGO_MANIFEST_DIR"))).map_err(|e| e.to_string())
    };
    agentcert_engine::TargetProfile::parse_with(profile, "configmap", &key)
        .unwrap_or_else(|e| panic!("the ConfigMap's {file} is not a target profile: {e}"));
    let out = flag("out");
    assert!(out.contains("$(JOB_COMPLETION_INDEX)"), "each worker writes its own directory: {out}");
    let pvc = manifest("pvc.yaml");
    assert_eq!(str_at(volume(out), "persistentVolumeClaim.claimName"), str_at(&pvc, "metadata.name"));
    assert_eq!(
        at(&pvc, "spec.accessModes").as_sequence().unwrap().iter().map(|m| m.as_str().unwrap()).collect::<Vec<_>>(),
        ["ReadWriteMany"]
    );

    // Every worker gets a bounded share of a node.
    for kind in ["requests", "limits"] {
        for r in ["cpu", "memory"] {
            assert!(at(c, &format!("resources.{kind}.{r}")).as_str().is_some_and(|v| !v.is_empty()), "resources.{kind}.{r}");
        }
    }

    // And the command is one agentcert accepts: expanded as the kubelet would for worker 0,
    // with a start long past, it gets as far as refusing that start (exit 2, one line).
    values.retain(|(k, _)| k != "START_AT");
    values.extend([("JOB_COMPLETION_INDEX".into(), "0".into()), ("START_AT".into(), "1".into())]);
    let expanded: Vec<String> = args.iter().map(|a| expand(a, &values)).collect();
    assert!(expanded.iter().all(|a| !a.contains("$(")), "{expanded:?}");
    let o = agentcert(&expanded.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--start-at 1970-01-01T00:00:01Z was"), "{}", text(&o));
}

#[test]
fn the_merge_job_and_the_kustomization_fit_the_workers() {
    let workers = manifest("job-workers.yaml");
    let merge = manifest("job-merge.yaml");
    assert_eq!((str_at(&merge, "apiVersion"), str_at(&merge, "kind")), ("batch/v1", "Job"));
    let pod = at(&merge, "spec.template.spec");
    assert!(["Never", "OnFailure"].contains(&str_at(pod, "restartPolicy")));
    let c = at(pod, "containers.0");
    let script = str_at(c, "args.0");
    assert!(script.contains("agentcert merge /results/run-\"$START_AT\"/worker-*") && script.contains("--out"), "{script}");
    assert!(at(c, "resources.requests.cpu").as_str().is_some() && at(c, "resources.limits.memory").as_str().is_some());
    // The same volume, at the same place, as the workers write to.
    let claim = |pod: &serde_norway::Value| {
        let v = at(pod, "volumes").as_sequence().unwrap().iter().find(|v| v.get("persistentVolumeClaim").is_some()).unwrap();
        let m =
            at(pod, "containers.0.volumeMounts").as_sequence().unwrap().iter().find(|m| str_at(m, "name") == str_at(v, "name")).unwrap();
        (str_at(v, "persistentVolumeClaim.claimName").to_string(), str_at(m, "mountPath").to_string())
    };
    let of_job = |job: &serde_norway::Value| claim(at(job, "spec.template.spec"));
    assert_eq!(of_job(&merge), of_job(&workers));
    let fetch = manifest("fetch-pod.yaml");
    assert_eq!(str_at(&fetch, "kind"), "Pod");
    assert_eq!(claim(at(&fetch, "spec")), of_job(&workers));

    let k = manifest("kustomization.yaml");
    let resources: Vec<&str> = at(&k, "resources").as_sequence().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for r in &resources {
        assert!(Path::new(&format!("{}/deploy/k8s/{r}", env!("CARGO_MANIFEST_DIR"))).exists(), "{r}");
    }
    assert!(resources.contains(&"job-workers.yaml") && resources.contains(&"configmap-target.yaml") && resources.contains(&"pvc.yaml"));
    let script = std::fs::read_to_string(format!("{}/deploy/k8s/run.sh", env!("CARGO_MANIFEST_DIR"))).unwrap();
    // run.sh stamps the start, the count (completions, parallelism and --workers together),
    // runs the merge after the workers, and copies the run out.
    for step in
        ["START_AT=\"$start\"", r#"completions\":$workers,\"parallelism\":$workers"#, "WORKERS=\"$workers\"", "job-merge.yaml", "$k cp "]
    {
        assert!(script.contains(step), "run.sh does not {step}");
    }
}

/// The manifests against Kubernetes' own OpenAPI schemas, strictly (unknown fields refused),
/// where `kubernetes-validate` (PyPI; it bundles the schemas, no network) is installed. The
/// field checks above run everywhere; this adds the schema where it can.
#[test]
fn the_manifests_pass_kubernetes_schema_validation_where_the_validator_is_installed() {
    let dir = format!("{}/deploy/k8s", env!("CARGO_MANIFEST_DIR"));
    let files = ["configmap-target.yaml", "pvc.yaml", "job-workers.yaml", "job-merge.yaml", "fetch-pod.yaml"].map(|f| format!("{dir}/{f}"));
    let installed = Command::new("python3").args(["-m", "kubernetes_validate", "--version"]).output().is_ok_and(|o| o.status.success());
    if !installed {
        // `cargo xtask test` installs it; there a missing validator is a failure.
        assert!(
            std::env::var_os("AGENTCERT_REQUIRE_PEERS").is_none(),
            "kubernetes-validate is not installed: `cargo xtask test` installs it"
        );
        eprintln!("kubernetes-validate is not installed (pip install kubernetes-validate): schema validation not run");
        return;
    }
    let o = Command::new("python3").args(["-m", "kubernetes_validate", "--strict", "--quiet"]).args(&files).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
}
