//! `agentcert certify` and `agentcert verify`, the CLI half: checking the vendor key and the
//! bundle directory before anything runs, fetching the target's metadata again while the
//! target is still up, and sealing the directory. The bundle format itself is
//! `agentcert_reports::bundle`.

use agentcert_engine::discovery::rfc8414_url;
use agentcert_engine::http::{Limits, Recorder, Request};
use agentcert_engine::jose::SigningKey;
use agentcert_engine::redact::Redactor;
use agentcert_engine::results::RunResults;
use agentcert_engine::{HarnessError, TargetProfile};
use agentcert_reports::bundle::{self, Provenance, Verification};
use std::fmt::Write as _;
use std::path::Path;

/// The commit this binary was built from (see build.rs).
pub const GIT_COMMIT: &str = env!("AGENTCERT_GIT_COMMIT");

/// The vendor's key, loaded and checked before the run, so a bad key costs nothing.
pub struct Certifier {
    key: SigningKey,
}

/// The metadata document as the target served it, and where from.
pub struct Metadata {
    pub url: String,
    pub body: String,
}

impl Certifier {
    /// Loads the PKCS#8 P-256 key and makes sure `out` is new or empty: everything in the
    /// directory is signed, so nothing stale may be in it.
    pub fn prepare(key_path: &Path, out: &Path) -> Result<Certifier, HarnessError> {
        let setup = |m: String| HarnessError::Setup(m);
        let pem =
            std::fs::read_to_string(key_path).map_err(|e| setup(format!("cannot read the vendor key {}: {e}", key_path.display())))?;
        let key = SigningKey::from_pem(&pem)
            .map_err(|e| setup(format!("vendor key {}: {e:#} (expected a PKCS#8 P-256 private key in PEM)", key_path.display())))?;
        match std::fs::read_dir(out).map(|mut entries| entries.next().is_some()) {
            Ok(true) => {
                return Err(setup(format!("{} is not empty: a bundle is sealed in a new directory (pass --out DIR)", out.display())))
            }
            Ok(false) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(setup(format!("cannot use {} for the bundle: {e}", out.display()))),
        }
        Ok(Certifier { key })
    }

    /// Fetches the metadata document again, through the engine's recorder (timeouts, size
    /// cap), from the URL the run discovered it at.
    pub async fn fetch_metadata(&self, profile: &TargetProfile, results: &RunResults) -> Result<Metadata, HarnessError> {
        let url = results.target.metadata_url.clone().unwrap_or_else(|| rfc8414_url(profile.issuer()));
        let failed = |m: String| HarnessError::Setup(format!("certify: fetching the metadata at {url} again: {m}"));
        let http = Recorder::new(Limits::default(), Redactor::new(profile.secrets())).map_err(|e| failed(e.to_string()))?;
        let response = http.send(Request::get(url.clone())).await.map_err(|e| failed(format!("{e:#}")))?;
        if response.status != 200 {
            return Err(failed(format!("HTTP {}", response.status)));
        }
        response.json_object().map_err(|e| failed(format!("{e:#}")))?;
        Ok(Metadata { url, body: response.body })
    }

    /// Writes the evidence transcripts and metadata.json beside the reports, then the signed
    /// manifest. Returns the number of files the manifest lists.
    pub fn seal(&self, out: &Path, results: &RunResults, metadata: &Metadata) -> Result<usize, HarnessError> {
        let io = |e: std::io::Error| HarnessError::Setup(format!("cannot write the bundle in {}: {e}", out.display()));
        bundle::write_evidence(results, out).map_err(io)?;
        std::fs::write(out.join(bundle::METADATA), &metadata.body).map_err(io)?;
        let provenance = Provenance {
            agentcert_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: GIT_COMMIT.into(),
            created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        };
        let mut results = results.clone();
        results.target.metadata_url = Some(metadata.url.clone());
        let manifest =
            bundle::seal(out, &self.key, &provenance, &results).map_err(|e| HarnessError::Setup(format!("cannot seal the bundle: {e}")))?;
        Ok(manifest.files.len())
    }

    pub fn kid(&self) -> &str {
        self.key.kid()
    }
}

/// `agentcert verify`'s report: one line for a valid bundle, else every problem.
pub fn describe(dir: &Path, v: &Verification) -> String {
    let mut s = String::new();
    if v.valid() {
        let m = v.manifest.as_ref();
        let _ = writeln!(
            s,
            "valid: {} files in {} match manifest.json, signed by key {} (agentcert {}, commit {}, sealed {})",
            v.files,
            dir.display(),
            v.kid.as_deref().unwrap_or("without kid"),
            m.map_or("?", |m| &m.agentcert_version),
            m.map_or("?", |m| &m.git_commit),
            m.map_or("?", |m| &m.created_at)
        );
        // A valid seal says the files are the ones signed, not that the server passed: say
        // what the sealed run concluded, so nobody mistakes the one for the other.
        if let Some(r) = std::fs::read(dir.join("results.json")).ok().and_then(|b| serde_json::from_slice::<RunResults>(&b).ok()) {
            let c = &r.summary;
            let verdict = if r.exit_code() == 0 { "PASS" } else { "FAIL" };
            let _ = writeln!(
                s,
                "sealed run: {verdict} against {} ({} checks: {} passed, {} failed, {} warned, {} skipped, {} errors)",
                r.target.name, c.total, c.pass, c.fail, c.warn, c.skip, c.error
            );
        }
        return s;
    }
    let _ = writeln!(s, "INVALID: {} ({} problem{})", dir.display(), v.problems.len(), if v.problems.len() == 1 { "" } else { "s" });
    for p in &v.problems {
        let _ = writeln!(s, "  {p}");
    }
    s
}
