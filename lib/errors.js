'use strict'
// KnackError: the one error class of the package, with a stable `code` (lib/codes.js), and
// mapNative: the one way an error from the native side becomes the KnackError the caller sees.

/**
 * lib/codes.js, read when an error is made rather than at the top: lib/native.js makes its
 * KNACK_INTERNAL errors here while it loads, and lib/codes.js asks lib/native.js for the list.
 */
let loaded = null
function codes() {
  if (loaded) return loaded
  const c = require('./codes')
  if (Object.isFrozen(c)) loaded = c // done loading (while it loads it holds INTERNAL only)
  return c
}

let all = null
/** Every code, the core's then INTERNAL (KnackError.codes). */
function allCodes() {
  all = all ?? Object.freeze(Object.values(codes()))
  return all
}

/** The details a KnackError carries besides code and message (also what toJSON() shows). */
const DETAILS = Object.freeze(['status', 'errors', 'retryAfterMs', 'attempts', 'outcome', 'request'])

/** What a failed call did at Knack (the native layer sets it on every error it makes). */
const OUTCOMES = Object.freeze(['not-sent', 'rejected', 'unknown', 'applied'])

class KnackError extends Error {
  /**
   * @param {string} code one of KnackError.codes
   * @param {string} message
   * @param {object} [details]
   * @param {number} [details.status] HTTP status of Knack's last answer
   * @param {object[]} [details.errors] Knack's `[{ field, type, message }]`
   * @param {number} [details.retryAfterMs] how long Knack asked to wait (rate and daily limits)
   * @param {number} [details.attempts] attempts made (0: nothing was sent)
   * @param {'not-sent' | 'rejected' | 'unknown' | 'applied'} [details.outcome] what the call
   *   did at Knack: 'not-sent' (nothing reached Knack), 'rejected' (Knack refused it with a
   *   4xx or 429: nothing changed), 'unknown' (it may have reached Knack: a write may have
   *   been applied), 'applied' (Knack answered 2xx, but the answer was unusable)
   * @param {string} [details.request] method and path, e.g. 'GET /pages/scene_1/views/view_1/records'
   * @param {unknown} [details.cause]
   */
  constructor(code, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'KnackError'
    this.code = code
    for (const key of DETAILS) {
      if (details[key] !== undefined) this[key] = details[key]
    }
  }

  static get codes() {
    return allCodes()
  }

  /** `{ name, code, message, status?, errors?, retryAfterMs?, attempts?, outcome?, request? }`: no cause, no stack. */
  toJSON() {
    const out = { name: this.name, code: this.code, message: this.message }
    for (const key of DETAILS) {
      if (this[key] !== undefined) out[key] = this[key]
    }
    return out
  }
}

const NAPI_ARG_CODES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
])

/** Turn whatever the native layer threw into a KnackError (the message is a JSON payload). Callers use mapNative. */
function fromNative(e) {
  if (e instanceof KnackError) return e
  const text = e && typeof e.message === 'string' ? e.message : ''
  // The wire format of the core's errors: `{"code":"KNACK_...",...}` (a prefix, not a code).
  if (text.startsWith('{"code":"KNACK_')) {
    try {
      const p = JSON.parse(text)
      return new KnackError(p.code, p.message, p)
    } catch {
      // fall through
    }
  }
  if (e && NAPI_ARG_CODES.has(e.code)) {
    return new KnackError(codes().INVALID_ARGUMENT, text || 'invalid argument')
  }
  return new KnackError(codes().INTERNAL, `knack-session internal error: ${text || String(e)}`, { cause: e })
}

/**
 * KNACK_ABORTED with the signal's reason as `cause`. Keeps the message, `attempts`,
 * `request` and `outcome` of the native error it wraps; without one (aborted before the call started)
 * nothing was sent: attempts 0, outcome 'not-sent', and `request` when the caller knows it.
 * @param {AbortSignal} signal
 * @param {KnackError} [from] the native KNACK_ABORTED error
 * @param {string} [request] the call's label, e.g. 'GET /pages/scene_1/views/view_1/records'
 */
function abortedError(signal, from, request) {
  const details = from
    ? { attempts: from.attempts, request: from.request ?? request, outcome: from.outcome }
    : { attempts: 0, request, outcome: 'not-sent' }
  const message = from && typeof from.message === 'string' && from.message ? from.message : 'the operation was aborted'
  return new KnackError(codes().ABORTED, message, { ...details, cause: signal.reason })
}

/**
 * The KnackError the caller sees for what a native call threw: its payload as a KnackError,
 * and a KNACK_ABORTED caused by the caller's (aborted) `signal` with the signal's reason.
 * @param {unknown} e
 * @param {AbortSignal | null} [signal] the signal linked to the call, if any
 */
function mapNative(e, signal) {
  const err = fromNative(e)
  if (err.code === codes().ABORTED && signal && signal.aborted) return abortedError(signal, err)
  return err
}

/** KNACK_INTERNAL: the package itself cannot work here (no fitting native binary). */
function internal(message, cause) {
  return new KnackError(codes().INTERNAL, message, cause === undefined ? undefined : { cause })
}

function invalid(message, cause) {
  return new KnackError(codes().INVALID_ARGUMENT, message, cause === undefined ? undefined : { cause })
}

/** A printable message for anything thrown (never throws itself). */
function messageOf(e) {
  try {
    if (e !== null && typeof e === 'object' && typeof e.message === 'string') return e.message
    return String(e)
  } catch {
    return 'unprintable error'
  }
}

module.exports = {
  KnackError,
  mapNative,
  fromNative,
  abortedError,
  internal,
  invalid,
  messageOf,
  get CODES() {
    return allCodes()
  },
  OUTCOMES,
}
