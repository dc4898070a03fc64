#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::surfaces::indicator_spec(data));
