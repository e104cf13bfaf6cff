//! Discovery: the authorization server's metadata (RFC 8414) and its JWK Set (RFC 7517).
//! Every later suite finds its endpoints here, so these rules come first.

use agentcert_engine::discovery::{openid_configuration_url, rfc8414_url};
use agentcert_engine::http::Request;
use agentcert_engine::oauth::{GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE};
use agentcert_engine::{check, Check, Ctx, Outcome};
use serde_json::{Map, Value};

const SUITE: &str = "discovery";

pub fn checks() -> Vec<Check> {
    vec![
        check!(
            "discovery.metadata-served",
            SUITE,
            "Metadata is served as a JSON object at the RFC 8414 well-known URL",
            ["DISC-001"],
            [],
            metadata_served
        ),
        check!(
            "discovery.issuer-identical",
            SUITE,
            "The metadata issuer is identical to the issuer used to build its URL",
            ["DISC-002"],
            [],
            issuer_identical
        ),
        check!(
            "discovery.required-members",
            SUITE,
            "issuer, token_endpoint and jwks_uri are present (response_types_supported too, or a warning)",
            ["DISC-003"],
            [],
            required_members
        ),
        check!(
            "discovery.no-empty-arrays",
            SUITE,
            "Zero-element metadata values are omitted, not sent as []",
            ["DISC-004"],
            [],
            no_empty_arrays
        ),
        check!(
            "discovery.no-none-signing-alg",
            SUITE,
            "No *_signing_alg_values_supported list contains \"none\"",
            ["DISC-004"],
            [],
            no_none_alg
        ),
        check!(
            "discovery.agent-grants-listed",
            SUITE,
            "grant_types_supported lists client_credentials and the token-exchange grant",
            ["DISC-005"],
            [],
            agent_grants_listed
        ),
        check!(
            "discovery.asymmetric-client-auth",
            SUITE,
            "token_endpoint_auth_methods_supported offers an asymmetric method",
            ["DISC-006"],
            [],
            asymmetric_auth
        ),
        check!(
            "discovery.introspection-revocation-advertised",
            SUITE,
            "introspection_endpoint and revocation_endpoint are advertised",
            ["DISC-007"],
            [],
            intro_rev_advertised
        ),
        check!(
            "discovery.openid-configuration-consistent",
            SUITE,
            "OIDC discovery agrees with RFC 8414 metadata on issuer, token_endpoint and jwks_uri",
            ["DISC-010"],
            [OpenIdDiscovery],
            oidc_consistent
        ),
        check!("discovery.jwks-served", SUITE, "jwks_uri serves a JWK Set: a JSON object with a keys array", ["DISC-009"], [], jwks_served),
        check!("discovery.jwks-public-keys-only", SUITE, "The JWK Set holds no private key material", ["DISC-009"], [], jwks_public_only),
        check!("discovery.jwks-kids-unique", SUITE, "kid values in the JWK Set are present and unique", ["DISC-009"], [], jwks_kids_unique),
        check!(
            "discovery.endpoints-use-tls",
            SUITE,
            "Every advertised *_endpoint and jwks_uri is https (all-loopback http test deployments are not judged)",
            ["DISC-008"],
            [],
            endpoints_use_tls
        ),
    ]
}

/// Fetches the RFC 8414 document this check judges (recorded as its own evidence).
async fn fetch_metadata(ctx: &Ctx) -> anyhow::Result<(agentcert_engine::http::Response, Option<Map<String, Value>>)> {
    let resp = ctx.http.send(Request::get(rfc8414_url(ctx.issuer()))).await?;
    let doc = resp.json_object().ok();
    Ok((resp, doc))
}

/// The document as the run discovered it (RFC 8414 or, failing that, OIDC).
fn doc(ctx: &Ctx) -> &Map<String, Value> {
    &ctx.metadata().doc
}

/// RFC 8414 §3: the metadata is at the path-inserted well-known URL, 200, `application/json`,
/// a JSON object (§3.2).
async fn metadata_served(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (resp, doc) = fetch_metadata(&ctx).await?;
    let url = rfc8414_url(ctx.issuer());
    if resp.status != 200 {
        return Ok(Outcome::fail(format!("GET {url} answered HTTP {}, not 200", resp.status)));
    }
    if resp.content_type().as_deref() != Some("application/json") {
        return Ok(Outcome::fail(format!(
            "Content-Type is {:?}, not application/json (RFC 8414 §3.2)",
            resp.header("content-type").unwrap_or("absent")
        )));
    }
    Ok(Outcome::expect(doc.is_some(), format!("{url} serves a JSON object"), "the body is not a JSON object (RFC 8414 §3.2)"))
}

/// RFC 8414 §3.3: the `issuer` value MUST be identical to the issuer the URL was built from;
/// if not, the metadata MUST NOT be used. Code points, no normalization: a trailing slash
/// counts.
async fn issuer_identical(ctx: Ctx) -> anyhow::Result<Outcome> {
    let (_, fetched) = fetch_metadata(&ctx).await?;
    // When the RFC 8414 document is unusable the run fell back to OIDC discovery; judge that.
    let doc = fetched.as_ref().unwrap_or_else(|| doc(&ctx));
    let expected = ctx.issuer();
    Ok(match doc.get("issuer").and_then(Value::as_str) {
        Some(i) if i == expected => Outcome::pass(format!("issuer is exactly {expected}")),
        Some(i) => Outcome::fail(format!("metadata issuer {i:?} is not identical to {expected:?}")),
        None => Outcome::fail("metadata has no issuer member"),
    })
}

/// RFC 8414 §2: `issuer` and `token_endpoint` are REQUIRED (for the grants agents use), and
/// `response_types_supported` is REQUIRED as well; agentcert also requires `jwks_uri`, since an
/// agent-ready server signs tokens (OIDC Discovery §3 makes it REQUIRED for OPs). An M2M-only
/// server with no authorization endpoint has no response types to list: that omission is a
/// warning only (see the catalog's notes on RFC 8414 vs M2M servers).
async fn required_members(ctx: Ctx) -> anyhow::Result<Outcome> {
    let d = doc(&ctx);
    let missing: Vec<&str> = ["issuer", "token_endpoint", "jwks_uri"].into_iter().filter(|m| !d.contains_key(*m)).collect();
    if !missing.is_empty() {
        return Ok(Outcome::fail(format!("missing required members: {}", missing.join(", "))));
    }
    if !d.contains_key("response_types_supported") && d.contains_key("authorization_endpoint") {
        return Ok(Outcome::fail("response_types_supported is missing although an authorization_endpoint is advertised"));
    }
    Ok(Outcome::pass(if d.contains_key("response_types_supported") {
        "issuer, token_endpoint, jwks_uri and response_types_supported are present"
    } else {
        "issuer, token_endpoint and jwks_uri are present; response_types_supported is omitted, acceptable for a server with no authorization endpoint"
    }))
}

/// RFC 8414 §2: "Zero-element arrays ... are omitted", not sent as `[]`.
async fn no_empty_arrays(ctx: Ctx) -> anyhow::Result<Outcome> {
    let empty: Vec<String> = doc(&ctx).iter().filter(|(_, v)| v.as_array().is_some_and(Vec::is_empty)).map(|(k, _)| k.clone()).collect();
    Ok(Outcome::from_findings(empty.into_iter().map(|k| format!("{k} is an empty array")).collect(), "no empty arrays"))
}

/// RFC 8414 §2: the value "none" MUST NOT be used in the `*_auth_signing_alg_values_supported`
/// lists.
async fn no_none_alg(ctx: Ctx) -> anyhow::Result<Outcome> {
    let findings: Vec<String> = doc(&ctx)
        .iter()
        .filter(|(k, _)| k.ends_with("_signing_alg_values_supported") && k.contains("auth"))
        .filter(|(_, v)| v.as_array().is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case("none")))))
        .map(|(k, _)| format!("{k} lists \"none\""))
        .collect();
    Ok(Outcome::from_findings(findings, "no signing-algorithm list offers none"))
}

/// agentcert's profile on RFC 8414 §2: an agent-ready server lists the grants agents use.
/// When `grant_types_supported` is omitted its default is authorization_code and implicit,
/// which lists neither.
async fn agent_grants_listed(ctx: Ctx) -> anyhow::Result<Outcome> {
    let md = ctx.metadata();
    let missing: Vec<&str> =
        [GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE].into_iter().filter(|g| !md.lists("grant_types_supported", g)).collect();
    Ok(Outcome::expect(
        missing.is_empty(),
        "client_credentials and token exchange are both listed",
        format!("grant_types_supported does not list {}", missing.join(", ")),
    ))
}

/// RFC 9700 §2.5 recommends asymmetric client authentication; agentcert's profile requires a
/// server for agents to offer one (agents are workloads with keys, not people with passwords).
async fn asymmetric_auth(ctx: Ctx) -> anyhow::Result<Outcome> {
    let methods = ctx.metadata().list("token_endpoint_auth_methods_supported");
    let asym = ["private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"];
    Ok(Outcome::expect(
        methods.iter().any(|m| asym.contains(m)),
        format!("asymmetric methods offered: {}", methods.iter().filter(|m| asym.contains(m)).copied().collect::<Vec<_>>().join(", ")),
        format!("token_endpoint_auth_methods_supported offers only {methods:?} (omitted means client_secret_basic)"),
    ))
}

/// agentcert's profile on RFC 8414 §2: revocation that reaches every resource server needs
/// both endpoints, advertised so that resource servers and agents can find them.
async fn intro_rev_advertised(ctx: Ctx) -> anyhow::Result<Outcome> {
    let md = ctx.metadata();
    let missing: Vec<&str> = ["introspection_endpoint", "revocation_endpoint"].into_iter().filter(|m| md.str(m).is_none()).collect();
    Ok(Outcome::expect(
        missing.is_empty(),
        "both endpoints are advertised",
        format!("metadata does not advertise {}", missing.join(" or ")),
    ))
}

/// OIDC Discovery §4.3 and RFC 8414 §5: an OpenID Provider's two documents must agree.
async fn oidc_consistent(ctx: Ctx) -> anyhow::Result<Outcome> {
    let resp = ctx.http.send(Request::get(openid_configuration_url(ctx.issuer()))).await?;
    let oidc = resp.json_object()?;
    let (_, rfc) = fetch_metadata(&ctx).await?;
    let Some(rfc) = rfc else { return Ok(Outcome::skip("no RFC 8414 document to compare with")) };
    let mut findings = Vec::new();
    if oidc.get("issuer").and_then(Value::as_str) != Some(ctx.issuer()) {
        findings.push(format!("openid-configuration issuer {} is not {:?}", shown(oidc.get("issuer")), ctx.issuer()));
    }
    for m in ["issuer", "token_endpoint", "jwks_uri"] {
        if oidc.get(m) != rfc.get(m) {
            findings.push(format!(
                "{m} differs: {} in openid-configuration, {} in RFC 8414 metadata",
                shown(oidc.get(m)),
                shown(rfc.get(m))
            ));
        }
    }
    Ok(Outcome::from_findings(findings, "both documents agree"))
}

/// RFC 8414 §2 `jwks_uri` → a JWK Set document (RFC 7517 §5): a JSON object with `keys`.
async fn jwks_served(ctx: Ctx) -> anyhow::Result<Outcome> {
    let url = ctx.endpoint("jwks_uri")?;
    let resp = ctx.http.send(Request::get(&url)).await?;
    if resp.status != 200 {
        return Ok(Outcome::fail(format!("GET {url} answered HTTP {}", resp.status)));
    }
    Ok(match resp.json_object() {
        Ok(m) => match m.get("keys").and_then(Value::as_array) {
            Some(k) if !k.is_empty() => Outcome::pass(format!("{} key(s)", k.len())),
            Some(_) => Outcome::fail("the JWK Set has no keys"),
            None => Outcome::fail("the JWK Set has no keys array (RFC 7517 §5)"),
        },
        Err(e) => Outcome::fail(format!("{e:#}")),
    })
}

/// RFC 7517 §9.2 and RFC 7518 §6.2.2/§6.3.2: a published JWK Set carries public keys only;
/// private members (`d`, `p`, `q`, `dp`, `dq`, `qi`) or a symmetric `k` there leak a key.
async fn jwks_public_only(ctx: Ctx) -> anyhow::Result<Outcome> {
    let jwks = ctx.jwks().await?;
    let Some(keys) = jwks.get("keys").and_then(Value::as_array) else {
        return Ok(Outcome::fail("the JWK Set has no keys array (RFC 7517 §5): there are no keys to judge"));
    };
    let mut findings = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        for m in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            if k.get(m).is_some() {
                findings.push(format!("key {i} ({}) has private member `{m}`", k.get("kid").and_then(Value::as_str).unwrap_or("no kid")));
            }
        }
    }
    Ok(Outcome::from_findings(findings, "public keys only"))
}

/// RFC 7517 §4.5: `kid` selects the key; two keys with one `kid` make verification ambiguous,
/// and RFC 9068 §4 resource servers select by `kid`.
async fn jwks_kids_unique(ctx: Ctx) -> anyhow::Result<Outcome> {
    let jwks = ctx.jwks().await?;
    let Some(keys) = jwks.get("keys").and_then(Value::as_array) else {
        return Ok(Outcome::fail("the JWK Set has no keys array (RFC 7517 §5): no kid can be resolved"));
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut findings = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        match k.get("kid").and_then(Value::as_str) {
            None if keys.len() > 1 => findings.push(format!("key {i} has no kid, with {} keys in the set", keys.len())),
            Some(kid) if !seen.insert(kid.to_string()) => findings.push(format!("kid {kid:?} appears twice")),
            _ => {}
        }
    }
    Ok(Outcome::from_findings(findings, "every kid is unique"))
}

/// Where an advertised URL stands on TLS.
#[derive(Debug, PartialEq, Eq)]
enum Transport {
    Https,
    /// Plain http to 127.0.0.0/8, ::1 or localhost: a test deployment on this machine.
    LoopbackHttp,
    /// Anything else: plain http across a network, another scheme, or not a URL.
    Unprotected(String),
}

fn transport(url: &str) -> Transport {
    let Ok(parsed) = url::Url::parse(url) else { return Transport::Unprotected("not an absolute URL".into()) };
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match parsed.scheme() {
        "https" => Transport::Https,
        "http" if loopback => Transport::LoopbackHttp,
        "http" => Transport::Unprotected("plain http".into()),
        other => Transport::Unprotected(format!("scheme {other}")),
    }
}

/// RFC 6749 §3.1 and §3.2: the authorization server MUST require TLS at its endpoints (the
/// token endpoint carries credentials and tokens); RFC 8414 §2: jwks_uri "MUST use the https
/// scheme". Judges every `*_endpoint` member and `jwks_uri`. A deployment whose URLs are all
/// http on a loopback host is a test setup on this machine and is not judged (skip); a
/// single http URL on any other host fails, and so does loopback http mixed with https (a
/// production deployment with one endpoint left in the clear).
async fn endpoints_use_tls(ctx: Ctx) -> anyhow::Result<Outcome> {
    let urls: Vec<(&String, &str)> = doc(&ctx)
        .iter()
        .filter(|(k, _)| k.ends_with("_endpoint") || *k == "jwks_uri")
        .filter_map(|(k, v)| v.as_str().map(|u| (k, u)))
        .collect();
    if urls.is_empty() {
        return Ok(Outcome::fail("metadata advertises no endpoint URLs at all (see discovery.required-members)"));
    }
    let mut findings = Vec::new();
    let mut loopback = Vec::new();
    for (member, url) in &urls {
        match transport(url) {
            Transport::Https => {}
            Transport::LoopbackHttp => loopback.push(member.as_str()),
            Transport::Unprotected(why) => findings.push(format!("{member} is {url} ({why}, not https)")),
        }
    }
    if !findings.is_empty() {
        return Ok(Outcome::fail(findings.join("; ")));
    }
    if loopback.len() == urls.len() {
        return Ok(Outcome::skip(format!(
            "loopback test deployment: TLS not judged (all {} endpoint URLs are http on a loopback host)",
            urls.len()
        )));
    }
    if !loopback.is_empty() {
        return Ok(Outcome::fail(format!("{} use http on a loopback host while the others use https", loopback.join(", "))));
    }
    Ok(Outcome::pass(format!("all {} endpoint URLs are https", urls.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_transports() {
        assert_eq!(transport("https://as.example.com/token"), Transport::Https);
        for url in ["http://127.0.0.1:8080/token", "http://127.8.9.10/x", "http://[::1]:9000/jwks", "http://LOCALHOST/token"] {
            assert_eq!(transport(url), Transport::LoopbackHttp, "{url}");
        }
        for url in ["http://as.example.com/token", "http://10.0.0.1/token", "http://localhost.example.com/", "ftp://x/", "/token"] {
            assert!(matches!(transport(url), Transport::Unprotected(_)), "{url}");
        }
    }
}

/// A metadata member as a person reads it: its JSON, or "absent".
fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "absent".to_string(), Value::to_string)
}
