'use strict'
// KnackError: the one error class of the package, with a stable `code`.

const CODES = Object.freeze([
  'KNACK_INVALID_ARGUMENT',
  'KNACK_LOGIN_FAILED',
  'KNACK_TOKEN_EXPIRED',
  'KNACK_UNAUTHORIZED',
  'KNACK_FORBIDDEN',
  'KNACK_NOT_FOUND',
  'KNACK_VALIDATION',
  'KNACK_RATE_LIMITED',
  'KNACK_DAILY_LIMIT',
  'KNACK_SERVER_ERROR',
  'KNACK_TIMEOUT',
  'KNACK_NETWORK',
  'KNACK_ABORTED',
  'KNACK_BAD_RESPONSE',
  'KNACK_STORE',
  'KNACK_INTERNAL',
])

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
    return CODES
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

/** Turn whatever the native layer threw into a KnackError (the message is a JSON payload). */
function fromNative(e) {
  if (e instanceof KnackError) return e
  const text = e && typeof e.message === 'string' ? e.message : ''
  if (text.startsWith('{"code":"KNACK_')) {
    try {
      const p = JSON.parse(text)
      return new KnackError(p.code, p.message, p)
    } catch {
      // fall through
    }
  }
  if (e && NAPI_ARG_CODES.has(e.code)) {
    return new KnackError('KNACK_INVALID_ARGUMENT', text || 'invalid argument')
  }
  return new KnackError('KNACK_INTERNAL', `knack-session internal error: ${text || String(e)}`, { cause: e })
}

/** KNACK_INTERNAL: the package itself cannot work here (no fitting native binary). */
function internal(message, cause) {
  return new KnackError('KNACK_INTERNAL', message, cause === undefined ? undefined : { cause })
}

function invalid(message, cause) {
  return new KnackError('KNACK_INVALID_ARGUMENT', message, cause === undefined ? undefined : { cause })
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

module.exports = { KnackError, fromNative, internal, invalid, messageOf, CODES, OUTCOMES }
