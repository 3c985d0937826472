//! Offline PMTiles files read with positioned reads (a file cut short is an error, not SIGBUS),
//! opened again when the file changes on disk.

use std::path::Path;
use std::time::SystemTime;

use super::tile::Reason;
use walkers::TileId;

/// An open PMTiles archive and what its file looked like when it was opened.
pub(super) struct OpenPmTiles {
    pub(super) reader: pmtiles::AsyncPmTilesReader<FileBackend>,
    pub(super) stamp: FileStamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileStamp {
    pub(super) len: u64,
    pub(super) modified: Option<SystemTime>,
    pub(super) inode: u64,
}

pub(super) fn stamp(path: &Path) -> std::io::Result<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok(FileStamp {
        len: m.len(),
        modified: m.modified().ok(),
        inode: m.ino(),
    })
}

/// Positioned reads of a PMTiles file: a file cut short gives a short read (an error), never a
/// signal.
pub(super) struct FileBackend {
    pub(super) file: std::fs::File,
}

impl pmtiles::AsyncBackend for FileBackend {
    fn read(
        &self,
        offset: u64,
        length: usize,
    ) -> impl std::future::Future<Output = pmtiles::PmtResult<pmtiles::BackendResponse>> + Send
    {
        use std::os::unix::fs::FileExt;
        // A corrupt header may ask for gigabytes: never more than the file holds.
        let available = self
            .file
            .metadata()
            .map(|m| m.len().saturating_sub(offset))
            .unwrap_or(0);
        let length = length.min(usize::try_from(available).unwrap_or(usize::MAX));
        let mut buf = vec![0u8; length];
        let mut filled = 0;
        let result = loop {
            if filled == length {
                break Ok(());
            }
            match self
                .file
                .read_at(&mut buf[filled..], offset + filled as u64)
            {
                Ok(0) => break Ok(()),
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        std::future::ready(result.map_err(pmtiles::PmtError::from).map(|()| {
            buf.truncate(filled);
            pmtiles::BackendResponse::new(bytes::Bytes::from(buf))
        }))
    }
}

pub(super) async fn fetch_pmtiles(
    path: &Path,
    reader: &tokio::sync::Mutex<Option<OpenPmTiles>>,
    id: TileId,
) -> Result<Option<Vec<u8>>, Reason> {
    let mut guard = reader.lock().await;
    let now = stamp(path).map_err(|e| Reason::new("map.reason.pmtiles_open", e.to_string()))?;
    if guard.as_ref().is_some_and(|o| o.stamp != now) {
        tracing::info!(path = %path.display(), "PMTiles file changed: opening it again");
        *guard = None;
    }
    if guard.is_none() {
        let file = std::fs::File::open(path)
            .map_err(|e| Reason::new("map.reason.pmtiles_open", e.to_string()))?;
        let r = pmtiles::AsyncPmTilesReader::try_from_source(FileBackend { file })
            .await
            .map_err(|e| Reason::new("map.reason.pmtiles_open", e.to_string()))?;
        use pmtiles::TileType as T;
        match r.get_header().tile_type {
            T::Png | T::Jpeg | T::Webp => {}
            other => {
                return Err(Reason::new(
                    "map.reason.pmtiles_vector",
                    format!("{other:?}"),
                ));
            }
        }
        *guard = Some(OpenPmTiles {
            reader: r,
            stamp: now,
        });
    }
    let Some(open) = guard.as_ref() else {
        return Err(Reason::new("map.reason.internal", ""));
    };
    let coord = pmtiles::TileCoord::new(id.zoom, id.x, id.y)
        .map_err(|e| Reason::new("map.reason.pmtiles_read", e.to_string()))?;
    match open.reader.get_tile_decompressed(coord).await {
        Ok(t) => Ok(t.map(|b| b.to_vec())),
        Err(e) => {
            // Open it again next time: the file may be being replaced.
            *guard = None;
            Err(Reason::new("map.reason.pmtiles_read", e.to_string()))
        }
    }
}
