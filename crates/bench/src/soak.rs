//! `rongtook load --soak MINUTES`: a steady mixed load held for minutes, on loopback, against
//! `rongtook serve` on a fresh log, started as a process of its own (snapshots kept beside the
//! log, as by default). Appends walk
//! whole generated lifecycles (every event type, in order per complaint), while readers ask for
//! complaints, lists and the overdue list, live feeds follow the log, and dashboard pages are
//! drawn. Every minute it prints the throughput, p99 latencies, the server's resident memory,
//! its open file descriptors and the size of the log's WAL, so that growth shows.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_model::NewEvent;
use event_store::Durability;

use crate::http::request;
use crate::{ensure, BenchError, Result};

/// Longest soak, in minutes.
pub const MAX_MINUTES: u64 = 24 * 60;

/// Appending threads; a complaint's events all go through the same one, in order.
const APPENDERS: usize = 4;

/// What the threads count, drained each minute.
#[derive(Default)]
struct Tally {
    appended: AtomicU64,
    reads: AtomicU64,
    pages: AtomicU64,
    followed: AtomicU64,
    append_latency: Mutex<Vec<Duration>>,
    read_latency: Mutex<Vec<Duration>>,
}

/// The 99th percentile of the latencies gathered since the last call (which it drains).
fn p99(v: &Mutex<Vec<Duration>>) -> Duration {
    let mut v = std::mem::take(&mut *v.lock().expect("not poisoned"));
    v.sort();
    crate::measure::percentile(&v, 0.99)
}

/// A process's resident memory, in bytes (Linux).
fn rss_bytes(pid: u32) -> u64 {
    crate::measure::status_bytes(&pid.to_string(), "VmRSS:").unwrap_or(0)
}

/// A process's open file descriptors (Linux).
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// The generated lifecycles, as batches of one to four consecutive events of one complaint,
/// dealt to the appenders by complaint.
fn lifecycles(events: u64) -> Result<Vec<Vec<String>>> {
    // About ten events per complaint; generate enough for the whole soak.
    let complaints = (events / 8).max(100);
    let mut per_stream: std::collections::HashMap<String, Vec<NewEvent>> = Default::default();
    let mut order = Vec::new();
    for e in crate::generator("2567", complaints, 2567)? {
        let list = per_stream.entry(e.stream.clone()).or_insert_with(|| {
            order.push(e.stream.clone());
            Vec::new()
        });
        list.push(e);
    }
    let mut queues = vec![Vec::new(); APPENDERS];
    let mut rng = generator::Rng::new(7);
    for (i, stream) in order.iter().enumerate() {
        let events = &per_stream[stream];
        let mut at = 0;
        while at < events.len() {
            let n = (1 + rng.below(4) as usize).min(events.len() - at);
            let body: Vec<String> = events[at..at + n]
                .iter()
                .map(event_model::wire::to_wire_json)
                .collect();
            queues[i % APPENDERS].push(format!("[{}]", body.join(",")));
            at += n;
        }
    }
    Ok(queues)
}

/// Holds the load for `minutes`, appending about `rate` events per second.
pub fn soak(minutes: u64, rate: u64, without: &[String], dir: Option<PathBuf>) -> Result<()> {
    for w in without {
        ensure!(
            ["reads", "feeds", "dashboard"].contains(&w.as_str()),
            "--without: `{w}` is not one of reads, feeds, dashboard"
        );
    }
    let with = |load: &str| !without.iter().any(|w| w == load);
    ensure!(
        (1..=MAX_MINUTES).contains(&minutes),
        "--soak must be 1 to {MAX_MINUTES} minutes"
    );
    ensure!((1..=100_000).contains(&rate), "--rate must be 1 to 100000");
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("rongtook-soak-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("soak.db");
    let wal = dir.join("soak.db-wal");
    let t = Instant::now();
    let queues = lifecycles(rate * 60 * minutes * 11 / 10)?;
    println!(
        "rongtook load --soak {minutes}: {} batches of generated lifecycles ready in {:.1?}; about {rate} events/s, {APPENDERS} appenders, 2 readers, 2 live feeds, 1 dashboard reader",
        queues.iter().map(Vec::len).sum::<usize>(),
        t.elapsed()
    );
    let location = crate::sqlite(&db);
    let token = {
        let store = event_store_open::open(&location, Durability::Full)?;
        http_api::issue_token(&*store, "admin", None, "soak", crate::now())?.1
    };
    // The server runs as `rongtook serve` does, in a process of its own, so that its memory
    // and descriptors are its own.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let mut server = std::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--db"])
        .arg(&db)
        .args(["--listen", &addr.to_string(), "--log-format", "json"])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("serve.log"))?)
        .spawn()?;
    let pid = server.id();
    let t = Instant::now();
    while !matches!(request(addr, "GET", "/ready", None, ""), Ok((200, _))) {
        ensure!(
            t.elapsed() < Duration::from_secs(60) && server.try_wait()?.is_none(),
            "the server did not start: {}",
            std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<String>>> = Default::default();
    let mut threads = Vec::new();
    // Appenders: each paced to its share of the rate.
    for queue in queues {
        let (tally, stop, token, acked) =
            (tally.clone(), stop.clone(), token.clone(), acked.clone());
        threads.push(std::thread::spawn(move || -> Result<()> {
            let per_event = Duration::from_secs_f64(APPENDERS as f64 / rate as f64);
            let start = Instant::now();
            let mut sent = 0u32;
            for body in queue {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let n = body.matches("\"stream\"").count() as u32;
                let t = Instant::now();
                let (status, text) = request(addr, "POST", "/v1/events", Some(&token), &body)?;
                ensure!(
                    status == 201 || status == 200,
                    "append answered {status}: {text}"
                );
                tally
                    .append_latency
                    .lock()
                    .expect("not poisoned")
                    .push(t.elapsed());
                tally.appended.fetch_add(n as u64, Ordering::Relaxed);
                if let Some(stream) = body.split("\"stream\":\"").nth(1) {
                    let stream = stream.split('"').next().unwrap_or_default().to_string();
                    let mut a = acked.lock().expect("not poisoned");
                    if !stream.starts_with(event_model::UNIT_STREAM_PREFIX)
                        && a.last() != Some(&stream)
                    {
                        a.push(stream);
                    }
                }
                sent += n;
                let due = start + per_event * sent;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            Ok(())
        }));
    }
    // Readers: about 20 requests/s each.
    for r in 0..if with("reads") { 2u64 } else { 0 } {
        let (tally, stop, token, acked) =
            (tally.clone(), stop.clone(), token.clone(), acked.clone());
        threads.push(std::thread::spawn(move || -> Result<()> {
            let mut rng = generator::Rng::new(r + 11);
            while !stop.load(Ordering::Relaxed) {
                // Mostly single complaints, as clients following their cases ask; a page of
                // the list one time in five. The overdue list (a walk of every open complaint)
                // is the dashboard reader's.
                let path = match rng.below(5) {
                    0..=3 => {
                        let a = acked.lock().expect("not poisoned");
                        match a.len() {
                            0 => "/v1/complaints".to_string(),
                            n => format!("/v1/complaints/{}", a[rng.below(n as u64) as usize]),
                        }
                    }
                    _ => format!("/v1/complaints?page={}", 1 + rng.below(5)),
                };
                let t = Instant::now();
                let (status, text) = request(addr, "GET", &path, Some(&token), "")?;
                ensure!(status == 200, "GET {path} answered {status}: {text}");
                tally
                    .read_latency
                    .lock()
                    .expect("not poisoned")
                    .push(t.elapsed());
                tally.reads.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }));
    }
    // Dashboard pages and the overdue list, one every two seconds.
    if with("dashboard") {
        let (tally, stop, token) = (tally.clone(), stop.clone(), token.clone());
        threads.push(std::thread::spawn(move || -> Result<()> {
            let pages = [
                "/dashboard",
                "/dashboard/league",
                "/dashboard/overdue",
                "/v1/overdue?limit=50",
            ];
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let path = pages[i % pages.len()];
                let (status, text) = request(addr, "GET", path, Some(&token), "")?;
                ensure!(status == 200, "GET {path} answered {status}: {text}");
                tally.pages.fetch_add(1, Ordering::Relaxed);
                i += 1;
                std::thread::sleep(Duration::from_secs(2));
            }
            Ok(())
        }));
    }
    // Live feeds: follow the log from the start for the whole soak.
    for _ in 0..if with("feeds") { 2 } else { 0 } {
        let (tally, stop, token) = (tally.clone(), stop.clone(), token.clone());
        threads.push(std::thread::spawn(move || -> Result<()> {
            use std::io::{Read, Write};
            let mut c = std::net::TcpStream::connect(addr)?;
            c.set_read_timeout(Some(Duration::from_millis(500)))?;
            write!(
                c,
                "GET /v1/events/stream?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
            )?;
            let mut buf = vec![0u8; 64 * 1024];
            let mut carry = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match c.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        carry.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&carry);
                        let ids = text.matches("\nid:").count() as u64;
                        tally.followed.fetch_add(ids, Ordering::Relaxed);
                        // Keep only the tail that may hold a cut `\nid:`.
                        let keep = carry.len().min(8);
                        carry.drain(..carry.len() - keep);
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        }));
    }

    println!("minute  events/s  append p99  reads/s  read p99  pages  fed/s  RSS MiB  fds  WAL MiB  log events  RSS B/event");
    let start = Instant::now();
    let mut rows = Vec::new();
    for minute in 1..=minutes {
        let due = start + Duration::from_secs(60 * minute);
        while Instant::now() < due {
            if threads.iter().any(|t| t.is_finished()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let appended = tally.appended.swap(0, Ordering::Relaxed);
        let row = (rss_bytes(pid), open_fds(pid), file_len(&wal));
        let events = event_store_open::open_read_only(&location)?
            .head()?
            .position;
        println!(
            "{minute:>6}  {:>8.0}  {:>10.1?}  {:>7.1}  {:>8.1?}  {:>5}  {:>5.0}  {:>7.1}  {:>3}  {:>7.1}  {:>10}  {:>11}",
            appended as f64 / 60.0,
            p99(&tally.append_latency),
            tally.reads.swap(0, Ordering::Relaxed) as f64 / 60.0,
            p99(&tally.read_latency),
            tally.pages.swap(0, Ordering::Relaxed),
            tally.followed.swap(0, Ordering::Relaxed) as f64 / 60.0,
            row.0 as f64 / (1 << 20) as f64,
            row.1,
            row.2 as f64 / (1 << 20) as f64,
            events,
            row.0 / events.max(1)
        );
        rows.push(row);
        if threads.iter().any(|t| t.is_finished()) {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join()
            .map_err(|_| BenchError::new("a load thread panicked"))??;
    }
    // A clean stop (SIGTERM), as a service manager stops it.
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    let status = server.wait()?;
    ensure!(status.success(), "the server stopped with {status}");
    ensure!(
        rows.len() as u64 == minutes,
        "the soak ended after {} of {minutes} minutes",
        rows.len()
    );
    let store = event_store_open::open(&location, Durability::Full)?;
    let verified = store.verify()?;
    ensure!(verified.first_bad.is_none(), "the chain does not verify");
    println!(
        "done: {} events, chain verified; RSS {:.1} -> {:.1} MiB, fds {} -> {}, WAL {:.1} -> {:.1} MiB (first minute -> last)",
        verified.events,
        rows[0].0 as f64 / (1 << 20) as f64,
        rows[rows.len() - 1].0 as f64 / (1 << 20) as f64,
        rows[0].1,
        rows[rows.len() - 1].1,
        rows[0].2 as f64 / (1 << 20) as f64,
        rows[rows.len() - 1].2 as f64 / (1 << 20) as f64,
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
