'use strict'
// AbortSignal -> native CancelHandle. The listener is removed when the call settles, so a
// long-lived signal does not collect listeners.

const { KnackError, invalid } = require('./errors')

/** KNACK_ABORTED with the signal's reason as `cause`; keeps what the native error knew. */
function abortedError(signal, from) {
  return new KnackError('KNACK_ABORTED', 'the operation was aborted', {
    attempts: from?.attempts,
    request: from?.request,
    cause: signal.reason,
  })
}

function checkSignal(signal) {
  if (signal === undefined || signal === null) return null
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw invalid('signal must be an AbortSignal')
  }
  if (signal.aborted) throw abortedError(signal)
  return signal
}

/**
 * Link a signal to a new native CancelHandle. Returns { handle, dispose }.
 * @param {AbortSignal | null} signal
 * @param {new () => { cancel(): void }} CancelHandle
 */
function link(signal, CancelHandle) {
  if (!signal) return { handle: undefined, dispose() {} }
  const handle = new CancelHandle()
  const onAbort = () => handle.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  return {
    handle,
    dispose() {
      signal.removeEventListener('abort', onAbort)
    },
  }
}

module.exports = { checkSignal, link, abortedError }
