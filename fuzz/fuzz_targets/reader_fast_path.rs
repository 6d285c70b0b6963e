#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    access_undenied_fuzz::reader_fast_path(data);
});
