#![no_main]
//! `agentcert_engine::fuzzing::redaction`; seeds in fuzz/corpus/redact.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| agentcert_engine::fuzzing::redaction(data));
