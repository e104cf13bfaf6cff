//! A check's evidence: its HTTP exchanges, folded in a `<details>` element so a table of a
//! hundred checks stays readable and a click opens one. Everything here came from (or went
//! to) the server under test and was redacted by the engine; it is escaped like any other
//! hostile text. JSON bodies are pretty-printed, which is the one liberty taken with them.

use super::esc;
use agentcert_engine::evidence::Exchange;
use agentcert_engine::results::CheckResult;
use std::fmt::Write;

pub(super) fn details(out: &mut String, c: &CheckResult) {
    if c.evidence.is_empty() {
        out.push_str("<span class=\"note\">no HTTP exchanges</span>");
        return;
    }
    let n = c.evidence.len();
    let _ = write!(out, "<details class=\"evidence\"><summary>{n} HTTP exchange{}</summary>", if n == 1 { "" } else { "s" });
    for x in &c.evidence {
        exchange(out, x);
    }
    out.push_str("</details>");
}

fn exchange(out: &mut String, x: &Exchange) {
    let outcome = match (x.status, &x.transport_error) {
        (Some(s), _) => format!("<b>{s}</b>"),
        (None, Some(e)) => format!("no response: {}", esc(e)),
        (None, None) => "no response".into(),
    };
    let _ = write!(
        out,
        "<div class=\"exchange\"><p class=\"line mono\"><b>{}</b> {} → {outcome} <span class=\"note\">{} ms</span></p>",
        esc(&x.method),
        esc(&x.url),
        x.elapsed_ms
    );
    let _ = write!(out, "<pre class=\"request\">{}</pre>", esc(&message(&x.request_headers, x.request_body.as_deref())));
    if x.status.is_some() {
        let _ = write!(out, "<pre class=\"response\">{}</pre>", esc(&message(&x.response_headers, x.response_body.as_deref())));
    }
    out.push_str("</div>");
}

/// Headers, a blank line, the body: the shape of an HTTP message.
fn message(headers: &[(String, String)], body: Option<&str>) -> String {
    let mut s: String = headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    if let Some(b) = body.filter(|b| !b.is_empty()) {
        s.push('\n');
        s.push_str(&pretty(b));
    }
    if s.is_empty() {
        s.push_str("(no headers, no body)");
    }
    s
}

fn pretty(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            serde_json::to_string_pretty(&v).unwrap_or_else(|_| body.into())
        }
        _ => body.into(),
    }
}
