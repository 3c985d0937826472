//! `probe`: connect to a camera stream like a camera tile would and report what arrives.

use std::process::ExitCode;

use crate::config;
use crate::i18n::{Lang, tr_args};

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// The stream: rtsp://, http(s):// (MJPEG, HLS) or a local file. Credentials in it are
    /// never printed.
    pub url: String,
    /// How long to take frames after the first one.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// RTSP over TCP only (default: UDP, falling back to TCP).
    #[arg(long)]
    pub tcp: bool,
    /// RTSP jitter buffer in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub latency_ms: u64,
}

/// `probe`: exits 0 with a report, 5 when the stream cannot be had (the reason in words).
pub fn probe(args: ProbeArgs, cfg: &config::Config, lang: Lang) -> ExitCode {
    use crate::video;
    for name in video::config::prefer_decoders(&cfg.video.decoders) {
        eprintln!(
            "{}",
            tr_args(lang, "video.probe.decoder_missing", &[("name", &name)])
        );
    }
    let opts = video::OpenOptions {
        transport: if args.tcp {
            video::Transport::Tcp
        } else {
            video::Transport::Auto
        },
        latency: std::time::Duration::from_millis(args.latency_ms),
        ..Default::default()
    };
    let url = crate::util::redact::redact(&args.url);
    match video::probe(&args.url, args.seconds, &opts) {
        Ok(r) => {
            let fps = if r.fps > 0.0 { r.fps } else { r.measured_fps };
            let fps = crate::format::number(lang, fps, 1);
            let lines = [
                tr_args(lang, "video.probe.url", &[("url", &r.url)]),
                tr_args(
                    lang,
                    "video.probe.stream",
                    &[
                        ("codec", &r.codec),
                        ("w", &r.width),
                        ("h", &r.height),
                        ("fps", &fps),
                        ("format", &r.format),
                    ],
                ),
                tr_args(lang, "video.probe.decoder", &[("decoder", &r.decoder)]),
                tr_args(
                    lang,
                    "video.probe.first_frame",
                    &[("ms", &r.first_frame.as_millis())],
                ),
                tr_args(
                    lang,
                    "video.probe.frames",
                    &[
                        ("n", &r.frames),
                        (
                            "s",
                            &crate::format::number(lang, r.duration.as_secs_f64(), 1),
                        ),
                    ],
                ),
            ];
            for l in lines {
                println!("{l}");
            }
            if crate::video::converted_on_the_way(&r.format) {
                println!(
                    "{}",
                    tr_args(lang, "video.probe.converted", &[("format", &r.format)])
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let reason = tr_args(lang, e.key(), &[("detail", &e.detail())]);
            eprintln!(
                "{}",
                tr_args(
                    lang,
                    "video.probe.failed",
                    &[("url", &url), ("reason", &reason)]
                )
            );
            ExitCode::from(5)
        }
    }
}
