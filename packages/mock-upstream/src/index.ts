export { startMockUpstream, parseFault } from './server.js';
export type { Fault, MockUpstream, MockUpstreamOptions, RecordedRequest } from './server.js';
