// Start the release fake-knack binary for a benchmark phase and talk to its /_fake API.
import path from 'node:path'
import { startFake as startTestFake, ROOT, FIXTURE, APP_ID } from '../__test__/helpers/fake.mjs'

export { ROOT, FIXTURE, APP_ID }
/** Cargo's target directory: CARGO_TARGET_DIR when set (as cargo and napi build use it), else target/. */
export const TARGET_DIR = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target')
export const BINARY = path.join(TARGET_DIR, 'release/fake-knack')
/** Tickets in the fixture before seeding (alice 3, bob 2). */
export const FIXTURE_TICKETS = 5

/**
 * The release fake-knack for a benchmark phase (the test helper, with benchmark flags).
 * @param {{rateLimit: 'off'|number, seedTickets: number}} o
 */
export async function startFake({ rateLimit, seedTickets }) {
  return startTestFake(
    [
      '--rate-limit', String(rateLimit),
      // The daily plan limit (25,000 by default) would end a throughput run early.
      '--daily-limit', 'off',
      '--seed-tickets', String(seedTickets),
    ],
    { binary: BINARY },
  )
}
