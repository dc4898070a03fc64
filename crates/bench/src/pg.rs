//! `rongtook bench --db postgres://…`: the PostgreSQL backend's figures, each next to a plain
//! loop on the same server in the same run: appends through the library (as `rongtook append`
//! does) and over HTTP at 64 clients next to multi-row INSERTs of the same rows, the replay
//! next to a plain ordered SELECT that parses each row, and three servers on one log next to
//! one.

use std::process::ExitCode;
use std::time::Instant;

use event_model::NewEvent;
use event_store::{Durability, PlainRow};
use event_store_open::postgres_baseline::{
    create_database, drop_database, plain_insert, plain_scan,
};
use event_store_open::Location;

use crate::load::{serve_and_load, LoadArgs, LoadRun};
use crate::measure::{fmt_rate, plain_rows, rate, BenchArgs};
use crate::{ensure, generator, now, BenchError, Result};

/// The run's scratch databases, dropped at the end unless kept.
struct Scratch<'a> {
    uri: &'a str,
    keep: bool,
    created: Vec<String>,
}

impl Scratch<'_> {
    fn fresh(&mut self, what: &str) -> Result<String> {
        let name = format!("rongtook_bench_{what}_{}", std::process::id());
        drop_database(self.uri, &name)?;
        let uri = create_database(self.uri, &name)?;
        self.created.push(name);
        Ok(uri)
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        if !self.keep {
            for name in &self.created {
                if let Err(e) = drop_database(self.uri, name) {
                    eprintln!("could not drop scratch database {name}: {e}");
                }
            }
        }
    }
}

pub fn run(args: &BenchArgs, uri: &str) -> Result<ExitCode> {
    let mut scratch = Scratch {
        uri,
        keep: args.keep,
        created: Vec::new(),
    };
    println!(
        "rongtook bench --db {}: {} complaints, FY {}, seed {}; {} cores; PostgreSQL on the same machine",
        Location::Postgres(uri.to_string()),
        args.complaints,
        args.fiscal_year,
        args.seed,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let t = Instant::now();
    let events: Vec<NewEvent> = generator(&args.fiscal_year, args.complaints, args.seed)?.collect();
    let n = events.len() as u64;
    println!("generate          {n} events in {:.2?}", t.elapsed());

    // Appends through the library, next to multi-row INSERTs of the same rows.
    let rows = plain_rows(&events);
    let plain_uri = scratch.fresh("plain")?;
    let (plain_t, plain_n) = plain_insert(
        &plain_uri,
        events.iter().enumerate().map(|(i, e)| PlainRow {
            id: &rows.ids[i],
            stream: &e.stream,
            version: rows.versions[i],
            event_type: e.event_type().as_str(),
            occurred_at: &rows.occurred[i],
            actor: &e.actor,
            data: &rows.data[i],
        }),
    )?;
    drop(rows);
    let ours_uri = scratch.fresh("ours")?;
    let mut store =
        event_store_open::open(&Location::Postgres(ours_uri.clone()), Durability::Full)?;
    let t = Instant::now();
    let r = store
        .append_iter(&mut events.iter().cloned().map(Ok), now())
        .map_err(|e| BenchError::new(e.to_string()))?;
    let ours_t = t.elapsed();
    ensure!(r.appended == n, "appended {} of {n}", r.appended);
    let plain_rate = rate(plain_n, plain_t);
    println!(
        "append            plain multi-row INSERT {} ({plain_t:.2?}) | rongtook {} ({ours_t:.2?}) | ratio {:.2}x",
        fmt_rate(plain_rate),
        fmt_rate(rate(n, ours_t)),
        plain_t.as_secs_f64() / ours_t.as_secs_f64()
    );
    drop(events);

    // The replay: scan, fold, deadlines judged, next to a plain SELECT that parses each row.
    let (ps, pn) = plain_scan(&plain_uri)?;
    let fy = crate::fiscal_year_arg(&args.fiscal_year)?;
    crate::measure::replay_judged(&*store, fy, (pn, ps))?;
    let t = Instant::now();
    let verified = store.verify()?;
    ensure!(verified.first_bad.is_none(), "the chain does not verify");
    println!(
        "verify            {} events in {:.2?} ({})",
        verified.events,
        t.elapsed(),
        fmt_rate(rate(verified.events, t.elapsed()))
    );
    drop(store);

    // Over HTTP at 64 clients, one server, then three servers on one log.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let load = |requests: usize, batch: usize| LoadArgs {
        clients: vec![64],
        requests,
        batch,
        max_seconds: 120,
        dir: None,
        soak: None,
        rate: 0,
        without: vec![],
    };
    let show = |label: &str, r: &LoadRun| {
        println!(
            "{label} {} events in {:.2?} = {:.0} events/s, ratio {:.2}x of the plain loop; latency p50 {:.2?} p99 {:.2?}; every acknowledged event in the log, chain verified",
            r.acked,
            r.elapsed,
            r.events_per_second(),
            r.events_per_second() / plain_rate,
            r.percentile(0.50),
            r.percentile(0.99)
        );
    };
    let mut one = None;
    for (what, requests, batch) in [
        ("http1", 20_000, 1),
        ("http50", 2_000, 50),
        ("http500", 256, 500),
    ] {
        let db = Location::Postgres(scratch.fresh(what)?);
        let r = serve_and_load(&rt, &load(requests, batch), 64, &db, 1)?;
        show(
            &format!("http 64 clients, batches of {batch:>2}, 1 server: "),
            &r,
        );
        if batch == 1 {
            one = Some(r);
        }
    }
    let db = Location::Postgres(scratch.fresh("http3")?);
    let three = serve_and_load(&rt, &load(20_000, 1), 64, &db, 3)?;
    show("http 64 clients, batches of   1, 3 servers:", &three);
    if let Some(one) = one {
        println!(
            "three servers     {:.0} events/s against one server's {:.0}: {:.2}x (one machine, {} cores, one database: appends are serial on its head row)",
            three.events_per_second(),
            one.events_per_second(),
            three.events_per_second() / one.events_per_second(),
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
        );
    }
    Ok(ExitCode::SUCCESS)
}
