//! What the renderers need besides `results.json`. The requirement texts live in the suites'
//! catalog and the revocation bound in the target profile; neither is in the result document,
//! and the reports crate may not depend on the suites, so the caller hands them in. Every
//! field is optional: a report rendered from a bare results.json says what it is missing
//! instead of failing.

use agentcert_engine::Catalog;
use std::time::Duration;

#[derive(Debug, Clone, Copy, Default)]
pub struct ReportContext<'a> {
    /// The requirement catalog, for the requirement texts and levels in report.html.
    pub catalog: Option<&'a Catalog>,
    /// The profile's `timing.revoke_within`, drawn on the revocation-latency CDF.
    pub revoke_within: Option<Duration>,
}
