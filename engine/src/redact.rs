//! Redaction. No secret and no usable token ever reaches a report or a log: a client secret
//! becomes `«secret»`; a token becomes a summary of its header and claims plus a short hash,
//! which identifies it across exchanges but cannot be replayed (a JWT without its signature,
//! an opaque token without its value).

use crate::jose;
use aws_lc_rs::digest::{digest, SHA256};
use serde_json::Value;

/// Form parameters and JSON members whose value is a credential or a token.
const TOKEN_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "subject_token",
    "actor_token",
    "client_assertion",
    "assertion",
    "issued_token",
];
const SECRET_FIELDS: &[&str] = &["client_secret", "password", "code", "code_verifier"];

/// Knows the run's secrets (client secrets from the profile) so that they are caught wherever
/// they appear, not only in the fields named above.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let secrets = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        Redactor { secrets }
    }

    /// Redacts free text: anything shaped like a JWT, then known secrets (last, so that a
    /// secret inside a token's claims, now shown decoded, is caught too).
    pub fn text(&self, text: &str) -> String {
        self.secrets_in(redact_jwts_in_text(text))
    }

    fn secrets_in(&self, mut out: String) -> String {
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "«secret»");
            }
        }
        out
    }

    /// A token's summary, with any known secret in its claims hidden.
    fn summary(&self, token: &str) -> String {
        self.secrets_in(token_summary(token))
    }

    /// Redacts a header value. Credentials in `Authorization` are never kept.
    pub fn header(&self, name: &str, value: &str) -> String {
        let lower = name.to_ascii_lowercase();
        if lower == "authorization" || lower == "proxy-authorization" {
            // The scheme is a prefix of the trimmed value, so slicing after it is on a boundary.
            let value = value.trim_start();
            let scheme = value.split_whitespace().next().unwrap_or("");
            return match scheme.to_ascii_lowercase().as_str() {
                "basic" => "Basic «credentials»".to_string(),
                // Anything may stand where the scheme should (a bare token, a secret).
                _ => format!("{} {}", self.text(scheme), self.summary(value[scheme.len()..].trim())),
            };
        }
        if lower == "cookie" || lower == "set-cookie" || lower == "dpop" {
            return "«redacted»".to_string();
        }
        self.text(value)
    }

    /// Redacts an `application/x-www-form-urlencoded` body, field by field.
    pub fn form(&self, body: &str) -> String {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| {
                let v = if SECRET_FIELDS.contains(&k.as_ref()) {
                    "«secret»".to_string()
                } else if TOKEN_FIELDS.contains(&k.as_ref()) {
                    self.summary(&v)
                } else {
                    self.text(&v)
                };
                // A name is text too: a body that is not really a form is one long name.
                (self.text(&k), v)
            })
            .collect();
        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
    }

    /// Redacts a response or request body: JSON member by member when it parses, else as text.
    pub fn body(&self, body: &str) -> String {
        match serde_json::from_str::<Value>(body) {
            Ok(mut v) => {
                self.json(&mut v);
                // Once more over the printed text: an escape (`\f`) can run into the letters
                // after it and spell a secret that no single string held.
                self.secrets_in(serde_json::to_string_pretty(&v).unwrap_or_default())
            }
            Err(_) => self.text(body),
        }
    }

    fn json(&self, v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, mut val) in std::mem::take(map) {
                    match &mut val {
                        Value::String(s) if SECRET_FIELDS.contains(&k.as_str()) => *s = "«secret»".into(),
                        Value::String(s) if TOKEN_FIELDS.contains(&k.as_str()) => *s = self.summary(s),
                        // A private key in a JWKS is as secret as a secret.
                        Value::String(s) if is_private_jwk_member(&k) => *s = "«private key material»".into(),
                        _ => self.json(&mut val),
                    }
                    // Member names are text too.
                    map.insert(self.text(&k), val);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.json(i)),
            Value::String(s) => *s = self.text(s),
            _ => {}
        }
    }
}

fn is_private_jwk_member(k: &str) -> bool {
    matches!(k, "d" | "p" | "q" | "dp" | "dq" | "qi" | "k")
}

/// A short, non-reversible fingerprint of a token: enough to follow one token through the
/// evidence, useless to an attacker.
pub fn fingerprint(token: &str) -> String {
    let d = digest(&SHA256, token.as_bytes());
    d.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// `«jwt {"alg":"ES256",...} {"sub":"alice",...} sha256:1a2b3c4d5e6f»` for a JWT, or
/// `«opaque token, 43 chars, sha256:…»` for anything else.
pub fn token_summary(token: &str) -> String {
    if token.is_empty() {
        return String::new();
    }
    match jose::decode_unverified(token) {
        // A token nested in the claims (or header) is summarised in turn, never shown whole
        // (cut first: cheaper, and a cut token is no token).
        Ok(jwt) => format!(
            "«jwt header={} claims={} sha256:{}»",
            redact_jwts_in_text(&capped(jwt.header.to_string())),
            redact_jwts_in_text(&capped(jwt.claims.to_string())),
            fingerprint(token)
        ),
        Err(_) => format!("«opaque token, {} chars, sha256:{}»", token.len(), fingerprint(token)),
    }
}

/// A summary shows at most this much of a token's header or claims: a hostile server's 1 MB
/// token must not become a megabyte in every exchange that carries it.
const SUMMARY_PART_MAX: usize = 2048;

fn capped(mut json: String) -> String {
    if json.len() > SUMMARY_PART_MAX {
        let mut cut = SUMMARY_PART_MAX;
        while !json.is_char_boundary(cut) {
            cut -= 1;
        }
        json.truncate(cut);
        json.push('…');
    }
    json
}

/// Replaces every JWT in a text (three consecutive base64url segments, the first two of which
/// decode to JSON objects) with its summary, wherever it stands in a run of dotted segments:
/// a token that ends a sentence (`….sig.`) or follows a dotted name is still a token.
fn redact_jwts_in_text(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| is_b64(c) || c == '.') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let len = tail.find(|c: char| !(is_b64(c) || c == '.')).unwrap_or(tail.len());
        let run = &tail[..len];
        let segments: Vec<&str> = run.split('.').collect();
        let mut i = 0;
        while i < segments.len() {
            if i > 0 {
                out.push('.');
            }
            let candidate = (i + 2 < segments.len()).then(|| segments[i..i + 3].join("."));
            match candidate {
                Some(c) if jose::decode_unverified(&c).is_ok() => {
                    out.push_str(&token_summary(&c));
                    i += 3;
                }
                _ => {
                    out.push_str(segments[i]);
                    i += 1;
                }
            }
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

    #[test]
    fn secrets_never_survive() {
        let r = Redactor::new(["hunter2-secret".to_string()]);
        let form = r.form("grant_type=client_credentials&client_secret=hunter2-secret&scope=a");
        assert!(!form.contains("hunter2"), "{form}");
        assert!(r.text("error: bad secret hunter2-secret").contains("«secret»"));
    }

    #[test]
    fn tokens_become_summaries_everywhere() {
        let r = Redactor::default();
        let body = format!(r#"{{"access_token":"{JWT}","note":"Bearer {JWT}"}}"#);
        let out = r.body(&body);
        assert!(!out.contains(JWT), "{out}");
        assert!(out.contains("\\\"sub\\\":\\\"alice\\\""), "claims stay readable: {out}");
        assert!(!r.header("Authorization", &format!("Bearer {JWT}")).contains(JWT));
        assert!(!r.form(&format!("token={JWT}")).contains(JWT));
        let opaque = r.body(r#"{"access_token":"abcdefghijklmnop"}"#);
        assert!(!opaque.contains("abcdefghijklmnop"), "{opaque}");
    }

    #[test]
    fn private_jwk_members_are_hidden() {
        let out = Redactor::default().body(r#"{"keys":[{"kty":"EC","d":"c2VjcmV0"}]}"#);
        assert!(!out.contains("c2VjcmV0"), "{out}");
    }
}
