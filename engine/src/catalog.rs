//! The requirement model. The catalog's data lives in `agentcert-suites` (requirements.toml);
//! the engine only knows its shape, so the runner can tell a MUST from a SHOULD.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The BCP 14 strength of a requirement (RFC 2119, RFC 8174), or `Profile` for agentcert's
/// own rule for an agent-ready server, derived from weaker source text that its basis names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    May,
    Should,
    Profile,
    Must,
}

impl Level {
    /// A missed MUST or PROFILE rule fails a check; a missed SHOULD or MAY only warns.
    pub fn failing_is_fatal(self) -> bool {
        matches!(self, Level::Must | Level::Profile)
    }
}

/// Which servers a requirement applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Every agent-ready authorization server.
    Core,
    /// Applies when a precondition holds (the server issues JWT access tokens, say).
    Conditional,
    /// An optional profile, on when its capability is declared.
    Optional,
}

/// One testable rule, with the spec section it comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    /// e.g. "RFC 7009".
    pub spec: String,
    /// e.g. "2.2".
    pub section: String,
    pub level: Level,
    pub tier: Tier,
    /// One line, in the catalog's own (paraphrased) words.
    pub text: String,
    /// For PROFILE rules: the source text they are derived from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    /// For a requirement no check covers yet: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded: Option<String>,
}

impl Requirement {
    /// "RFC 7009 §2.2", the way reports cite it.
    pub fn citation(&self) -> String {
        format!("{} §{}", self.spec, self.section)
    }
}

/// The requirement catalog, keyed by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub requirements: BTreeMap<String, Requirement>,
}

impl Catalog {
    pub fn from_toml(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct File {
            requirement: Vec<Requirement>,
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut requirements = BTreeMap::new();
        for r in file.requirement {
            if let Some(dup) = requirements.insert(r.id.clone(), r) {
                return Err(format!("requirement {} is listed twice", dup.id));
            }
        }
        Ok(Catalog { requirements })
    }

    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.requirements.get(id)
    }

    /// The strongest level among the cited requirements: a check that cites one MUST fails
    /// when it fails, even if it also cites a SHOULD.
    pub fn level_of(&self, ids: &[&str]) -> Level {
        ids.iter().filter_map(|id| self.get(id)).map(|r| r.level).max().unwrap_or(Level::Must)
    }
}
