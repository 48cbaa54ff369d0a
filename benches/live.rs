//! Live collection against the fake org with 100 ms latency per request: the collector's wall
//! time and request counts, against the same requests sent one after another, and against a
//! naive plan without Composite (one request per query, one after another).
//!
//! `cargo bench --bench live` prints the figures; nothing leaves 127.0.0.1.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[path = "../tests/support/fake_org.rs"]
mod fake_org;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use eci_audit::collect::{
    AircallCredentials, AuthMethod, CollectOptions, Secret, collect_blocking,
};
use fake_org::{FakeOrg, Fault, RecordedRequest};

const LATENCY: Duration = Duration::from_millis(100);
const RUNS: usize = 5;

fn options(fake: &FakeOrg) -> CollectOptions {
    let mut opts = CollectOptions::new(AuthMethod::AccessToken {
        instance_url: fake.url().to_string(),
        token: Secret::new(fake.credentials().access_token.clone()),
    });
    opts.integration_user = Some("eci-integration@acme.example".to_string());
    opts.aircall = Some(AircallCredentials {
        api_id: fake.credentials().aircall_api_id.clone(),
        api_token: Secret::new(fake.credentials().aircall_api_token.clone()),
        base_url: fake.url().to_string(),
    });
    opts
}

/// Sends one request over a fresh connection and reads the whole answer.
fn send(fake: &FakeOrg, method: &str, target: &str, body: &str) {
    let addr = fake.url().trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the fake org");
    let creds = fake.credentials();
    let auth = if target.starts_with("/v1/ping") {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            creds.aircall_api_id, creds.aircall_api_token
        ));
        format!("Authorization: Basic {basic}\r\n")
    } else {
        format!("Authorization: Bearer {}\r\n", creds.access_token)
    };
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
}

fn target(r: &RecordedRequest) -> String {
    if r.query.is_empty() {
        r.path.clone()
    } else {
        format!("{}?{}", r.path, r.query)
    }
}

/// The recorded requests again, one after another.
fn replay_sequentially(fake: &FakeOrg, requests: &[RecordedRequest]) -> Duration {
    let started = Instant::now();
    for r in requests {
        send(fake, &r.method, &target(r), &r.body);
    }
    started.elapsed()
}

/// The same reads without Composite: every subrequest as its own GET, one after another.
fn naive_requests(requests: &[RecordedRequest]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for r in requests {
        if r.path.ends_with("/composite") {
            let body: serde_json::Value = serde_json::from_str(&r.body).expect("composite body");
            for sub in body["compositeRequest"].as_array().expect("subrequests") {
                out.push((
                    "GET".to_string(),
                    sub["url"].as_str().unwrap_or("").to_string(),
                    String::new(),
                ));
            }
        } else {
            out.push((r.method.clone(), target(r), r.body.clone()));
        }
    }
    out
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench`-less args; keep that quick.
    let quick = std::env::args().any(|a| a == "--test" || a == "--list");
    let runs = if quick { 1 } else { RUNS };
    let fake = FakeOrg::builder("healthy").latency(LATENCY).start();
    let opts = options(&fake);

    let mut collector = Vec::new();
    let mut stats = None;
    for _ in 0..runs {
        fake.clear_requests();
        let started = Instant::now();
        let outcome = collect_blocking(&opts).expect("collection against the fake org");
        collector.push(started.elapsed());
        stats = Some(outcome.stats);
    }
    let stats = stats.expect("at least one run");
    let requests = fake.requests();
    let waves = fake.waves();

    let mut sequential = Vec::new();
    for _ in 0..runs {
        sequential.push(replay_sequentially(&fake, &requests));
    }
    let naive = naive_requests(&requests);
    let naive_api_calls = naive
        .iter()
        .filter(|(_, t, _)| t.starts_with("/services/data/v") || t.starts_with("/services/Soap/"))
        .count();
    let mut naive_times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        for (method, target, body) in &naive {
            send(&fake, method, target, body);
        }
        naive_times.push(started.elapsed());
    }

    println!(
        "live collection against the fake org, {} ms latency per request, median of {runs}",
        LATENCY.as_millis()
    );
    println!(
        "  collector (concurrent, Composite): {:>8}  {} HTTP requests, {} API calls counted, {} phases ({} waves seen by the fake)",
        ms(median(collector)),
        stats.http_requests,
        stats.api_calls,
        stats.phases,
        waves
    );
    println!(
        "  same requests one after another:   {:>8}  {} HTTP requests",
        ms(median(sequential)),
        requests.len()
    );
    println!(
        "  no Composite, one after another:   {:>8}  {} HTTP requests, {} API calls counted",
        ms(median(naive_times)),
        naive.len(),
        naive_api_calls
    );

    // The same org refusing the `Site` semi-join form: the plain fallback queries cost one
    // more phase, and only then.
    let refusing = FakeOrg::builder("healthy")
        .latency(LATENCY)
        .fault(Fault::RefuseSemiJoin {
            inner_object: "Site".to_string(),
            code: "MALFORMED_QUERY".to_string(),
        })
        .start();
    let opts = options(&refusing);
    let mut fallback = Vec::new();
    let mut stats = None;
    for _ in 0..runs {
        refusing.clear_requests();
        let started = Instant::now();
        let outcome = collect_blocking(&opts).expect("collection against the refusing fake org");
        fallback.push(started.elapsed());
        stats = Some(outcome.stats);
    }
    let stats = stats.expect("at least one run");
    println!(
        "  collector, Site semi-join refused: {:>8}  {} HTTP requests, {} API calls counted, {} phases ({} waves seen by the fake)",
        ms(median(fallback)),
        stats.http_requests,
        stats.api_calls,
        stats.phases,
        refusing.waves()
    );
}
