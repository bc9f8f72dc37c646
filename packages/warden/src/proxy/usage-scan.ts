/**
 * The top-level `"usage"` object of a JSON response body, parsed on its own,
 * without parsing the (often much larger) rest of the answer: that full parse
 * was ~5 µs of the gateway's event loop per non-streamed call on the 2-core
 * benchmark host. Returns undefined whenever the shortcut cannot prove what it
 * found is the top-level member; the caller then parses the whole body.
 *
 * Why the proof holds: `"usage"` with real quotes on both sides is always a
 * whole string token (a quote inside a JSON string is escaped, so `\"usage\"`
 * does not match); it is a key only if a colon follows; and it is a member of
 * the outermost object only if everything after its value closes exactly one
 * level, which the string-aware scan of the remainder checks. The last such
 * member wins, as with JSON.parse.
 */
export function topLevelUsage(b: Buffer): unknown {
  const at = b.lastIndexOf('"usage"');
  if (at < 0) return undefined;
  let i = skipSpace(b, at + 7);
  if (b[i] !== 0x3a) return undefined; // ':'
  i = skipSpace(b, i + 1);
  if (b[i] !== 0x7b) return undefined; // '{': usage null or absent is left to the full parse
  const start = i;
  const end = closeOf(b, start, 0);
  if (end < 0) return undefined;
  // After the value: only the rest of the outermost object, ending the body.
  const outerEnd = closeOf(b, end, 1);
  if (outerEnd < 0 || skipSpace(b, outerEnd) !== b.length) return undefined;
  try {
    return { usage: JSON.parse(b.toString('utf8', start, end)) };
  } catch {
    return undefined;
  }
}

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

/**
 * Scans from `i` with `depth` levels already open (0: `i` is at an opening
 * brace) and returns the index just past the point where the depth returns to
 * 0, or -1 if it never does. Strings (with escapes) are skipped.
 */
function closeOf(b: Buffer, i: number, depth: number): number {
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === 0x22) {
      for (i++; i < b.length && b[i] !== 0x22; i++) if (b[i] === 0x5c) i++;
      if (i >= b.length) return -1;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
      if (depth < 0) return -1;
    }
  }
  return -1;
}
