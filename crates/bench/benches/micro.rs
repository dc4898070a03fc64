//! Micro-benchmarks of the hot paths, each on a small generated fiscal year (criterion):
//! wire decoding, the canonical bytes and hash of a stored event, the complaint fold, judging
//! deadlines, business-day arithmetic, and the store's append and scan (in memory).
//! `cargo bench -p bench --bench micro`; `rongtook bench` gives the end-to-end figures.

use calendar::Calendar;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use event_model::{
    format_instant, parse_wire_event, to_wire_json, CanonicalFields, Hash, NewEvent,
};
use projections::{ComplaintFold, DeadlineRules};

fn year(complaints: u64) -> Vec<NewEvent> {
    generator::Generator::new(
        generator::GenConfig {
            fiscal_year: calendar::FiscalYear::from_ce(2024),
            complaints,
            seed: 1,
        },
        Calendar::builtin(),
    )
    .collect()
}

fn at() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap()
}

fn micro(c: &mut Criterion) {
    let events = year(2_000);
    let n = events.len() as u64;
    let wire: Vec<String> = events.iter().map(to_wire_json).collect();
    let cal = Calendar::builtin();
    let rules = DeadlineRules::default();
    let mut store = event_store_open::in_memory().unwrap();
    store.append(&events, at()).unwrap();
    let mut recorded = Vec::new();
    store.scan(0, &mut |e| recorded.push(e)).unwrap();

    let mut g = c.benchmark_group("events");
    g.throughput(Throughput::Elements(n));
    g.bench_function("wire_parse", |b| {
        b.iter(|| {
            for w in &wire {
                std::hint::black_box(parse_wire_event(w).unwrap());
            }
        })
    });
    g.bench_function("canonical_hash", |b| {
        let mut scratch = Vec::with_capacity(1024);
        b.iter(|| {
            let mut prev = Hash::GENESIS;
            for (i, e) in events.iter().enumerate() {
                let data = e.data.to_canonical_json();
                let occurred = format_instant(&e.occurred_at);
                prev = CanonicalFields {
                    position: i as u64 + 1,
                    id: &e.id,
                    stream: &e.stream,
                    version: 1,
                    event_type: e.event_type().as_str(),
                    occurred_at: &occurred,
                    occurred_after: None,
                    recorded_at: "2026-01-01T00:00:00Z",
                    actor: &e.actor,
                    schema_version: 1,
                    data: &data,
                }
                .chain_hash(&prev, &mut scratch);
            }
            prev
        })
    });
    g.bench_function("fold_apply", |b| {
        b.iter_batched(
            || recorded.clone(),
            |evs| {
                let mut fold = ComplaintFold::new(at());
                evs.into_iter().for_each(|e| fold.apply(e));
                fold
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("store_append_in_memory", |b| {
        b.iter_batched(
            || event_store_open::in_memory().unwrap(),
            |mut s| s.append(&events, at()).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("store_scan_in_memory", |b| {
        b.iter(|| {
            let mut k = 0u64;
            store.scan(0, &mut |e| k += e.version).unwrap();
            k
        })
    });
    g.finish();

    let mut fold = ComplaintFold::new(at());
    recorded.iter().cloned().for_each(|e| fold.apply(e));
    let mut g = c.benchmark_group("complaints");
    g.throughput(Throughput::Elements(fold.len() as u64));
    g.bench_function("judge_views", |b| b.iter(|| fold.views(&cal, &rules)));
    let views = fold.views(&cal, &rules);
    let spec = indicators::builtin("bma-complaint-3step").unwrap();
    g.bench_function("evaluate_3step", |b| {
        b.iter(|| {
            indicators::evaluate(
                &spec,
                &views,
                fold.monthly_reports(),
                calendar::FiscalYear::from_ce(2024),
                at(),
                indicators::Provenance {
                    log_head_position: 0,
                    log_head_hash: String::new(),
                    calendar_version: String::new(),
                },
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("calendar");
    let day = chrono::NaiveDate::from_ymd_opt(2024, 4, 11).unwrap();
    g.bench_function("nth_business_day_after", |b| {
        b.iter(|| cal.nth_business_day_after(std::hint::black_box(day), 3))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = micro
}
criterion_main!(benches);
