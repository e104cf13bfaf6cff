#![no_main]
//! `agentcert_engine::fuzzing::catalog`; seeds in fuzz/corpus/catalog.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| agentcert_engine::fuzzing::catalog(data));
