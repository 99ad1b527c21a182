'use strict'
// AbortSignal -> native CancelHandle. One 'abort' listener per signal however many calls
// share it (so 30 concurrent calls on one signal do not trip MaxListenersExceededWarning);
// it is removed when the last of those calls settles, so a long-lived signal collects nothing.

const { abortedError, invalid } = require('./errors')

function checkSignal(signal) {
  if (signal === undefined || signal === null) return null
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw invalid('signal must be an AbortSignal')
  }
  if (signal.aborted) throw abortedError(signal)
  return signal
}

/** signal -> { handles: Set<CancelHandle>, onAbort } while calls on it are in flight. */
const linked = new WeakMap()

function cancel(handle) {
  try {
    handle.cancel()
  } catch {
    // a handle whose call has finished may refuse; nothing to cancel then
  }
}

/**
 * Link a signal to a new native CancelHandle. Returns { handle, dispose }; call dispose()
 * when the call has settled.
 * @param {AbortSignal | null} signal
 * @param {new () => { cancel(): void }} CancelHandle
 */
function link(signal, CancelHandle, observer = 0) {
  if (!signal && !observer) return { handle: undefined, dispose() {} }
  const handle = new CancelHandle()
  // An observed call (lib/diagnostics.js) carries its observer id to Rust on the handle.
  if (observer) handle.observe(observer)
  if (!signal) return { handle, dispose() {} }
  if (signal.aborted) {
    cancel(handle)
    return { handle, dispose() {} }
  }
  let entry = linked.get(signal)
  if (!entry) {
    const handles = new Set()
    const onAbort = () => {
      linked.delete(signal)
      for (const h of handles) cancel(h)
      handles.clear()
    }
    entry = { handles, onAbort }
    linked.set(signal, entry)
    signal.addEventListener('abort', onAbort, { once: true })
  }
  entry.handles.add(handle)
  let disposed = false
  return {
    handle,
    dispose() {
      if (disposed) return
      disposed = true
      entry.handles.delete(handle)
      if (entry.handles.size === 0 && linked.get(signal) === entry) {
        linked.delete(signal)
        signal.removeEventListener('abort', entry.onAbort)
      }
    },
  }
}

// abortedError is lib/errors.js's (mapNative makes it too); exported here as well, as before.
module.exports = { checkSignal, link, abortedError }
