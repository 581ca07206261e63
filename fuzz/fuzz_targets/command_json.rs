#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| reception_fuzz::command_json(data));
