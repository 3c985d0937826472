//! A short alert tone for new urgent incidents: a generated WAV played by the system's player
//! (`pw-play`, `paplay` or `aplay`), off the UI thread. Without a player the console says so in
//! the log once and stays silent.

use std::path::PathBuf;
use std::sync::OnceLock;

/// 16-bit mono PCM: two short beeps (880 Hz), 0.4 s.
pub fn alert_wav() -> Vec<u8> {
    let rate = 16_000u32;
    let samples: Vec<i16> = (0..(rate as usize * 2 / 5))
        .map(|i| {
            let t = i as f32 / rate as f32;
            let on = (t % 0.2) < 0.12;
            if on {
                ((t * 880.0 * std::f32::consts::TAU).sin() * 12_000.0) as i16
            } else {
                0
            }
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

fn player() -> Option<&'static (String, PathBuf)> {
    static PLAYER: OnceLock<Option<(String, PathBuf)>> = OnceLock::new();
    PLAYER
        .get_or_init(|| {
            let path = std::env::var_os("PATH")?;
            let cmd = ["pw-play", "paplay", "aplay"]
                .into_iter()
                .find(|c| std::env::split_paths(&path).any(|d| d.join(c).is_file()));
            let Some(cmd) = cmd else {
                tracing::warn!(
                    "no audio player (pw-play, paplay, aplay) found: alert sounds are off"
                );
                return None;
            };
            let file =
                std::env::temp_dir().join(format!("ioc-console-alert-{}.wav", std::process::id()));
            std::fs::write(&file, alert_wav()).ok()?;
            Some((cmd.to_owned(), file))
        })
        .as_ref()
}

/// Plays the alert once, without waiting.
pub fn alert() {
    let _ = std::thread::Builder::new()
        .name("alert-sound".into())
        .spawn(|| {
            if let Some((cmd, file)) = player() {
                let _ = std::process::Command::new(cmd)
                    .arg(file)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_alert_is_a_valid_wav() {
        let w = super::alert_wav();
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(&w[8..16], b"WAVEfmt ");
        let data_len = u32::from_le_bytes(w[40..44].try_into().unwrap()) as usize;
        assert_eq!(w.len(), 44 + data_len);
        assert!(w[44..].iter().any(|b| *b != 0), "not silent");
    }
}
