// ESM entry: the same objects as the CommonJS entry (one module instance, so instanceof works
// across import and require).
import cjs from './index.js'

export const { KnackSession, KnackError, RecordIterator, MemoryStore, FileStore, RedisStore, setLogLevel } = cjs
export default cjs
