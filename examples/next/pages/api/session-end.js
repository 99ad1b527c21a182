// Pages Router logout: POST JSON -> 204, the session deleted from the store, cookie cleared.
import { knack } from '../../lib/knack.mjs'

export default knack.pages.logout
