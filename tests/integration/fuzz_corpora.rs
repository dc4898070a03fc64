//! The fuzz corpora (`tests/fuzz/corpus/<target>/`), replayed through the same functions the
//! fuzz targets call: every input the fuzzer kept, and every input that once failed
//! (`crash-*`, kept as regressions), must pass without a panic.

use std::path::PathBuf;

use tests::surfaces::{self, Shape, TARGETS};
use tests::workspace_root;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = workspace_root().join("tests/fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_kept_fuzz_input_passes_its_surface() {
    let mut counts = Vec::new();
    for (target, run) in TARGETS {
        let files = corpus(target);
        assert!(!files.is_empty(), "{target}: the corpus is empty");
        for f in &files {
            let data = std::fs::read(f).unwrap();
            if let Err(panic) = std::panic::catch_unwind(|| run(&data)) {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("{target}: {} fails: {why}", f.display());
            }
        }
        counts.push(format!("{target} {}", files.len()));
    }
    eprintln!("{}", counts.join(", "));
}

/// The seeds of the Traffy shapes read as their shape, with tickets: the envelope a target
/// wraps around its input is right, so the fuzzer works on that shape's records.
#[test]
fn the_traffy_seeds_are_read_as_their_shape() {
    let shapes = [
        ("traffy_csv_export", Shape::CsvExport, "CSV export"),
        ("traffy_api_csv", Shape::ApiCsv, "API records (CSV)"),
        ("traffy_web_scrape", Shape::WebScrape, "web scrape (CSV)"),
        ("traffy_xlsx", Shape::Xlsx, "spreadsheet"),
        (
            "traffy_search_json",
            Shape::SearchJson,
            "API search page (JSON)",
        ),
        ("traffy_geojson", Shape::GeoJson, "GeoJSON"),
        (
            "traffy_scraped_cards",
            Shape::ScrapedCards,
            "scraped cards (JSON)",
        ),
        (
            "traffy_archive",
            Shape::Archive,
            "snapshot archive (tar.zst)",
        ),
    ];
    for (target, shape, name) in shapes {
        let seeds: Vec<_> = corpus(target)
            .into_iter()
            .filter(|f| {
                f.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("seed-")
            })
            .collect();
        assert!(!seeds.is_empty(), "{target}: no seed");
        for f in seeds {
            let file = surfaces::traffy_file(shape, &std::fs::read(&f).unwrap());
            let mut records = 0;
            let info = traffy::read(&file, &traffy::ReadOptions::default(), &mut |r| {
                records += r.is_ok() as usize
            })
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert_eq!(info.shape.as_str(), name, "{}", f.display());
            assert!(records > 0, "{}: no record read", f.display());
        }
    }
}

/// Every fuzz target is one of the surfaces the suite replays, and calls it: the targets and
/// the replay cannot drift apart.
#[test]
fn every_fuzz_target_is_a_replayed_surface() {
    let fuzz = workspace_root().join("tests/fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    let mut bins: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "rongtook-fuzz")
        .collect();
    bins.sort();
    let mut surfaces: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    surfaces.sort();
    assert_eq!(bins, surfaces);
    for name in bins {
        let source = std::fs::read_to_string(fuzz.join(format!("fuzz_targets/{name}.rs"))).unwrap();
        assert!(
            source.contains("tests::surfaces::"),
            "{name}: a fuzz target only calls its surface in tests::surfaces"
        );
    }
}
