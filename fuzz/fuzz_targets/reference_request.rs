#![no_main]
//! `agentcert_reference::fuzzing::request`: one request, written like HTTP, through the
//! reference server's token, introspection and revocation handlers; seeds in
//! fuzz/corpus/reference_request.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = agentcert_reference::fuzzing::request(data);
});
