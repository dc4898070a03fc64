#![no_main]

use tests::surfaces::Shape;

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::surfaces::traffy(Shape::ScrapedCards, data));
