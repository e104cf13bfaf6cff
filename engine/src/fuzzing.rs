//! Entry points for fuzzing the parsers that read what a server under test sends: metadata, JWK
//! Sets, token, introspection and error responses, JWTs, and the redactor that every exchange
//! passes through; and the parsers of the harness's own inputs (target profiles, the catalog).
//!
//! Each takes arbitrary bytes and must return without panicking. Some also assert invariants
//! (the redactor never lets a secret or a complete token through): a violated invariant is a
//! panic, which is what a fuzzer reports. `fuzz/` (cargo-fuzz) and `tests/fuzz_corpus.rs`
//! (corpus replay and a short random run in the normal test suite) call exactly these.

use crate::discovery::{self, Metadata};
use crate::http::Response;
use crate::oauth::TokenAnswer;
use crate::redact::{self, Redactor};
use crate::{jose, Catalog, TargetProfile};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// The secret the redaction target plants; it must never come out of the redactor.
pub const PLANTED_SECRET: &str = "fuzz-planted-secret-4d1e";

/// A fuzz target: its name (a `fuzz/fuzz_targets/NAME.rs` and a `fuzz/corpus/NAME/`) and
/// its entry function.
pub type Target = (&'static str, fn(&[u8]));

/// The fuzz targets, by name: what `cargo xtask fuzz TARGET` and the replay tests run.
pub const TARGETS: &[Target] =
    &[("jose", jose_parsing), ("redact", redaction), ("responses", responses), ("profile", profile), ("catalog", catalog)];

/// A JWT decoded without trust, summarised, and verified against a JWK Set: the input is the
/// token, a newline, then the JWK Set as JSON.
pub fn jose_parsing(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (token, jwks) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(jwt) = jose::decode_unverified(token) {
        let _ = (jwt.claim_str("sub"), jwt.header_str("alg"), jwt.claim("exp"));
    }
    let _ = redact::token_summary(token);
    let _ = redact::fingerprint(token);
    if let Ok(set) = serde_json::from_str::<Value>(jwks) {
        let _ = jose::verify_with_jwks(token, &set);
    }
}

/// The redactor on free text, a form, a JSON body and a header, with a known secret planted.
/// Whatever goes in, what comes out holds neither the secret nor a complete token.
pub fn redaction(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let r = Redactor::new([PLANTED_SECRET.to_string()]);
    let header_name = text.split(':').next().unwrap_or("");
    for (what, out) in [
        ("text", r.text(&text)),
        ("form", r.form(&text)),
        ("body", r.body(&text)),
        ("header", r.header(header_name, &text)),
        ("authorization", r.header("Authorization", &text)),
    ] {
        assert!(!out.contains(PLANTED_SECRET), "the redactor's {what} let the planted secret through: {out}");
        if let Some(token) = complete_jws(&out).first() {
            panic!("the redactor's {what} let a complete token through: {token}");
        }
    }
}

/// The responses a check reads: the first byte picks a status (and whether the body is served
/// as JSON), the rest is the body, read as a token answer, metadata, an introspection answer
/// and a JWK Set, as the checks do.
pub fn responses(data: &[u8]) {
    let Some((&first, body)) = data.split_first() else { return };
    let status = [200, 201, 204, 301, 400, 401, 404, 500, 503, 999][usize::from(first % 10)];
    let mut headers = reqwest::header::HeaderMap::new();
    if first & 0x80 != 0 {
        headers.insert("content-type", reqwest::header::HeaderValue::from_static("application/json; charset=utf-8"));
    }
    let resp = Response { status, headers, body: String::from_utf8_lossy(body).into_owned() };
    let _ = resp.content_type();
    let _ = crate::http::snippet(&resp.body);

    let answer = TokenAnswer::from(&resp);
    let _ = (answer.access_token(), answer.error(), answer.is_success(), answer.describe(), answer.str("scope"));
    if let Some(scope) = answer.str("scope") {
        let _ = crate::oauth::scopes(scope);
    }

    if let Ok(doc) = resp.json_object() {
        if let Some(issuer) = doc.get("issuer").and_then(Value::as_str) {
            let _ = (discovery::rfc8414_url(issuer), discovery::openid_configuration_url(issuer), discovery::ssf_configuration_url(issuer));
        }
        let md = Metadata { url: "http://127.0.0.1/.well-known/oauth-authorization-server".into(), doc };
        let _ = (md.str("token_endpoint"), md.list("grant_types_supported"), md.lists("scopes_supported", "read"));
        let _ = md.doc.get("active").map(Value::as_bool);
    }
    if let Ok(set) = resp.json() {
        let _ = jose::verify_with_jwks("eyJhbGciOiJFUzI1NiJ9.e30.c2ln", &set);
    }
}

/// A target profile (TOML); key files are never read.
pub fn profile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = TargetProfile::parse_with(&text, "fuzz", &|_| Err("no files when fuzzing".into())) {
        let _ = (p.secrets(), p.issuer().len(), p.limits.apply(crate::http::Limits::default()));
    }
}

/// The requirement catalog (TOML).
pub fn catalog(data: &[u8]) {
    if let Ok(c) = Catalog::from_toml(&String::from_utf8_lossy(data)) {
        let ids: Vec<&str> = c.requirements.keys().map(String::as_str).collect();
        let _ = c.level_of(&ids);
        for r in c.requirements.values() {
            let _ = r.citation();
        }
    }
}

/// Every complete compact JWS in `text`: three consecutive base64url segments whose first two
/// decode to JSON objects and whose third (the signature) is not empty. Redaction keeps a
/// token's header and claims, never its signature, so none may survive it.
pub fn complete_jws(text: &str) -> Vec<String> {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let object =
        |seg: &str| URL_SAFE_NO_PAD.decode(seg).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok()).is_some_and(|v| v.is_object());
    let mut found = vec![];
    for run in text.split(|c: char| !(is_b64(c) || c == '.')) {
        let segs: Vec<&str> = run.split('.').collect();
        for w in segs.windows(3) {
            if !w[2].is_empty() && object(w[0]) && object(w[1]) {
                found.push(w.join("."));
            }
        }
    }
    found
}
