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
            Some(n) => Some(Bound::new("report", 0, 10_000).check(n).map_err(to_napi)? as u32),
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
