// The clients under test, behind one small interface:
//   getOne(id)                  -> one record as a JS object
//   getPage(rows, format)       -> the records of page 1 as JS objects
//   exportAll({rows, format})   -> { count, ...extra } after reading every record of the view
// Each is written the way a user of that library would write it.
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** knack-session (this repo). `rateLimit`: false = governor off, undefined = default 10/s. */
export function knackSession(cfg) {
  // KS_ROOT: load knack-session from another checkout (for A/B experiments; see README).
  const { KnackSession } = require(path.join(process.env.KS_ROOT || ROOT, 'index.js'))
  const opts = { appId: cfg.appId, baseUrl: cfg.baseUrl }
  if (cfg.rateLimit === false) opts.rateLimit = false
  else if (typeof cfg.rateLimit === 'number') opts.rateLimit = { perSecond: cfg.rateLimit }
  const s = KnackSession.fromToken(cfg.token, opts)
  const { scene, view } = cfg
  return {
    name: 'knack-session',
    getOne: (id) => s.getRecord({ scene, view, id }),
    getPage: async (rows, format) => {
      const page = await s.getRecords({ scene, view, page: 1, rowsPerPage: rows, format })
      return page.records
    },
    // Scenario 6: one page with extra getRecords options (`fields`, `shape`).
    getPageWith: async (rows, extra) => {
      const page = await s.getRecords({ scene, view, page: 1, rowsPerPage: rows, ...extra })
      return page.records
    },
    exportAll: async ({ rows, format }) => {
      const it = s.records({ scene, view, rowsPerPage: rows, format })
      let count = 0
      let last = null
      for await (const r of it) {
        count++
        last = r
      }
      const st = s.stats()
      return {
        count,
        lastId: last && last.id,
        summary: it.summary,
        clientRequests: st.requests,
        clientRetries: st.retries,
        clientRateLimited: st.rateLimited,
      }
    },
  }
}

/** Node's built-in fetch (undici) with hand-written Knack headers and JSON.parse. */
export function plainFetch(cfg) {
  const headers = { 'X-Knack-Application-Id': cfg.appId, Authorization: cfg.token }
  const base = `${cfg.baseUrl}/pages/${cfg.scene}/views/${cfg.view}/records`
  let requests = 0
  let got429 = 0
  async function getJson(url) {
    for (;;) {
      requests++
      const res = await fetch(url, { headers })
      const text = await res.text()
      // A typical hand-written loop: on 429 wait a second and try again.
      if (res.status === 429 && cfg.retry429) {
        got429++
        await sleep(1000)
        continue
      }
      if (!res.ok) throw new Error(`GET ${url} -> ${res.status}: ${text.slice(0, 200)}`)
      return JSON.parse(text)
    }
  }
  const pageUrl = (page, rows, format) =>
    `${base}?page=${page}&rows_per_page=${rows}` + (format ? `&format=${format}` : '')
  return {
    name: 'fetch',
    getOne: (id) => getJson(`${base}/${id}`),
    getPage: async (rows, format) => (await getJson(pageUrl(1, rows, format))).records,
    exportAll: async ({ rows, format }) => {
      let count = 0
      let last = null
      for (let page = 1; ; page++) {
        const body = await getJson(pageUrl(page, rows, format))
        for (const r of body.records) {
          count++
          last = r
        }
        if (body.records.length === 0 || page >= body.total_pages) break
      }
      return { count, lastId: last && last.id, clientRequests: requests, client429: got429 }
    },
  }
}

/**
 * undici's `request()` on a `Pool` (the fastest plain-Node HTTP client): one pool for the
 * origin with `connections` = the caller's concurrency (one socket per caller, as a keep-alive
 * pool that never queues), `pipelining: 1` (Knack is behind ordinary HTTP/1.1 proxies),
 * hand-written Knack headers, `body.text()` + `JSON.parse` (what `body.json()` does inside,
 * written out so the text is there for the error message).
 */
export function undiciRequest(cfg) {
  const { Pool } = require('undici')
  const origin = new URL(cfg.baseUrl)
  const prefix = origin.pathname.replace(/\/$/, '')
  const pool = new Pool(origin.origin, { connections: Math.max(1, cfg.concurrency || 1), pipelining: 1 })
  const headers = { 'x-knack-application-id': cfg.appId, authorization: cfg.token }
  const base = `${prefix}/pages/${cfg.scene}/views/${cfg.view}/records`
  let requests = 0
  let got429 = 0
  async function getJson(p) {
    for (;;) {
      requests++
      const { statusCode, body } = await pool.request({ path: p, method: 'GET', headers })
      const text = await body.text()
      if (statusCode === 429 && cfg.retry429) {
        got429++
        await sleep(1000)
        continue
      }
      if (statusCode !== 200) throw new Error(`GET ${p} -> ${statusCode}: ${text.slice(0, 200)}`)
      return JSON.parse(text)
    }
  }
  const pagePath = (page, rows, format) =>
    `${base}?page=${page}&rows_per_page=${rows}` + (format ? `&format=${format}` : '')
  return {
    name: 'undici.request',
    getOne: (id) => getJson(`${base}/${id}`),
    getPage: async (rows, format) => (await getJson(pagePath(1, rows, format))).records,
    exportAll: async ({ rows, format }) => {
      let count = 0
      let last = null
      for (let page = 1; ; page++) {
        const body = await getJson(pagePath(page, rows, format))
        for (const r of body.records) {
          count++
          last = r
        }
        if (body.records.length === 0 || page >= body.total_pages) break
      }
      return { count, lastId: last && last.id, clientRequests: requests, client429: got429 }
    },
  }
}

/** knack-api-helper (npm), view-based auth, pointed at fake-knack via `urlBase`. */
export function knackApiHelper(cfg) {
  const KnackAPI = require('knack-api-helper')
  // It logs every retry with console.log; count those lines instead of printing them.
  let retryLogs = 0
  const log = console.log
  console.log = (...a) => {
    if (typeof a[0] === 'string' && a[0].startsWith('failed fetch')) retryLogs++
    else log(...a)
  }
  const api = new KnackAPI({ auth: 'view-based', applicationId: cfg.appId, userToken: cfg.token })
  api.urlBase = cfg.baseUrl
  const { scene, view } = cfg
  return {
    name: 'knack-api-helper',
    getOne: async (id) => (await api.get({ scene, view, recordId: id })).json,
    // getMany with maxRecordsToGet = rows reads exactly one page of `rows` rows.
    getPage: async (rows, format) =>
      (await api.getMany({ scene, view, rowsPerPage: rows, maxRecordsToGet: rows, format })).records,
    exportAll: async ({ rows, format }) => {
      const res = await api.getMany({ scene, view, rowsPerPage: rows, format })
      const n = res.records.length
      return { count: n, lastId: n ? res.records[n - 1].id : null, clientRequests: res.pages.length, clientRetries: retryLogs }
    },
  }
}

export const CLIENTS = { ks: knackSession, undici: undiciRequest, fetch: plainFetch, kah: knackApiHelper }
export const CLIENT_NAMES = { ks: 'knack-session', undici: 'undici.request', fetch: 'fetch+JSON.parse', kah: 'knack-api-helper', wrk: 'wrk (ceiling)' }
