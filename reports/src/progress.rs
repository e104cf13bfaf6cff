//! Live progress on stderr while checks run (stdout is left to the summary, so
//! `agentcert run > report.txt` still shows progress). On a terminal: one status line rewritten
//! in place. Elsewhere (CI): nothing per check except the failures, as they happen, so logs
//! stay short and the interesting lines are not lost in hundreds of passes.

use crate::text::{label, one_line, paint, Paint, Shown};
use agentcert_engine::runner::Event;
use std::io::Write;

const CLEAR: &str = "\r\x1b[2K";

/// Consumes runner events and draws them. Pass `interactive` only when stderr is a TTY.
#[derive(Debug)]
pub struct Progress {
    color: bool,
    interactive: bool,
    /// Columns available; the status line must never wrap or `\r` stops erasing it.
    width: usize,
    /// A status line is on screen and must be cleared before anything else is printed.
    status_shown: bool,
}

impl Progress {
    pub fn new(color: bool, interactive: bool) -> Self {
        let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|&w: &usize| w >= 20).unwrap_or(80);
        Progress { color, interactive, width, status_shown: false }
    }

    pub fn on_event(&mut self, e: &Event<'_>) {
        let text = self.render(e);
        if !text.is_empty() {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            let _ = err.flush();
        }
    }

    /// What `on_event` writes, separated out so it can be tested.
    fn render(&mut self, e: &Event<'_>) -> String {
        let mut out = String::new();
        if self.status_shown {
            out.push_str(CLEAR);
            self.status_shown = false;
        }
        match e {
            Event::Discovered { metadata_url, capabilities } => {
                let names = |on: bool| {
                    let v: Vec<_> = capabilities.iter().filter(|(_, e)| *e == on).map(|(c, _)| c.name()).collect();
                    if v.is_empty() {
                        "none".to_string()
                    } else {
                        v.join(", ")
                    }
                };
                out.push_str(&format!("agentcert: metadata {metadata_url}\n"));
                let off = paint(self.color, Paint::Dim, &format!("; off: {}", names(false)));
                out.push_str(&format!("agentcert: capabilities {}{off}\n", names(true)));
            }
            Event::CheckStarted { check, index, total } if self.interactive => {
                let status = format!("[{}/{total}] {} ...", index + 1, check.id);
                out.push_str(&one_line(&status, self.width - 1));
                self.status_shown = true;
            }
            Event::CheckStarted { .. } => {}
            Event::CheckFinished { result, .. } => {
                let shown = Shown::of(result);
                if matches!(shown, Shown::Fail | Shown::Error | Shown::Stale | Shown::Expected) {
                    let marker = match shown {
                        Shown::Expected => " (expected by baseline)",
                        Shown::Stale => " (stale baseline)",
                        _ => "",
                    };
                    let head = format!("{} {}{marker}: ", label(result.verdict).trim_end(), result.id);
                    let room = if self.interactive { self.width.saturating_sub(head.chars().count() + 1).max(20) } else { 300 };
                    let reason = one_line(&result.reason, room);
                    out.push_str(&format!("{}{reason}\n", paint(self.color, shown.paint(), &head)));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentcert_engine::{Capability, Check};

    fn check(id: &'static str) -> Check {
        Check { id, suite: "revocation", title: "t", requirements: &["r"], needs: &[], run: |_| Box::pin(async { unreachable!() }) }
    }

    #[test]
    fn interactive_rewrites_one_line_and_keeps_failures() {
        let r = crate::sample::results();
        let mut p = Progress::new(false, true);
        p.width = 80;
        let c = check("revocation.unknown-token-gets-200");
        let started = p.render(&Event::CheckStarted { check: &c, index: 11, total: 48 });
        assert_eq!(started, "[12/48] revocation.unknown-token-gets-200 ...");
        let done = p.render(&Event::CheckFinished { result: &r.checks[1], index: 11, total: 48 });
        assert!(done.starts_with(&format!("{CLEAR}FAIL revocation.unknown-token-gets-200: expected 200")), "{done:?}");
        assert!(done.ends_with('\n') && done.lines().count() == 1);
        // A passing check clears its status line and prints nothing else.
        p.render(&Event::CheckStarted { check: &c, index: 12, total: 48 });
        assert_eq!(p.render(&Event::CheckFinished { result: &r.checks[0], index: 12, total: 48 }), CLEAR);
    }

    #[test]
    fn ci_prints_only_failures() {
        let r = crate::sample::results();
        let mut p = Progress::new(false, false);
        let c = check("revocation.x");
        let mut all = p.render(&Event::Discovered {
            metadata_url: "https://as.example.com/.well-known/oauth-authorization-server",
            capabilities: vec![(Capability::Revocation, true), (Capability::TokenExchange, false)],
        });
        for (index, result) in r.checks.iter().enumerate() {
            all.push_str(&p.render(&Event::CheckStarted { check: &c, index, total: r.checks.len() }));
            all.push_str(&p.render(&Event::CheckFinished { result, index, total: r.checks.len() }));
        }
        assert!(!all.contains('\r') && !all.contains('\x1b'));
        insta::assert_snapshot!(all);
    }
}
