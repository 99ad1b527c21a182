'use strict'
// Callers' callbacks (onProgress, onStoreError): called so that a throw or a rejection never
// breaks our code; a failing one is reported once as a process warning.

const codes = require('./codes')
const { messageOf } = require('./errors')

/** A caller's callback failed: say so once, as a process warning (it must not break us). */
function callbackFailed(name, e) {
  process.emitWarning(`knack-session: the ${name} callback failed: ${messageOf(e)}`, { code: 'KNACK_CALLBACK' })
}

/**
 * Call a caller's callback: a throw or a rejected promise goes to `onError`, never further
 * (no unhandled rejection, no exception out of our code).
 */
function invoke(fn, onError) {
  let r
  try {
    r = fn()
  } catch (e) {
    onError(e)
    return
  }
  if (r !== null && (typeof r === 'object' || typeof r === 'function')) {
    try {
      const then = r.then
      if (typeof then === 'function') then.call(r, undefined, onError)
    } catch (e) {
      onError(e)
    }
  }
}

/** A record that did not open (or a store failure on the way): to onStoreError, else a warning. */
function reportStoreError(onStoreError, err) {
  if (onStoreError === undefined) {
    process.emitWarning(err.message, { code: codes.STORE })
    return
  }
  invoke(
    () => onStoreError(err),
    (e) => callbackFailed('onStoreError', e),
  )
}

module.exports = { callbackFailed, invoke, reportStoreError }
