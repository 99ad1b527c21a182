'use strict'
// Observability (README "Observability"): Rust reports what happens to each observed request
// (start, retry, rate-limit wait, end or error; logins) through one thread-safe function; here
// each event is published on its diagnostics_channel (`knack-session:request:start`, ...) and
// written to the logger of the session that made the call. A call is observed only when a
// channel has subscribers or its session has a logger: otherwise Rust builds no event at all.
// Messages hold method, route (no query string), attempt, status, timings, codes and a request
// id: never a token, password, body, query string or session id.

const dc = require('node:diagnostics_channel')
const native = require('./native')
const { invoke, callbackFailed } = require('./callbacks')

const NAMES = ['request:start', 'request:end', 'request:error', 'request:retry', 'ratelimit:wait', 'login']
const channels = new Map(NAMES.map((n) => [n, dc.channel(`knack-session:${n}`)]))
const channelList = [...channels.values()]

/** Observer 1: channels only (no logger). Sessions with a logger get 2, 3, ... */
const CHANNELS_ONLY = 1
const loggers = new Map()
let nextObserver = 2
const forget = new FinalizationRegistry((id) => loggers.delete(id))

const LEVELS = { debug: 1, info: 2, warn: 3, error: 4, off: 5 }

/** Which level each event is logged at. */
function levelOf(channel, m) {
  switch (channel) {
    case 'request:start':
    case 'ratelimit:wait':
      return 'debug'
    case 'request:end':
      return 'info'
    case 'request:retry':
      return 'warn'
    case 'request:error':
      return m.code === 'KNACK_ABORTED' ? 'info' : 'error'
    case 'login':
      return m.code ? 'warn' : 'info'
    default:
      return 'debug'
  }
}

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
      return `knack-session: ${what} waited ${m.waitMs}ms for the rate governor`
    case 'login':
      return m.code ? `knack-session: login failed: ${m.code} after ${m.durationMs}ms` : `knack-session: logged in in ${m.durationMs}ms`
    default:
      return `knack-session: ${channel}`
  }
}

function onEvent(json) {
  let e
  try {
    e = JSON.parse(json)
  } catch {
    return
  }
  const ch = channels.get(e.channel)
  if (ch && ch.hasSubscribers) ch.publish(e.message)
  const entry = loggers.get(e.observer)
  if (!entry) return
  const level = levelOf(e.channel, e.message)
  if (LEVELS[level] < entry.min) return
  const fields = { event: `knack-session:${e.channel}`, ...e.message }
  invoke(
    () => entry.logger[level](fields, describe(e.channel, e.message)),
    (err) => {
      if (!entry.failed) {
        entry.failed = true
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

/**
 * An observer id for a logger, kept while `owner` lives (a session, or a holder its login
 * hands over with `adopt`).
 */
function registerLogger(owner, logger, level = 'info') {
  const id = nextObserver++
  loggers.set(id, { logger, min: LEVELS[level], failed: false })
  forget.register(owner, id, owner)
  return id
}

/** Move observer `id` from `holder` to `owner` (a login's logger, to the session it made). */
function adopt(holder, owner, id) {
  forget.unregister(holder)
  forget.register(owner, id, owner)
}

/**
 * The observer id a call runs with: its session's logger id, else CHANNELS_ONLY when some
 * channel has subscribers, else 0 (unobserved: no event is built in Rust).
 */
function observerFor(id) {
  if (id) {
    ensureSink()
    return id
  }
  for (let i = 0; i < channelList.length; i++) {
    if (channelList[i].hasSubscribers) {
      ensureSink()
      return CHANNELS_ONLY
    }
  }
  return 0
}

module.exports = { registerLogger, adopt, observerFor, LEVEL_NAMES: Object.keys(LEVELS), CHANNEL_NAMES: NAMES.map((n) => `knack-session:${n}`) }
