//! The whole catalogue on a synthetic org of 50,000 users, 200,000 permission-set assignments,
//! 2,000 permission sets and 500 named credentials: parse the snapshot file, build the fact
//! view (indexes, derived facts) and evaluate every rule. Prints the peak resident memory.
//!
//! Run: `cargo bench --bench evaluate`

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group};

use eci_audit::audit::{self, AuditOptions, FailOn};
use eci_audit::facts::{FactView, Settings};
use eci_audit::rules::Catalogue;
use eci_audit::snapshot::{Snapshot, parse_snapshot};

/// The healthy fixture, grown to the benchmark's size.
fn synthetic() -> Snapshot {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/snapshots/healthy.json"
    ))
    .expect("healthy fixture");
    let mut s: Snapshot = serde_json::from_str(&text).expect("fixture parses");
    let users = 50_000;
    let sets = 2_000;
    let assignments = 200_000;
    let creds = 500;
    for i in 0..sets {
        s.permission_sets.items_mut().expect("collected").push(
            eci_audit::snapshot::PermissionSet {
                id: format!("0PSsyn{i:012}"),
                name: Some(format!("Synthetic_Set_{i}")),
                label: Some(format!("Synthetic Set {i}")),
                is_owned_by_profile: Some(false),
                api_enabled: Some(i % 7 == 0),
                call_coaching_user: Some(false),
                ci_partner_integration_user: Some(false),
                ..Default::default()
            },
        );
    }
    for i in 0..users {
        s.users
            .items_mut()
            .expect("collected")
            .push(eci_audit::snapshot::User {
                id: format!("005syn{i:012}"),
                username: format!("user{i}@bench.example"),
                name: Some(format!("User {i}")),
                is_active: Some(i % 10 != 0),
                user_type: Some("Standard".into()),
                profile_id: Some("00e5g000000StdAAAAA".into()),
                profile_name: Some("Standard User".into()),
                ..Default::default()
            });
    }
    for i in 0..assignments {
        s.permission_set_assignments
            .items_mut()
            .expect("collected")
            .push(eci_audit::snapshot::PermissionSetAssignment {
                id: Some(format!("0Pasyn{i:012}")),
                assignee_id: format!("005syn{:012}", i % users),
                permission_set_id: format!("0PSsyn{:012}", (i * 7) % sets),
                is_active: Some(true),
                ..Default::default()
            });
    }
    for i in 0..creds {
        s.named_credentials.items_mut().expect("collected").push(
            eci_audit::snapshot::NamedCredential {
                full_name: format!("Synthetic_NC_{i}"),
                label: Some(format!("Synthetic NC {i}")),
                endpoint: Some(format!("https://svc{i}.example.com")),
                principal_type: Some("NamedUser".into()),
                protocol: Some("Password".into()),
                ..Default::default()
            },
        );
    }
    s
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn bench(c: &mut Criterion) {
    let snapshot = synthetic();
    let json = serde_json::to_vec(&snapshot).expect("serialize");
    let catalogue = Catalogue::embedded().expect("catalogue");
    let settings = Settings::new(chrono::Utc::now().date_naive());
    let opts = AuditOptions {
        config_file: None,
        settings: settings.clone(),
        selected: catalogue.ids().map(String::from).collect::<BTreeSet<_>>(),
        waivers: Vec::new(),
        fail_on: FailOn::Error,
        allow_incomplete: false,
    };
    eprintln!(
        "synthetic snapshot: {} users, {} assignments, {} permission sets, {} named credentials, {:.1} MiB of JSON",
        snapshot.users.items().len(),
        snapshot.permission_set_assignments.items().len(),
        snapshot.permission_sets.items().len(),
        snapshot.named_credentials.items().len(),
        f64::from(u32::try_from(json.len()).unwrap_or(u32::MAX)) / 1_048_576.0
    );
    let mut g = c.benchmark_group("large_org");
    g.sample_size(20);
    g.bench_function("catalogue (view + all rules)", |b| {
        b.iter(|| black_box(audit::run(black_box(&snapshot), "bench", &catalogue, &opts)));
    });
    g.bench_function("fact view only", |b| {
        b.iter(|| black_box(FactView::build(black_box(&snapshot), &settings)));
    });
    g.bench_function("parse snapshot JSON", |b| {
        b.iter(|| {
            black_box(parse_snapshot(black_box(&json), Path::new("bench.json")).expect("parses"))
        });
    });
    g.bench_function("parse + catalogue", |b| {
        b.iter(|| {
            let s = parse_snapshot(black_box(&json), Path::new("bench.json")).expect("parses");
            black_box(audit::run(&s, "bench", &catalogue, &opts))
        });
    });
    g.finish();
    if let Some(mib) = peak_rss_mib() {
        eprintln!(
            "peak resident memory of the benchmark process: {mib:.0} MiB (includes two copies of the snapshot: typed and JSON)"
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
