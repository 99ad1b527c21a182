import { knack } from '../../../lib/knack.mjs'

export const runtime = 'nodejs'
export const POST = knack.logout
