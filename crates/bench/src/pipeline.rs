//! `rongtook bench`: end-to-end figures on a generated fiscal year, each next to the plain
//! SQLite yardstick measured in the same run.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use crate::http::request;
use crate::sqlite;
use crate::{ensure, BenchError, Context, Result};
use calendar::Calendar;
use event_model::{to_wire_json, NewEvent};
use event_store::Durability;
use event_store_open::sqlite_baseline::{plain_insert, plain_scan, PlainRow};
use projections::{overdue, ComplaintFold, DeadlineRules};

use crate::measure::{fmt_rate, plain_rows, rate, replay_judged, BenchArgs, Rows};
use crate::{generator, now};

/// `--spec ID` for every built-in indicator.
fn builtin_spec_args() -> Vec<String> {
    indicators::BUILTIN
        .iter()
        .flat_map(|(id, _)| ["--spec".to_string(), id.to_string()])
        .collect()
}

/// The replay command on a log, in its own process: wall time and peak RSS.
fn replay_child(
    db: &Path,
    fiscal_year: &str,
    out: &Path,
    extra: &[String],
) -> Result<(Duration, String)> {
    let t = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .args(["replay", "--db"])
        .arg(db)
        .args(["--fiscal-year", fiscal_year, "--out"])
        .arg(out)
        .args(extra)
        .env("RONGTOOK_REPORT_PEAK_RSS", "1")
        .output()?;
    let wall = t.elapsed();
    ensure!(
        child.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&child.stderr)
    );
    let stderr = String::from_utf8_lossy(&child.stderr);
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_bytes="))
        .unwrap_or("unknown");
    let peak_mib = peak
        .parse::<f64>()
        .map(|b| format!("{:.0} MiB", b / 1048576.0))
        .unwrap_or(peak.to_string());
    Ok((wall, peak_mib))
}

/// The end of a run: the process's peak memory (with `why` it is what it is), and the scratch
/// folder removed unless it is kept.
fn finish(args: &BenchArgs, dir: &Path, why: &str) {
    println!(
        "bench process     peak RSS {:.0} MiB{why}",
        peak_rss_bytes().unwrap_or(0) as f64 / 1048576.0
    );
    if !args.keep {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// One GET over a fresh loopback connection; returns the status and the body length.
fn get(addr: std::net::SocketAddr, path: &str) -> Result<(u16, usize)> {
    let (status, body) = request(addr, "GET", path, None, "")?;
    Ok((status, body.len()))
}

/// `bench --dashboard`: the pages of a generated year, served on loopback.
fn dashboard(args: &BenchArgs, dir: &Path) -> Result<ExitCode> {
    let db = fresh_db(dir, "dashboard.db");
    println!(
        "rongtook bench --dashboard: {} complaints, FY {}, seed {}",
        args.complaints, args.fiscal_year, args.seed
    );
    generate_into(&db, args)?;
    let token = {
        let store = event_store_open::open(&sqlite(&db), Durability::Full)?;
        http_api::issue_token(&*store, "admin", None, "bench", now())
            .map_err(|e| BenchError::new(format!("{e:?}")))?
            .1
    };
    let t = Instant::now();
    let (state, writer) = http_api::AppState::start(
        sqlite(&db),
        Durability::Full,
        Calendar::builtin(),
        DeadlineRules::default(),
    )?;
    println!(
        "server start      live projections folded in {:.2?}",
        t.elapsed()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(http_api::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let fy = crate::fiscal_year_arg(&args.fiscal_year)?.be();
    let pages = [
        ("overview", format!("/dashboard?fy={fy}")),
        ("overview (en)", format!("/dashboard?fy={fy}&lang=en")),
        (
            "league table",
            format!("/dashboard/league?fy={fy}&spec=bma-timeliness"),
        ),
        (
            "unit",
            format!("/dashboard/units/district:bang-rak?fy={fy}"),
        ),
    ];
    let outcome = time_pages(addr, &pages, args.requests)
        .and_then(|()| freshness(addr, &token, fy, args.requests.max(20) * 4));
    let _ = stop.send(());
    rt.block_on(server)??;
    drop(rt);
    let _ = writer.join();
    finish(args, dir, "");
    outcome?;
    Ok(ExitCode::SUCCESS)
}

/// `bench --start`: `serve`'s start on the generated year, cold and from a snapshot.
fn start(args: &BenchArgs, dir: &Path) -> Result<ExitCode> {
    println!(
        "rongtook bench --start: {} complaints, FY {}, seed {}",
        args.complaints, args.fiscal_year, args.seed
    );
    let db = dir.join("start.db");
    if db.exists() {
        println!(
            "log               {} (kept from an earlier run)",
            db.display()
        );
    } else {
        generate_into(&db, args)?;
    }
    let snaps = dir.join("start.snapshots");
    let _ = std::fs::remove_dir_all(&snaps);
    let options = || http_api::StartOptions {
        read_db: None,
        snapshots: Some(http_api::SnapshotConfig {
            dir: snaps.clone(),
            // Only the one saved at shutdown.
            every: u64::MAX,
        }),
    };
    let begin = || {
        let t = Instant::now();
        let started = http_api::AppState::start_with(
            sqlite(&db),
            Durability::Full,
            Calendar::builtin(),
            DeadlineRules::default(),
            options(),
        );
        started.map(|s| (s, t.elapsed()))
    };
    // Cold: no snapshot yet, the whole log is folded. The clean shutdown saves one.
    let ((state, writer), cold) = begin()?;
    let events = state.applied();
    println!(
        "cold start        {events} events folded in {cold:.2?} ({})",
        fmt_rate(rate(events, cold))
    );
    let t = Instant::now();
    drop(state);
    writer
        .join()
        .map_err(|_| BenchError::new("the writer thread panicked"))?;
    let saved = t.elapsed();
    let file = std::fs::read_dir(&snaps)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "snap"))
        .context("no snapshot was saved at shutdown")?;
    let size = std::fs::metadata(&file)?.len();
    println!(
        "snapshot saved    {:.0} MiB in {saved:.2?} (at shutdown)",
        size as f64 / 1048576.0
    );
    // The yardstick: reading the snapshot's file, nothing else.
    let t = Instant::now();
    let bytes = std::fs::read(&file)?;
    let plain = t.elapsed();
    // Where a start from it goes: checking and decoding the bytes into the fold.
    let t = Instant::now();
    let folded =
        read_model::snapshot::decode(&bytes, &Calendar::builtin(), &DeadlineRules::default())
            .map_err(|e| BenchError::new(e.to_string()))?;
    let decode = t.elapsed();
    drop(bytes);
    // What a save costs the server: appends wait while the fold's parts are encoded.
    let t = Instant::now();
    let pieces =
        read_model::snapshot::take(&folded, &Calendar::builtin(), &DeadlineRules::default());
    let pause = t.elapsed();
    drop(pieces);
    let t = Instant::now();
    drop(folded);
    let free = t.elapsed();
    println!(
        "snapshot decode   {decode:.2?} (checksum and fold; freeing the fold {free:.2?}); a save holds appends {pause:.2?}"
    );
    let ((state, writer), warm) = begin()?;
    ensure!(
        state.applied() == events,
        "the start from the snapshot holds {} events, the log {events}",
        state.applied()
    );
    println!(
        "snapshot start    ready in {warm:.2?}: {:.1}x faster than cold; plain read of the file {plain:.2?} ({:.2}x of the start)",
        cold.as_secs_f64() / warm.as_secs_f64(),
        plain.as_secs_f64() / warm.as_secs_f64()
    );
    drop(state);
    let _ = writer.join();
    finish(args, dir, "");
    Ok(ExitCode::SUCCESS)
}

/// The generated year streamed straight into one append.
fn generate_into(db: &Path, args: &BenchArgs) -> Result<()> {
    let t = Instant::now();
    let mut store = event_store_open::open(&sqlite(db), Durability::Full)?;
    let mut events = generator(&args.fiscal_year, args.complaints, args.seed)?.map(Ok);
    let r = store
        .append_iter(&mut events, now())
        .map_err(|e| BenchError::new(e.to_string()))?;
    println!(
        "generate+append   {} events in {:.2?}",
        r.appended,
        t.elapsed()
    );
    Ok(())
}

/// A new complaint's `received` event (in the fiscal year's last month).
fn new_complaint(fy_ce: i32, tag: &str, i: usize) -> String {
    format!(
        r#"{{"id":"{}","stream":"BENCH-{tag}-{i}","type":"received","occurred_at":"{}-09-20T10:00:00+07:00","actor":"bench","data":{{"channel":"web","category":"road","district":"bang-rak","subject":"s","complainant":{{"anonymous":true}}}}}}"#,
        uuid::Uuid::now_v7(),
        fy_ce
    )
}

/// How soon a page shows an append, under a steady stream of other appends: each sample
/// appends a new complaint, then asks a page of the year at once; the page must hold the
/// event (its `data-head` at or past the event's position). Times from the 2xx to the whole
/// page (p50, p95, max).
fn freshness(addr: std::net::SocketAddr, token: &str, fy_be: i32, samples: usize) -> Result<()> {
    let fy_ce = fy_be - 543;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stream = {
        let (stop, token) = (stop.clone(), token.to_string());
        std::thread::spawn(move || -> Result<usize> {
            let mut sent = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = format!(
                    "[{}]",
                    (0..5)
                        .map(|k| new_complaint(fy_ce, "stream", sent * 5 + k))
                        .collect::<Vec<_>>()
                        .join(",")
                );
                let (status, text) = request(addr, "POST", "/v1/events", Some(&token), &body)?;
                ensure!(status == 201, "append: {status} {text}");
                sent += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(sent)
        })
    };
    let pages = [
        format!("/dashboard?fy={fy_be}"),
        format!("/dashboard/league?fy={fy_be}&spec=bma-timeliness"),
        format!("/dashboard/units/district:bang-rak?fy={fy_be}"),
    ];
    let mut times = Vec::new();
    let measured = (|| -> Result<()> {
        for i in 0..samples {
            let body = new_complaint(fy_ce, "probe", i);
            let (status, text) = request(addr, "POST", "/v1/events", Some(token), &body)?;
            ensure!(status == 201, "append: {status} {text}");
            let answer: serde_json::Value = serde_json::from_str(&text)?;
            let position = answer["events"][0]["position"]
                .as_u64()
                .context("a position")?;
            let t = Instant::now();
            let (status, page) = request(addr, "GET", &pages[i % pages.len()], Some(token), "")?;
            let took = t.elapsed();
            ensure!(status == 200, "page: {status}");
            let head: u64 = page
                .split_once("data-head=\"")
                .and_then(|(_, r)| r.split_once('"'))
                .and_then(|(h, _)| h.parse().ok())
                .context("the page's data-head")?;
            ensure!(
                head >= position,
                "a page after the 2xx of event {position} holds only {head}"
            );
            times.push(took);
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    })();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let batches = stream
        .join()
        .map_err(|_| BenchError::new("the append stream panicked"))??;
    measured?;
    times.sort();
    let q = |f: f64| times[((times.len() as f64 * f) as usize).min(times.len() - 1)];
    println!(
        "freshness         a page after a 2xx append holds it: p50 {:.1?}, p95 {:.1?}, max {:.1?} ({} samples; overview, league, unit page in turn; meanwhile {} appends of 5 new complaints)",
        q(0.5),
        q(0.95),
        times[times.len() - 1],
        times.len(),
        batches
    );
    Ok(())
}

/// Each page: its first (cold) request, then `requests` warm ones (p50, p95, max).
fn time_pages(addr: std::net::SocketAddr, pages: &[(&str, String)], requests: usize) -> Result<()> {
    for (i, (label, path)) in pages.iter().enumerate() {
        let t = Instant::now();
        let (status, bytes) = get(addr, path)?;
        ensure!(status == 200, "{path}: status {status}");
        let first = t.elapsed();
        let mut times: Vec<Duration> = (0..requests.max(1))
            .map(|_| {
                let t = Instant::now();
                get(addr, path).map(|_| t.elapsed())
            })
            .collect::<Result<_>>()?;
        times.sort();
        let q = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!(
            "{label:<17} first request {first:.2?}{} | warm x{}: p50 {:.2?}, p95 {:.2?}, max {:.2?} ({} KiB)",
            if i == 0 { " (computes the year's figures)" } else { "" },
            times.len(),
            q(0.5),
            q(0.95),
            times[times.len() - 1],
            bytes / 1024
        );
    }
    Ok(())
}

/// `bench --streaming`: a year too large to hold in memory.
fn streaming(args: &BenchArgs, dir: &Path) -> Result<ExitCode> {
    let db = dir.join("national.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    println!(
        "rongtook bench --streaming: {} complaints, FY {}, seed {}",
        args.complaints, args.fiscal_year, args.seed
    );
    let mut store = event_store_open::open(&sqlite(&db), Durability::Full)?;
    let t = Instant::now();
    let mut events = generator(&args.fiscal_year, args.complaints, args.seed)?.map(Ok);
    let r = store
        .append_iter(&mut events, now())
        .map_err(|e| BenchError::new(e.to_string()))?;
    let el = t.elapsed();
    drop(store);
    println!(
        "generate+append   {} events in {el:.2?} ({}), synchronous=FULL, one transaction",
        r.appended,
        fmt_rate(rate(r.appended, el))
    );
    println!(
        "bench process     peak RSS {:.0} MiB while appending",
        peak_rss_bytes().unwrap_or(0) as f64 / 1048576.0
    );
    drop(r);
    let spec_args = builtin_spec_args();
    for (label, extra) in [
        ("replay command   ", &[][..]),
        ("replay + 4 specs ", &spec_args[..]),
    ] {
        let (wall, peak) = replay_child(&db, &args.fiscal_year, &dir.join("replay-out"), extra)?;
        println!("{label} in {wall:.2?}; peak RSS {peak}");
    }
    if !args.keep {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident set size of this process so far, in bytes (Linux; `None` elsewhere).
pub fn peak_rss_bytes() -> Option<u64> {
    crate::measure::status_bytes("self", "VmHWM:")
}

/// Random (v4) ids in place of the generator's time-ordered v7 ids, deterministically.
fn with_v4_ids(events: &[NewEvent], seed: u64) -> Vec<NewEvent> {
    let mut rng = generator::Rng::new(seed ^ 0xA5A5);
    events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
            b[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
            e.id = uuid::Builder::from_random_bytes(b).into_uuid();
            e
        })
        .collect()
}

fn plain(path: &Path, events: &[NewEvent], rows: &Rows, d: Durability) -> Result<Duration> {
    let it = events.iter().enumerate().map(|(i, e)| PlainRow {
        id: &rows.ids[i],
        stream: &e.stream,
        version: rows.versions[i],
        event_type: e.event_type().as_str(),
        occurred_at: &rows.occurred[i],
        actor: &e.actor,
        data: &rows.data[i],
    });
    Ok(plain_insert(path, d, it)?.0)
}

fn ours(path: &Path, events: &[NewEvent], d: Durability) -> Result<Duration> {
    let mut store = event_store_open::open(&sqlite(path), d)?;
    let t = Instant::now();
    let r = store
        .append_iter(&mut events.iter().cloned().map(Ok), now())
        .map_err(|e| BenchError::new(e.to_string()))?;
    let el = t.elapsed();
    ensure!(
        r.appended as usize == events.len(),
        "appended {} of {}",
        r.appended,
        events.len()
    );
    Ok(el)
}

pub fn run(args: &BenchArgs) -> Result<ExitCode> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("rongtook-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    if args.streaming {
        return streaming(args, &dir);
    }
    if args.dashboard {
        return dashboard(args, &dir);
    }
    if args.start {
        return start(args, &dir);
    }
    match &args.db {
        Some(event_store_open::Location::Postgres(uri)) => return crate::pg::run(args, uri),
        Some(other) => {
            return Err(BenchError::bad_input(format!(
                "--db {other}: bench measures SQLite in its own scratch folder (--dir); \
                 --db takes a postgres:// URI"
            )))
        }
        None => {}
    }
    println!(
        "rongtook bench: {} complaints, FY {}, seed {}; {} cores",
        args.complaints,
        args.fiscal_year,
        args.seed,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let t = Instant::now();
    let events: Vec<NewEvent> = generator(&args.fiscal_year, args.complaints, args.seed)?.collect();
    let n = events.len() as u64;
    println!("generate          {n} events in {:.2?}", t.elapsed());
    wire_format(&events)?;
    appends(&dir, &events, args.seed)?;
    drop(events);
    replay_in_process(&dir, args)?;
    let spec_args = builtin_spec_args();
    for (label, extra) in [
        ("replay command   ", &[][..]),
        ("replay + 4 specs ", &spec_args[..]),
    ] {
        let (wall, peak_mib) = replay_child(
            &dir.join("ours.db"),
            &args.fiscal_year,
            &dir.join("replay-out"),
            extra,
        )?;
        println!(
            "{label} {n} events, outputs written, in {wall:.2?} ({}); peak RSS {peak_mib}",
            fmt_rate(rate(n, wall))
        );
    }
    import_real_extracts(&dir)?;
    finish(args, &dir, " (holds the generated year in memory)");
    Ok(ExitCode::SUCCESS)
}

/// A fresh database file in the bench folder (an older one and its WAL removed).
fn fresh_db(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    p
}

/// The wire format: serialising and parsing with its checks.
fn wire_format(events: &[NewEvent]) -> Result<()> {
    let n = events.len() as u64;
    let t = Instant::now();
    let wire: Vec<String> = events.iter().map(to_wire_json).collect();
    let ser = t.elapsed();
    let t = Instant::now();
    for w in &wire {
        std::hint::black_box(
            event_model::parse_wire_event(w).map_err(|e| BenchError::new(e.to_string()))?,
        );
    }
    let parse = t.elapsed();
    let wire_bytes: usize = wire.iter().map(|w| w.len() + 1).sum();
    drop(wire);
    println!(
        "wire format       serialise {} ({:.2?}), parse+check {} ({:.2?}); {:.0} bytes/event",
        fmt_rate(rate(n, ser)),
        ser,
        fmt_rate(rate(n, parse)),
        parse,
        wire_bytes as f64 / n as f64
    );

    Ok(())
}

/// Appends next to the plain loop: v7 ids FULL and NORMAL, random v4 ids FULL.
fn appends(dir: &Path, events: &[NewEvent], seed: u64) -> Result<()> {
    let n = events.len() as u64;
    let db = |name: &str| fresh_db(dir, name);
    let rows = plain_rows(events);
    for (label, d) in [("FULL", Durability::Full), ("NORMAL", Durability::Normal)] {
        let p = plain(&db("plain.db"), events, &rows, d)?;
        let o = ours(&db("ours.db"), events, d)?;
        println!(
            "append v7 {label:<7} plain loop {} ({:.2?}) | rongtook {} ({:.2?}) | ratio {:.2}x",
            fmt_rate(rate(n, p)),
            p,
            fmt_rate(rate(n, o)),
            o,
            p.as_secs_f64() / o.as_secs_f64()
        );
    }
    drop(rows);
    let v4 = with_v4_ids(events, seed);
    let rows4 = plain_rows(&v4);
    let p = plain(&db("plain4.db"), &v4, &rows4, Durability::Full)?;
    let o = ours(&db("ours4.db"), &v4, Durability::Full)?;
    println!(
        "append v4 FULL    plain loop {} ({:.2?}) | rongtook {} ({:.2?}) | ratio {:.2}x",
        fmt_rate(rate(n, p)),
        p,
        fmt_rate(rate(n, o)),
        o,
        p.as_secs_f64() / o.as_secs_f64()
    );

    Ok(())
}

/// The replay in this process: the store's ordered scan with typed decoding, folded and
/// judged, next to a plain SELECT; then each indicator spec.
fn replay_in_process(dir: &Path, args: &BenchArgs) -> Result<()> {
    let db = |name: &str| fresh_db(dir, name);
    let plain_db = db("plain-scan.db");
    {
        let ev: Vec<NewEvent> = generator(&args.fiscal_year, args.complaints, args.seed)?.collect();
        let rows = plain_rows(&ev);
        plain(&plain_db, &ev, &rows, Durability::Normal)?;
    }
    let (ps, pn) = plain_scan(&plain_db)?;
    let store = event_store_open::open(&sqlite(dir.join("ours.db")), Durability::Full)?;
    let fy = crate::fiscal_year_arg(&args.fiscal_year)?;
    let cal = Calendar::builtin();
    let t = Instant::now();
    let decoded = store.scan(0, &mut |e| {
        std::hint::black_box(e);
    })?;
    let decode_t = t.elapsed();
    let t = Instant::now();
    let decoded_f = store.scan_for_folds(0, &mut |e| {
        std::hint::black_box(e);
    })?;
    let decode_f = t.elapsed();
    println!(
        "scan              rongtook scan+decode only: every field {} ({decode_t:.2?}), what the folds read {} ({decode_f:.2?})",
        fmt_rate(rate(decoded, decode_t)),
        fmt_rate(rate(decoded_f, decode_f))
    );
    let (fold, views, total) = replay_judged(&*store, fy, (pn, ps))?;
    time_specs(&views, &fold, fy, &cal, total);
    ranged_replay(dir, args, total)?;

    Ok(())
}

/// The same year with every acknowledgement, progress report and close known only to a range
/// (`occurred_after` an hour and a day before), replayed and judged, next to the exact log's
/// replay of this run.
fn ranged_replay(dir: &Path, args: &BenchArgs, exact: Duration) -> Result<()> {
    use event_model::EventType;
    let db = fresh_db(dir, "ranged.db");
    let mut ranged = 0u64;
    let events: Vec<NewEvent> = generator(&args.fiscal_year, args.complaints, args.seed)?
        .enumerate()
        .map(|(i, mut e)| {
            if matches!(
                e.event_type(),
                EventType::Acknowledged | EventType::ProgressReported | EventType::Closed
            ) {
                let back = if i % 2 == 0 { 1 } else { 24 };
                e.occurred_after = Some(e.occurred_at - chrono::Duration::hours(back));
                ranged += 1;
            }
            e
        })
        .collect();
    let n = events.len() as u64;
    ours(&db, &events, Durability::Normal)?;
    drop(events);
    let store = event_store_open::open(&sqlite(&db), Durability::Full)?;
    let fy = crate::fiscal_year_arg(&args.fiscal_year)?;
    let (cal, rules) = (Calendar::builtin(), DeadlineRules::default());
    let t = Instant::now();
    let mut fold = ComplaintFold::new(fy.end_instant());
    store.scan_for_folds(0, &mut |e| fold.apply(e))?;
    let views = fold.views(&cal, &rules);
    std::hint::black_box(overdue(
        views.iter().filter(|v| v.in_fiscal_year(fy)),
        fy.end_instant(),
        &rules,
    ));
    let took = t.elapsed();
    println!(
        "ranged replay     {ranged} of {n} events with occurred_after, judged {} ({took:.2?}) | exact log {exact:.2?} | ratio {:.2}x",
        fmt_rate(rate(n, took)),
        exact.as_secs_f64() / took.as_secs_f64()
    );
    Ok(())
}

/// Each built-in spec scored on the replayed year, and all four against the replay's time.
fn time_specs(
    views: &[projections::ComplaintView],
    fold: &ComplaintFold,
    fy: calendar::FiscalYear,
    cal: &Calendar,
    total: Duration,
) {
    let t = Instant::now();
    let provenance = indicators::Provenance {
        log_head_position: 0,
        log_head_hash: String::new(),
        calendar_version: cal.version().to_string(),
    };
    let mut each = Vec::new();
    for (id, _) in indicators::BUILTIN {
        let spec = indicators::builtin(id).expect("built-in");
        let t = Instant::now();
        std::hint::black_box(indicators::evaluate(
            &spec,
            views,
            fold.monthly_reports(),
            fy,
            fy.end_instant(),
            provenance.clone(),
        ));
        each.push(format!("{id} {:.2?}", t.elapsed()));
    }
    let specs_t = t.elapsed();
    println!("each spec         {}", each.join(", "));
    println!(
        "indicators        the four built-in specs scored in {specs_t:.2?}: replay with them {:.2?} = {:.2}x the replay alone",
        total + specs_t,
        (total + specs_t).as_secs_f64() / total.as_secs_f64()
    );
}

/// Import of the real Traffy Fondue data (test data), when it is there: every file but the
/// snapshot archives, then the three archives (1.6 M GeoJSON features), each into a fresh log.
fn import_real_extracts(dir: &Path) -> Result<()> {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/traffy");
    let files: Vec<PathBuf> = std::fs::read_dir(&data)
        .map(|d| {
            let mut v: Vec<PathBuf> = d
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let n = p.file_name().unwrap_or_default().to_string_lossy();
                    ["csv", "json", "xlsx", "zst"]
                        .iter()
                        .any(|x| p.extension().is_some_and(|e| e == *x))
                        && !n.contains("MANIFEST")
                })
                .collect();
            v.sort();
            v
        })
        .unwrap_or_default();
    let (archives, others): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|p| p.extension().is_some_and(|e| e == "zst"));
    for (label, set) in [("files", others), ("archives", archives)] {
        if set.is_empty() {
            continue;
        }
        let import_db = fresh_db(dir, "import.db");
        let t = Instant::now();
        let child = Command::new(std::env::current_exe()?)
            .args(["import", "traffy", "--db"])
            .arg(&import_db)
            .args(&set)
            .output()?;
        let wall = t.elapsed();
        ensure!(
            child.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&child.stderr)
        );
        let records: u64 = String::from_utf8_lossy(&child.stdout)
            .lines()
            .filter_map(|l| {
                l.split(" records: ")
                    .next()?
                    .rsplit(' ')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
        println!(
            "import {label:<10} {} real Traffy Fondue files, {records} records, in {wall:.2?} ({}), process start included",
            set.len(),
            fmt_rate(rate(records, wall))
        );
    }
    Ok(())
}
