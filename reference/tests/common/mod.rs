//! Helpers shared by the integration tests: start a server from the fixture roster,
//! sign client assertions, call the endpoints.
#![allow(dead_code)]

use std::path::PathBuf;

use agentcert_reference::{Config, Fault, RunningServer};
use axum::routing::get;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{json, Value};

pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

pub fn roster() -> Config {
    let dir = fixtures().join("reference");
    Config::from_toml(&std::fs::read_to_string(dir.join("server.toml")).unwrap(), &dir).unwrap()
}

pub async fn start(faults: &[Fault]) -> Server {
    let mut config = roster();
    config.faults = faults.to_vec();
    start_with(config).await
}

pub async fn start_with(config: Config) -> Server {
    let server = agentcert_reference::start(config).await.unwrap();
    Server { http: reqwest::Client::new(), server }
}

pub struct Server {
    pub http: reqwest::Client,
    pub server: RunningServer,
}

/// A parsed response: status, headers, JSON body (Null when not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("<none>")
    }
    pub fn token(&self) -> String {
        assert_eq!(self.status, 200, "expected a token, got {}", self.text);
        self.body["access_token"].as_str().unwrap().to_string()
    }
}

/// How a test client authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Basic(&'a str, &'a str),
    Post(&'a str, &'a str),
    /// private_key_jwt with the fixture key of this client.
    Jwt(&'a str),
    None,
}

pub fn agent_a() -> Auth<'static> {
    Auth::Jwt("agent-a")
}
pub fn agent_b() -> Auth<'static> {
    Auth::Basic("agent-b", "agent-b-secret-5b1d")
}
pub fn agent_x() -> Auth<'static> {
    Auth::Post("agent-x", "agent-x-secret-93ce")
}
pub fn resource_server() -> Auth<'static> {
    Auth::Basic("resource-server", "rs-secret-0c7a")
}

impl Server {
    pub fn issuer(&self) -> &str {
        &self.server.issuer
    }

    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.server.issuer)
    }

    pub async fn get(&self, url: &str) -> Reply {
        reply(self.http.get(url).send().await.unwrap()).await
    }

    /// POSTs form parameters to `{issuer}/{endpoint}` with the given client authentication.
    pub async fn post(&self, endpoint: &str, auth: Auth<'_>, params: &[(&str, &str)]) -> Reply {
        let mut params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut request = self.http.post(self.url(endpoint));
        match auth {
            Auth::Basic(id, secret) => request = request.basic_auth(id, Some(secret)),
            Auth::Post(id, secret) => {
                params.push(("client_id".into(), id.into()));
                params.push(("client_secret".into(), secret.into()));
            }
            Auth::Jwt(id) => {
                params.push(("client_assertion_type".into(), JWT_BEARER.into()));
                params.push(("client_assertion".into(), self.assertion(id, json!({}))));
            }
            Auth::None => {}
        }
        let body = serde_urlencoded(&params);
        let response = request.header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
        reply(response).await
    }

    /// POSTs a raw body with a given content type and optional Authorization header.
    pub async fn post_raw(&self, endpoint: &str, content_type: &str, authorization: Option<String>, body: String) -> Reply {
        let mut request = self.http.post(self.url(endpoint)).header("content-type", content_type).body(body);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        reply(request.send().await.unwrap()).await
    }

    /// A client assertion for `client_id` signed ES256 with its fixture key; `overrides`
    /// replace or (when null) remove claims.
    pub fn assertion(&self, client_id: &str, overrides: Value) -> String {
        let now = now();
        let mut claims = json!({
            "iss": client_id, "sub": client_id, "aud": self.url("token"),
            "exp": now + 60, "iat": now, "jti": random(),
        });
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        let pem = std::fs::read(fixtures().join(format!("keys/{client_id}.key.pem"))).unwrap();
        let key = EncodingKey::from_ec_pem(&pem).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key).unwrap()
    }

    pub async fn client_credentials(&self, auth: Auth<'_>, extra: &[(&str, &str)]) -> Reply {
        let mut params = vec![("grant_type", "client_credentials")];
        params.extend_from_slice(extra);
        self.post("token", auth, &params).await
    }

    /// A token of agent-a's addressed to agent-b (`aud` agent-b), so that agent-b may exchange
    /// or introspect it. RFC 8707 `resource` must be an absolute URI, so a client id can only
    /// be named as an RFC 8693 `audience`: agent-a exchanges its own token for one.
    pub async fn token_for_agent_b(&self) -> String {
        let own = self.client_credentials(agent_a(), &[]).await.token();
        self.exchange(agent_a(), &own, &[("audience", "agent-b")]).await.token()
    }

    pub async fn exchange(&self, auth: Auth<'_>, subject: &str, extra: &[(&str, &str)]) -> Reply {
        let mut params = vec![("grant_type", TOKEN_EXCHANGE), ("subject_token", subject), ("subject_token_type", ACCESS_TOKEN_TYPE)];
        params.extend_from_slice(extra);
        self.post("token", auth, &params).await
    }

    pub async fn introspect(&self, auth: Auth<'_>, token: &str) -> Reply {
        self.post("introspect", auth, &[("token", token)]).await
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

pub fn serde_urlencoded(params: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish()
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

pub fn random() -> String {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The (unverified) header and claims of a JWT.
pub fn decode(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut part = || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    (part(), part())
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// A minimal external issuer serving the home-issuer fixture key as a JWK Set.
pub async fn home_issuer() -> (String, tokio::task::JoinHandle<()>) {
    let pem = std::fs::read(fixtures().join("keys/home-issuer.pub.pem")).unwrap();
    let point = DecodingKey::from_ec_pem(&pem).unwrap().as_bytes().to_vec();
    let jwks = json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "kid": "home-1", "alg": "ES256", "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    }]});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/jwks", get(move || async move { axum::Json(jwks) }));
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (issuer, task)
}

pub fn sign(key_file: &str, claims: Value) -> String {
    let pem = std::fs::read(fixtures().join(format!("keys/{key_file}"))).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("home-1".into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(&pem).unwrap()).unwrap()
}

/// A server (with `faults`) that trusts a fresh home issuer; returns the issuer URL too.
pub async fn start_trusting_home(faults: &[Fault]) -> (Server, String, tokio::task::JoinHandle<()>) {
    let (home, task) = home_issuer().await;
    let mut config = roster();
    config.faults = faults.to_vec();
    config.trusted_issuers.push(agentcert_reference::TrustedIssuer { issuer: home.clone(), jwks_uri: format!("{home}/jwks") });
    (start_with(config).await, home, task)
}

/// A home-issuer token for user alice, meant for `server`, `may_act` agent-a; `extra` overrides.
pub fn alice(home: &str, server: &Server, extra: Value) -> Value {
    let mut claims = json!({ "iss": home, "sub": "alice", "aud": server.issuer(), "exp": now() + 300,
        "scope": "calendar.read calendar.write", "may_act": { "sub": "agent-a" } });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

/// A partner organization for jwt-bearer grants: a JWK Set it can rotate, and a count of
/// how often the server fetched it. It signs with `partner.key.pem` (kid `partner-1`), and
/// after [`Partner::rotate`] with `home-issuer.key.pem` (kid `partner-2`).
pub struct Partner {
    pub issuer: String,
    jwks: std::sync::Arc<std::sync::RwLock<Value>>,
    fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    rotated: std::sync::atomic::AtomicBool,
    _task: tokio::task::JoinHandle<()>,
}

/// The public JWK of a fixture key file.
fn fixture_jwk(key_file: &str, kid: &str) -> Value {
    let pem = std::fs::read(fixtures().join(format!("keys/{key_file}"))).unwrap();
    let point = DecodingKey::from_ec_pem(&pem).unwrap().as_bytes().to_vec();
    json!({ "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..]) })
}

pub async fn partner() -> Partner {
    use std::sync::{atomic::AtomicUsize, Arc, RwLock};
    let jwks = Arc::new(RwLock::new(json!({ "keys": [fixture_jwk("partner.pub.pem", "partner-1")] })));
    let fetches = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let (served, counter) = (jwks.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/jwks",
        get(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = served.read().unwrap().clone();
            async move { axum::Json(body) }
        }),
    );
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Partner { issuer, jwks, fetches, rotated: Default::default(), _task: task }
}

impl Partner {
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.issuer)
    }

    /// How many times the JWK Set was fetched.
    pub fn fetches(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Publishes the second key next to the first and signs with it from now on.
    pub fn rotate(&self) {
        let keys = json!({ "keys": [fixture_jwk("home-issuer.pub.pem", "partner-2"), fixture_jwk("partner.pub.pem", "partner-1")] });
        *self.jwks.write().unwrap() = keys;
        self.rotated.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// RFC 7523 §3 claims about partner-agent-7 for `server`; `overrides` replace or (null) remove.
    pub fn claims(&self, server: &Server, overrides: Value) -> Value {
        let now = now();
        let mut claims = json!({ "iss": self.issuer, "sub": "partner-agent-7", "aud": server.issuer(),
            "iat": now, "exp": now + 300, "jti": random() });
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    /// A signed assertion with the current key.
    pub fn assertion(&self, server: &Server, overrides: Value) -> String {
        let (file, kid) = if self.rotated.load(std::sync::atomic::Ordering::SeqCst) {
            ("home-issuer.key.pem", "partner-2")
        } else {
            ("partner.key.pem", "partner-1")
        };
        let pem = std::fs::read(fixtures().join(format!("keys/{file}"))).unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &self.claims(server, overrides), &EncodingKey::from_ec_pem(&pem).unwrap()).unwrap()
    }
}

/// A server (with `faults`) that trusts a fresh partner for jwt-bearer grants of calendar.read.
pub async fn start_trusting_partner(faults: &[Fault]) -> (Server, Partner) {
    let partner = partner().await;
    let mut config = roster();
    config.faults = faults.to_vec();
    config.trusted_partners.push(agentcert_reference::TrustedPartner {
        issuer: partner.issuer.clone(),
        jwks_uri: partner.jwks_uri(),
        subjects_scope: "calendar.read".into(),
    });
    (start_with(config).await, partner)
}

impl Server {
    /// A jwt-bearer grant request (RFC 7523 §2.1) presenting `assertion`.
    pub async fn jwt_bearer(&self, auth: Auth<'_>, assertion: &str, extra: &[(&str, &str)]) -> Reply {
        let mut params = vec![("grant_type", JWT_BEARER_GRANT), ("assertion", assertion)];
        params.extend_from_slice(extra);
        self.post("token", auth, &params).await
    }
}

/// An unsecured JWT (`alg` none, RFC 7519 §6).
pub fn unsecured(claims: &Value) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(claims))
}

/// An HS256 JWT whose MAC key is the PEM text of the partner's public key (RFC 8725 §2.1).
pub fn hs256_with_partner_pem(claims: &Value) -> String {
    let pem = std::fs::read(fixtures().join("keys/partner.pub.pem")).unwrap();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("partner-1".into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&pem)).unwrap()
}
