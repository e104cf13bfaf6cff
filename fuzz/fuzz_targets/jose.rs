#![no_main]
//! `agentcert_engine::fuzzing::jose_parsing`; seeds in fuzz/corpus/jose.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| agentcert_engine::fuzzing::jose_parsing(data));
