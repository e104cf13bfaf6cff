//! `results.json`: the run's result document as serde writes it. The shape is owned by
//! `agentcert_engine::results`; this module only fixes the formatting (pretty, trailing
//! newline, so the file diffs cleanly) and checks in tests that docs/results-schema.json
//! still describes it.

use agentcert_engine::results::RunResults;
use std::path::Path;

/// The document as written to `results.json`.
pub fn to_json(results: &RunResults) -> serde_json::Result<String> {
    let mut s = serde_json::to_string_pretty(results)?;
    s.push('\n');
    Ok(s)
}

/// Writes `results.json` to `path` (its directory must exist; [`crate::write_all`] makes it).
pub fn write_json(results: &RunResults, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, to_json(results).map_err(std::io::Error::other)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_snapshot() {
        insta::assert_snapshot!(to_json(&crate::sample::results()).unwrap());
    }

    #[test]
    fn round_trips() {
        let r = crate::sample::results();
        let back: RunResults = serde_json::from_str(&to_json(&r).unwrap()).unwrap();
        assert_eq!(to_json(&back).unwrap(), to_json(&r).unwrap());
    }

    /// docs/results-schema.json, made strict for this test: every object that lists its
    /// properties also rejects others, so a field added to the engine's types without being
    /// documented fails here. (The published schema stays open, so consumers keep working
    /// when a minor version adds a field.)
    fn strict_schema() -> serde_json::Value {
        fn close(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::Object(m) => {
                    if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                        m.insert("additionalProperties".into(), false.into());
                    }
                    m.values_mut().for_each(close);
                }
                serde_json::Value::Array(a) => a.iter_mut().for_each(close),
                _ => {}
            }
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/results-schema.json");
        let mut schema = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        close(&mut schema);
        schema
    }

    fn errors(instance: &serde_json::Value) -> Vec<String> {
        let schema = strict_schema();
        let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    #[test]
    fn output_matches_the_schema() {
        let mut r = crate::sample::with_load();
        let full: serde_json::Value = serde_json::from_str(&to_json(&r).unwrap()).unwrap();
        assert_eq!(errors(&full), Vec::<String>::new());
        // And with every optional field absent.
        r.target.metadata_url = None;
        r.checks.iter_mut().for_each(|c| c.baseline = None);
        for l in &mut r.load {
            (l.target_rate, l.goose_report_file, l.token_volume, l.capacity, l.worker) = (None, None, None, None, None);
            l.thresholds.clear();
        }
        let bare: serde_json::Value = serde_json::from_str(&to_json(&r).unwrap()).unwrap();
        assert_eq!(errors(&bare), Vec::<String>::new());
    }

    #[test]
    fn schema_rejects_drift() {
        let good: serde_json::Value = serde_json::from_str(&to_json(&crate::sample::with_load()).unwrap()).unwrap();
        let broken = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            f(&mut v);
            !errors(&v).is_empty()
        };
        assert!(broken(&|v| v["checks"][0]["verdict"] = "passed".into()));
        assert!(broken(&|v| v["checks"][0]["level"] = "must".into()));
        assert!(broken(&|v| v["checks"][0]["surprise"] = 1.into()));
        assert!(broken(&|v| {
            v["summary"].as_object_mut().unwrap().remove("skip");
        }));
        assert!(broken(&|v| v["checks"][1]["evidence"][0]["request_headers"][0] = serde_json::json!(["a"])));
        assert!(broken(&|v| v["started_at"] = "yesterday".into()));
        assert!(broken(&|v| v["load"][0]["model"] = "poisson".into()));
        assert!(broken(&|v| v["load"][0]["latency_ms"]["p99"] = "fast".into()));
        assert!(broken(&|v| {
            v["load"][0].as_object_mut().unwrap().remove("histogram_file");
        }));
        assert!(broken(&|v| v["load"][3]["capacity"]["steps"][0]["surprise"] = 1.into()));
    }
}
