//! Response bodies: whole, truncated mid-way (connection dropped), dripped slowly, or
//! streamed from a spooled file.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Sleep;

use crate::spool::SpoolFile;

/// Bytes read from a file per frame.
const FILE_CHUNK: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BodyError(&'static str);

pub enum Body {
    Full(Option<Bytes>),
    /// Declares `total` bytes, sends `first`, pauses so it is flushed, then fails (hyper
    /// closes the connection).
    Truncated {
        first: Option<Bytes>,
        total: u64,
        pause: Option<Pin<Box<Sleep>>>,
    },
    /// Sends `chunk` bytes every `interval`.
    Drip {
        data: Bytes,
        pos: usize,
        chunk: usize,
        interval: Duration,
        sleep: Option<Pin<Box<Sleep>>>,
    },
    /// Streams `remaining` bytes of a file (declaring `total`); with `fail_at_end` it then
    /// pauses and fails like `Truncated`.
    File {
        file: tokio::fs::File,
        /// Keeps the spool file while it is served.
        _keep: Arc<SpoolFile>,
        remaining: u64,
        total: u64,
        buf: Vec<u8>,
        fail_at_end: bool,
        pause: Option<Pin<Box<Sleep>>>,
    },
}

impl Body {
    pub fn full(b: impl Into<Bytes>) -> Body {
        Body::Full(Some(b.into()))
    }

    pub fn truncated(full: Bytes) -> Body {
        let total = full.len() as u64;
        Body::Truncated {
            first: Some(full.slice(..full.len() / 2)),
            total,
            pause: None,
        }
    }

    pub fn drip(data: Bytes, bytes_per_sec: u64) -> Body {
        // Ten chunks a second (or one byte at a time for very slow rates).
        let (chunk, interval) = if bytes_per_sec >= 10 {
            (
                bytes_per_sec.div_ceil(10) as usize,
                Duration::from_millis(100),
            )
        } else {
            (1, Duration::from_millis(1000 / bytes_per_sec.max(1)))
        };
        Body::Drip {
            data,
            pos: 0,
            chunk,
            interval,
            sleep: None,
        }
    }
}

impl Body {
    /// The whole file (`size` bytes).
    pub fn file(file: tokio::fs::File, keep: Arc<SpoolFile>, size: u64) -> Body {
        Body::File {
            file,
            _keep: keep,
            remaining: size,
            total: size,
            buf: Vec::new(),
            fail_at_end: false,
            pause: None,
        }
    }

    /// The first half of the file, then a dropped connection (the `truncate` fault).
    pub fn file_truncated(file: tokio::fs::File, keep: Arc<SpoolFile>, size: u64) -> Body {
        Body::File {
            file,
            _keep: keep,
            remaining: size / 2,
            total: size,
            buf: Vec::new(),
            fail_at_end: true,
            pause: None,
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Truncated { first, pause, .. } => {
                if let Some(b) = first.take() {
                    *pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(50))));
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                if let Some(p) = pause.as_mut() {
                    if p.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                Poll::Ready(Some(Err(BodyError("response truncated by a fault"))))
            }
            Body::Drip {
                data,
                pos,
                chunk,
                interval,
                sleep,
            } => {
                if *pos >= data.len() {
                    return Poll::Ready(None);
                }
                if let Some(s) = sleep.as_mut() {
                    if s.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                let end = (*pos + *chunk).min(data.len());
                let piece = data.slice(*pos..end);
                *pos = end;
                *sleep = Some(Box::pin(tokio::time::sleep(*interval)));
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            Body::File {
                file,
                remaining,
                buf,
                fail_at_end,
                pause,
                ..
            } => {
                if *remaining == 0 {
                    if !*fail_at_end {
                        return Poll::Ready(None);
                    }
                    let p = pause.get_or_insert_with(|| {
                        Box::pin(tokio::time::sleep(Duration::from_millis(50)))
                    });
                    if p.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    return Poll::Ready(Some(Err(BodyError("response truncated by a fault"))));
                }
                let want = usize::try_from(*remaining)
                    .unwrap_or(FILE_CHUNK)
                    .min(FILE_CHUNK);
                if buf.len() < want {
                    buf.resize(want, 0);
                }
                let mut rb = ReadBuf::new(&mut buf[..want]);
                match Pin::new(file).poll_read(cx, &mut rb) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(_)) => {
                        Poll::Ready(Some(Err(BodyError("cannot read the asset file"))))
                    }
                    Poll::Ready(Ok(())) => {
                        let got = rb.filled();
                        if got.is_empty() {
                            return Poll::Ready(Some(Err(BodyError(
                                "the asset file is shorter than its size",
                            ))));
                        }
                        *remaining -= got.len() as u64;
                        Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(got)))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            Body::Drip { data, pos, .. } => *pos >= data.len(),
            Body::Truncated { .. } => false,
            Body::File {
                remaining,
                fail_at_end,
                ..
            } => *remaining == 0 && !*fail_at_end,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Truncated { total, .. } => SizeHint::with_exact(*total),
            Body::Drip { data, .. } => SizeHint::with_exact(data.len() as u64),
            Body::File { total, .. } => SizeHint::with_exact(*total),
        }
    }
}
