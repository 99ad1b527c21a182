//! Reading a request body frame by frame with a size limit and the body faults
//! (`slow_body_read`, `reset_mid_body`).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// More than the limit arrived (or was announced by Content-Length).
    TooLarge,
    /// A `reset_mid_body` fault: the connection is to be dropped.
    Cut,
    /// The client's body failed (connection closed or reset mid-body).
    Broken,
}

pub struct BodyReader {
    body: Incoming,
    /// Bytes read so far.
    pub read: u64,
    limit: u64,
    /// `slow_body_read`: (bytes per second, start).
    slow: Option<(u64, Instant)>,
    /// `reset_mid_body`: cut after this many bytes.
    cut_after: Option<u64>,
    /// The body's end was seen.
    pub finished: bool,
}

impl BodyReader {
    pub fn new(body: Incoming, limit: u64) -> BodyReader {
        BodyReader {
            body,
            read: 0,
            limit,
            slow: None,
            cut_after: None,
            finished: false,
        }
    }

    pub fn slow(&mut self, bytes_per_sec: u64) {
        self.slow = Some((bytes_per_sec.max(1), Instant::now()));
    }

    pub fn cut_after(&mut self, bytes: u64) {
        self.cut_after = Some(bytes);
    }

    /// The next data chunk, `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Bytes>, ReadError> {
        if self.finished {
            return Ok(None);
        }
        if self.cut_after.is_some_and(|n| self.read >= n) {
            return Err(ReadError::Cut);
        }
        if let Some((bps, start)) = self.slow {
            let due = Duration::from_secs_f64(self.read as f64 / bps as f64);
            tokio::time::sleep_until(start + due).await;
        }
        loop {
            match self.body.frame().await {
                None => {
                    self.finished = true;
                    if self.cut_after.is_some() {
                        return Err(ReadError::Cut);
                    }
                    return Ok(None);
                }
                Some(Err(_)) => return Err(ReadError::Broken),
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers
                    };
                    if data.is_empty() {
                        continue;
                    }
                    self.read += data.len() as u64;
                    if self.read > self.limit {
                        return Err(ReadError::TooLarge);
                    }
                    return Ok(Some(data));
                }
            }
        }
    }

    /// The whole body in memory (for the routes that are not uploads).
    pub async fn collect(&mut self) -> Result<Bytes, ReadError> {
        let mut first: Option<Bytes> = None;
        let mut more: Vec<u8> = Vec::new();
        while let Some(chunk) = self.next().await? {
            match &first {
                None => first = Some(chunk),
                Some(f) => {
                    if more.is_empty() {
                        more.extend_from_slice(f);
                    }
                    more.extend_from_slice(&chunk);
                }
            }
        }
        Ok(if more.is_empty() {
            first.unwrap_or_default()
        } else {
            Bytes::from(more)
        })
    }

    /// Reads and drops the rest of the body.
    pub async fn discard(&mut self) -> Result<(), ReadError> {
        while self.next().await?.is_some() {}
        Ok(())
    }
}
