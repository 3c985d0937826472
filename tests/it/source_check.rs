//! `ioc-console source check` over the project's fixtures (what it understood, problems with
//! their places, exit codes, both languages, a configured source's mapping), a URL served on
//! loopback, and — when the workspace's public sample collection is beside the project — every
//! valid sample read and every malformed one refused with a message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::repo;

fn check(lang: &str, kind: &str, inputs: &[&str], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args(["--lang", lang, "source", "check", "--kind", kind])
        .args(extra)
        .args(inputs)
        .current_dir(repo().join("tests/data/sources"))
        .env_remove("IOC_CONSOLE_CONFIG")
        .env("XDG_CONFIG_HOME", repo().join("tests/data/no-config"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn open311_requests_services_updates_and_errors() {
    let o = check(
        "vi",
        "open311",
        &["open311/requests.json", "open311/requests.xml"],
        &[],
    );
    let t = out(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("5 phản ánh (yêu cầu), 3 có toạ độ, 1 đã đóng"),
        "{t}"
    );
    assert!(t.contains("check:0042 · Đang xử lý (IN_PROGRESS)"), "{t}");
    assert!(
        t.contains("[5]: a request with neither service_request_id nor token"),
        "{t}"
    );
    assert!(t.contains("[4]: lat and long swapped"), "{t}");
    assert!(
        t.contains("2 phản ánh (yêu cầu), 1 có toạ độ, 1 đã đóng"),
        "{t}"
    );
    let o = check(
        "en",
        "open311",
        &["open311/services.xml", "open311/updates.xml"],
        &[],
    );
    let t = out(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("2 services (groups: Giao thông, Hạ tầng)"),
        "{t}"
    );
    assert!(t.contains("3 updates"), "{t}");
    let o = check("en", "open311", &["open311/discovery.xml"], &[]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("A service discovery document: 1 endpoints"),
        "{}",
        out(&o)
    );
    assert!(
        out(&o).contains("https://phananh.example.gov.vn/open311/v2 · production"),
        "{}",
        out(&o)
    );
    assert!(
        t.contains("line 20, column 3: no request id or time"),
        "{t}"
    );
    // Error lists and broken bodies: refused, with the server's codes or the place.
    let o = check("en", "open311", &["open311/errors.json"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("error 403: Invalid api_key") && out(&o).contains("error 1021"),
        "{}",
        out(&o)
    );
    let o = check(
        "vi",
        "open311",
        &["open311/malformed.xml", "open311/errors.xml"],
        &[],
    );
    let t = out(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("Không dùng được: line 7, column 1: not well-formed XML")
            || t.contains("Không dùng được: line"),
        "{t}"
    );
    assert!(t.contains("lỗi 404: Service code 999 not found"), "{t}");
}

#[test]
fn statistics_in_every_format() {
    let o = check(
        "vi",
        "sdmx-ml",
        &["sdmx/nsdp-gdp.xml", "sdmx/generic.xml"],
        &[],
    );
    let t = out(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("2 chuỗi số liệu, 9 quan sát (1 thiếu số liệu); chiều: DATA_DOMAIN, REF_AREA, INDICATOR, FREQ"), "{t}");
    assert!(t.contains("period \"2024-Q13\" cannot be read"), "{t}");
    assert!(
        t.contains("NAG.VN.NGDP_XDC.Q: 6 quan sát, từ 2023 đến Quý IV/2024, kỳ cuối thiếu"),
        "{t}"
    );
    assert!(
        t.contains(
            "2 chuỗi số liệu, 5 quan sát (1 thiếu số liệu); chiều: FREQ, REF_AREA, INDICATOR"
        ),
        "{t}"
    );
    let o = check(
        "en",
        "sdmx-json",
        &["sdmx/cpi-1.0.json", "sdmx/pop-2.0.json"],
        &[],
    );
    let t = out(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("2 series, 8 observations (1 missing); dimensions: FREQ, REF_AREA, INDICATOR"),
        "{t}"
    );
    assert!(
        t.contains("3 series, 3 observations (0 missing); dimensions: FREQ, REF_AREA"),
        "{t}"
    );
    let o = check(
        "en",
        "sdmx-csv",
        &["sdmx/pop-1.0.csv", "sdmx/pop-2.0-vi.csv"],
        &[],
    );
    let t = out(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("2 series, 4 observations (1 missing); dimensions: FREQ, REF_AREA, INDICATOR"),
        "{t}"
    );
    assert!(
        t.contains("2 series, 3 observations (0 missing)"),
        "the Delete row is not data: {t}"
    );
    assert!(
        t.contains("last value 1,033,900.00") || t.contains("last value 1,298,000.00"),
        "{t}"
    );
    let o = check(
        "en",
        "jsonstat",
        &["jsonstat/gso-population.json", "jsonstat/bundle-1.x.json"],
        &[],
    );
    let t = out(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("3 series, 9 observations (1 missing); dimensions: Địa phương"),
        "{t}"
    );
    assert!(
        t.contains("2 series, 4 observations (1 missing); dimensions: Vùng"),
        "{t}"
    );
    // Not the format said: refused with the place.
    let o = check("en", "sdmx-json", &["open311/requests.json"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("Cannot be used"), "{}", out(&o));
    let o = check("en", "jsonstat", &["no-such-file.json"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("Cannot read no-such-file.json"),
        "{}",
        out(&o)
    );
}

#[test]
fn a_configured_source_maps_what_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        r#"
[feeds]
series = ["backend", "gso"]

[[source]]
id = "gso"
name = "Tổng cục Thống kê (SDMX)"
kind = "sdmx-ml"
url = "sdmx/generic.xml"

[source.stats]
area_dimension = "REF_AREA"
areas = { "VN-70" = "vl" }

[[source.stats.indicators]]
id = "population"
where = { INDICATOR = "POP" }
name_vi = "Dân số trung bình"
"#,
    )
    .unwrap();
    let o = check("vi", "sdmx-ml", &["sdmx/generic.xml"], &["--source", "gso"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "without the configuration the source is unknown: {}",
        out(&o)
    );
    let o = Command::new(env!("CARGO_BIN_EXE_ioc-console"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "source",
            "check",
            "--kind",
            "sdmx-ml",
            "--source",
            "gso",
            "sdmx/generic.xml",
        ])
        .current_dir(repo().join("tests/data/sources"))
        .output()
        .unwrap();
    let t = out(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains(
            "Theo cấu hình của nguồn «Tổng cục Thống kê (SDMX)»: 1 chỉ tiêu, 1 chuỗi theo đơn vị"
        ),
        "{t}"
    );
    assert!(
        t.contains("population · vl: 3 kỳ có số liệu, 0 kỳ thiếu"),
        "{t}"
    );
    assert!(t.contains("area code VN-83 has no unit"), "{t}");
}

#[test]
fn a_url_is_read_like_a_file() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let addr = rt.block_on(async {
        let app = axum::Router::new().route(
            "/open311/v2/requests.xml",
            axum::routing::get(|| async {
                std::fs::read(repo().join("tests/data/sources/open311/requests.xml")).unwrap()
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    });
    let url = format!("http://{addr}/open311/v2/requests.xml");
    let o = check("en", "open311", &[&url], &[]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("2 citizen reports (requests)"),
        "{}",
        out(&o)
    );
    let dead = check("en", "open311", &["http://127.0.0.1:9/requests.json"], &[]);
    assert_eq!(dead.status.code(), Some(1));
    assert!(out(&dead).contains("Cannot read"), "{}", out(&dead));
}

/// The kind of a sample by its folder, or None for files that are not data messages (schemas,
/// queries, metadata, notes).
fn kind_of(path: &Path) -> Option<&'static str> {
    let p = path.to_string_lossy();
    let name = path.file_name()?.to_string_lossy().to_string();
    if name.ends_with(".md")
        || p.contains("/schemas/")
        || p.contains("json-schema")
        || name.ends_with(".yaml")
    {
        return None;
    }
    if p.contains("/open311/") {
        return (name.ends_with(".json")
            || name.ends_with(".xml")
            || name.ends_with(".http")
            || name.ends_with(".txt")
            || name.ends_with(".csv"))
        .then_some("open311");
    }
    if p.contains("/sdmx-json/") {
        return Some("sdmx-json");
    }
    if p.contains("/sdmx-csv/") {
        return Some("sdmx-csv");
    }
    if p.contains("/sdmx-ml-2.1/") {
        return Some("sdmx-ml");
    }
    if p.contains("/jsonstat/") {
        return (!p.contains("validator-corpus")).then_some("jsonstat");
    }
    if p.contains("/pxweb/") {
        // The answers in JSON-stat; queries, folders, table metadata and `format=json` are not.
        return ((name.starts_with("response_") && !name.contains("table_variables"))
            || name.contains("_data")
            || p.contains("vietnam-gso"))
        .then_some("jsonstat");
    }
    None
}

/// Samples that are not usable data by design, with why (the collection's notes say so).
fn expected_refusal(path: &Path) -> bool {
    let p = path.to_string_lossy();
    [
        "/malformed/",
        "error",
        "footer",
        "403",
        "not_found",
        "spec-service-request.json",
        "spec-service-requests.json",
        "spec-service-list.json",
        "collection.json",
        "order.json",
        "hierarchy.json",
    ]
    .iter()
    .any(|k| p.contains(k))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn the_public_sample_collection_when_present() {
    let shared = repo().join("../shared/fixtures");
    if !shared.is_dir() {
        eprintln!("../shared/fixtures is not beside the project: nothing to check");
        return;
    }
    let mut all = Vec::new();
    files(&shared, &mut all);
    all.sort();
    let mut read = 0;
    let mut surprises = Vec::new();
    for f in &all {
        let Some(kind) = kind_of(f) else { continue };
        let o = check("en", kind, &[f.to_str().unwrap()], &[]);
        let t = out(&o);
        let refused = !o.status.success();
        assert!(o.status.code().is_some(), "{} crashed: {t}", f.display());
        assert!(!t.contains("panicked"), "{}: {t}", f.display());
        if refused {
            assert!(
                t.contains("Cannot be used") || t.contains("errors") || t.contains("Cannot read"),
                "{}: refused without a message: {t}",
                f.display()
            );
        }
        if refused != expected_refusal(f) {
            surprises.push(format!(
                "{} ({kind}): {}",
                f.display(),
                t.lines().take(3).collect::<Vec<_>>().join(" | ")
            ));
        }
        read += 1;
    }
    assert!(read > 80, "only {read} samples checked");
    assert!(
        surprises.is_empty(),
        "samples read otherwise than expected:\n{}",
        surprises.join("\n")
    );
}
