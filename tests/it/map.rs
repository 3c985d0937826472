//! The map: projection, clustering, nearest cameras, GeoJSON layers, the map tile (vector-only
//! demo map, a PMTiles basemap made here, a corrupt one), the shared selection, and a tile server
//! on loopback that fails and recovers.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use ioc_console::context::{Command, FrameCtx, TileState};
use ioc_console::i18n::Lang;
use ioc_console::map::cluster::{ClusterCache, cluster};
use ioc_console::map::geo::{self, Merc};
use ioc_console::map::vector::{self, LayerError, LayerState, LayerStyle};
use ioc_console::map::{BasemapConfig, MapConfig, MapSetup};
use ioc_console::model::GeoPoint;
use ioc_console::tiles::TileView;
use ioc_console::tiles::frame::{TileFrame, show_tile};
use ioc_console::tiles::map::{Follow, MapLayer, MapOptions, MapTileState};

use crate::support::{fixed_now, harness};

fn gp(lat: f64, lon: f64) -> GeoPoint {
    GeoPoint { lat, lon }
}

#[test]
fn projection_round_trips_and_agrees_with_the_map_widget() {
    use walkers::Projection as _;
    for lat in [-85.0, -60.5, -10.0, 0.0, 9.95, 10.236, 45.0, 84.9] {
        for lon in [-179.9, -120.0, 0.0, 0.001, 106.376, 179.9] {
            let p = gp(lat, lon);
            let back = geo::unproject(geo::project(p));
            assert!((back.lat - lat).abs() < 1e-9, "{lat},{lon} -> {back:?}");
            assert!((back.lon - lon).abs() < 1e-9, "{lat},{lon} -> {back:?}");
            // The same pixels as the walkers widget draws with, at any zoom.
            for zoom in [0.0, 7.5, 12.0, 18.0] {
                let ours = geo::project(p);
                let theirs = walkers::MercatorProjection.project(walkers::lat_lon(lat, lon), zoom);
                let world = geo::world_px(zoom);
                assert!((ours.x * world - theirs.x()).abs() < 1e-6 * world.max(1.0));
                assert!((ours.y * world - theirs.y()).abs() < 1e-6 * world.max(1.0));
            }
        }
    }
    // The grid's corners and the clamp beyond ±85.05°.
    assert_eq!(geo::project(gp(0.0, -180.0)).x, 0.0);
    assert!((geo::project(gp(geo::MAX_LAT, 0.0)).y).abs() < 1e-12);
    assert_eq!(
        geo::project(gp(89.9, 0.0)),
        geo::project(gp(geo::MAX_LAT, 0.0))
    );
    // TP Bến Tre at zoom 10: the tile whose corners bracket it.
    let seat = gp(10.236, 106.376);
    let (x, y) = geo::tile_of(seat, 10);
    assert_eq!(x, 814);
    let nw = geo::unproject(Merc {
        x: f64::from(x) / 1024.0,
        y: f64::from(y) / 1024.0,
    });
    let se = geo::unproject(Merc {
        x: f64::from(x + 1) / 1024.0,
        y: f64::from(y + 1) / 1024.0,
    });
    assert!(nw.lat >= seat.lat && seat.lat > se.lat, "{nw:?} {se:?}");
    assert!(nw.lon <= seat.lon && seat.lon < se.lon, "{nw:?} {se:?}");
}

#[test]
fn distances_and_the_nearest_cameras() {
    // One degree of longitude on the equator, on the mean Earth radius.
    let d = geo::distance_m(gp(0.0, 0.0), gp(0.0, 1.0));
    assert!((d - 111_195.08).abs() < 1.0, "{d}");
    assert_eq!(geo::distance_m(gp(10.0, 106.0), gp(10.0, 106.0)), 0.0);
    // Symmetric.
    let (a, b) = (gp(10.236, 106.376), gp(9.949, 106.517));
    assert!((geo::distance_m(a, b) - geo::distance_m(b, a)).abs() < 1e-6);

    let from = gp(10.0, 106.0);
    let points = [
        gp(10.0, 106.02),  // ~2.19 km east
        gp(10.01, 106.0),  // ~1.11 km north
        gp(10.0, 106.5),   // far
        gp(10.0, 105.98),  // ~2.19 km west: a tie with [0]
        gp(95.0, 0.0),     // invalid: never listed
        gp(10.001, 106.0), // ~111 m
    ];
    let near = geo::nearest_within(from, points, 3000.0);
    let order: Vec<usize> = near.iter().map(|(i, _)| *i).collect();
    assert_eq!(
        order,
        vec![5, 1, 0, 3],
        "nearest first, ties in input order"
    );
    assert!(near.windows(2).all(|w| w[0].1 <= w[1].1));
    assert!(near.iter().all(|(_, d)| *d <= 3000.0));
    assert!(geo::nearest_within(from, points, 50.0).is_empty());

    // On the demo data: the camera on Đồng Khởi street is the nearest to the city seat.
    let store = crate::charts::demo_store();
    let mut cx = FrameCtx::new(Lang::Vi, fixed_now());
    cx.store = Arc::new(store);
    let near = ioc_console::tiles::map::nearby_cameras(&cx, gp(10.236, 106.376), 3000.0);
    assert_eq!(near.first().map(|(c, _)| c.id.as_str()), Some("cam-01"));
    assert!(near.iter().all(|(_, d)| *d <= 3000.0));
}

#[test]
fn cluster_counts_add_up_at_every_zoom() {
    let mut rng = ioc_console::util::rng::Rng::new(42);
    let mut pts: Vec<(Merc, u8)> = (0..20_000)
        .map(|_| {
            let p = gp(9.8 + rng.unit() * 0.6, 106.0 + rng.unit() * 0.8);
            (geo::project(p), (rng.unit() * 4.0) as u8)
        })
        .collect();
    // Points on the same spot, and one that cannot be placed.
    pts.push((geo::project(gp(10.2, 106.3)), 3));
    pts.push((geo::project(gp(10.2, 106.3)), 0));
    pts.push((
        Merc {
            x: f64::NAN,
            y: 0.5,
        },
        1,
    ));
    let placeable = pts.len() - 1;
    let mut previous = 0;
    for z in 0..=22u8 {
        let clusters = cluster(&pts, z, 56.0);
        let total: u64 = clusters.iter().map(|c| u64::from(c.count)).sum();
        assert_eq!(total, placeable as u64, "zoom {z}");
        // Zooming in never merges: there are at least as many groups.
        assert!(clusters.len() >= previous, "zoom {z}");
        previous = clusters.len();
        for c in &clusters {
            // The top member carries the highest rank of its cluster.
            assert_eq!(pts[c.top as usize].1, c.max_rank);
        }
    }
    // Zoomed out the whole province is one group; zoomed in, only the shared spot merges.
    assert_eq!(cluster(&pts, 0, 56.0).len(), 1);
    let fine = cluster(&pts, 22, 1.0);
    assert_eq!(fine.len(), placeable - 1);
    let shared = fine.iter().find(|c| c.count == 2).unwrap();
    assert_eq!(shared.max_rank, 3);

    // The cache rebuilds only for a new generation or level.
    let mut cache = ClusterCache::default();
    for (generation, z) in [(1, 8), (1, 8), (1, 9), (2, 9), (2, 9)] {
        cache.get(generation, z, 56.0, &pts, None);
    }
    assert_eq!(cache.builds(), 3);

    // Stamps: each cluster keeps its newest member's.
    let stamps: Vec<i64> = (0..pts.len() as i64).collect();
    for c in ioc_console::map::cluster::cluster_stamped(&pts, Some(&stamps), 12, 56.0) {
        let newest = c.newest.expect("stamped");
        if c.count == 1 {
            assert_eq!(newest, i64::from(c.top));
        }
        assert!((0..pts.len() as i64).contains(&newest));
    }
    let all = ioc_console::map::cluster::cluster_stamped(&pts, Some(&stamps), 0, 56.0);
    assert_eq!(
        all[0].newest,
        Some(pts.len() as i64 - 2),
        "the unplaceable one is not counted"
    );
}

#[test]
fn geojson_layers_and_their_errors() {
    let good = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"name":"Ô vuông"},
         "geometry":{"type":"Polygon","coordinates":[[[106.0,10.0],[106.2,10.0],[106.2,10.2],[106.0,10.2],[106.0,10.0]]]}},
        {"type":"Feature","properties":{"name":"Sông"},
         "geometry":{"type":"LineString","coordinates":[[106.0,10.0],[106.1,10.05],[106.3,10.1]]}},
        {"type":"Feature","properties":{"ten":"Điểm"},
         "geometry":{"type":"Point","coordinates":[106.4,10.3]}}
    ]}"#;
    let l = vector::parse("thử", good, LayerStyle::Boundary, "name", None).unwrap();
    assert_eq!(l.lines.len(), 2);
    assert_eq!(l.points.len(), 1);
    let labels: Vec<&str> = l.labels.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(labels, vec!["Ô vuông", "Sông"]);
    // The polygon's label sits at its centre.
    let c = geo::unproject(l.labels[0].0);
    assert!(
        (c.lon - 106.1).abs() < 1e-6 && (c.lat - 10.1).abs() < 1e-3,
        "{c:?}"
    );
    // Another label property.
    let l = vector::parse("thử", good, LayerStyle::Points, "ten", None).unwrap();
    assert_eq!(l.labels.len(), 1);

    let bad = |text: &str| vector::parse("x", text, LayerStyle::River, "name", None).unwrap_err();
    assert!(matches!(bad("{not json"), LayerError::Invalid(_)));
    assert!(matches!(
        bad(r#"{"type":"Nonsense"}"#),
        LayerError::Invalid(_)
    ));
    assert!(matches!(
        bad(r#"{"type":"Point","coordinates":["a","b"]}"#),
        LayerError::Invalid(_)
    ));
    // Latitude first by mistake.
    let swapped = bad(r#"{"type":"LineString","coordinates":[[10.2,106.3],[10.3,106.4]]}"#);
    assert_eq!(
        swapped,
        LayerError::OutOfRange {
            lon: 10.2,
            lat: 106.3
        }
    );
    assert!(swapped.to_string().contains("[longitude, latitude]"));
    assert_eq!(
        bad(r#"{"type":"FeatureCollection","features":[]}"#),
        LayerError::Empty
    );

    // Files: missing, too large (sparse, nothing is read), broken.
    let dir = tempfile::tempdir().unwrap();
    let missing = vector::load_file(
        "roads",
        &dir.path().join("no.geojson"),
        LayerStyle::Road,
        "name",
        None,
    );
    assert!(
        matches!(&missing, LayerState::Failed { name, error: LayerError::Read { .. } } if name == "roads")
    );
    let huge = dir.path().join("huge.geojson");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(vector::MAX_LAYER_BYTES + 1)
        .unwrap();
    assert!(matches!(
        vector::load_file("huge", &huge, LayerStyle::Road, "name", None),
        LayerState::Failed {
            error: LayerError::TooLarge { .. },
            ..
        }
    ));
}

#[test]
fn shipped_layers_are_real_data_with_their_sources() {
    let setup = MapSetup::default();
    let layers = setup.layers();
    assert!(layers.len() >= 3);
    for l in &layers {
        match &**l {
            LayerState::Ready(l) => {
                assert!(!l.lines.is_empty(), "{}", l.name);
                assert!(l.attribution.is_some(), "{}", l.name);
            }
            LayerState::Failed { name, error } => panic!("shipped layer {name}: {error}"),
            LayerState::Loading { name } => panic!("shipped layer {name} is read at once"),
        }
    }
    let sources = std::fs::read_to_string(crate::support::repo().join("assets/map/SOURCES.md"))
        .expect("assets/map/SOURCES.md records where the shipped layers come from");
    for file in ["provinces.geojson", "coastline.geojson", "rivers.geojson"] {
        assert!(sources.contains(file), "SOURCES.md names {file}");
    }
    // Bến Tre is among the provinces, marked as historical.
    let text = std::fs::read_to_string(crate::support::repo().join("assets/map/provinces.geojson"))
        .unwrap();
    assert!(text.contains("Bến Tre"));
    assert!(text.contains("2025-06-30"));
}

// --- The map tile ---------------------------------------------------------------------------

fn demo_cx(lang: Lang) -> FrameCtx {
    let mut cx = FrameCtx::new(lang, fixed_now());
    cx.store = Arc::new(crate::charts::demo_store());
    cx
}

fn options() -> MapOptions {
    MapOptions {
        center: None,
        zoom: None,
        follow: Follow::Selection,
        basemap: None,
        layers: MapLayer::ALL.to_vec(),
        camera_radius_m: 3000.0,
        include_closed: false,
        unit: None,
    }
}

const SCALE: f32 = 0.7;

/// A map tile drawn the way the wall draws it, with its own state between frames and the
/// console's view (what it sends is applied before the next frame).
struct MapView {
    state: std::rc::Rc<std::cell::RefCell<TileState>>,
    rig: std::rc::Rc<crate::support::ViewRig>,
}

impl MapView {
    fn with<R>(&self, f: impl FnOnce(&MapTileState) -> R) -> Option<R> {
        self.state.borrow().get::<MapTileState>().map(f)
    }
    fn current_view(&self) -> Option<(GeoPoint, f64)> {
        self.with(|m| m.current_view()).flatten()
    }
    fn placed_incidents(&self) -> Option<usize> {
        self.with(|m| m.placed_incidents()).flatten()
    }
    fn points_rebuilds(&self) -> Option<u64> {
        self.with(|m| m.points_rebuilds())
    }
    fn marker_builds(&self) -> Option<u64> {
        self.with(|m| m.marker_builds())
    }
    fn select(&self, id: Option<String>) {
        self.rig.apply(Command::SelectIncident(id));
    }
    fn selected(&self) -> Option<String> {
        self.rig.view().incident
    }
    fn new() -> MapView {
        MapView {
            state: Default::default(),
            rig: std::rc::Rc::new(crate::support::ViewRig::new()),
        }
    }
}

fn map_harness<'a>(
    tile: &'a MapOptions,
    cx: &'a FrameCtx,
    size: [f32; 2],
) -> (Harness<'a>, MapView) {
    let status = tile.status(cx);
    let mv = MapView::new();
    let (state, rig) = (mv.state.clone(), mv.rig.clone());
    let h = harness(size, move |ui| {
        let cx = rig.frame(cx);
        let rect = ui.max_rect().shrink(4.0);
        let frame = TileFrame {
            title: "Bản đồ sự cố và camera",
            status: &status,
            scale: SCALE,
            grey_old: true,
            own_state: false,
        };
        show_tile(ui, rect, frame, &cx, |ui, body| {
            tile.paint_body(ui, body, SCALE, &cx, &mut state.borrow_mut())
        });
    });
    (h, mv)
}

#[test]
fn vector_only_demo_map_with_incidents_and_cameras_vi() {
    let cx = demo_cx(Lang::Vi);
    let tile = options();
    let (mut h, _mv) = map_harness(&tile, &cx, [900.0, 760.0]);
    h.run_steps(3);
    crate::support::snapshot(&mut h, "map_demo_vector_vi");
}

#[test]
fn selecting_an_incident_centres_the_map_and_lists_cameras_nearest_first() {
    let cx = demo_cx(Lang::Vi);
    // An open incident in Bến Tre city, near the cameras there.
    let incidents = cx.store.incidents.data.as_ref().unwrap();
    let mut open: Vec<_> = incidents
        .values()
        .filter(|i| !i.status.is_closed() && i.unit_id == "bt-tp-ben-tre")
        .collect();
    open.sort_by(|a, b| a.id.cmp(&b.id));
    let inc = open
        .first()
        .expect("an open incident in the city")
        .to_owned()
        .clone();
    let tile = options();
    let (mut h, mv) = map_harness(&tile, &cx, [900.0, 760.0]);
    h.run_steps(2);
    let (before, _) = mv.current_view().unwrap();
    assert!(geo::distance_m(before, inc.location) > 100.0);
    mv.select(Some(inc.id.clone()));
    h.run_steps(3);
    // Centred on it, zoomed in to street level (14 on a 1080-line monitor).
    let (at, zoom) = mv.current_view().unwrap();
    assert!(geo::distance_m(at, inc.location) < 1.0, "{at:?}");
    assert!(zoom >= 14.0 + f64::from(SCALE).log2() - 1e-9, "{zoom}");
    h.get_by_label_contains("Camera trong bán kính 3 km");
    let near = ioc_console::tiles::map::nearby_cameras(&cx, inc.location, 3000.0);
    assert!(!near.is_empty());
    // The first row is the nearest camera.
    let first = &near[0].0;
    h.get_by_label_contains(&first.name).click();
    h.run_steps(3);
    h.get_by_label_contains("Đơn vị quản lý");
    h.get_by_label_contains("Cách sự cố đang chọn");
    crate::support::snapshot(&mut h, "map_selected_incident_vi");
    h.get_by_label("Đóng").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("Đơn vị quản lý").is_none());
}

#[test]
fn a_fixed_map_keeps_its_view_and_an_english_legend() {
    let cx = demo_cx(Lang::En);
    let mut tile = options();
    tile.follow = Follow::Fixed;
    tile.center = Some(gp(10.236, 106.376));
    tile.zoom = Some(11.0);
    let (mut h, mv) = map_harness(&tile, &cx, [900.0, 760.0]);
    h.run_steps(2);
    h.get_by_label("Legend").click();
    h.run_steps(2);
    h.get_by_label_contains("Priority (colour)");
    h.get_by_label_contains("Status (outline)");
    h.get_by_label_contains("No signal");
    // A selection does not move a fixed map; its nearby list still shows.
    let id = cx
        .store
        .incidents
        .data
        .as_ref()
        .unwrap()
        .keys()
        .min()
        .unwrap()
        .clone();
    mv.select(Some(id));
    h.run_steps(3);
    let (at, zoom) = mv.current_view().unwrap();
    assert!(geo::distance_m(at, gp(10.236, 106.376)) < 1.0, "{at:?}");
    assert!(
        (zoom - (11.0 + f64::from(SCALE).log2())).abs() < 1e-9,
        "{zoom}"
    );
    crate::support::snapshot(&mut h, "map_fixed_legend_en");
}

// --- Basemaps -------------------------------------------------------------------------------

fn png(color: [u8; 3], mark: u32) -> Vec<u8> {
    let mut img = image::RgbaImage::new(256, 256);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let edge = x < 2 || y < 2;
        let stripe = (x / 32 + y / 32 + mark).is_multiple_of(2);
        *p = if edge {
            image::Rgba([255, 255, 255, 255])
        } else if stripe {
            image::Rgba([color[0], color[1], color[2], 255])
        } else {
            image::Rgba([color[0] / 2, color[1] / 2, color[2] / 2, 255])
        };
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A PMTiles file of PNG tiles for zooms 0..=6 over the demo province.
fn write_pmtiles(path: &Path) {
    use pmtiles::{PmTilesWriter, TileCoord, TileType};
    let file = std::fs::File::create(path).unwrap();
    let mut w = PmTilesWriter::new(TileType::Png)
        .min_zoom(0)
        .max_zoom(6)
        .bounds(105.5, 9.5, 107.0, 10.7)
        .create(file)
        .unwrap();
    for z in 0..=6u8 {
        let (x0, y0) = geo::tile_of(gp(10.7, 105.5), z);
        let (x1, y1) = geo::tile_of(gp(9.5, 107.0), z);
        for x in x0..=x1 {
            for y in y0..=y1 {
                let color = [40 + 30 * z, 90, 160 - 15 * z];
                w.add_tile(TileCoord::new(z, x, y).unwrap(), &png(color, x + y))
                    .unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

fn with_basemap(cx: &mut FrameCtx, basemap: BasemapConfig) {
    cx.map = Arc::new(MapSetup::new(MapConfig {
        basemaps: vec![basemap],
        ..Default::default()
    }));
}

/// Steps the harness until `done` holds (or panics after `secs`).
fn step_until(
    h: &mut Harness<'_>,
    secs: u64,
    what: &str,
    mut done: impl FnMut(&Harness<'_>) -> bool,
) {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        h.step();
        if done(h) {
            return;
        }
        assert!(Instant::now() < until, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn basemap_settled(cx: &FrameCtx, ctx: &egui::Context) -> bool {
    let b = cx.map.basemap(ctx, None).unwrap().unwrap();
    let b = b.lock().unwrap();
    b.health().loaded > 0 && b.health().in_flight == 0 && b.failed_tiles() == 0
}

#[test]
fn pmtiles_basemap_made_here_is_drawn_offline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ben-tre.pmtiles");
    write_pmtiles(&path);
    let mut cx = demo_cx(Lang::Vi);
    with_basemap(
        &mut cx,
        BasemapConfig::Pmtiles {
            name: "offline".into(),
            path: path.clone(),
            attribution: "Bản đồ thử nghiệm".into(),
            max_zoom: 6,
        },
    );
    let tile = options();
    let (mut h, _mv) = map_harness(&tile, &cx, [900.0, 760.0]);
    let ctx = h.ctx.clone();
    step_until(&mut h, 20, "PMTiles tiles", |_| basemap_settled(&cx, &ctx));
    h.run_steps(3);
    h.get_by_label_contains("Bản đồ thử nghiệm");
    assert!(h.query_by_label_contains("không tải được").is_none());
    crate::support::snapshot(&mut h, "map_pmtiles_vi");
}

#[test]
fn corrupt_pmtiles_is_named_on_the_tile_and_recovers_when_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.pmtiles");
    std::fs::write(&path, b"this is not a PMTiles archive at all, just text").unwrap();
    let mut cx = demo_cx(Lang::Vi);
    with_basemap(
        &mut cx,
        BasemapConfig::Pmtiles {
            name: "offline".into(),
            path: path.clone(),
            attribution: String::new(),
            max_zoom: 6,
        },
    );
    let tile = options();
    let (mut h, _mv) = map_harness(&tile, &cx, [900.0, 760.0]);
    step_until(&mut h, 20, "the error banner", |h| {
        h.query_by_label_contains("Bản đồ nền “offline” không tải được")
            .is_some()
    });
    // The rest of the map still works: markers, controls.
    h.get_by_label("Lớp");
    // Put a good file in its place: the next retry draws it and the banner goes.
    write_pmtiles(&path);
    let ctx = h.ctx.clone();
    step_until(&mut h, 60, "recovery", |h| {
        h.query_by_label_contains("không tải được").is_none() && basemap_settled(&cx, &ctx)
    });
}

#[test]
fn an_unknown_basemap_and_a_broken_layer_are_named_and_the_rest_draws() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("roads.geojson");
    std::fs::write(&broken, "{\"type\": \"FeatureCollection\", \"features\": [").unwrap();
    let fixed = broken.clone();
    let mut cx = demo_cx(Lang::En);
    cx.map = Arc::new(MapSetup::new(MapConfig {
        layers: vec![ioc_console::map::LayerConfig {
            name: "roads".into(),
            path: broken,
            style: LayerStyle::Road,
            label_property: "name".into(),
            attribution: None,
        }],
        ..Default::default()
    }));
    let mut tile = options();
    tile.basemap = Some("satellite".into());
    let (mut h, _mv) = map_harness(&tile, &cx, [900.0, 760.0]);
    h.run_steps(3);
    h.get_by_label_contains("Basemap “satellite” is not in the configuration");
    // Read in the background: the failure shows when the reading is done.
    step_until(&mut h, 20, "the broken layer named", |h| {
        h.query_by_label_contains("Layer “roads” cannot be read: not valid GeoJSON")
            .is_some()
    });
    // The shipped layers' attribution still shows: they are drawn.
    h.get_by_label_contains("Natural Earth");
    // The technician fixes the file: the layer loads on its own.
    std::fs::write(
        &fixed,
        r#"{"type":"LineString","coordinates":[[106.3,10.2],[106.4,10.25]]}"#,
    )
    .unwrap();
    step_until(&mut h, 40, "the fixed layer", |h| {
        h.query_by_label_contains("Layer “roads”").is_none()
    });
    let layers = cx.map.layers();
    assert!(layers.iter().all(|l| matches!(&**l, LayerState::Ready(_))));
}

/// A tile server on loopback whose answers the test switches between failing and working.
/// What the test tile server answers.
const FAIL: u8 = 0;
const OK: u8 = 1;
/// 200 with an HTML page (a proxy's login, say).
const HTML: u8 = 2;

struct TileServer {
    url: String,
    mode: Arc<AtomicU8>,
    hits: Arc<AtomicUsize>,
    _rt: tokio::runtime::Runtime,
}

fn tile_server() -> TileServer {
    use axum::extract::Path as UrlPath;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let mode = Arc::new(AtomicU8::new(FAIL));
    let hits = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let (f, n) = (mode.clone(), hits.clone());
    let app = axum::Router::new().route(
        "/tiles/{z}/{x}/{y}",
        axum::routing::get(move |UrlPath((z, x, y)): UrlPath<(u32, u32, u32)>| {
            let (f, n) = (f.clone(), n.clone());
            async move {
                n.fetch_add(1, Ordering::SeqCst);
                match f.load(Ordering::SeqCst) {
                    FAIL => (StatusCode::INTERNAL_SERVER_ERROR, "overloaded").into_response(),
                    HTML => (
                        [(axum::http::header::CONTENT_TYPE, "text/html")],
                        "<html>Đăng nhập proxy</html>",
                    )
                        .into_response(),
                    _ => (
                        [(axum::http::header::CONTENT_TYPE, "image/png")],
                        png([60, 120, 60], x + y + z),
                    )
                        .into_response(),
                }
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await });
    TileServer {
        url: format!("http://127.0.0.1:{port}/tiles/{{z}}/{{x}}/{{y}}"),
        mode,
        hits,
        _rt: rt,
    }
}

#[test]
fn tile_server_that_fails_is_shown_and_the_map_recovers_with_a_disk_cache() {
    let server = tile_server();
    let cache = tempfile::tempdir().unwrap();
    let config = MapConfig {
        basemaps: vec![BasemapConfig::Xyz {
            name: "osm-local".into(),
            url: server.url.clone(),
            attribution: "Máy chủ thử".into(),
            max_zoom: 12,
        }],
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    };
    let mut cx = demo_cx(Lang::Vi);
    cx.map = Arc::new(MapSetup::new(config.clone()));
    let tile = options();
    let (mut h, _mv) = map_harness(&tile, &cx, [900.0, 760.0]);
    step_until(&mut h, 20, "the failure on the tile", |h| {
        h.query_by_label_contains("Bản đồ nền “osm-local” không tải được: máy chủ trả lời 500")
            .is_some()
    });
    assert!(server.hits.load(Ordering::SeqCst) > 0);
    // A page instead of pictures: said so, and nothing of it is cached.
    server.mode.store(HTML, Ordering::SeqCst);
    step_until(&mut h, 60, "the non-picture on the tile", |h| {
        h.query_by_label_contains("không phải ảnh").is_some()
    });
    assert_eq!(walk(cache.path()), 0, "an error page is never cached");
    server.mode.store(OK, Ordering::SeqCst);
    let ctx = h.ctx.clone();
    step_until(&mut h, 60, "recovery", |h| {
        h.query_by_label_contains("không tải được").is_none() && basemap_settled(&cx, &ctx)
    });
    h.get_by_label_contains("Máy chủ thử");
    // What arrived is on disk now.
    let cached = walk(cache.path());
    assert!(cached > 0, "tiles cached on disk");

    // Offline again, a fresh console draws the cached tiles without asking the server.
    server.mode.store(FAIL, Ordering::SeqCst);
    let before = server.hits.load(Ordering::SeqCst);
    let mut cx2 = demo_cx(Lang::Vi);
    cx2.map = Arc::new(MapSetup::new(config));
    let (mut h2, _mv_h2) = map_harness(&tile, &cx2, [900.0, 760.0]);
    let ctx2 = h2.ctx.clone();
    step_until(&mut h2, 20, "cached tiles", |_| {
        basemap_settled(&cx2, &ctx2)
    });
    assert!(h2.query_by_label_contains("không tải được").is_none());
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        before,
        "served from the cache"
    );
    drop(h2);

    // A week later the copies are old: with the server down they still draw, and the tile says
    // so; when the server is back they are fetched again and the message goes.
    let week_ago = std::time::SystemTime::now() - Duration::from_secs(8 * 24 * 3600);
    age_files(cache.path(), week_ago);
    let mut cx3 = demo_cx(Lang::Vi);
    cx3.map = Arc::new(MapSetup::new(config_for(&server, cache.path())));
    let (mut h3, _mv_h3) = map_harness(&tile, &cx3, [900.0, 760.0]);
    step_until(&mut h3, 30, "old copies shown and said", |h| {
        h.query_by_label_contains("Đang dùng bản lưu cũ").is_some()
    });
    server.mode.store(OK, Ordering::SeqCst);
    let ctx3 = h3.ctx.clone();
    step_until(&mut h3, 60, "fresh tiles again", |h| {
        h.query_by_label_contains("không tải được").is_none() && basemap_settled(&cx3, &ctx3)
    });
    assert!(
        newest_file(cache.path()) > week_ago,
        "refreshed copies written"
    );
}

fn config_for(server: &TileServer, cache: &Path) -> MapConfig {
    MapConfig {
        basemaps: vec![BasemapConfig::Xyz {
            name: "osm-local".into(),
            url: server.url.clone(),
            attribution: "Máy chủ thử".into(),
            max_zoom: 12,
        }],
        cache_dir: Some(cache.to_path_buf()),
        ..Default::default()
    }
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn age_files(dir: &Path, to: std::time::SystemTime) {
    let mut all = Vec::new();
    files(dir, &mut all);
    for f in all {
        std::fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(to)
            .unwrap();
    }
}

fn newest_file(dir: &Path) -> std::time::SystemTime {
    let mut all = Vec::new();
    files(dir, &mut all);
    all.iter()
        .map(|f| std::fs::metadata(f).unwrap().modified().unwrap())
        .max()
        .unwrap()
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() { walk(&p) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn map_options_are_checked_when_the_layout_loads() {
    use ioc_console::tiles::{TileKind, TileOptions};
    let table = |text: &str| -> toml::Table { toml::from_str(text).unwrap() };
    let ok = TileOptions::from_table(
        TileKind::Map,
        Some(&table(
            "center = { lat = 10.24, lon = 106.38 }\nzoom = 11\nfollow = \"fixed\"",
        )),
    )
    .unwrap();
    assert!(matches!(
        ok,
        TileOptions::Map(MapOptions {
            follow: Follow::Fixed,
            ..
        })
    ));
    for (text, says) in [
        ("zoom = 25", "zoom 25"),
        ("center = { lat = 106.38, lon = 10.24 }", "not a position"),
        ("camera_radius_m = -5", "positive"),
        ("layers = [\"traffic\"]", "unknown variant"),
        ("follow = \"mouse\"", "unknown variant"),
    ] {
        let e = TileOptions::from_table(TileKind::Map, Some(&table(text))).unwrap_err();
        assert!(e.message.contains(says), "{text}: {}", e.message);
    }
    let e = TileOptions::from_table(TileKind::Map, Some(&table("zoom = 25"))).unwrap_err();
    assert_eq!(e.key.as_deref(), Some("zoom"));
}

#[test]
fn the_desk_queue_and_the_map_share_the_selection() {
    use ioc_console::app::incident_panel::IncidentPanel;
    let cx = demo_cx(Lang::Vi);
    let panel = std::rc::Rc::new(std::cell::RefCell::new(IncidentPanel::default()));
    panel.borrow_mut().open = true;
    let ids = panel.borrow_mut().ids(&cx);
    assert!(ids.len() > 4);
    let p = panel.clone();
    let mv = MapView::new();
    let rig = mv.rig.clone();
    let mut h = harness([560.0, 900.0], move |ui| {
        let cx = rig.frame(&cx);
        let mut commands = Vec::new();
        p.borrow_mut().show(ui, &cx, false, &mut commands);
        for c in commands {
            rig.apply(c);
        }
    });
    h.run();
    // Chosen on the map: the desk shows it.
    mv.select(Some(ids[3].clone()));
    h.run();
    assert_eq!(panel.borrow().selected.as_deref(), Some(ids[3].as_str()));
    // Chosen on the desk: the map (any view reading the selection) sees it.
    panel.borrow_mut().selected = Some(ids[1].clone());
    h.run();
    assert_eq!(mv.selected().as_deref(), Some(ids[1].as_str()));
    // And the desk keeps it (it does not take its own publication for a new choice).
    h.run();
    assert_eq!(panel.borrow().selected.as_deref(), Some(ids[1].as_str()));
}

#[test]
fn the_readme_map_configuration_parses_and_mistakes_are_named() {
    let text = &crate::support::readme_config();
    let cfg = ioc_console::config::parse(Path::new("config.toml"), text).unwrap();
    assert_eq!(cfg.map.basemaps.len(), 2);
    assert_eq!(cfg.map.basemaps[0].name(), "osm");
    assert!(matches!(
        &cfg.map.basemaps[1],
        BasemapConfig::Pmtiles { max_zoom: 15, .. }
    ));
    assert_eq!(cfg.map.layers[0].style, LayerStyle::Boundary);
    // Relative paths are read from the configuration's folder.
    let resolved = cfg
        .map
        .clone()
        .resolved(Some(Path::new("/etc/ioc-console")));
    assert!(matches!(
        &resolved.basemaps[1],
        BasemapConfig::Pmtiles { path, .. } if path == Path::new("/etc/ioc-console/maps/vinh-long.pmtiles")
    ));
    assert_eq!(
        resolved.layers[0].path,
        Path::new("/etc/ioc-console/maps/communes-2025.geojson")
    );

    for (bad, says) in [
        ("[[map.basemaps]]\nkind = \"wms\"\nname = \"x\"", "wms"),
        (
            "[[map.basemaps]]\nkind = \"xyz\"\nname = \"x\"\nurl = \"u\"",
            "attribution",
        ),
        (
            "[[map.layers]]\nname = \"r\"\npath = \"r.geojson\"\nstyle = \"rivers\"",
            "rivers",
        ),
        ("[map]\nshipped = false", "shipped"),
        (
            "[[map.basemaps]]\nkind = \"pmtiles\"\nname = \"a\"\npath = \"a.pmtiles\"\n[[map.basemaps]]\nkind = \"pmtiles\"\nname = \"a\"\npath = \"b.pmtiles\"",
            "appears twice in map.basemaps",
        ),
        (
            "[[map.layers]]\nname = \" \"\npath = \"r.geojson\"\nstyle = \"river\"",
            "empty name",
        ),
    ] {
        let e = ioc_console::config::parse(Path::new("config.toml"), bad)
            .unwrap_err()
            .say(Lang::En);
        assert!(e.contains(says), "{bad}: {e}");
    }
}

fn click_at(h: &mut Harness<'_>, pos: egui::Pos2) {
    h.hover_at(pos);
    h.run_steps(1);
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Default::default(),
        });
    }
    h.run_steps(2);
}

#[test]
fn incidents_on_one_spot_are_listed_to_choose_from() {
    let mut store = crate::charts::demo_store();
    let spot = gp(10.31, 106.58);
    let mut map = (*store.incidents.data.clone().unwrap()).clone();
    let mut ids: Vec<String> = map
        .values()
        .filter(|i| !i.status.is_closed())
        .map(|i| i.id.clone())
        .collect();
    ids.sort();
    ids.truncate(3);
    for id in &ids {
        map.get_mut(id).unwrap().location = spot;
    }
    store.incidents.data = Some(Arc::new(map));
    store.generation += 1;
    store.incidents_reset = store.generation;
    let mut cx = FrameCtx::new(Lang::Vi, fixed_now());
    cx.store = Arc::new(store);
    let mut tile = options();
    tile.follow = Follow::Fixed;
    tile.center = Some(spot);
    tile.zoom = Some(18.5);
    let (mut h, mv) = map_harness(&tile, &cx, [900.0, 760.0]);
    h.run_steps(2);
    // The body is the tile less its title bar; the spot is at its centre.
    let centre = egui::pos2(450.0, (4.0 + 52.0 * SCALE + 756.0) / 2.0);
    click_at(&mut h, centre);
    h.get_by_label("3 sự cố ở cùng một vị trí");
    // Zooming could not split them: the view stayed.
    let (_, zoom) = mv.current_view().unwrap();
    assert!((zoom - (18.5 + f64::from(SCALE).log2())).abs() < 1e-9);
    let title = cx.store.incidents.data.as_ref().unwrap()[&ids[1]]
        .title
        .clone();
    h.get_by_label_contains(&title).click();
    h.run_steps(2);
    assert_eq!(mv.selected().as_deref(), Some(ids[1].as_str()));
    assert!(
        h.query_by_label("3 sự cố ở cùng một vị trí").is_none(),
        "the list closes"
    );
}

#[test]
fn a_still_map_reuses_its_prepared_markers_and_a_move_rebuilds_them() {
    let cx = demo_cx(Lang::Vi);
    let tile = options();
    let (mut h, mv) = map_harness(&tile, &cx, [900.0, 760.0]);
    h.run_steps(3);
    let first = mv.marker_builds().unwrap();
    let lines = mv.with(|m| m.line_builds()).unwrap();
    assert!(first >= 1 && lines >= 1);
    h.run_steps(10);
    assert_eq!(
        mv.marker_builds(),
        Some(first),
        "nothing moved: nothing rebuilt"
    );
    assert_eq!(
        mv.with(|m| m.line_builds()),
        Some(lines),
        "the layers' lines are projected once per view"
    );
    // Following a selection moves the view: the markers are prepared again.
    let id = cx
        .store
        .incidents
        .data
        .as_ref()
        .unwrap()
        .values()
        .find(|i| !i.status.is_closed())
        .unwrap()
        .id
        .clone();
    mv.select(Some(id));
    h.run_steps(3);
    assert!(mv.marker_builds().unwrap() > first);
    assert!(mv.with(|m| m.line_builds()).unwrap() > lines);
    // The cameras near the selected incident: searched once while it stays selected.
    let searched = mv.with(|m| m.nearby_searches()).unwrap();
    assert!(searched >= 1);
    h.run_steps(5);
    assert_eq!(mv.with(|m| m.nearby_searches()), Some(searched));
}

#[test]
fn incident_changes_are_applied_one_by_one_and_a_new_list_rebuilds() {
    use ioc_console::model::{Event, IncidentStatus, Priority};
    use ioc_console::sources::Update;
    let cx = std::cell::RefCell::new(demo_cx(Lang::Vi));
    let open = |cx: &FrameCtx| {
        cx.store
            .incidents
            .data
            .as_ref()
            .unwrap()
            .values()
            .filter(|i| !i.status.is_closed())
            .count()
    };
    let before = open(&cx.borrow());
    let tile = options();
    let status = tile.status(&cx.borrow());
    let mv = MapView::new();
    let state = mv.state.clone();
    let mut h = harness([900.0, 760.0], |ui| {
        let cx = cx.borrow();
        let rect = ui.max_rect().shrink(4.0);
        let frame = TileFrame {
            title: "Bản đồ",
            status: &status,
            scale: SCALE,
            grey_old: true,
            own_state: false,
        };
        show_tile(ui, rect, frame, &cx, |ui, body| {
            tile.paint_body(ui, body, SCALE, &cx, &mut state.borrow_mut())
        });
    });
    h.run_steps(2);
    assert_eq!(mv.placed_incidents(), Some(before));
    assert_eq!(mv.points_rebuilds(), Some(1));
    let apply = |cx: &std::cell::RefCell<FrameCtx>, update: Update| {
        let mut store = (*cx.borrow().store).clone();
        store.apply(update);
        cx.borrow_mut().store = Arc::new(store);
    };
    let template = cx
        .borrow()
        .store
        .incidents
        .data
        .as_ref()
        .unwrap()
        .values()
        .filter(|i| !i.status.is_closed())
        .min_by(|a, b| a.id.cmp(&b.id))
        .unwrap()
        .clone();
    // A new incident arrives and one is resolved: applied one by one.
    let mut new = template.clone();
    new.id = "new-on-the-map".into();
    new.priority = Priority::Critical;
    apply(&cx, Update::Event(Event::Incident(Box::new(new))));
    let mut resolved = template.clone();
    resolved.status = IncidentStatus::Resolved;
    resolved.version += 1;
    apply(&cx, Update::Event(Event::Incident(Box::new(resolved))));
    h.run_steps(2);
    assert_eq!(mv.placed_incidents(), Some(before));
    assert_eq!(mv.points_rebuilds(), Some(1), "no rebuild for two changes");
    // Another category list reorders the glyphs: rebuilt.
    let mut cats = cx.borrow().store.categories.data.clone().unwrap();
    cats.reverse();
    apply(
        &cx,
        Update::Loaded {
            resource: ioc_console::sources::Resource::Categories,
            payload: ioc_console::sources::Payload::Categories(cats),
            as_of: fixed_now(),
            fetched_at: fixed_now(),
        },
    );
    h.run_steps(2);
    assert_eq!(mv.points_rebuilds(), Some(2));
    // A whole list replaces the map: rebuilt, and what it holds is what is placed.
    let items: Vec<_> = cx
        .borrow()
        .store
        .incidents
        .data
        .as_ref()
        .unwrap()
        .values()
        .take(10)
        .cloned()
        .collect();
    let expected = items.iter().filter(|i| !i.status.is_closed()).count();
    apply(
        &cx,
        Update::Loaded {
            resource: ioc_console::sources::Resource::Incidents,
            payload: ioc_console::sources::Payload::Incidents {
                items,
                incremental: false,
            },
            as_of: fixed_now(),
            fetched_at: fixed_now(),
        },
    );
    h.run_steps(2);
    assert_eq!(mv.points_rebuilds(), Some(3));
    assert_eq!(mv.placed_incidents(), Some(expected));
}
