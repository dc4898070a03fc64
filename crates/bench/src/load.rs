//! `rongtook load`: a bounded load test of the HTTP API on loopback. It starts the server on a
//! fresh log at 127.0.0.1 (an ephemeral port), runs N keep-alive clients appending events
//! (batches of one by default), reports appends/s and latency percentiles, shuts the server
//! down and checks that every acknowledged event is in the log. With `--soak MINUTES`, a
//! steady mixed load instead (see [`crate::soak`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::{ensure, BenchError, Context, Result};
use event_store::Durability;

use crate::measure::percentile;
use crate::sqlite;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(clap::Args)]
pub struct LoadArgs {
    /// Concurrent clients, comma-separated runs (each on a fresh log).
    #[arg(long, default_value = "1,16,64", value_delimiter = ',')]
    pub clients: Vec<usize>,
    /// Requests per run (split over the clients); bounded.
    #[arg(long, default_value_t = 20_000)]
    pub requests: usize,
    /// Events per request (one atomic batch).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Stop a run after this many seconds even if requests remain.
    #[arg(long, default_value_t = 60)]
    pub max_seconds: u64,
    /// Scratch directory (default: the system temp dir); removed afterwards.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Instead of the runs: hold a steady mixed load (appends of every event type, reads, live
    /// feeds, dashboard pages) for this many minutes, reporting every minute the throughput,
    /// p99 latencies, resident memory, open file descriptors and WAL size.
    #[arg(long, value_name = "MINUTES")]
    pub soak: Option<u64>,
    /// Events appended per second during a soak.
    #[arg(long, default_value_t = 200)]
    pub rate: u64,
    /// Loads a soak leaves out (to tell which one memory grows with): `reads`, `feeds`,
    /// `dashboard`, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub without: Vec<String>,
}

/// Most requests one run may send.
pub const MAX_REQUESTS: usize = 1_000_000;

fn body(client: usize, i: usize, batch: usize, seq: u64) -> String {
    let events: Vec<String> = (0..batch)
        .map(|b| {
            let n = seq * batch as u64 + b as u64;
            // Time-ordered v7 ids: 48 bits of a fixed epoch plus the counter, so ids grow.
            let id = uuid::Builder::from_unix_timestamp_millis(1_725_000_000_000 + n, &(n as u128).to_be_bytes()[6..16].try_into().expect("10 bytes")).into_uuid();
            format!(
                r#"{{"id":"{id}","stream":"L-{client}-{i}-{b}","type":"received","occurred_at":"2024-09-02T09:00:00+07:00","actor":"load","data":{{"channel":"web","category":"road","district":"bang-rak","subject":"load test","complainant":{{"anonymous":true}}}}}}"#
            )
        })
        .collect();
    if batch == 1 {
        events.into_iter().next().expect("one")
    } else {
        format!("[{}]", events.join(","))
    }
}

/// Sends one request on a keep-alive connection and returns the status code.
async fn post(conn: &mut BufReader<TcpStream>, body: &str, token: &str) -> Result<u16> {
    let req = format!(
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.get_mut().write_all(req.as_bytes()).await?;
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let mut length = 0usize;
    loop {
        line.clear();
        conn.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut buf = vec![0u8; length];
    conn.read_exact(&mut buf).await?;
    Ok(status)
}

pub fn run(args: &LoadArgs) -> Result<ExitCode> {
    if let Some(minutes) = args.soak {
        crate::soak::soak(minutes, args.rate, &args.without, args.dir.clone())?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.requests == 0 || args.requests > MAX_REQUESTS {
        return Err(BenchError::bad_input(format!(
            "--requests must be 1 to {MAX_REQUESTS}"
        )));
    }
    if args.batch == 0 || args.batch > 1000 {
        return Err(BenchError::bad_input("--batch must be 1 to 1000"));
    }
    if args.clients.iter().any(|&c| c == 0 || c > 1024) {
        return Err(BenchError::bad_input("--clients must be 1 to 1024 each"));
    }
    let base = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("rongtook-load-{}", std::process::id()))
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!(
        "rongtook load: {} requests of {} event(s) per run, loopback, synchronous=FULL, {} cores",
        args.requests,
        args.batch,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    for &clients in &args.clients {
        let dir = base.join(format!("c{clients}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        one_run(&rt, args, clients, &dir.join("load.db"))?;
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&base);
    Ok(ExitCode::SUCCESS)
}

/// One run on a fresh log: a server, `clients` keep-alive clients appending, then the log
/// checked against what was acknowledged.
fn one_run(
    rt: &tokio::runtime::Runtime,
    args: &LoadArgs,
    clients: usize,
    db: &std::path::Path,
) -> Result<()> {
    let r = serve_and_load(rt, args, clients, &sqlite(db), 1)?;
    println!(
        "clients {clients:>3}: {} events in {:.2?} = {:.0} events/s ({:.0} requests/s); latency p50 {:.2?} p99 {:.2?}; all {} acknowledged events in the log, chain verified",
        r.acked,
        r.elapsed,
        r.events_per_second(),
        r.latencies.len() as f64 / r.elapsed.as_secs_f64(),
        r.percentile(0.50),
        r.percentile(0.99),
        r.acked
    );
    Ok(())
}

/// What a load run measured.
pub(crate) struct LoadRun {
    pub acked: usize,
    pub elapsed: Duration,
    /// Sorted.
    pub latencies: Vec<Duration>,
}

impl LoadRun {
    pub fn events_per_second(&self) -> f64 {
        self.acked as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }
}

/// `servers` servers in this process on the log at `db` (empty), `clients` keep-alive clients
/// spread over them appending; then every acknowledged event is checked in the log and the
/// chain verified.
pub(crate) fn serve_and_load(
    rt: &tokio::runtime::Runtime,
    args: &LoadArgs,
    clients: usize,
    db: &event_store_open::Location,
    servers: usize,
) -> Result<LoadRun> {
    let token = {
        let store = event_store_open::open(db, Durability::Full)?;
        http_api::issue_token(&*store, "intake", None, "load test", crate::now())?.1
    };
    let mut states = Vec::new();
    let mut writers = Vec::new();
    for _ in 0..servers {
        let (state, writer) = http_api::AppState::start(
            db.clone(),
            Durability::Full,
            calendar::Calendar::builtin(),
            Default::default(),
        )?;
        states.push(state);
        writers.push(writer);
    }
    let (acked, mut latencies, elapsed) = rt.block_on(async {
        let mut addrs = Vec::new();
        let mut stops = Vec::new();
        let mut handles = Vec::new();
        for state in states {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            addrs.push(listener.local_addr()?);
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            stops.push(stop);
            handles.push(tokio::spawn(http_api::serve(listener, state, async {
                let _ = stopped.await;
            })));
        }
        let outcome = drive(&addrs, args, clients, &token).await;
        for stop in stops {
            let _ = stop.send(());
        }
        for h in handles {
            h.await??;
        }
        outcome
    })?;
    for w in writers {
        w.join().map_err(|_| BenchError::new("writer panicked"))?;
    }
    latencies.sort();
    let store = event_store_open::open(db, Durability::Full)?;
    let stored = store.head()?.position as usize;
    ensure!(
        stored == acked,
        "{acked} events acknowledged but {stored} in the log"
    );
    ensure!(store.verify()?.first_bad.is_none(), "hash chain broken");
    Ok(LoadRun {
        acked,
        elapsed,
        latencies,
    })
}

/// The clients: each sends its share of the requests on one connection until done or out of
/// time. Returns the events acknowledged, every latency, and the time taken.
pub(crate) async fn drive(
    addrs: &[std::net::SocketAddr],
    args: &LoadArgs,
    clients: usize,
    token: &str,
) -> Result<(usize, Vec<Duration>, Duration)> {
    let deadline = Duration::from_secs(args.max_seconds);
    let per_client = args.requests.div_ceil(clients);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let batch = args.batch;
        let token = token.to_string();
        let addr = addrs[c % addrs.len()];
        tasks.push(tokio::spawn(async move {
            let mut conn = BufReader::new(TcpStream::connect(addr).await?);
            conn.get_ref().set_nodelay(true)?;
            let mut lat = Vec::with_capacity(per_client);
            let mut ok = 0usize;
            for i in 0..per_client {
                if start.elapsed() > deadline {
                    break;
                }
                let seq = (c * per_client + i) as u64;
                let b = body(c, i, batch, seq);
                let t = Instant::now();
                let status = post(&mut conn, &b, &token).await?;
                lat.push(t.elapsed());
                ensure!(status == 201, "request {i} of client {c} answered {status}");
                ok += batch;
            }
            Ok::<_, BenchError>((ok, lat))
        }));
    }
    let mut acked = 0;
    let mut latencies = Vec::new();
    for t in tasks {
        let (ok, lat) = t.await??;
        acked += ok;
        latencies.extend(lat);
    }
    Ok((acked, latencies, start.elapsed()))
}
