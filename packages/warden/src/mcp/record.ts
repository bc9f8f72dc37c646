import { jsonTexts, Redactor, type RecordedFinding, type TextSource } from '../guard/index.js';

/** Largest JSON kept of a call's arguments or result in its event; longer ones are cut, with their size noted. */
export const MAX_RECORDED_JSON = 8 * 1024;

/**
 * What an event keeps of a tool call's arguments or result: a copy with
 * every PII and secret value the guardrails found replaced by its typed
 * placeholder (whatever the configured action, so flagged values are never
 * stored either), cut at MAX_RECORDED_JSON. `original` is a copy of the
 * value as it was inspected (changed in place), `findings` what inspecting it found.
 */
export function recordedCopy(original: unknown, findings: readonly RecordedFinding[], source: TextSource): unknown {
  // Callers hand in a copy of their own (taken before the guardrails may redact in place): it is rewritten here, not copied again.
  const copy: unknown = original === undefined ? null : original;
  if (findings.length > 0) {
    const byWhere = new Map<string, RecordedFinding[]>();
    for (const f of findings) if (f.category !== 'injection') byWhere.set(f.where, [...(byWhere.get(f.where) ?? []), f]);
    const redactor = new Redactor();
    for (const part of jsonTexts(copy, source)) {
      const found = byWhere.get(part.where);
      if (found) part.replace(redactor.redact(part.text, found));
    }
  }
  const json = JSON.stringify(copy) ?? 'null';
  return json.length <= MAX_RECORDED_JSON ? copy : { truncated: true, bytes: Buffer.byteLength(json), head: json.slice(0, MAX_RECORDED_JSON) };
}
