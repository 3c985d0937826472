//! `bench`: the measurements of the GPU benchmark (`benches/gpu.sh`), in the release binary so
//! that they run on a wall PC or a GPU machine with nothing else installed. For developers and
//! the IT team: figures in English, as `cargo bench` prints them, with one `JSON` line each for
//! the script's report.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{DataArgs, camera_hub, load_store, resolve_layout};
use crate::app::bench::{self, quantile};
use crate::config;
use crate::i18n::Lang;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Whether this machine's first adapter is a GPU (exit 3 when it draws on the processor or
    /// there is none), and which hardware video decoders GStreamer has.
    Gpu,
    /// The whole wall rendered offscreen, monitor by monitor, with the demo's data and its ten
    /// cameras (served and decoded for real), at each --size in turn.
    Wall(WallArgs),
    /// The camera path's upload of decoded frames (NV12) to the GPU, against a copy in memory.
    Upload(UploadArgs),
    /// Copies of one clip decoded at once through each decoder in turn, in real time, into the
    /// camera path's sink.
    Decode(DecodeArgs),
}

#[derive(clap::Args)]
pub struct WallArgs {
    /// Layout (default as for `run`).
    #[arg(long)]
    pub layout: Option<PathBuf>,
    /// Monitor size, e.g. 1920x1080 or 3840x2160 (several: one run each, ratios against the
    /// first); default: each monitor's own resolution.
    #[arg(long, value_delimiter = ',')]
    pub size: Vec<String>,
    #[arg(long, default_value_t = 120)]
    pub frames: usize,
    #[arg(long, default_value_t = 30)]
    pub warmup: usize,
}

#[derive(clap::Args)]
pub struct UploadArgs {
    #[arg(long, default_value = "1920x1080")]
    pub size: String,
    #[arg(long, default_value_t = 300)]
    pub frames: usize,
}

#[derive(clap::Args)]
pub struct DecodeArgs {
    /// A Matroska clip (H.264 or H.265).
    #[arg(long)]
    pub clip: PathBuf,
    /// Decoders to compare, e.g. nvh264dec,avdec_h264 (ratios against the last).
    #[arg(long, value_delimiter = ',', required = true)]
    pub decoders: Vec<String>,
    #[arg(long, default_value_t = 16)]
    pub streams: usize,
    /// Seconds measured (the clip must be longer: first frames come before).
    #[arg(long, default_value_t = 12.0)]
    pub seconds: f64,
}

fn size(s: &str) -> Result<[u32; 2], String> {
    let (w, h) = s
        .split_once(['x', '×'])
        .ok_or_else(|| format!("`{s}` is not WIDTHxHEIGHT"))?;
    let n = |v: &str| v.trim().parse::<u32>().map_err(|e| format!("`{s}`: {e}"));
    Ok([n(w)?, n(h)?])
}

fn json(v: serde_json::Value) {
    println!("JSON {v}");
}

pub fn bench(command: BenchCommand, cfg: &config::Config, lang: Lang) -> ExitCode {
    let r = match command {
        BenchCommand::Gpu => gpu_check(),
        BenchCommand::Wall(a) => wall(a, cfg, lang),
        BenchCommand::Upload(a) => upload(a),
        BenchCommand::Decode(a) => decode(a),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::from(1)
        }
    }
}

fn gpu_check() -> Result<ExitCode, String> {
    let decoders: Vec<&str> = ["nvh264dec", "nvh265dec", "vah264dec", "vah265dec"]
        .into_iter()
        .filter(|d| crate::video::bench::has_element(d))
        .collect();
    let gpu = match bench::gpu() {
        Ok(g) => g,
        Err(e) => {
            println!("no GPU: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    println!("adapter: {}", gpu.adapter);
    println!(
        "timestamp queries: {}",
        if gpu.timestamps { "yes" } else { "no" }
    );
    println!(
        "hardware decoders: {}",
        if decoders.is_empty() {
            "none".to_owned()
        } else {
            decoders.join(", ")
        }
    );
    json(serde_json::json!({
        "kind": "gpu", "adapter": gpu.adapter, "software": gpu.software,
        "timestamps": gpu.timestamps, "decoders": decoders,
    }));
    if gpu.software {
        println!("no GPU: the first adapter draws on the processor");
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

fn wall(a: WallArgs, cfg: &config::Config, lang: Lang) -> Result<ExitCode, String> {
    let (layout, _) =
        resolve_layout(a.layout.as_deref(), cfg, lang).map_err(|_| "no layout".to_owned())?;
    let sizes: Vec<Option<[u32; 2]>> = if a.size.is_empty() {
        vec![None]
    } else {
        a.size
            .iter()
            .map(|s| size(s).map(Some))
            .collect::<Result<_, _>>()?
    };
    let data = DataArgs {
        backend: None,
        demo: true,
    };
    let (store, _backend) = load_store(&data, cfg, lang).map_err(|_| "no data".to_owned())?;
    let mut cx = crate::context::FrameCtx::new(lang, chrono::Utc::now());
    cx.role = cfg.role;
    cx.store = std::sync::Arc::new(store);
    cx.map = std::sync::Arc::new(crate::map::MapSetup::new(cfg.map.clone()));
    cx.cameras = camera_hub(cfg);
    let gpu = bench::gpu()?;
    println!("adapter: {}", gpu.adapter);
    let mut first: Option<(f64, f64)> = None;
    for s in sizes {
        let run = bench::wall(&gpu, &layout, &cx, s, a.warmup, a.frames)?;
        let cpu50 = quantile(&run.cpu_ms, 0.5);
        let gpu50 = run.gpu_ms.as_ref().map(|g| quantile(g, 0.5));
        let fps = run.fps();
        let (ratio_cpu, ratio_fps) = match first {
            Some((c, f)) => (cpu50 / c, fps / f),
            None => {
                first = Some((cpu50, fps));
                (1.0, 1.0)
            }
        };
        println!(
            "wall {} × {}×{}: {fps:.1} fps; CPU p50 {cpu50:.2} ms, p95 {:.2} ms; GPU {}; {} frames, {} camera pictures on the GPU; vs the first size: CPU {ratio_cpu:.2}x, fps {ratio_fps:.2}x",
            run.monitors,
            run.size[0],
            run.size[1],
            quantile(&run.cpu_ms, 0.95),
            match &run.gpu_ms {
                Some(g) => format!(
                    "p50 {:.2} ms, p95 {:.2} ms",
                    quantile(g, 0.5),
                    quantile(g, 0.95)
                ),
                None => "not measured (no timestamp queries)".into(),
            },
            run.cpu_ms.len(),
            run.camera_pictures,
        );
        json(serde_json::json!({
            "kind": "wall", "adapter": gpu.adapter, "software": gpu.software,
            "monitors": run.monitors, "size": run.size, "frames": run.cpu_ms.len(), "fps": fps,
            "cpu_ms_p50": cpu50, "cpu_ms_p95": quantile(&run.cpu_ms, 0.95),
            "gpu_ms_p50": gpu50, "gpu_ms_p95": run.gpu_ms.as_ref().map(|g| quantile(g, 0.95)),
            "camera_pictures": run.camera_pictures,
        }));
    }
    Ok(ExitCode::SUCCESS)
}

fn upload(a: UploadArgs) -> Result<ExitCode, String> {
    let gpu = bench::gpu()?;
    let run = bench::upload(&gpu, size(&a.size)?, a.frames)?;
    let cpu = quantile(&run.cpu_us, 0.5);
    let done = quantile(&run.done_us, 0.5);
    let memcpy = quantile(&run.memcpy_us, 0.5);
    println!("adapter: {}", gpu.adapter);
    println!(
        "upload {}×{} NV12 ({:.1} MB): call p50 {cpu:.0} µs, to the GPU's end p50 {done:.0} µs (p95 {:.0} µs); a copy in memory p50 {memcpy:.0} µs; upload/copy {:.1}x",
        run.size[0],
        run.size[1],
        run.bytes as f64 / 1e6,
        quantile(&run.done_us, 0.95),
        done / memcpy.max(0.001),
    );
    json(serde_json::json!({
        "kind": "upload", "adapter": gpu.adapter, "size": run.size, "bytes": run.bytes,
        "call_us_p50": cpu, "done_us_p50": done, "done_us_p95": quantile(&run.done_us, 0.95),
        "memcpy_us_p50": memcpy,
    }));
    Ok(ExitCode::SUCCESS)
}

fn decode(a: DecodeArgs) -> Result<ExitCode, String> {
    let mut runs = Vec::new();
    for d in &a.decoders {
        match crate::video::bench::decode(&a.clip, d, a.streams, a.seconds) {
            Ok(r) => {
                println!(
                    "decode {} × {} with {}: {:.1} % of a core per stream, {:.1} % of frames dropped or late ({:.0} fps expected)",
                    r.streams,
                    a.clip.display(),
                    r.decoder,
                    r.cpu_per_stream() * 100.0,
                    r.dropped_share() * 100.0,
                    r.fps,
                );
                json(serde_json::json!({
                    "kind": "decode", "clip": a.clip.display().to_string(), "decoder": r.decoder,
                    "streams": r.streams, "seconds": r.seconds, "fps": r.fps,
                    "cpu_per_stream": r.cpu_per_stream(), "dropped_share": r.dropped_share(),
                    "frames": r.frames,
                }));
                runs.push(r);
            }
            Err(e) => {
                println!("decode with {d}: cannot run ({e})");
                json(serde_json::json!({"kind": "decode", "decoder": d, "error": e.to_string()}));
            }
        }
    }
    if let [first, .., last] = runs.as_slice() {
        println!(
            "{} against {}: CPU per stream {:.2}x",
            first.decoder,
            last.decoder,
            first.cpu_per_stream() / last.cpu_per_stream().max(1e-9)
        );
    }
    Ok(if runs.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
