'use strict'
// Record data: Rust hands it over as JSON text, parsed here without holding the event loop
// (parseFair), and the page-by-page iteration of a view (RecordIterator, openRecords).

const { CancelHandle, checkListArgs } = require('./native')
const { abortedError, mapNative } = require('./errors')
const { link } = require('./signal')
const { nativeQuery, pagingOptions } = require('./native-args')

// Large bodies are parsed one per event-loop turn (setImmediate), so a burst of finished
// calls cannot hold the loop for the sum of all their JSON.parse times.
const YIELD_PARSE_BYTES = 64 * 1024
const parseQueue = []
let draining = false
function drainParse() {
  const job = parseQueue.shift()
  try {
    job.resolve(JSON.parse(job.text))
  } catch (e) {
    job.reject(e)
  }
  if (parseQueue.length > 0) setImmediate(drainParse)
  else draining = false
}
/** JSON.parse of `text`: at once when it is small, else (as a promise) in its turn. */
function parseFair(text) {
  if (text.length < YIELD_PARSE_BYTES) return JSON.parse(text)
  return new Promise((resolve, reject) => {
    parseQueue.push({ text, resolve, reject })
    if (!draining) {
      draining = true
      setImmediate(drainParse)
    }
  })
}

/**
 * Records in `shape: 'labels'` cross with their date values as epoch milliseconds and the
 * keys that hold them (`dates`: Date values, `ranges`: `{ from, to }`): those become Dates.
 */
function revive(records, dates, ranges) {
  if (dates.length === 0 && ranges.length === 0) return records
  for (let i = 0; i < records.length; i++) {
    const r = records[i]
    for (let j = 0; j < dates.length; j++) {
      const v = r[dates[j]]
      if (typeof v === 'number') r[dates[j]] = new Date(v)
    }
    for (let j = 0; j < ranges.length; j++) {
      const v = r[ranges[j]]
      if (v !== null && typeof v === 'object') {
        if (typeof v.from === 'number') v.from = new Date(v.from)
        if (typeof v.to === 'number') v.to = new Date(v.to)
      }
    }
  }
  return records
}

/** A page's JSON text -> `{ records, totalRecords, totalPages, currentPage }`. */
async function parsePage(text, shape) {
  const page = await parseFair(text)
  if (shape === 'labels') {
    revive(page.records, page.dates, page.ranges)
    delete page.dates
    delete page.ranges
  }
  return page
}

/** One record's JSON text (a read or a write's answer) in `shape`. */
function parseRecord(text, shape) {
  if (shape !== 'labels') return JSON.parse(text)
  const w = JSON.parse(text)
  revive([w.record], w.dates, w.ranges)
  return w.record
}

/** A pager chunk's JSON text -> its records. */
async function parseChunk(text, shape) {
  const c = await parseFair(text)
  if (shape !== 'labels') return c
  return revive(c.records, c.dates, c.ranges)
}

/** Records of a view, page by page, as an async iterable with a summary. */
class RecordIterator {
  #start
  #shape
  #summary = null

  constructor(start, shape) {
    this.#start = start
    this.#shape = shape
  }

  /** What the iteration saw (counts, duplicates, shortfall); null until it has started. */
  get summary() {
    return this.#summary
  }

  async *[Symbol.asyncIterator]() {
    const { pager, signal, dispose } = await this.#start()
    try {
      for (;;) {
        let text
        try {
          text = await pager.next()
        } catch (e) {
          throw mapNative(e, signal)
        } finally {
          this.#summary = pager.summary()
        }
        if (text === null) break
        const records = await parseChunk(text, this.#shape)
        for (let i = 0; i < records.length; i++) yield records[i]
      }
    } finally {
      pager.close()
      this.#summary = pager.summary()
      dispose()
    }
  }
}

/**
 * The RecordIterator of a checked records()/getAllRecords() call on `native` (a
 * NativeSession); its pager opens when the iteration starts.
 */
function openRecords(native, a) {
  const query = nativeQuery(a)
  const paging = pagingOptions(a)
  // The pager opens on first use; its arguments are refused now, before any request.
  try {
    checkListArgs(query, paging)
  } catch (e) {
    throw mapNative(e)
  }
  const signal = a.signal ?? null
  return new RecordIterator(async () => {
    const { handle, dispose } = link(signal, CancelHandle, a.watch)
    try {
      if (signal && signal.aborted) throw abortedError(signal)
      const pager = await native.openPager(query, paging, handle)
      return { pager, signal, dispose }
    } catch (e) {
      dispose()
      throw mapNative(e, signal)
    }
  }, a.shape)
}

module.exports = { RecordIterator, openRecords, parseFair, parsePage, parseRecord }
