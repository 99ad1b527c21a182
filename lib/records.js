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

/** Records of a view, page by page, as an async iterable with a summary. */
class RecordIterator {
  #start
  #summary = null

  constructor(start) {
    this.#start = start
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
        const records = await parseFair(text)
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
    const { handle, dispose } = link(signal, CancelHandle)
    try {
      if (signal && signal.aborted) throw abortedError(signal)
      const pager = await native.openPager(query, paging, handle)
      return { pager, signal, dispose }
    } catch (e) {
      dispose()
      throw mapNative(e, signal)
    }
  })
}

module.exports = { RecordIterator, openRecords, parseFair }
