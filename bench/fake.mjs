// Start the release fake-knack binary for a benchmark phase and talk to its /_fake API.
import path from 'node:path'
import { startFake as startTestFake, ROOT, FIXTURE, APP_ID } from '../__test__/helpers/fake.mjs'

export { ROOT, FIXTURE, APP_ID }
export const BINARY = path.join(ROOT, 'target/release/fake-knack')
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
