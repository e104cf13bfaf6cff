//! In-memory state: issued access tokens (by `jti`) with their exchange lineage,
//! and the client-assertion `jti`s already seen (RFC 7523 §3 item 7).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// What the server remembers about one access token it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub client_id: String,
    pub sub: String,
    pub scope: Vec<String>,
    pub aud: Vec<String>,
    pub exp: u64,
    /// Store keys of the subject / actor tokens this one was exchanged from.
    pub parents: Vec<String>,
    pub revoked: bool,
}

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, TokenRecord>,
    /// parent key → keys of tokens exchanged from it (the cascade edges).
    children: HashMap<String, Vec<String>>,
    /// (client_id, assertion jti) → the time after which it may be forgotten.
    assertions: HashMap<(String, String), u64>,
    /// When assertions were last pruned (at most once a second).
    assertions_pruned: u64,
    inserts: u64,
    /// key → when it was revoked (for the `introspect-revocation-lag` fault).
    revoked_at: HashMap<String, std::time::Instant>,
}

/// Thread-safe store; the lock is never held across an `.await`.
#[derive(Default)]
pub struct Store {
    inner: Mutex<Inner>,
}

/// How long after `exp` an expired token's record is kept before pruning.
const KEEP_EXPIRED_SECS: u64 = 3600;

impl Store {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means another request panicked; the maps stay usable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records an issued token under `key` (its `jti`). Refuses (false, nothing recorded) when
    /// a token it derives from has been revoked: the exchange checked its subject before the
    /// revocation, but the cascade ran before this insert and could not see the new token.
    /// Checking and inserting under one lock makes revoke-then-exchange linearizable: either
    /// the token is recorded before the cascade (which then revokes it) or not at all.
    #[must_use]
    pub fn insert(&self, key: String, record: TokenRecord, now: u64) -> bool {
        let mut inner = self.lock();
        if record.parents.iter().any(|p| inner.tokens.get(p).is_some_and(|r| r.revoked)) {
            return false;
        }
        for parent in &record.parents {
            inner.children.entry(parent.clone()).or_default().push(key.clone());
        }
        inner.tokens.insert(key, record);
        inner.inserts += 1;
        if inner.inserts % 1024 == 0 {
            inner.prune(now);
        }
        true
    }

    pub fn get(&self, key: &str) -> Option<TokenRecord> {
        self.lock().tokens.get(key).cloned()
    }

    /// Revokes `key` and, when `cascade`, every token exchanged from it, transitively
    /// (RFC 7009 §2.1: "other tokens based on the same authorization grant").
    /// Returns the keys of the tokens that went from active to revoked, `key` first.
    pub fn revoke(&self, key: &str, cascade: bool) -> Vec<String> {
        let mut inner = self.lock();
        let mut pending = vec![key.to_string()];
        let mut revoked = Vec::new();
        while let Some(next) = pending.pop() {
            match inner.tokens.get_mut(&next) {
                Some(record) if !record.revoked => {
                    record.revoked = true;
                    revoked.push(next.clone());
                }
                _ => continue,
            }
            inner.revoked_at.insert(next.clone(), std::time::Instant::now());
            if cascade {
                pending.extend(inner.children.get(&next).cloned().unwrap_or_default());
            }
        }
        revoked
    }

    /// How long ago `key` was revoked, if it was.
    pub fn revoked_for(&self, key: &str) -> Option<std::time::Duration> {
        self.lock().revoked_at.get(key).map(std::time::Instant::elapsed)
    }

    /// Remembers a client assertion's `jti` until `forget_after`; false when it was
    /// already seen (a replay).
    pub fn first_use_of_assertion(&self, client_id: &str, jti: &str, forget_after: u64, now: u64) -> bool {
        let mut inner = self.lock();
        if inner.assertions_pruned < now {
            inner.assertions.retain(|_, until| *until >= now);
            inner.assertions_pruned = now;
        }
        inner.assertions.insert((client_id.to_string(), jti.to_string()), forget_after).is_none()
    }
}

impl Inner {
    /// Forgets tokens expired for over an hour: they are inactive whatever else is true.
    fn prune(&mut self, now: u64) {
        self.tokens.retain(|_, record| record.exp.saturating_add(KEEP_EXPIRED_SECS) >= now);
        let tokens = &self.tokens;
        self.children.retain(|parent, _| tokens.contains_key(parent));
        self.revoked_at.retain(|key, _| tokens.contains_key(key));
    }
}
