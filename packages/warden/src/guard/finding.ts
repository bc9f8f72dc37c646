/**
 * What a detector reports: the kind of thing found, where, and how sure it
 * is. Detectors never copy the matched text into a finding; the scanner
 * turns spans into masked previews and keyed hashes for events.
 */
export type FindingCategory = 'pii' | 'secret' | 'injection';

export interface Finding {
  /** Upper-snake entity type, e.g. EMAIL_ADDRESS, CREDIT_CARD, AWS_ACCESS_KEY, PROMPT_INJECTION. */
  type: string;
  category: FindingCategory;
  /** UTF-16 offsets into the scanned text, end exclusive. */
  start: number;
  end: number;
  /** 0..1: how sure the detector is (checksums and context words raise it). */
  confidence: number;
}

export interface Detector {
  readonly name: string;
  /** Must finish in time linear in text.length (no catastrophic backtracking). */
  detect(text: string): Finding[];
}
