//! Indicator charts, KPI tiles and the provider board: snapshots of each kind in Vietnamese and
//! English, with missing and stale data; exports to SVG, PNG and PDF; hovering.

use std::sync::Arc;

use chrono::Duration;
use egui::{Rect, pos2, vec2};
use egui_kittest::kittest::Queryable as _;
use ioc_console::app::export;
use ioc_console::charts::{ChartData, ChartSpec, ChartType, UnitGroup, UnitSelection};
use ioc_console::context::ExportFormat as Format;
use ioc_console::context::{FrameCtx, TileState};
use ioc_console::i18n::Lang;
use ioc_console::model::Timestamp;
use ioc_console::status::SourceState;
use ioc_console::store::Store;
use ioc_console::tiles::TileOptions;
use ioc_console::tiles::frame::{TileFrame, show_tile};

use crate::support::{fixed_now, harness, snapshot};

/// The demo's data at the fixed instant, loaded into a store as the client would.
pub fn demo_store() -> Store {
    ioc_console::sim::world_store(2607, fixed_now()).unwrap()
}

fn spec(chart: ChartType, indicators: &[&str], units: UnitSelection) -> ChartSpec {
    ChartSpec {
        chart,
        indicators: indicators.iter().map(|s| s.to_string()).collect(),
        units,
        periods: 12,
        period: None,
    }
}

fn line() -> TileOptions {
    TileOptions::Chart(spec(
        ChartType::Line,
        &["hospital_bed_occupancy"],
        UnitSelection::Ids(vec!["bt-tp-ben-tre".into(), "bt-ba-tri".into()]),
    ))
}
fn bars() -> TileOptions {
    TileOptions::Chart(spec(
        ChartType::Bars,
        &["citizen_reports_ontime"],
        UnitSelection::Group(UnitGroup::Children),
    ))
}
fn target() -> TileOptions {
    TileOptions::Chart(spec(
        ChartType::Target,
        &[
            "dossiers_ontime_rate",
            "documents_online_share",
            "school_attendance",
        ],
        UnitSelection::default(),
    ))
}
fn stacked() -> TileOptions {
    TileOptions::Chart(spec(
        ChartType::Stacked,
        &["retail_sales_monthly"],
        UnitSelection::Group(UnitGroup::Children),
    ))
}
fn kpi() -> TileOptions {
    TileOptions::Kpi(ioc_console::tiles::kpi::KpiOptions {
        indicator: "grdp_growth".into(),
        unit: None,
        sparkline: 12,
        period: None,
    })
}

fn cx_with(store: Store, lang: Lang, now: Timestamp) -> FrameCtx {
    let mut cx = FrameCtx::new(lang, now);
    cx.store = Arc::new(store);
    cx
}

/// Renders one tile the way the wall does and compares it with its snapshot.
fn tile_snapshot(
    name: &str,
    title: &str,
    options: TileOptions,
    cx: FrameCtx,
    size: [f32; 2],
) -> SourceState {
    let view = options.view();
    let status = view.status(&cx);
    let mut h = harness(size, |ui| {
        let rect = ui.max_rect().shrink(4.0);
        let frame = TileFrame {
            title,
            status: &status,
            scale: 0.6,
            grey_old: view.greys_old_data(),
            own_state: view.paints_own_state(&cx),
        };
        show_tile(ui, rect, frame, &cx, |ui, body| {
            view.paint_body(ui, body, 0.6, &cx, &mut TileState::default())
        });
    });
    h.run();
    snapshot(&mut h, name);
    status.state
}

macro_rules! snap {
    ($test:ident, $name:literal, $title:literal, $opts:expr, $lang:expr, $size:expr) => {
        #[test]
        fn $test() {
            let state = tile_snapshot(
                $name,
                $title,
                $opts,
                cx_with(demo_store(), $lang, fixed_now()),
                $size,
            );
            assert_ne!(state, SourceState::Error, "{}", $name);
        }
    };
}

snap!(
    chart_line_vi,
    "chart_line_vi",
    "Công suất giường bệnh",
    line(),
    Lang::Vi,
    [640.0, 400.0]
);
snap!(
    chart_line_en,
    "chart_line_en",
    "Hospital bed occupancy",
    line(),
    Lang::En,
    [640.0, 400.0]
);
snap!(
    chart_bars_vi,
    "chart_bars_vi",
    "Xử lý phản ánh đúng hạn",
    bars(),
    Lang::Vi,
    [640.0, 440.0]
);
snap!(
    chart_bars_en,
    "chart_bars_en",
    "Reports handled on time",
    bars(),
    Lang::En,
    [640.0, 440.0]
);
snap!(
    chart_target_vi,
    "chart_target_vi",
    "Thực hiện so với kế hoạch",
    target(),
    Lang::Vi,
    [640.0, 360.0]
);
snap!(
    chart_target_en,
    "chart_target_en",
    "Actual against target",
    target(),
    Lang::En,
    [640.0, 360.0]
);
snap!(
    chart_stacked_vi,
    "chart_stacked_vi",
    "Bán lẻ theo địa bàn",
    stacked(),
    Lang::Vi,
    [640.0, 440.0]
);
snap!(
    chart_stacked_en,
    "chart_stacked_en",
    "Retail sales by district",
    stacked(),
    Lang::En,
    [640.0, 440.0]
);
snap!(
    kpi_vi,
    "kpi_vi",
    "Tăng trưởng GRDP",
    kpi(),
    Lang::Vi,
    [330.0, 240.0]
);
snap!(
    kpi_en,
    "kpi_en",
    "GRDP growth",
    kpi(),
    Lang::En,
    [330.0, 240.0]
);
snap!(
    providers_vi,
    "providers_vi",
    "Cập nhật dữ liệu của các sở, ngành",
    TileOptions::Providers(Default::default()),
    Lang::Vi,
    [640.0, 440.0]
);

/// A district with no value for the latest period is a missing bar with words, never a zero.
#[test]
fn missing_values_are_shown_as_not_updated_never_zero() {
    let mut store = demo_store();
    let series = store.series.data.as_mut().unwrap();
    let key = ("citizen_reports_ontime".to_owned(), "bt-ba-tri".to_owned());
    series.get_mut(&key).unwrap().points.pop();
    let TileOptions::Chart(s) = bars() else {
        unreachable!()
    };
    let data = ChartData::from_store(&s, &store, Lang::Vi);
    let ba_tri = data.bars.iter().find(|b| b.label == "Ba Tri").unwrap();
    assert_eq!(ba_tri.value, None);
    assert_eq!(ba_tri.text, "chưa cập nhật");
    assert!(data.missing.iter().any(|(u, _)| u == "Ba Tri"));

    // In a time series, the missing period is a gap.
    let TileOptions::Chart(l) = line() else {
        unreachable!()
    };
    let mut store2 = demo_store();
    let s2 = store2.series.data.as_mut().unwrap();
    let key = ("hospital_bed_occupancy".to_owned(), "bt-ba-tri".to_owned());
    let points = &mut s2.get_mut(&key).unwrap().points;
    let removed = points.remove(points.len() - 3).period;
    let data = ChartData::from_store(&l, &store2, Lang::Vi);
    let i = data.periods.iter().position(|p| *p == removed).unwrap();
    assert_eq!(data.lines[1].values[i], None);
    assert!(data.lines[0].values[i].is_some());

    let state = tile_snapshot(
        "chart_bars_missing_vi",
        "Xử lý phản ánh đúng hạn",
        bars(),
        cx_with(store, Lang::Vi, fixed_now()),
        [640.0, 440.0],
    );
    assert_eq!(state, SourceState::Live);
}

/// A year later, nothing new has arrived: the chart says its data is stale.
#[test]
fn stale_indicator_data_gets_a_stale_badge() {
    let later = fixed_now() + Duration::days(400);
    let mut store = demo_store();
    // The dataset itself was refreshed just now: only the indicator's values are old.
    store.series.fetched_at = Some(later);
    let state = tile_snapshot(
        "chart_line_stale_vi",
        "Công suất giường bệnh",
        line(),
        cx_with(store, Lang::Vi, later),
        [640.0, 400.0],
    );
    assert_eq!(state, SourceState::Stale);
}

fn chart_tile() -> ioc_console::wall::Tile {
    let layout = crate::support::load_layout("ioc-main.toml");
    layout
        .tiles
        .into_iter()
        .find(|t| t.id == "chart-grdp")
        .unwrap()
}

#[test]
fn exports_svg_png_and_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let tile = chart_tile();
    let store = Arc::new(demo_store());
    let now = fixed_now();

    let svg = dir.path().join("c.svg");
    export::export_tile(
        &tile,
        Arc::clone(&store),
        Lang::Vi,
        now,
        &svg,
        (900, 500),
        1.0,
    )
    .unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(
        doc.descendants()
            .any(|n| n.is_text() && n.text().map(str::trim) == Some(tile.title.as_str())),
        "the title is in the SVG"
    );

    let png = dir.path().join("c.png");
    export::export_tile(
        &tile,
        Arc::clone(&store),
        Lang::Vi,
        now,
        &png,
        (800, 450),
        1.5,
    )
    .unwrap();
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (1200, 675));

    let pdf = dir.path().join("c.pdf");
    export::export_tile(
        &tile,
        Arc::clone(&store),
        Lang::En,
        now,
        &pdf,
        (900, 500),
        1.0,
    )
    .unwrap();
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let out = dir.path().join("page");
    let status = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "50", "-singlefile"])
        .arg(&pdf)
        .arg(&out)
        .status()
        .expect("pdftoppm (poppler-utils) runs");
    assert!(status.success());
    let page = image::open(dir.path().join("page.png")).unwrap().to_rgba8();
    let first = *page.get_pixel(0, 0);
    let different = page.pixels().filter(|p| **p != first).count();
    assert!(
        different > (page.width() * page.height()) as usize / 50,
        "the PDF page is blank"
    );

    assert_eq!(
        Format::from_path(std::path::Path::new("x.PDF")),
        Some(Format::Pdf)
    );
    let bad = export::export_tile(
        &tile,
        store,
        Lang::En,
        now,
        &dir.path().join("c.gif"),
        (900, 500),
        1.0,
    );
    assert!(bad.unwrap_err().contains(".svg"));
}

#[test]
fn hovering_a_chart_shows_the_values_at_that_point() {
    let cx = cx_with(demo_store(), Lang::Vi, fixed_now());
    let options = line();
    let view = options.view();
    let mut h = harness([640.0, 400.0], |ui| {
        let rect = Rect::from_min_size(pos2(0.0, 0.0), vec2(640.0, 400.0));
        view.paint_body(ui, rect, 0.6, &cx, &mut TileState::default());
    });
    h.run();
    h.hover_at(pos2(600.0, 200.0));
    h.run();
    // The tooltip names the last period and both series with their values.
    let TileOptions::Chart(s) = &options else {
        unreachable!()
    };
    let data = ChartData::from_store(s, &cx.store, Lang::Vi);
    let last = ioc_console::format::period(Lang::Vi, *data.periods.last().unwrap());
    h.get_by_label(&last);
    h.get_by_label_contains("Ba Tri:");
}

#[test]
fn backend_annotations_reach_time_charts() {
    let store = demo_store();
    let s = ChartSpec {
        periods: 24,
        ..spec(
            ChartType::Line,
            &["exports_monthly"],
            UnitSelection::default(),
        )
    };
    let data = ChartData::from_store(&s, &store, Lang::Vi);
    let (i, text) = data
        .annotations
        .iter()
        .find(|(_, t)| t.contains("Vĩnh Long"))
        .expect("the merger is noted");
    assert_eq!(data.periods[*i].to_string(), "2025-07");
    assert!(!text.is_empty());
    let grdp = spec(ChartType::Line, &["grdp_growth"], UnitSelection::default());
    let data = ChartData::from_store(&grdp, &store, Lang::En);
    assert!(
        data.annotations
            .iter()
            .any(|(i, t)| t == "Published figure" && data.periods[*i].to_string() == "2023")
    );
}

#[test]
fn the_main_wall_draws_every_chart_without_error() {
    let layout = crate::support::load_layout("ioc-main.toml");
    let cx = cx_with(demo_store(), Lang::Vi, fixed_now());
    let mut charts = 0;
    for t in &layout.tiles {
        if matches!(
            t.options,
            TileOptions::Chart(_) | TileOptions::Kpi(_) | TileOptions::Providers(_)
        ) {
            charts += 1;
            let s = t.options.view().status(&cx);
            assert_ne!(s.state, SourceState::Error, "{}: {s:?}", t.id);
        }
    }
    assert!(charts >= 10);
    // Drawing all of them (through the egui backend) must not fail either.
    let mut h = harness([1600.0, 620.0], |ui| {
        let rect = ui.max_rect();
        ioc_console::app::wall_view::paint_wall(ui, rect, &layout, &cx);
    });
    h.run();
}

/// A chart is extracted once per change of what it reads and shared by its status and body: the
/// event stream's heartbeat and another indicator's observation change nothing, its own series'
/// observation makes it extract again.
#[test]
fn a_chart_is_prepared_once_per_change_of_what_it_reads() {
    use ioc_console::charts::cache::ChartCache;
    use ioc_console::model::{Event, ObservationEvent, Point};
    use ioc_console::sources::Update;
    let mut cx = cx_with(demo_store(), Lang::Vi, fixed_now());
    let options = line();
    let view = options.view();
    let mut h = harness([640.0, 400.0], |ui| {
        let rect = Rect::from_min_size(pos2(0.0, 0.0), vec2(640.0, 400.0));
        let _ = view.status(&cx);
        view.paint_body(ui, rect, 0.6, &cx, &mut TileState::default());
        let _ = view.status(&cx);
    });
    h.run_steps(5);
    drop(h);
    let cache = cx.caches.get::<ChartCache>();
    assert_eq!(cache.work_done(), (1, 1), "one extraction, one preparation");
    let observe = |cx: &mut FrameCtx, indicator: &str, unit: &str| {
        let store = Arc::make_mut(&mut cx.store);
        let period = store
            .series
            .data
            .as_ref()
            .unwrap()
            .get(&(indicator.to_owned(), unit.to_owned()))
            .and_then(|s| s.points.last().map(|p| p.period))
            .unwrap();
        store.apply(Update::Event(Event::Observation(ObservationEvent {
            indicator_id: indicator.into(),
            unit_id: unit.into(),
            point: Point {
                period,
                value: 1.0,
                updated_at: fixed_now(),
                status: None,
            },
        })));
    };
    // The heartbeat and an unrelated indicator: nothing extracted again.
    Arc::make_mut(&mut cx.store).apply(Update::StreamAlive { at: fixed_now() });
    observe(&mut cx, "grdp_growth", "bt");
    let _ = view.status(&cx);
    assert_eq!(cache.work_done().0, 1);
    // Its own series: once again, with the new value.
    observe(&mut cx, "hospital_bed_occupancy", "bt-ba-tri");
    let TileOptions::Chart(s) = &options else {
        unreachable!()
    };
    let data = cache.data(s, &cx.store, Lang::Vi, 0);
    assert_eq!(cache.work_done().0, 2);
    let ba_tri = data.lines.iter().find(|l| l.label == "Ba Tri").unwrap();
    assert_eq!(ba_tri.values.last().copied().flatten(), Some(1.0));
}

/// Statistics from a source beside the backend: the SDMX-ML fixture through the mapping the
/// console runs, the newest quarter reported without a value and the one before provisional.
fn store_with_gso() -> Store {
    use ioc_console::model::PeriodKind;
    use ioc_console::sources::stats::mapping::{IndicatorMap, StatsMapping, map};
    use ioc_console::sources::stats::{ReadOptions, StatsFormat};
    use ioc_console::sources::{Resource, SourcePayload, Update};
    let bytes =
        std::fs::read(crate::support::repo().join("tests/data/sources/sdmx/nsdp-gdp.xml")).unwrap();
    let cube = StatsFormat::SdmxMl
        .read(&bytes, &ReadOptions::default())
        .unwrap();
    let m = StatsMapping {
        default_unit: Some("bt".into()),
        indicators: vec![IndicatorMap {
            id: "gdp_growth_vn".into(),
            select: [("INDICATOR".to_owned(), "NGDP_R_PC_CP_A_PT".to_owned())].into(),
            name_vi: Some("Tăng trưởng GDP cả nước".into()),
            unit_of_measure: Some("%".into()),
            period: Some(PeriodKind::Quarterly),
            decimals: Some(2),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut mapped = map(&cube, &m, "gso", fixed_now());
    let s = &mut mapped.series[0];
    s.points.last_mut().unwrap().status = ioc_console::model::ObsStatus::new("P");
    s.missing.push(ioc_console::model::MissingObs {
        period: "2024-Q4".parse_period(),
        status: ioc_console::model::ObsStatus::new("M"),
    });
    let mut store = demo_store();
    store.apply(Update::SourceLoaded {
        source: "gso".into(),
        name: "Tổng cục Thống kê (SDMX)".into(),
        feeds: vec![Resource::Series, Resource::Indicators],
        stale_after: std::time::Duration::from_secs(3 * 3600),
        payload: SourcePayload::Stats {
            indicators: mapped.indicators,
            series: mapped.series,
        },
        problems: vec!["line 20: period \"2024-Q13\" cannot be read".into()],
        as_of: fixed_now(),
        fetched_at: fixed_now(),
    });
    store
}

/// The KPI shows the last value with its status ("provisional") and says that the newest
/// period has no data (never a zero).
#[test]
fn a_kpi_from_sdmx_says_provisional_and_the_missing_newest_period() {
    let store = store_with_gso();
    let opts = TileOptions::Kpi(ioc_console::tiles::kpi::KpiOptions {
        indicator: "gdp_growth_vn".into(),
        unit: Some("bt".into()),
        sparkline: 12,
        period: None,
    });
    let TileOptions::Kpi(k) = &opts else {
        unreachable!()
    };
    let data = ChartData::from_store(&k.spec(), &store, Lang::Vi);
    assert_eq!(data.periods.last().unwrap().to_string(), "2024-Q4");
    assert_eq!(
        data.lines[0].values.last().unwrap(),
        &None,
        "missing, not zero"
    );
    let state = tile_snapshot(
        "kpi_sdmx_missing_vi",
        "Tăng trưởng GDP (TCTK)",
        opts,
        cx_with(store, Lang::Vi, fixed_now()),
        [330.0, 260.0],
    );
    assert_eq!(state, SourceState::Live);
}

/// The sources tile lists a source beside the backend by its name, with what it gave and how
/// many items it could not use.
#[test]
fn the_sources_tile_lists_a_source_beside_the_backend() {
    let state = tile_snapshot(
        "sources_with_gso_vi",
        "Nguồn dữ liệu",
        TileOptions::Sources(Default::default()),
        cx_with(store_with_gso(), Lang::Vi, fixed_now()),
        [420.0, 620.0],
    );
    assert_ne!(state, SourceState::Error);
}

trait ParsePeriod {
    fn parse_period(&self) -> ioc_console::model::PeriodKey;
}

impl ParsePeriod for str {
    fn parse_period(&self) -> ioc_console::model::PeriodKey {
        ioc_console::model::PeriodKey::parse(self).unwrap()
    }
}
