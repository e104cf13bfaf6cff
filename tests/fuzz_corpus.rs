//! The fuzz targets in the normal test suite, no nightly needed: every committed corpus file
//! (`fuzz/corpus/TARGET/*`) replayed through the same entry functions cargo-fuzz calls, then a
//! short randomized run per target (a seeded mutator over the corpus, ~3 s). `cargo xtask fuzz`
//! runs the real fuzzer for longer. Every crash a fuzzer found is a corpus file named
//! `crash-*` and a named regression test below.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus");

fn reference_request(data: &[u8]) {
    let _ = agentcert_reference::fuzzing::request(data);
}

/// Every target: the engine's, and the reference server's request handling.
fn targets() -> Vec<agentcert_engine::fuzzing::Target> {
    let mut t = agentcert_engine::fuzzing::TARGETS.to_vec();
    t.push(("reference_request", reference_request));
    t
}

fn target(name: &str) -> fn(&[u8]) {
    targets().into_iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no fuzz target {name}")).1
}

fn corpus(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(CORPUS).join(name);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no seeds", dir.display());
    files
}

fn replay(name: &str, file: &str) {
    let path = Path::new(CORPUS).join(name).join(file);
    target(name)(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
}

#[test]
fn every_corpus_file_replays_without_a_panic() {
    for (name, run) in targets() {
        for (path, data) in corpus(name) {
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                panic!("{name}: {} panics", path.display());
            }
        }
    }
}

#[test]
fn every_target_has_a_corpus_and_the_corpus_dirs_name_targets() {
    let names: Vec<&str> = targets().iter().map(|(n, _)| *n).collect();
    for entry in std::fs::read_dir(CORPUS).unwrap().flatten() {
        let dir = entry.file_name().to_string_lossy().into_owned();
        assert!(names.contains(&dir.as_str()), "fuzz/corpus/{dir} is no target's ({names:?})");
    }
    for name in names {
        corpus(name);
        let fuzz_target = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets").join(format!("{name}.rs"));
        assert!(fuzz_target.exists(), "no cargo-fuzz target {}", fuzz_target.display());
    }
}

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Fragments that matter to these parsers: JOSE and JSON punctuation, form and HTTP syntax,
/// multi-byte UTF-8 (to cut inside a character), the markers of the reference target.
const DICTIONARY: &[&str] = &[
    ".",
    "..",
    "\"",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "=",
    "&",
    "%",
    "%2",
    "%zz",
    "+",
    "\n",
    "\n\n",
    "\r\n",
    " ",
    "\\",
    "\\u0000",
    "é",
    "€",
    "😀",
    "\u{0}",
    "eyJ",
    "eyJhbGciOiJub25lIn0",
    "e30",
    "null",
    "true",
    "-1",
    "1e999",
    "18446744073709551616",
    "Basic ",
    "Bearer ",
    "authorization: ",
    "content-type: application/x-www-form-urlencoded\n",
    "token=",
    "client_secret=",
    "client_assertion=",
    "$TOKEN_B",
    "$ASSERTION_A",
    "\"keys\":",
    "\"kid\":",
    "\"alg\":\"ES256\"",
    "\"d\":\"",
    "fuzz-planted-secret-4d1e",
    "[target]",
    "[limits]",
    "timeout = \"",
    "issuer = \"",
    "\"\"\"",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[(PathBuf, Vec<u8>)]) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                input.insert(i, rng.next() as u8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64)) + 1;
                input.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(256)) + 1;
                let copy = input[i..i + n].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, copy);
            }
            4 => {
                let other = &corpus[rng.below(corpus.len())].1;
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let n = rng.below(other.len() - i) + 1;
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[i..i + n].iter().copied());
                }
            }
            5 if len > 0 => input.truncate(rng.below(len)),
            _ => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                let at = rng.below(len + 1);
                input.splice(at..at, word.iter().copied());
            }
        }
    }
    input.truncate(64 * 1024);
}

/// Mutates the corpus for `budget`, feeding every input to the target; on a panic, writes the
/// input beside the build's target dir and fails with its name and bytes.
fn random_run(name: &str, budget: Duration) {
    let run = target(name);
    let corpus = corpus(name);
    let seed = 0x5eed_0000_0000_0000u64 ^ name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let mut inputs = 0u64;
    let mut crash = None;
    while started.elapsed() < budget {
        let mut input = corpus[rng.below(corpus.len())].1.clone();
        mutate(&mut rng, &mut input, &corpus);
        inputs += 1;
        if let Err(p) = std::panic::catch_unwind(|| run(&input)) {
            let message =
                p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            crash = Some((input, message));
            break;
        }
    }
    if let Some((input, message)) = crash {
        let path = std::env::temp_dir().join(format!("agentcert-fuzz-crash-{name}-{seed:x}-{inputs}"));
        std::fs::write(&path, &input).unwrap();
        panic!(
            "{name}: input {inputs} (seed {seed:#x}) panics: {message}\nsaved as {}; add it to fuzz/corpus/{name}/crash-… with a named test\ninput: {:?}",
            path.display(),
            String::from_utf8_lossy(&input)
        );
    }
    eprintln!("{name}: {inputs} random inputs in {:?}, no panic", started.elapsed());
}

const BUDGET: Duration = Duration::from_secs(3);

#[test]
fn random_jose() {
    random_run("jose", BUDGET);
}

#[test]
fn random_redact() {
    random_run("redact", BUDGET);
}

#[test]
fn random_responses() {
    random_run("responses", BUDGET);
}

#[test]
fn random_profile() {
    random_run("profile", BUDGET);
}

#[test]
fn random_catalog() {
    random_run("catalog", BUDGET);
}

#[test]
fn random_reference_request() {
    random_run("reference_request", BUDGET);
}

// ---- Regressions: each crash found, by the random run or by replaying the seeds. -------------

/// Found replaying the seeds: a body that is not really a form (`Authorization: Bearer <jwt>`)
/// parses as one long parameter name, and names were not redacted.
#[test]
fn regression_form_parameter_names_are_redacted() {
    replay("redact", "crash-form-key-holds-token");
}

/// Found by the random run: whatever stands where an `Authorization` scheme should was kept
/// as it was, a secret or a bare token included.
#[test]
fn regression_authorization_scheme_is_redacted() {
    replay("redact", "crash-authorization-scheme-is-a-secret");
}

/// `Authorization: " é x"`: the scheme was sliced off the untrimmed value, at a byte offset
/// inside a multi-byte character (a panic, not just a leak).
#[test]
fn regression_authorization_with_leading_space_and_multibyte_scheme() {
    replay("redact", "crash-authorization-not-on-char-boundary");
}

/// Found by the random run: a JSON escape (`"\fuzz-…"`, form feed then `uzz-…`) spells the
/// secret in the printed body though no decoded string holds it.
#[test]
fn regression_json_escape_that_spells_a_secret() {
    replay("redact", "crash-json-escape-spells-secret");
}

/// A token that ends a sentence (`… <jwt>. Then …`) is a four-segment dotted run; only runs
/// of exactly three segments were recognised, so it went through whole.
#[test]
fn regression_token_ending_a_sentence_is_redacted() {
    replay("redact", "crash-token-ends-a-sentence");
}

/// A token's summary printed its claims as they were: a secret in them, or a whole token
/// nested in them, came out.
#[test]
fn regression_secret_and_token_nested_in_claims() {
    replay("redact", "crash-secret-and-token-in-claims");
}

/// JSON member names were not redacted, only values.
#[test]
fn regression_secret_as_a_json_member_name() {
    replay("redact", "crash-secret-in-json-member-name");
}
