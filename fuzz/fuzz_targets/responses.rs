#![no_main]
//! `agentcert_engine::fuzzing::responses`; seeds in fuzz/corpus/responses.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| agentcert_engine::fuzzing::responses(data));
