//! `load_metadata` on a large repository: 50,000 files of which 8 are the audited components.
//! The loader must only look at names while walking, so this stays well under a second. Also:
//! parsing a minified (one-line) 7 MB profile, which must stay linear in the file's size.

// Tests and benchmarks fail by panicking; they print figures and notices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use eci_audit::snapshot::metadata::{
    MetadataKind, MetadataOptions, load_metadata, parse_metadata_file,
};

const TOTAL_FILES: usize = 50_000;
const FIXTURE: &str = "fixtures/metadata/source-healthy";

fn copy_tree(from: &Path, to: &Path) -> usize {
    std::fs::create_dir_all(to).expect("create dir");
    let mut files = 0;
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            files += copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy fixture");
            files += 1;
        }
    }
    files
}

/// An sfdx project: the healthy fixture plus Apex classes, object fields, `node_modules` and
/// .git objects, up to [`TOTAL_FILES`] files.
fn build_repo(root: &Path) {
    let mut files = copy_tree(Path::new(FIXTURE), root);
    let default = root.join("force-app/main/default");
    let mut write = |dir: &Path, name: String| {
        std::fs::write(dir.join(name), b"x").expect("write file");
        files += 1;
        files < TOTAL_FILES
    };
    let classes = default.join("classes");
    std::fs::create_dir_all(&classes).expect("classes");
    'classes: for i in 0..10_000 {
        for name in [format!("Class{i}.cls"), format!("Class{i}.cls-meta.xml")] {
            if !write(&classes, name) {
                break 'classes;
            }
        }
    }
    'objects: for o in 0..200 {
        let fields = default.join(format!("objects/Obj{o}__c/fields"));
        std::fs::create_dir_all(&fields).expect("fields");
        for f in 0..50 {
            if !write(&fields, format!("Field{f}__c.field-meta.xml")) {
                break 'objects;
            }
        }
    }
    'modules: for m in 0..100 {
        let dir = root.join(format!("node_modules/pkg{m}/lib"));
        std::fs::create_dir_all(&dir).expect("node_modules");
        for f in 0..100 {
            if !write(&dir, format!("file{f}.js")) {
                break 'modules;
            }
        }
    }
    let mut n = 0;
    loop {
        let dir = root.join(format!(".git/objects/{:02x}", n % 256));
        std::fs::create_dir_all(&dir).expect(".git");
        if !write(&dir, format!("{n:038x}")) {
            break;
        }
        n += 1;
    }
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path().join("repo");
    build_repo(&root);
    let opts = MetadataOptions::default();
    let snapshot = load_metadata(&root, &opts).expect("repo loads");
    assert_eq!(snapshot.connected_apps.items().len(), 1);
    assert_eq!(snapshot.named_credentials.items().len(), 2);
    c.bench_function("load_metadata 50k files, 8 relevant", |b| {
        b.iter(|| load_metadata(black_box(&root), &opts).expect("repo loads"));
    });
}

/// A minified (one-line) profile of about 7 MB: thousands of field permissions, then the
/// permissions the audit reads. Positions (line:column) used to cost a scan from the line's
/// start each; they must stay linear in the file's size.
fn minified_profile() -> Vec<u8> {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Profile xmlns="http://soap.sforce.com/2006/04/metadata">"#,
    );
    for i in 0..60_000 {
        xml.push_str(&format!(
            "<fieldPermissions><editable>true</editable><field>Account.Field{i}__c</field><readable>true</readable></fieldPermissions>"
        ));
    }
    xml.push_str("<objectPermissions><allowRead>true</allowRead><object>VoiceCall</object></objectPermissions>");
    xml.push_str(
        "<userPermissions><enabled>true</enabled><name>ApiEnabled</name></userPermissions>",
    );
    xml.push_str("</Profile>");
    xml.into_bytes()
}

fn bench_minified(c: &mut Criterion) {
    let bytes = minified_profile();
    println!(
        "minified profile: {:.1} MiB on one line",
        f64::from(u32::try_from(bytes.len()).unwrap_or(u32::MAX)) / 1_048_576.0
    );
    let mut g = c.benchmark_group("minified");
    g.sample_size(10);
    g.bench_function("parse a one-line 7 MB profile", |b| {
        b.iter(|| {
            parse_metadata_file(
                MetadataKind::Profile,
                "Admin",
                "Admin.profile",
                black_box(&bytes),
            )
            .expect("profile parses")
        });
    });
    g.finish();
}

criterion_group!(benches, bench, bench_minified);
criterion_main!(benches);
