//! Reading every page of a view: page 1 first (it tells how many pages there are), then the
//! rest concurrently inside the governor's budget, delivered in order, with a bounded number
//! of pages held in memory (the consumer's pace is the back-pressure).
//!
//! Knack's counts are not trusted: iteration stops at the first empty page even when
//! `total_records` promised more, ids seen twice are dropped, and the shortfall between the
//! promised and the received count is reported (or an error with `strict`).

use crate::bounds::Bound;
use crate::error::{Error, Result};
use crate::response::{self, RawRecord};
use crate::session::{CallOptions, Session};
use crate::transport::{Call, Reply};
use crate::views::{ListQuery, PreparedQuery, Shaping, MAX_ROWS_PER_PAGE};
use futures_util::stream::{FuturesOrdered, StreamExt};
use reqwest::Method;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Pages fetched ahead of the consumer by default.
pub const DEFAULT_PREFETCH: usize = 8;

#[derive(Debug, Clone)]
pub struct PagingOptions {
    /// Stop after this many records.
    pub max_records: Option<u64>,
    /// Pages in flight or waiting for the consumer (memory bound: about this many pages).
    pub prefetch: usize,
    /// Fail with `KNACK_BAD_RESPONSE` on a shortfall or duplicate ids instead of reporting.
    pub strict: bool,
}

impl PagingOptions {
    pub const MAX_RECORDS: Bound = Bound::new("maxRecords", 1, 1_000_000_000_000_000);
    pub const PREFETCH_PAGES: Bound = Bound::new("prefetchPages", 1, 64);
}

impl Default for PagingOptions {
    fn default() -> Self {
        PagingOptions {
            max_records: None,
            prefetch: DEFAULT_PREFETCH,
            strict: false,
        }
    }
}

/// What an iteration saw, for the caller to check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagingSummary {
    /// `total_records` as page 1 stated it.
    pub total_records: Option<u64>,
    pub total_pages: Option<u64>,
    /// Pages received (including a final empty one).
    pub pages: u64,
    /// Records delivered (after dropping duplicates and the `maxRecords` cut).
    pub received: u64,
    /// Records dropped because their id had been delivered already.
    pub duplicates: u64,
    /// `total_records - (received + duplicates)` when the iteration ran to the end and fewer
    /// arrived than promised.
    pub shortfall: u64,
    /// Stopped at an empty page before `total_pages`.
    pub ended_early: bool,
    /// Stopped because `maxRecords` was reached.
    pub truncated: bool,
    /// The iteration ran to its end (not cut by an error or by closing it).
    pub complete: bool,
}

/// A chunk for the consumer: the records of one page as a JSON array.
#[derive(Debug)]
pub struct Chunk {
    pub json: String,
    pub count: usize,
}

fn id_key(id: &str) -> u128 {
    if id.len() <= 32 {
        if let Ok(v) = u128::from_str_radix(id, 16) {
            return v;
        }
    }
    // Not hex: a 128-bit FNV-1a hash with the top bit set (hex ids of 24 digits never set it).
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in id.bytes() {
        h ^= b as u128;
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    h | (1 << 127)
}

struct Collector {
    seen: HashSet<u128>,
    summary: Arc<Mutex<PagingSummary>>,
    max: Option<u64>,
}

impl Collector {
    fn lock(&self) -> std::sync::MutexGuard<'_, PagingSummary> {
        self.summary.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many of `records` have been delivered already.
    fn already_seen(&self, records: &[RawRecord<'_>]) -> usize {
        records
            .iter()
            .filter(|r| self.seen.contains(&id_key(&r.id)))
            .count()
    }

    /// Keep the records not seen before, up to `max`. Returns the chunk and whether `max`
    /// has been reached.
    fn take(&mut self, records: &[RawRecord<'_>], shaping: &Shaping) -> Result<(Chunk, bool)> {
        let mut kept: Vec<&RawRecord<'_>> = Vec::with_capacity(records.len());
        let mut dups = 0;
        let mut received = self.lock().received;
        let mut reached = false;
        for r in records {
            if self.max.is_some_and(|m| received >= m) {
                reached = true;
                break;
            }
            if self.seen.insert(id_key(&r.id)) {
                kept.push(r);
                received += 1;
            } else {
                dups += 1;
            }
        }
        if self.max.is_some_and(|m| received >= m) {
            reached = true;
        }
        let size: usize = kept.iter().map(|r| r.json.get().len() + 1).sum();
        let json = if shaping.shaper().is_identity() {
            let mut json = String::with_capacity(size + 2);
            json.push('[');
            for (i, r) in kept.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                json.push_str(r.json.get());
            }
            json.push(']');
            json
        } else {
            shaping.chunk_json(kept.iter().map(|r| r.json), size)?
        };
        let mut s = self.lock();
        s.pages += 1;
        s.received = received;
        s.duplicates += dups;
        if reached {
            s.truncated = true;
        }
        Ok((
            Chunk {
                json,
                count: kept.len(),
            },
            reached,
        ))
    }
}

/// A running iteration. Dropping it (or `close`) stops the background fetches.
pub struct Pager {
    rx: tokio::sync::Mutex<mpsc::Receiver<Result<Chunk>>>,
    /// How many pages the consumer has taken: what the fetching ahead is paced by.
    taken: watch::Sender<u64>,
    summary: Arc<Mutex<PagingSummary>>,
    stop: CancellationToken,
}

impl Drop for Pager {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn fetch_page(
    session: &Session,
    prepared: &PreparedQuery,
    page: u32,
    cancel: &CallOptions,
) -> Result<Reply> {
    session
        .run(cancel, |progress| async move {
            let mut call = Call::new(Method::GET, prepared.path.clone());
            call.query = prepared.query_for_page(Some(page));
            session.send(call, &progress).await
        })
        .await
}

/// How many pages after the first may have been asked for once the consumer has taken
/// `consumed` pages: none before it takes page 1 (a consumer that stops after the first
/// record costs at most one more request), then one more than it took, doubling the pages
/// ahead with every page taken, up to `prefetch` ahead of it.
fn ahead(consumed: u64, prefetch: usize) -> u64 {
    if consumed == 0 {
        return 0;
    }
    let taken_after_first = consumed - 1;
    let window = 1u64 << taken_after_first.min(20);
    taken_after_first + window.min(prefetch as u64)
}

/// Why a page ends the iteration although it has records, if it does: Knack answered
/// another page than the one asked for (a server that ignores `page` would otherwise be
/// read forever), or every record of it was delivered already.
fn stall(asked: u32, current_page: Option<u64>, new_records: usize) -> Option<String> {
    match current_page {
        Some(c) if c != asked as u64 => Some(format!(
            "Knack answered page {c} when page {asked} was asked for"
        )),
        _ if new_records == 0 => Some(format!("page {asked} holds only records of earlier pages")),
        _ => None,
    }
}

impl Pager {
    /// Check the query and start fetching in the background (needs a tokio runtime).
    pub async fn open(
        session: Arc<Session>,
        query: &ListQuery,
        opts: PagingOptions,
        call: CallOptions,
    ) -> Result<Pager> {
        let mut query = query.clone();
        if query.rows_per_page.is_none() {
            query.rows_per_page = Some(MAX_ROWS_PER_PAGE);
        }
        let mut prepared = query.prepare()?;
        let first_page = query.page.unwrap_or(1);
        let stop = call.cancel.map(|c| c.child_token()).unwrap_or_default();
        let call = CallOptions {
            cancel: Some(stop.clone()),
            ..call
        };
        // Resolve the parent slug now, so a bad scene fails the open call itself.
        session
            .run(&call, |progress| {
                let prepared = &mut prepared;
                let session = &session;
                async move { prepared.resolve(session, &progress).await }
            })
            .await?;
        let summary = Arc::new(Mutex::new(PagingSummary::default()));
        let (tx, rx) = mpsc::channel(1);
        let prefetch = opts.prefetch.max(1);
        let collector = Collector {
            seen: HashSet::new(),
            summary: summary.clone(),
            max: opts.max_records,
        };
        let task_stop = stop.clone();
        let (taken, taken_rx) = watch::channel(0u64);
        tokio::spawn(async move {
            let work = run(
                session,
                prepared,
                first_page,
                prefetch,
                opts.strict,
                collector,
                call,
                tx.clone(),
                taken_rx,
            );
            tokio::select! {
                _ = task_stop.cancelled() => {
                    let _ = tx.try_send(Err(Error::aborted()));
                }
                _ = work => {}
            }
        });
        Ok(Pager {
            rx: tokio::sync::Mutex::new(rx),
            taken,
            summary,
            stop,
        })
    }

    /// The next page's records, or `None` at the end.
    pub async fn next(&self) -> Option<Result<Chunk>> {
        let got = self.rx.lock().await.recv().await;
        if let Some(Ok(_)) = got {
            self.taken.send_modify(|n| *n += 1);
        }
        got
    }

    pub fn summary(&self) -> PagingSummary {
        self.summary
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stop fetching; pending `next` calls end.
    pub fn close(&self) {
        self.stop.cancel();
    }
}

#[allow(clippy::too_many_arguments)]
async fn run(
    session: Arc<Session>,
    prepared: PreparedQuery,
    first_page: u32,
    prefetch: usize,
    strict: bool,
    mut collector: Collector,
    call: CallOptions,
    tx: mpsc::Sender<Result<Chunk>>,
    mut taken: watch::Receiver<u64>,
) {
    // Page 1 (or the start page): learn how many there are.
    let reply = match fetch_page(&session, &prepared, first_page, &call).await {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    let (total_pages, total_records, first_len, chunk, reached) =
        match response::list_page(&reply.body) {
            Ok(p) => {
                {
                    let mut s = collector.lock();
                    s.total_pages = Some(p.total_pages);
                    s.total_records = Some(p.total_records);
                }
                let (chunk, reached) = match collector.take(&p.records, &prepared.shaping) {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = tx.send(Err(reply.unusable(e))).await;
                        return;
                    }
                };
                (
                    p.total_pages,
                    p.total_records,
                    p.records.len(),
                    chunk,
                    reached,
                )
            }
            Err(e) => {
                let _ = tx.send(Err(reply.unusable(e))).await;
                return;
            }
        };
    drop(reply);
    if tx.send(Ok(chunk)).await.is_err() {
        return;
    }
    let mut ran_to_end = true;
    let mut stalled = None;
    if first_len > 0 && !reached && (first_page as u64) < total_pages {
        let last = total_pages.min(u32::MAX as u64) as u32;
        let session = &session;
        let prepared = &prepared;
        let call = &call;
        let mut next_page = first_page + 1;
        let mut in_flight = FuturesOrdered::new();
        loop {
            // Ask for more only as the consumer takes pages (see `ahead`).
            let consumed = *taken.borrow_and_update();
            while next_page <= last
                && ((next_page - first_page - 1) as u64) < ahead(consumed, prefetch)
            {
                let p = next_page;
                next_page += 1;
                in_flight
                    .push_back(async move { (p, fetch_page(session, prepared, p, call).await) });
            }
            if in_flight.is_empty() && next_page > last {
                break;
            }
            let (asked, result) = tokio::select! {
                Some(done) = in_flight.next(), if !in_flight.is_empty() => done,
                changed = taken.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    continue;
                }
            };
            let reply = match result {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let page = match response::list_page(&reply.body) {
                Ok(p) => p,
                Err(e) => {
                    let e = reply.unusable(e);
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            if page.records.is_empty() {
                let mut s = collector.lock();
                s.pages += 1;
                s.ended_early = true;
                break;
            }
            let seen = collector.already_seen(&page.records);
            if let Some(why) = stall(asked, page.current_page_given, page.records.len() - seen) {
                let mut s = collector.lock();
                s.pages += 1;
                s.duplicates += seen as u64;
                s.ended_early = true;
                stalled = Some(why);
                break;
            }
            let (chunk, reached) = match collector.take(&page.records, &prepared.shaping) {
                Ok(t) => t,
                Err(e) => {
                    let _ = tx.send(Err(reply.unusable(e))).await;
                    return;
                }
            };
            drop(page);
            drop(reply);
            if tx.send(Ok(chunk)).await.is_err() {
                return;
            }
            if reached {
                ran_to_end = false;
                break;
            }
        }
    } else if reached {
        ran_to_end = false;
    }
    let verdict = {
        let mut s = collector.lock();
        s.complete = true;
        if ran_to_end {
            let got = s.received + s.duplicates;
            s.shortfall = total_records.saturating_sub(got);
        }
        if let (true, Some(why)) = (strict, &stalled) {
            Some(Error::bad_response(format!(
                "the pages did not add up: {why}"
            )))
        } else if strict && (s.shortfall > 0 || s.duplicates > 0) {
            Some(Error::bad_response(format!(
                "the pages did not add up: Knack promised {} records, {} arrived, {} of them duplicates",
                total_records,
                s.received + s.duplicates,
                s.duplicates
            )))
        } else {
            None
        }
    };
    if let Some(e) = verdict {
        let _ = tx.send(Err(e)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_asked_for_ahead_of_the_consumer_only_as_it_takes_them() {
        // (pages taken by the consumer, prefetch) -> pages after the first asked for
        let table = [
            (0, 8, 0),
            (1, 8, 1),
            (2, 8, 3),
            (3, 8, 6),
            (4, 8, 11),
            (5, 8, 12),
            (20, 8, 27),
            (1, 1, 1),
            (5, 1, 5),
            (3, 2, 4),
        ];
        for (consumed, prefetch, want) in table {
            assert_eq!(ahead(consumed, prefetch), want, "{consumed} {prefetch}");
        }
    }

    #[test]
    fn hex_ids_map_to_distinct_keys_and_other_ids_hash_apart() {
        assert_ne!(
            id_key("000000000000000000000a11"),
            id_key("000000000000000000000b0b")
        );
        assert_eq!(id_key("000000000000000000000a11"), 0xa11);
        assert_ne!(id_key("rec-1"), id_key("rec-2"));
        assert!(id_key("rec-1") >> 127 == 1);
    }
}
