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

class KnackError extends Error {
  /**
   * @param {string} code one of KnackError.codes
   * @param {string} message
   * @param {object} [details] status, errors, retryAfterMs, attempts, request, cause
   */
  constructor(code, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'KnackError'
    this.code = code
    if (details.status !== undefined) this.status = details.status
    if (details.errors !== undefined) this.errors = details.errors
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs
    if (details.attempts !== undefined) this.attempts = details.attempts
    if (details.request !== undefined) this.request = details.request
  }

  static get codes() {
    return CODES
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

function invalid(message) {
  return new KnackError('KNACK_INVALID_ARGUMENT', message)
}

module.exports = { KnackError, fromNative, invalid, CODES }
