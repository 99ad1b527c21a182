'use strict'
// The codes of KnackError, declared once: the Rust core's list (the binding's errorCodes()),
// as constants named without the prefix (codes.DAILY_LIMIT === 'KNACK_DAILY_LIMIT'), plus
// INTERNAL, the facade's own code for a binding that cannot load. Elsewhere in JS a code is
// `codes.X`, never a string.
//
// Load order. lib/native.js reports a binding that does not load with a KNACK_INTERNAL error
// (lib/errors.js, which reads this module when it makes an error, not at its top), and this
// module asks lib/native.js for the list. So, when the binding does not load, or lib/native.js
// is still loading (it is reporting that failure, or an addon without errorCodes()), the list
// is empty and INTERNAL is the one code; INTERNAL is on `exports` before the binding is asked,
// for the error lib/native.js makes while this module waits for it.

const PREFIX = 'KNACK_'
const INTERNAL = 'KNACK_INTERNAL'
exports.INTERNAL = INTERNAL

function nativeCodes() {
  let native
  try {
    native = require('./native')
  } catch {
    return [] // lib/native.js throws its KNACK_INTERNAL error to whoever requires it next
  }
  // Own property, not a read: a lib/native.js still loading is an empty object that warns on reads.
  return Object.hasOwn(native, 'errorCodes') ? native.errorCodes() : []
}

const codes = {}
for (const code of nativeCodes()) codes[code.slice(PREFIX.length)] = code
codes.INTERNAL = INTERNAL

module.exports = Object.freeze(codes)
