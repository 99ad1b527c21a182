'use strict'
// Observability (README "Observability"). Rust reports what happens to each observed request
// (start, retry, rate-limit wait, end or error; logins) through one thread-safe function, in
// order, on the JS thread; here each event is published on its diagnostics_channel
// (`knack-session:request:start`, ...) in the async context of the call that made it (so a
// tracer's active span is the parent), and written to the logger of the session that made it.
//
// A call is observed only when a channel has subscribers or its session watches it (a logger,
// or a service session's logins): otherwise no event is built at all, in Rust or here.
// Messages hold method, route (no query string), attempt, status, timings, codes and a request
// id: never a token, password, body, query string or session id.

const dc = require('node:diagnostics_channel')
const { AsyncResource } = require('node:async_hooks')
const native = require('./native')
const { invoke, callbackFailed } = require('./callbacks')
const codes = require('./codes')

const NAMES = ['request:start', 'request:end', 'request:error', 'request:retry', 'ratelimit:wait', 'login']
const channels = new Map(NAMES.map((n) => [n, dc.channel(`knack-session:${n}`)]))
const channelList = [...channels.values()]

const LEVELS = { debug: 1, info: 2, warn: 3, error: 4, off: 5 }

/** Which level each event is logged at. */
function levelOf(channel, m) {
  switch (channel) {
    case 'request:start':
    case 'ratelimit:wait':
      return 'debug'
    case 'request:end':
      return m.status >= 400 ? 'warn' : 'info'
    case 'request:retry':
      return 'warn'
    case 'request:error':
      return m.code === codes.ABORTED ? 'info' : 'error'
    case 'login':
      return m.code ? 'warn' : 'info'
    default:
      return 'debug'
  }
}

/** The human line of an event (the structured fields go alongside). */
function describe(channel, m) {
  const what = `${m.method} ${m.path}`
  switch (channel) {
    case 'request:start':
      return `knack-session: ${what} started`
    case 'request:end':
      return `knack-session: ${what} -> ${m.status} in ${m.durationMs}ms (attempt ${m.attempt})`
    case 'request:error':
      return `knack-session: ${what} failed: ${m.code}${m.status ? ` (${m.status})` : ''} after ${m.durationMs}ms (attempt ${m.attempt})`
    case 'request:retry':
      return `knack-session: ${what} retried in ${m.waitMs}ms (${m.reason}${m.status ? `, ${m.status}` : ''}; attempt ${m.attempt})`
    case 'ratelimit:wait':
      return `knack-session: ${what} waited ${m.waitMs}ms (${m.reason === 'knack-429' ? "Knack's 429" : 'the rate governor'})`
    case 'login':
      return m.code ? `knack-session: login failed: ${m.code} after ${m.durationMs}ms` : `knack-session: logged in in ${m.durationMs}ms`
    default:
      return `knack-session: ${channel}`
  }
}

/**
 * What a session does with its calls' events: `logger` at `level` (either may be absent), and
 * `onLogin` (a service session's renewals). Null when there is nothing to do.
 */
function watcher(logger, level = 'info', onLogin = null) {
  if (!logger && !onLogin) return null
  return { logger: logger ?? null, min: LEVELS[level], failed: false, onLogin }
}

/**
 * Observed calls in flight, by observer id: { watch, resource }. An entry is dropped a while
 * after its call settled, so the events Rust queued just before it settled still find it.
 */
const calls = new Map()
let nextObserver = 1
const GRACE_MS = 5000

/**
 * Observe one call: an observer id for its CancelHandle (0: unobserved) and `release()` for
 * when it has settled.
 */
function observe(watch) {
  if (!watch && !anySubscriber()) return UNOBSERVED
  ensureSink()
  const id = nextObserver
  nextObserver = nextObserver >= 0xffffffff ? 1 : nextObserver + 1
  calls.set(id, { watch, resource: new AsyncResource('knack-session:call') })
  return {
    id,
    quiet: Boolean(watch && watch.logger),
    release() {
      setTimeout(() => calls.delete(id), GRACE_MS).unref()
    },
  }
}
const UNOBSERVED = { id: 0, quiet: false, release() {} }

function anySubscriber() {
  for (let i = 0; i < channelList.length; i++) if (channelList[i].hasSubscribers) return true
  return false
}

function onEvent(json) {
  let e
  try {
    e = JSON.parse(json)
  } catch {
    return
  }
  const entry = calls.get(e.observer)
  if (!entry) return
  const ch = channels.get(e.channel)
  if (ch && ch.hasSubscribers) {
    // (A throwing subscriber is Node's business: diagnostics_channel rethrows it on the next
    // tick, as for every publisher.)
    entry.resource.runInAsyncScope(() => ch.publish(e.message))
  }
  const w = entry.watch
  if (!w) return
  if (e.channel === 'login' && !e.message.code && w.onLogin) {
    invoke(w.onLogin, (err) => callbackFailed('service session login', err))
  }
  if (!w.logger) return
  const level = levelOf(e.channel, e.message)
  if (LEVELS[level] < w.min) return
  const fields = { event: `knack-session:${e.channel}`, ...e.message }
  invoke(
    () => w.logger[level](fields, describe(e.channel, e.message)),
    (err) => {
      if (!w.failed) {
        w.failed = true
        callbackFailed(`logger.${level}`, err)
      }
    },
  )
}

let sinkSet = false
function ensureSink() {
  if (sinkSet) return
  sinkSet = true
  native.setEventSink(onEvent)
}

module.exports = { watcher, observe, LEVEL_NAMES: Object.keys(LEVELS), CHANNEL_NAMES: NAMES.map((n) => `knack-session:${n}`) }
