use super::*;

fn pair() -> (RunResults, RunResults) {
    let old = crate::sample::with_load();
    let mut new = old.clone();
    new.started_at = "2025-01-03T03:04:05Z".into();
    new.checks[0].verdict = Verdict::Fail; // pass → fail
    new.checks[0].reason = "now it fails".into();
    new.checks[6].verdict = Verdict::Pass; // error → pass
    new.checks[2].verdict = Verdict::Skip; // warn → skip
    new.checks.remove(9); // gone
    let mut added = new.checks[1].clone();
    added.id = "revocation.brand-new".into(); // new and failing
    new.checks.push(added);
    for (i, verdict) in [Verdict::Pass, Verdict::Pass, Verdict::Skip].into_iter().enumerate() {
        let mut c = new.checks[0].clone();
        (c.id, c.verdict) = (format!("revocation.also-new-{i}"), verdict);
        new.checks.push(c);
    }
    new.load[0].latency_ms.p99 = 200.0; // +133%
    new.load[0].latency_ms.p50 = 3.6; // +2%: within tolerance
    new.load[1].achieved_rate = 8.0; // -20%
    new.load[2].latency_ms.p99 = 1.5; // +36%, but under the 1 ms floor
    new.load[2].errors = 3; // 1% errors
    new.load[3].capacity.as_mut().unwrap().rate = Some(300.0); // -25%
    (old, new)
}

#[test]
fn classifies_changes() {
    let (old, new) = pair();
    let d = diff("old.json", &old, "new.json", &new, Tolerances::default());
    let regressed: Vec<&str> = d.checks.iter().filter(|c| c.regression).map(|c| c.id.as_str()).collect();
    assert_eq!(regressed, ["revocation.revoked-token-is-inactive", "revocation.brand-new"]);
    let load: Vec<(&str, &str, bool)> = d.load.iter().map(|l| (l.scenario.as_str(), l.metric, l.regression)).collect();
    assert_eq!(
        load,
        [
            ("issuance", "p99", true),
            ("revocation", "achieved rate", true),
            ("population", "error ratio", true),
            ("exchange", "capacity", true)
        ]
    );
    assert_eq!(d.regressions(), 6);
    assert_eq!(d.exit_code(), 1);
    assert!(d.checks.iter().any(|c| c.id == "introspection.jwt-typ" && c.new.is_none() && !c.regression));
    let same = diff("a", &old, "b", &old, Tolerances::default());
    assert_eq!((same.exit_code(), same.checks.len(), same.load.len()), (0, 0, 0));
    assert_eq!(same.load_steady, ["issuance", "revocation", "population", "exchange"]);
}

#[test]
fn tolerances_are_configurable() {
    let (old, mut new) = pair();
    new.checks = old.checks.clone();
    new.load[2].errors = 0;
    new.load[3].capacity = old.load[3].capacity.clone();
    let loose = Tolerances { latency: 2.0, rate: 0.25, ..Tolerances::default() };
    assert_eq!(diff("a", &old, "b", &new, loose).exit_code(), 0);
    assert_eq!(parse_percent("10%"), Ok(0.1));
    assert_eq!(parse_percent(" 2.5 % "), Ok(0.025));
    assert_eq!(parse_percent("7"), Ok(0.07));
    assert!(parse_percent("fast").is_err() && parse_percent("-1%").is_err() && parse_percent("NaN").is_err());
}

#[test]
fn diff_text_snapshot() {
    let (old, new) = pair();
    insta::assert_snapshot!(render_text(&diff("old/results.json", &old, "new/results.json", &new, Tolerances::default())));
}

#[test]
fn diff_markdown_snapshot() {
    let (old, new) = pair();
    insta::assert_snapshot!(render_markdown(&diff("old/results.json", &old, "new/results.json", &new, Tolerances::default())));
}

#[test]
fn unreadable_input_is_a_one_line_error() {
    let dir = std::env::temp_dir().join(format!("agentcert-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"schema_version\": 1").unwrap();
    for path in [dir.join("missing.json"), bad.clone(), dir.clone()] {
        let e = read_results(&path).unwrap_err();
        assert!(!e.contains('\n'), "{e}");
    }
    std::fs::write(&bad, crate::to_json(&crate::sample::results()).unwrap().replace("\"1.0\"", "\"2.0\"")).unwrap();
    assert!(read_results(&bad).unwrap_err().contains("reads 1.x"));
    std::fs::remove_dir_all(dir).unwrap();
}

/// A run that quietly stops making a check (or a whole suite) must not pass a gate.
#[test]
fn a_gone_check_that_was_made_is_a_regression() {
    let old = crate::sample::with_load();
    let mut new = old.clone();
    let made = new.checks.iter().position(|c| c.verdict == Verdict::Pass).unwrap();
    let id = new.checks.remove(made).id;
    let d = diff("old.json", &old, "new.json", &new, Tolerances::default());
    let gone = d.checks.iter().find(|c| c.id == id).unwrap();
    assert!(gone.new.is_none() && gone.regression, "{gone:?}");
    assert_eq!(d.exit_code(), 1);
}
