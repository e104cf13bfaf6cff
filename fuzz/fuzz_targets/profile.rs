#![no_main]
//! `agentcert_engine::fuzzing::profile`; seeds in fuzz/corpus/profile.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| agentcert_engine::fuzzing::profile(data));
