//! report.html's contract: its structure (snapshot of an outline, not the bytes), its
//! self-containment, and its escaping of hostile server text.

use super::*;
use crate::series::LoadSeries;
use agentcert_engine::{Catalog, Level, Requirement, Tier};

/// Headings, sections, articles, tables with their row counts, check rows with their verdict
/// and whether they carry evidence, plots: the page's shape, one line each.
fn outline(html: &str) -> String {
    let mut out = String::new();
    let mut rows: Option<(String, usize)> = None;
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/').collect();
        let attr = |a: &str| tag.split(&format!(" {a}=\"")).nth(1).and_then(|v| v.split('"').next()).unwrap_or("").to_string();
        match name.as_str() {
            "h1" | "h2" | "h3" => {
                let close = format!("</{name}>");
                let inner = &rest[end + 1..rest.find(&close).unwrap()];
                let text: String = inner.split('<').map(|p| p.split_once('>').map_or(p, |(_, t)| t)).collect::<Vec<_>>().join(" ");
                out.push_str(&format!("{name} {}\n", text.split_whitespace().collect::<Vec<_>>().join(" ")));
            }
            "section" | "article" => out.push_str(&format!("{name} #{}\n", attr("id"))),
            "svg" => out.push_str(&format!("  svg #{}\n", attr("id"))),
            "table" => {
                rows = Some((
                    format!(
                        "{}{}",
                        attr("class"),
                        Some(attr("id")).filter(|i| !i.is_empty()).map(|i| format!(" #{i}")).unwrap_or_default()
                    ),
                    0,
                ))
            }
            "tr" => {
                if let Some((_, n)) = rows.as_mut() {
                    *n += 1;
                }
                if attr("class").starts_with("check") {
                    let cell_end = rest.find("</tr>").unwrap();
                    let evidence = if rest[..cell_end].contains("<details class=\"evidence\">") { " evidence" } else { "" };
                    out.push_str(&format!("  tr #{} {}{evidence}\n", attr("id"), attr("data-verdict")));
                }
            }
            "/table" => {
                let (t, n) = rows.take().unwrap();
                out.push_str(&format!("table.{t}: {n} rows\n"));
            }
            "p" | "ul" if !attr("id").is_empty() => out.push_str(&format!("{name} #{}\n", attr("id"))),
            _ => {}
        }
        rest = &rest[end.min(rest.len())..];
    }
    out
}

fn catalog() -> Catalog {
    let r = |id: &str, spec: &str, section: &str| Requirement {
        id: id.into(),
        spec: spec.into(),
        section: section.into(),
        level: Level::Must,
        tier: Tier::Core,
        text: format!("text of {id}"),
        basis: None,
        excluded: None,
    };
    let reqs = [r("rev-unknown-200", "RFC 7009", "2.2"), r("agent-exchange-aud", "draft-oauth-ai-agents-on-behalf-of-user", "3.1")];
    Catalog { requirements: reqs.into_iter().map(|r| (r.id.clone(), r)).collect() }
}

#[test]
fn html_outline_snapshot() {
    let cat = catalog();
    let ctx = ReportContext { catalog: Some(&cat), revoke_within: Some(std::time::Duration::from_secs(5)) };
    let mut series = BTreeMap::new();
    series.insert("revocation".to_string(), crate::series::parse(include_str!("../../testdata/revocation.hlog").as_bytes()).unwrap());
    insta::assert_snapshot!(outline(&render(&crate::sample::with_load(), &ctx, &series)));
}

#[test]
fn is_self_contained_and_its_csp_hashes_match() {
    let html = html_report(&crate::sample::with_load(), &ReportContext::default());
    for needle in ["src=", "<link", "@import", "url(", "<iframe", "<img", "<object"] {
        assert!(!html.contains(needle), "{needle} in the report");
    }
    // The only absolute URLs are the target's own (as text) and rfc-editor.org links.
    for href in html.split("href=\"").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(href.starts_with('#') || href.starts_with("https://www.rfc-editor.org/rfc/rfc"), "{href}");
    }
    let between = |open: &str, close: &str| html.split(open).nth(1).unwrap().split(close).next().unwrap().to_string();
    let csp = between("Content-Security-Policy\" content=\"", "\"");
    assert!(csp.starts_with("default-src 'none'; "), "{csp}");
    assert!(csp.contains(&csp_hash(&between("<style>", "</style>"))), "style hash");
    assert!(csp.contains(&csp_hash(&between("<script>", "</script>"))), "script hash");
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("style=\""), "inline style attributes would need 'unsafe-inline'");
}

#[test]
fn hostile_server_text_is_escaped() {
    let mut r = crate::sample::results();
    let evil = "</td></tr></table><script>alert(1)</script><a href=\"javascript:x\">&amp;'\u{0}\u{1b}";
    r.target.name = evil.into();
    r.checks[1].reason = evil.into();
    r.checks[1].evidence[0].response_body = Some(evil.into());
    r.checks[1].evidence[0].url = evil.into();
    r.checks[1].evidence[0].response_headers.push((evil.into(), evil.into()));
    r.checks[1].id = evil.into();
    r.checks[1].suite = evil.into();
    let html = html_report(&r, &ReportContext::default());
    assert_eq!(html.matches("<script").count(), 1, "only the report's own script");
    assert!(!html.contains("alert(1)</script>") && !html.contains("href=\"javascript"));
    assert!(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains('\u{0}') && !html.contains('\u{1b}'));
    assert_eq!(html.matches("<tr class=\"check").count(), r.checks.len());
}

#[test]
fn links_rfc_sections_only() {
    use checks::spec_link;
    assert_eq!(spec_link("RFC 7009", "2.2").as_deref(), Some("https://www.rfc-editor.org/rfc/rfc7009#section-2.2"));
    assert_eq!(spec_link("RFC 7515", "Appendix F").as_deref(), Some("https://www.rfc-editor.org/rfc/rfc7515#appendix-F"));
    assert_eq!(spec_link("RFC 8693", "A.1").as_deref(), Some("https://www.rfc-editor.org/rfc/rfc8693#appendix-A.1"));
    assert_eq!(spec_link("RFC 6749", "-").as_deref(), Some("https://www.rfc-editor.org/rfc/rfc6749"));
    assert_eq!(spec_link("RFC 6749", "Obtaining").as_deref(), Some("https://www.rfc-editor.org/rfc/rfc6749"));
    assert_eq!(spec_link("draft-ietf-oauth-rfc7523bis", "3"), None);
    assert_eq!(spec_link("RFC x\"><script>", "1"), None);
    assert_eq!(spec_link("PROFILE", "1"), None);
}

#[test]
fn requirement_texts_come_from_the_catalog() {
    let cat = catalog();
    let html = html_report(&crate::sample::results(), &ReportContext { catalog: Some(&cat), revoke_within: None });
    assert!(html.contains("<span class=\"rtext\">text of rev-unknown-200</span>"));
    assert!(html.contains("<span class=\"cite\">agentcert §3.1</span>"), "drafts are not linked");
    assert!(html.contains("(not in this build's requirement catalog)"));
    let bare = html_report(&crate::sample::results(), &ReportContext::default());
    assert!(bare.contains("<a href=\"https://www.rfc-editor.org/rfc/rfc7009#section-2.2\" rel=\"noreferrer\">RFC 7009 §2.2</a>"));
}

#[test]
fn plots_fall_back_to_summary_percentiles() {
    let html = html_report(&crate::sample::with_load(), &ReportContext::default());
    assert!(html.contains("interval log not found"));
    assert!(html.contains("was not supplied to this report"));
    assert!(!html.contains("plot-issuance-throughput"), "no throughput without the log");
    let with = render(
        &crate::sample::with_load(),
        &ReportContext::default(),
        &[(
            "issuance".to_string(),
            LoadSeries {
                distribution: vec![(0.0, 1.0), (0.5, 2.0), (1.0, 3.0)],
                intervals: vec![(0.0, 1.0, 50), (1.0, 1.0, 49), (2.0, 0.1, 1)],
            },
        )]
        .into(),
    );
    assert!(with.contains("id=\"plot-issuance-throughput\""));
}
