//! The binding of uploads: `NativeSession.prepareUpload` checks the source and makes a
//! `NativeUpload`, which the facade runs (`run`), feeds (`push`/`end` for streams from JS)
//! and reads progress from (`sent`).

use crate::{call_options, to_napi, CancelHandle, JsonText, NativeSession};
use bytes::Bytes;
use knack_client::{
    clean_filename, AssetKind, Bound, CallPolicy, Session, Upload, UploadMeta, UploadSource,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Chunks from JS waiting to be sent: the facade awaits `push` when the channel is full.
const CHANNEL_CHUNKS: usize = 8;

/// What to upload (the source comes separately).
#[napi(object, object_to_js = false)]
pub struct NativeUploadArgs {
    pub filename: String,
    pub content_type: String,
    /// "file" or "image".
    pub kind: String,
    pub max_bytes: Option<f64>,
    pub timeout_ms: Option<f64>,
}

/// An upload checked and ready to run.
#[napi]
pub struct NativeUpload {
    session: Arc<Session>,
    upload: Arc<Upload>,
    meta: UploadMeta,
    sender: Mutex<Option<mpsc::Sender<std::result::Result<Bytes, String>>>>,
}

fn meta(args: &NativeUploadArgs) -> knack_client::Result<UploadMeta> {
    Ok(UploadMeta {
        filename: clean_filename(&args.filename)?,
        content_type: args.content_type.clone(),
        kind: AssetKind::parse(&args.kind)?,
        max_bytes: match args.max_bytes {
            Some(n) => UploadMeta::MAX_BYTES.check(n)?,
            None => UploadMeta::DEFAULT_MAX_BYTES,
        },
        timeout: match args.timeout_ms {
            Some(t) => Some(Duration::from_millis(CallPolicy::TIMEOUT_MS.check(t)?)),
            None => None,
        },
    })
}

#[napi]
impl NativeSession {
    /// Check an upload before any request: `path` (streamed from disk), or `bytes`, or
    /// neither (chunks come through `push`, `length` when known).
    #[napi(ts_return_type = "Promise<NativeUpload>")]
    pub fn prepare_upload<'env>(
        &self,
        env: &'env Env,
        args: NativeUploadArgs,
        path: Option<String>,
        bytes: Option<Buffer>,
        length: Option<f64>,
    ) -> Result<PromiseRaw<'env, NativeUpload>> {
        let session = self.inner.clone();
        let meta = meta(&args).map_err(to_napi);
        let bytes = bytes.map(|b| Bytes::copy_from_slice(&b));
        let length = match length {
            Some(n) => Some(
                Bound::new("the stream's length", 0, u64::MAX / 2)
                    .check(n)
                    .map_err(to_napi)?,
            ),
            None => None,
        };
        env.spawn_future(async move {
            let meta = meta?;
            let (source, sender) = match (path, bytes) {
                (Some(p), _) => (UploadSource::Path(p.into()), None),
                (None, Some(b)) => (UploadSource::Bytes(b), None),
                (None, None) => {
                    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
                    (UploadSource::Stream { chunks: rx, length }, Some(tx))
                }
            };
            let upload = Upload::prepare(source, &meta).await.map_err(to_napi)?;
            Ok(NativeUpload {
                session,
                upload: Arc::new(upload),
                meta,
                sender: Mutex::new(sender),
            })
        })
    }
}

#[napi]
impl NativeSession {
    /// "file" or "image": what a record field takes, from the app's metadata.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn asset_kind_of<'env>(
        &self,
        env: &'env Env,
        field: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, String>> {
        let session = self.inner.clone();
        let opts = call_options(cancel);
        env.spawn_future(async move {
            session
                .asset_kind_of(&field, &opts)
                .await
                .map(|k| {
                    if k == AssetKind::Image {
                        "image"
                    } else {
                        "file"
                    }
                    .to_owned()
                })
                .map_err(to_napi)
        })
    }

    /// A report view's reports (JSON array) or, with `report`, one report (JSON object).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn get_report<'env>(
        &self,
        env: &'env Env,
        target: crate::NativeView,
        report: Option<f64>,
        filters: Option<String>,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, JsonText>> {
        let session = self.inner.clone();
        let opts = call_options(cancel);
        let report = match report {
            Some(n) => Some(
                knack_client::ReportQuery::REPORT
                    .check(n)
                    .map_err(to_napi)? as u32,
            ),
            None => None,
        };
        let q = knack_client::ReportQuery {
            view: target.into_ref(),
            report,
            filters,
        };
        env.spawn_future(async move {
            session
                .get_report(&q, &opts)
                .await
                .map(JsonText)
                .map_err(to_napi)
        })
    }
}

#[napi]
impl NativeUpload {
    /// Send the upload; resolves `{id, type, filename, publicUrl, thumbUrl, size}` as JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn run<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, JsonText>> {
        let session = self.session.clone();
        let upload = self.upload.clone();
        let meta = self.meta.clone();
        let opts = call_options(cancel);
        env.spawn_future(async move {
            session
                .upload_file(&upload, &meta, &opts)
                .await
                .map(JsonText)
                .map_err(to_napi)
        })
    }

    /// One chunk of a stream; resolves when the channel has room (bounded buffering).
    /// Resolves false when the upload no longer reads (it ended or failed).
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn push<'env>(&self, env: &'env Env, chunk: Buffer) -> Result<PromiseRaw<'env, bool>> {
        let tx = self
            .sender
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let bytes = Bytes::copy_from_slice(&chunk);
        env.spawn_future(async move {
            Ok(match tx {
                Some(tx) => tx.send(Ok(bytes)).await.is_ok(),
                None => false,
            })
        })
    }

    /// The stream ended.
    #[napi]
    pub fn end(&self) {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// The stream failed: the upload fails with this message (never sends a truncated file).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn fail<'env>(&self, env: &'env Env, message: String) -> Result<PromiseRaw<'env, ()>> {
        let tx = self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        env.spawn_future(async move {
            if let Some(tx) = tx {
                let _ = tx.send(Err(message)).await;
            }
            Ok(())
        })
    }

    /// Bytes of the file sent so far in the current attempt.
    #[napi]
    pub fn sent(&self) -> f64 {
        self.upload.sent.load(Ordering::Relaxed) as f64
    }

    /// The file's size, when known.
    #[napi]
    pub fn total(&self) -> Option<f64> {
        self.upload.total.map(|n| n as f64)
    }
}

/// What to download: an asset's URL, or its id and file name.
#[napi(object, object_to_js = false)]
pub struct NativeAsset {
    pub url: Option<String>,
    pub id: Option<String>,
    pub filename: Option<String>,
}

fn asset_ref(a: NativeAsset) -> knack_client::Result<knack_client::AssetRef> {
    match (a.url, a.id, a.filename) {
        (Some(url), _, _) => Ok(knack_client::AssetRef::Url(url)),
        (None, Some(id), Some(filename)) => Ok(knack_client::AssetRef::Asset { id, filename }),
        _ => Err(knack_client::Error::invalid(
            "downloadFile() needs a file field's value, an upload's answer, { id, filename } or a URL",
        )),
    }
}

/// A finished download.
#[napi(object)]
pub struct NativeDownloaded {
    pub bytes: f64,
    pub content_type: Option<String>,
    pub filename: Option<String>,
}

fn downloaded(d: knack_client::Downloaded) -> NativeDownloaded {
    NativeDownloaded {
        bytes: d.bytes as f64,
        content_type: d.content_type,
        filename: d.filename,
    }
}

/// A download handed to JS chunk by chunk (`next`), for a Writable.
#[napi]
pub struct NativeDownload {
    chunks: Arc<tokio::sync::Mutex<mpsc::Receiver<Bytes>>>,
    done: Arc<
        tokio::sync::Mutex<
            Option<tokio::sync::oneshot::Receiver<knack_client::Result<knack_client::Downloaded>>>,
        >,
    >,
}

#[napi]
impl NativeSession {
    /// Download into a file at `path` (a temporary file beside it, renamed when complete).
    #[napi(ts_return_type = "Promise<NativeDownloaded>")]
    pub fn download_to_path<'env>(
        &self,
        env: &'env Env,
        asset: NativeAsset,
        path: String,
        cancel: Option<&CancelHandle>,
    ) -> Result<PromiseRaw<'env, NativeDownloaded>> {
        let session = self.inner.clone();
        let opts = call_options(cancel);
        let asset = asset_ref(asset).map_err(to_napi);
        env.spawn_future(async move {
            let asset = asset?;
            session
                .download(&asset, knack_client::Sink::Path(path.into()), &opts)
                .await
                .map(downloaded)
                .map_err(to_napi)
        })
    }

    /// Start a download whose chunks JS takes with `next()`.
    #[napi]
    pub fn open_download(
        &self,
        asset: NativeAsset,
        cancel: Option<&CancelHandle>,
    ) -> Result<NativeDownload> {
        let session = self.inner.clone();
        let opts = call_options(cancel);
        let asset = asset_ref(asset).map_err(to_napi)?;
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let (done_tx, handle) = tokio::sync::oneshot::channel();
        napi::bindgen_prelude::spawn(async move {
            let r = session
                .download(&asset, knack_client::Sink::Chunks(tx), &opts)
                .await;
            let _ = done_tx.send(r);
        });
        Ok(NativeDownload {
            chunks: Arc::new(tokio::sync::Mutex::new(rx)),
            done: Arc::new(tokio::sync::Mutex::new(Some(handle))),
        })
    }
}

#[napi]
impl NativeDownload {
    /// The next chunk, or null at the end (then `result()` says how it ended).
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<Buffer>>> {
        let chunks = self.chunks.clone();
        env.spawn_future(async move {
            let next = chunks.lock().await.recv().await;
            Ok(next.map(|b| Buffer::from(b.to_vec())))
        })
    }

    /// How the download ended: its size, type and file name, or its error.
    #[napi(ts_return_type = "Promise<NativeDownloaded>")]
    pub fn result<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, NativeDownloaded>> {
        let done = self.done.clone();
        env.spawn_future(async move {
            let handle = done.lock().await.take();
            match handle {
                Some(h) => match h.await {
                    Ok(r) => r.map(downloaded).map_err(to_napi),
                    Err(_) => Err(to_napi(knack_client::Error::aborted())),
                },
                None => Err(crate::invalid("result() was already taken")),
            }
        })
    }

    /// Stop reading: the download ends (its result is an abort) and its connection closes.
    #[napi]
    pub fn close(&self) {
        if let Ok(mut rx) = self.chunks.try_lock() {
            rx.close();
        }
    }
}
