//! `[video]` in the configuration: the decode budget, the RTSP jitter buffer and transport, the
//! watchdog, and the decoders to prefer (raised above the registry's ranks).

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use super::stream::Recovery;
use super::{OpenOptions, Transport};

/// `[video]` in the configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct VideoConfig {
    /// Wall-wide decode budget in megapixels per second (1280×720 at 25 fps is 23). Above it
    /// the least important tiles are lowered to their sub stream.
    pub decode_budget_mpx_s: f64,
    /// RTSP jitter buffer in milliseconds.
    pub latency_ms: u64,
    /// "auto" (UDP, falling back to TCP) or "tcp".
    pub transport: TransportChoice,
    /// Decoder elements to prefer over the registry's ranks, e.g. ["vah264dec"] or
    /// ["avdec_h264"] (software, to rule out a faulty hardware decoder).
    pub decoders: Vec<String>,
    /// No frame for this many seconds: the stream is rebuilt.
    pub watchdog_s: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransportChoice {
    #[default]
    Auto,
    Tcp,
}

impl Default for VideoConfig {
    fn default() -> Self {
        VideoConfig {
            decode_budget_mpx_s: 400.0,
            latency_ms: 200,
            transport: TransportChoice::Auto,
            decoders: Vec::new(),
            watchdog_s: 5.0,
        }
    }
}

impl VideoConfig {
    /// Checks the values; the key and the problem.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(self.decode_budget_mpx_s.is_finite() && self.decode_budget_mpx_s > 0.0) {
            return Err((
                "video.decode_budget_mpx_s",
                format!("must be above 0, not {}", self.decode_budget_mpx_s),
            ));
        }
        if self.latency_ms > 10_000 {
            return Err((
                "video.latency_ms",
                format!("{} ms is more than 10 s", self.latency_ms),
            ));
        }
        if !(self.watchdog_s.is_finite() && (0.5..=600.0).contains(&self.watchdog_s)) {
            return Err((
                "video.watchdog_s",
                format!("must be between 0.5 and 600, not {}", self.watchdog_s),
            ));
        }
        Ok(())
    }

    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            transport: match self.transport {
                TransportChoice::Auto => Transport::Auto,
                TransportChoice::Tcp => Transport::Tcp,
            },
            latency: Duration::from_millis(self.latency_ms),
            ..OpenOptions::default()
        }
    }

    pub fn recovery(&self) -> Recovery {
        Recovery {
            watchdog: Duration::from_secs_f64(self.watchdog_s),
            ..Recovery::default()
        }
    }
}

/// Raises the configured decoders above every other one in GStreamer's registry. Returns the
/// names that are not installed.
pub fn prefer_decoders(names: &[String]) -> Vec<String> {
    use gstreamer as gst;
    use gstreamer::prelude::*;
    if names.is_empty() || super::init().is_err() {
        return names.to_vec();
    }
    let mut missing = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match gst::ElementFactory::find(name) {
            Some(f) => {
                // Earlier names first.
                let rank = gst::Rank::PRIMARY + 1000 - i32::try_from(i).unwrap_or(0);
                f.set_rank(rank);
                tracing::info!(decoder = %name, "decoder preferred by the configuration");
            }
            None => {
                tracing::warn!(decoder = %name, "configured decoder is not installed");
                missing.push(name.clone());
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_video_configuration_names_the_key() {
        let bad = VideoConfig {
            decode_budget_mpx_s: 0.0,
            ..VideoConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "video.decode_budget_mpx_s");
        let bad = VideoConfig {
            watchdog_s: f64::NAN,
            ..VideoConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "video.watchdog_s");
        assert!(VideoConfig::default().validate().is_ok());
    }
}
