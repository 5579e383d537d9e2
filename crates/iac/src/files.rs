//! File writes the drivers share.

use std::path::Path;

use crate::IacError;

/// Writes `bytes` to `path` atomically: a reader sees the old or the new content, never a mix, and
/// a crash leaves at worst a stray temporary file.
pub(crate) async fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IacError> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.tmp-{}", uuid::Uuid::new_v4().simple()));
    let write = async {
        let mut file = tokio::fs::File::create(&tmp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
        // Durable before it becomes visible: the rename must not expose an empty file after a crash.
        file.sync_all().await?;
        tokio::fs::rename(&tmp, path).await
    };
    let result = write.await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    Ok(result?)
}
