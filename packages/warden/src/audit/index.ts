export { GENESIS_HASH, chainHash, canonicalEvent, serializeDetail } from './chain.js';
export { publicEvent, csvRow, CSV_COLUMNS, exportLines, allEvents } from './export.js';
