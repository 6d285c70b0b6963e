#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    access_undenied_fuzz::policy_parser(data);
});
