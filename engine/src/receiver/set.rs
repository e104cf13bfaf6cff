//! What a Receiver checks in every Security Event Token: RFC 8417 §2 as SSF 1.0 §4 profiles
//! it. Each finding names the rule it breaks, so a check can judge exactly one.

use crate::jose::{decode_unverified, verify_with_jwks, DecodedJwt};
use serde_json::Value;

/// SSF 1.0 §4.1.1 / RFC 8417 §2.3: the explicit type of a SET.
pub const SECEVENT_JWT: &str = "secevent+jwt";

/// The rules a SET can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Not a JWS, or a claim RFC 8417 §2.2 requires (`iss`, `iat`, `jti`, `events`) is missing.
    Format,
    /// Unsigned, or the signature does not verify against the Transmitter's `jwks_uri`
    /// (SSF 1.0 §4.1.4).
    Signature,
    /// `typ` is not `secevent+jwt` (SSF 1.0 §4.1.1).
    Typ,
    /// `iss` is not the Transmitter's Issuer (SSF 1.0 §4.1.6).
    Iss,
    /// `aud` is not the stream's (SSF 1.0 §4.1.8, §8.1.1).
    Aud,
    /// More than one event (SSF 1.0 §4.2.1: SHOULD contain only one).
    OneEvent,
    /// A `sub` claim (SSF 1.0 §4.1.2: MUST NOT be present).
    Sub,
    /// An `exp` claim (SSF 1.0 §4.1.7: MUST NOT be used).
    Exp,
    /// No top-level `sub_id` subject identifier with a `format` (SSF 1.0 §3.1, RFC 9493 §3).
    SubId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub message: String,
}

/// What the Receiver knows to hold SETs against; unknown members are not checked.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// The Issuer the configuration was fetched for.
    pub issuer: Option<String>,
    /// The stream's `aud` (a string or an array of strings).
    pub audience: Option<Value>,
    /// The JWK Set at the configuration's `jwks_uri`.
    pub jwks: Option<Value>,
}

/// `aud` as a list: a string or an array of strings (RFC 7519 §4.1.3).
pub fn audiences(aud: Option<&Value>) -> Vec<String> {
    match aud {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => vec![],
    }
}

/// The event type URIs of a SET's `events` claim.
pub fn event_types(claims: &Value) -> Vec<String> {
    claims.get("events").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// Every rule `set` breaks, given what is expected of it.
pub fn validate(set: &str, expect: &Expectations) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut find = |rule: Rule, message: String| out.push(Finding { rule, message });
    let decoded: DecodedJwt = match decode_unverified(set) {
        Ok(d) => d,
        Err(e) => {
            find(Rule::Format, format!("not a JWT: {e:#}"));
            return out;
        }
    };
    let alg = decoded.header_str("alg").unwrap_or("");
    if alg.eq_ignore_ascii_case("none") || set.ends_with('.') {
        find(Rule::Signature, format!("the SET is unsigned (alg {alg:?})"));
    } else if let Some(jwks) = &expect.jwks {
        if let Err(e) = verify_with_jwks(set, jwks) {
            find(Rule::Signature, format!("the signature does not verify against jwks_uri: {e:#}"));
        }
    } else {
        find(Rule::Signature, "there is no jwks_uri to verify the signature against".into());
    }
    // RFC 7515 §4.1.9: `typ` is a media type, compared case-insensitively, "application/" optional.
    let typ = decoded.header_str("typ").unwrap_or("");
    let bare = typ.to_ascii_lowercase();
    if bare.strip_prefix("application/").unwrap_or(&bare) != SECEVENT_JWT {
        find(Rule::Typ, format!("header typ is {typ:?}, not \"secevent+jwt\""));
    }
    let c = &decoded.claims;
    for name in ["iss", "iat", "jti", "events"] {
        if c.get(name).is_none() {
            find(Rule::Format, format!("the required claim {name} is missing (RFC 8417 §2.2)"));
        }
    }
    if let (Some(want), iss) = (&expect.issuer, c.get("iss").and_then(Value::as_str)) {
        if iss != Some(want.as_str()) {
            find(Rule::Iss, format!("iss is {}, not the Issuer {want:?}", iss.map_or("absent".into(), |i| format!("{i:?}"))));
        }
    }
    if let Some(want) = &expect.audience {
        let want = audiences(Some(want));
        let got = audiences(c.get("aud"));
        let foreign: Vec<&String> = got.iter().filter(|a| !want.contains(a)).collect();
        if got.is_empty() || !foreign.is_empty() {
            find(Rule::Aud, format!("aud is {}, not the stream's {want:?}", c.get("aud").map_or("absent".into(), Value::to_string)));
        }
    }
    match c.get("events").and_then(Value::as_object) {
        Some(events) if events.len() > 1 => {
            let types: Vec<&String> = events.keys().collect();
            find(Rule::OneEvent, format!("{} events in one SET: {types:?}", events.len()));
        }
        Some(events) if events.is_empty() => find(Rule::Format, "events is empty".into()),
        Some(_) => {}
        None if c.get("events").is_some() => find(Rule::Format, "events is not a JSON object".into()),
        None => {}
    }
    if let Some(sub) = c.get("sub") {
        find(Rule::Sub, format!("the SET has a sub claim ({sub})"));
    }
    if let Some(exp) = c.get("exp") {
        find(Rule::Exp, format!("the SET has an exp claim ({exp})"));
    }
    match c.get("sub_id") {
        Some(Value::Object(s)) if s.get("format").is_some_and(Value::is_string) => {}
        Some(other) => find(Rule::SubId, format!("sub_id is not a subject identifier with a format: {other}")),
        None => find(Rule::SubId, "there is no top-level sub_id".into()),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{unsigned, SigningKey};
    use serde_json::json;

    fn claims() -> Value {
        json!({
            "iss": "https://as.example", "jti": "s1", "iat": 1, "aud": "rs",
            "sub_id": { "format": "jwt_id", "iss": "https://as.example", "jti": "t1" },
            "events": { crate::receiver::SESSION_REVOKED: {} },
        })
    }

    fn rules(set: &str, key: &SigningKey) -> Vec<Rule> {
        let expect = Expectations { issuer: Some("https://as.example".into()), audience: Some(json!("rs")), jwks: Some(key.jwks()) };
        validate(set, &expect).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn each_broken_rule_is_named() {
        let key = SigningKey::generate().unwrap();
        let with = |patch: Value| {
            let mut c = claims();
            crate::home_issuer::merge(&mut c, patch);
            key.sign(Some(SECEVENT_JWT), &c).unwrap()
        };
        assert_eq!(rules(&with(json!({})), &key), vec![]);
        assert_eq!(rules(&key.sign(Some("application/secevent+jwt"), &claims()).unwrap(), &key), vec![]);
        assert_eq!(rules(&key.sign(Some("JWT"), &claims()).unwrap(), &key), vec![Rule::Typ]);
        assert!(rules(&unsigned(&claims()), &key).contains(&Rule::Signature));
        assert_eq!(rules(&with(json!({"iss": "https://as.example/"})), &key), vec![Rule::Iss]);
        assert_eq!(rules(&with(json!({"aud": ["rs", "other"]})), &key), vec![Rule::Aud]);
        assert_eq!(rules(&with(json!({"sub": "t1"})), &key), vec![Rule::Sub]);
        assert_eq!(rules(&with(json!({"exp": 2})), &key), vec![Rule::Exp]);
        assert_eq!(rules(&with(json!({"sub_id": null})), &key), vec![Rule::SubId]);
        assert_eq!(rules(&with(json!({"jti": null})), &key), vec![Rule::Format]);
        let two = json!({ crate::receiver::SESSION_REVOKED: {}, crate::receiver::VERIFICATION: {} });
        assert_eq!(rules(&with(json!({"events": two})), &key), vec![Rule::OneEvent]);
        let other = SigningKey::generate().unwrap();
        assert_eq!(rules(&other.sign(Some(SECEVENT_JWT), &claims()).unwrap(), &key), vec![Rule::Signature]);
    }
}
