//! A mutation fuzzer for the readers of hostile input: the snapshot loader, the metadata XML
//! reader and the retrieve-zip reader. Each target starts from a real, valid input (the
//! fixtures) and feeds mutated copies (bit flips, inserted and deleted bytes, repeated slices,
//! truncation, tokens that parsers treat specially); every input must give `Ok` or an error,
//! never a panic.
//!
//! - `cargo test --test fuzz` (and CI) runs a short, fixed-seed round of each target, so a
//!   failure is reproducible from the printed seed.
//! - `ECI_AUDIT_FUZZ_SECONDS=600 cargo test --release --test fuzz -- --nocapture` runs each
//!   target for that long with fresh seeds; a failing input is written to
//!   `target/fuzz-failures/` and the test fails naming it and its seed.

// Tests fail by panicking; the long run prints its progress.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use eci_audit::audit::{self, AuditOptions, FailOn};
use eci_audit::snapshot::metadata::{
    MetadataKind, MetadataOptions, load_metadata, parse_metadata_file,
};
use eci_audit::snapshot::parse_snapshot;

/// Cases per target in the fixed-seed round.
const CI_CASES: u32 = 300;

/// xorshift64*: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next() % (n as u64)).unwrap_or(0)
        }
    }
}

/// Byte strings parsers give meaning to.
const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"</",
    b"/>",
    b"\"",
    b"&",
    b"&#x0;",
    b"&amp;",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"<!DOCTYPE x [<!ENTITY a \"b\">]>",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"null",
    b"\"schema_version\":1",
    b"\"items\":[]",
    b"\"not_collected\":\"x\"",
    b"1e999999",
    b"-0",
    b"\\u0000",
    b"\\ud800",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x00",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\r\n",
    b"\r",
];

/// One mutated copy of `seed`.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                let byte = u8::try_from(rng.below(256)).unwrap_or(0);
                data.insert(i, byte);
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                data.drain(a..b);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(256)).min(len);
                let slice = data[a..b].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, slice);
            }
            4 if len > 0 => data.truncate(rng.below(len)),
            5 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
            _ if len > 0 => {
                // Repeat one small slice many times (deep nesting, long runs).
                let a = rng.below(len);
                let b = (a + 1 + rng.below(8)).min(len);
                let slice = data[a..b].repeat(1 + rng.below(2000));
                let at = rng.below(len + 1);
                data.splice(at..at, slice);
            }
            _ => {}
        }
    }
    data
}

/// Runs `target` on mutated copies of `seed`: a fixed-seed round, or for
/// `ECI_AUDIT_FUZZ_SECONDS` with fresh seeds.
fn fuzz(name: &str, seed_input: &[u8], target: impl Fn(&[u8])) {
    let long = std::env::var("ECI_AUDIT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let (mut rng_seed, deadline, cases) = match long {
        Some(secs) => (
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs() | 1),
            Some(Instant::now() + Duration::from_secs(secs)),
            u32::MAX,
        ),
        None => (0x00EC_1A0D_17F0_0D5E, None, CI_CASES),
    };
    let start_seed = rng_seed;
    let mut rng = Rng(rng_seed);
    let mut done = 0u64;
    for case in 0..cases {
        if deadline.is_some_and(|d| Instant::now() > d) {
            break;
        }
        rng_seed = rng.next() | 1;
        let mut case_rng = Rng(rng_seed);
        let input = mutate(&mut case_rng, seed_input);
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            let dir = common::root().join("target/fuzz-failures");
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!("{name}-{rng_seed:016x}"));
            std::fs::write(&file, &input).unwrap();
            panic!(
                "{name}: panicked on case {case} (run seed {start_seed:#x}, case seed {rng_seed:#x}); input saved to {}",
                file.display()
            );
        }
        done += 1;
    }
    if long.is_some() {
        println!("{name}: {done} inputs, no panic (run seed {start_seed:#x})");
    }
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(common::root().join(rel)).unwrap()
}

#[test]
fn snapshot_loader() {
    let catalogue = eci_audit::rules::Catalogue::embedded().unwrap();
    let opts = AuditOptions {
        config_file: None,
        settings: common::settings(),
        selected: catalogue.ids().map(String::from).collect(),
        waivers: Vec::new(),
        fail_on: FailOn::Warning,
        allow_incomplete: false,
    };
    fuzz(
        "snapshot",
        &fixture("fixtures/snapshots/healthy.json"),
        |bytes| {
            // A snapshot that loads goes on through the fact view and every rule.
            if let Ok(snapshot) = parse_snapshot(bytes, Path::new("fuzz.json")) {
                let _ = audit::run(&snapshot, "fuzz", &catalogue, &opts);
            }
        },
    );
}

#[test]
fn metadata_xml_reader() {
    let files = [
        (
            MetadataKind::ConnectedApp,
            "fixtures/metadata/mdapi-healthy/connectedApps/ECIConnectedApp.connectedApp",
        ),
        (
            MetadataKind::Profile,
            "fixtures/metadata/mdapi-healthy/profiles/Admin.profile",
        ),
        (
            MetadataKind::CustomSite,
            "fixtures/metadata/mdapi-healthy/sites/VoiceConnector.site",
        ),
        (
            MetadataKind::ExtlClntAppOauthPolicies,
            "fixtures/metadata/mdapi-eca-healthy/extlClntAppOauthPolicies/ECIConnectedApp_oauthPlcy.ecaOauthPlcy",
        ),
        (
            MetadataKind::ExtlClntAppGlobalOauthSettings,
            "fixtures/metadata/mdapi-eca-healthy/extlClntAppGlobalOauthSets/ECIConnectedApp_glbloauth.ecaGlblOauth",
        ),
    ];
    for (kind, rel) in files {
        fuzz(
            &format!("xml-{}", kind.type_name()),
            &fixture(rel),
            |bytes| {
                let _ = parse_metadata_file(kind, "Fuzz", "fuzz.xml", bytes);
            },
        );
    }
}

/// The healthy mdapi fixture as a retrieve zip.
fn healthy_zip() -> Vec<u8> {
    let root = common::root().join("fixtures/metadata/mdapi-healthy");
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(&root).unwrap().to_string_lossy();
                w.start_file(format!("unpackaged/{rel}"), opts).unwrap();
                std::io::Write::write_all(&mut w, &std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn retrieve_zip_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retrieve.zip");
    fuzz("zip", &healthy_zip(), |bytes| {
        std::fs::write(&path, bytes).unwrap();
        let _ = load_metadata(&path, &MetadataOptions::default());
    });
}

/// The harness itself: a target that panics on some mutated input is caught and reported.
#[test]
#[should_panic(expected = "panicked on case")]
fn a_panicking_target_is_reported() {
    fuzz("self-test", b"<a>seed</a>", |bytes| {
        assert_eq!(bytes, b"<a>seed</a>");
    });
}
