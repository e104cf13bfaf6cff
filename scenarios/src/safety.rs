//! What agentcert will load. A load test is, to anyone on the receiving end, indistinguishable
//! from an attack; so it goes only to the target in the profile, only to loopback unless the
//! operator says otherwise with `--allow-remote`, and every run is bounded (see
//! [`crate::pace`] for the limits). The checks here run before any request is sent.

use url::{Host, Url};

/// Whether `host` is this machine: 127.0.0.0/8, ::1 (or its IPv4-mapped form), `localhost`.
pub fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Refuses a target that is not on loopback, unless `allow_remote`.
pub fn check_target(issuer: &str, allow_remote: bool) -> Result<(), String> {
    let url = Url::parse(issuer).map_err(|e| format!("target issuer `{issuer}` is not a URL: {e}"))?;
    let host = url.host().ok_or_else(|| format!("target issuer `{issuer}` has no host"))?;
    if !allow_remote && !is_loopback(&host) {
        return Err(format!(
            "refusing to load {host}: it is not a loopback address; load only servers you operate, and pass --allow-remote to confirm"
        ));
    }
    Ok(())
}

/// Refuses an endpoint (from the target's metadata) on another host than the issuer: the
/// metadata must not be able to point the load somewhere else.
pub fn check_endpoint(issuer: &str, member: &str, endpoint: &str) -> Result<(), String> {
    let host = |u: &str| Url::parse(u).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match (host(issuer), host(endpoint)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        _ => Err(format!("refusing to load {member} {endpoint}: it is not on the target's host ({issuer})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_without_allow_remote() {
        for ok in ["http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:3000/tenant", "http://[::1]:9000", "http://api.localhost"]
        {
            check_target(ok, false).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for remote in ["https://auth.example.com", "http://10.0.0.1", "http://[2001:db8::1]", "http://localhost.example.com"] {
            let e = check_target(remote, false).unwrap_err();
            assert!(e.contains("--allow-remote") && !e.contains('\n'), "{remote}: {e}");
            check_target(remote, true).unwrap();
        }
    }

    #[test]
    fn endpoints_stay_on_the_targets_host() {
        check_endpoint("http://127.0.0.1:1", "token_endpoint", "http://127.0.0.1:1/token").unwrap();
        check_endpoint("http://LOCALHOST:1", "token_endpoint", "http://localhost:2/token").unwrap();
        let e = check_endpoint("http://127.0.0.1:1", "revocation_endpoint", "https://elsewhere.example/revoke").unwrap_err();
        assert!(e.contains("revocation_endpoint"), "{e}");
    }
}
