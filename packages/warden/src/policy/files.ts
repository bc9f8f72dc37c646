import { readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { PolicyDocument, ValidationIssue } from './types.js';

export interface PolicyFilesSnapshot {
  documents: PolicyDocument[];
  /** Files (or the directory) that could not be read this time. */
  issues: ValidationIssue[];
}

/** Called after the directory changed. Must not throw: it runs from a timer. */
export type PolicyFilesListener = (snapshot: PolicyFilesSnapshot) => void;

export interface PolicyFilesOptions {
  /** Quiet period after the last file-system event before re-reading (default 100 ms). */
  debounceMs?: number;
}

const EXTENSION = '.cedar';

/**
 * The `*.cedar` files of one directory as global policy documents (orgId
 * null, id = file name without `.cedar`), re-read when the directory changes.
 * Editors save in bursts (temp file, rename, chmod), hence the debounce.
 * It only reads: the caller merges these with API-stored policies and hands
 * the lot to PolicyEngine.load, which validates.
 */
export class PolicyFiles {
  readonly #dir: string;
  readonly #onChange: PolicyFilesListener;
  readonly #debounceMs: number;
  #watcher: FSWatcher | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #documents: PolicyDocument[] = [];
  #issues: ValidationIssue[] = [];
  #signature = '';

  constructor(dir: string, onChange: PolicyFilesListener, options: PolicyFilesOptions = {}) {
    this.#dir = dir;
    this.#onChange = onChange;
    this.#debounceMs = options.debounceMs ?? 100;
  }

  /** Problems from the most recent read(). */
  get issues(): readonly ValidationIssue[] {
    return this.#issues;
  }

  /**
   * Reads the directory now (non-recursive, sorted by file name). Never
   * throws. A listed file that cannot be read keeps its previous contents,
   * and an unreadable directory keeps all of them: dropping a document would
   * silently remove its forbids, which fails open.
   */
  read(): PolicyDocument[] {
    const previous = new Map(this.#documents.map((d) => [d.id, d]));
    const issues: ValidationIssue[] = [];
    let names: string[];
    try {
      names = readdirSync(this.#dir).filter(isPolicyFile).sort();
    } catch (err) {
      this.#issues = [{ policyId: null, message: `cannot read policy directory ${this.#dir}: ${describe(err)}` }];
      this.#signature = signatureOf(this.#documents, this.#issues);
      return this.#documents;
    }
    const documents: PolicyDocument[] = [];
    for (const name of names) {
      const id = name.slice(0, -EXTENSION.length);
      try {
        documents.push({ id, text: readFileSync(join(this.#dir, name), 'utf8'), origin: 'file', orgId: null });
      } catch (err) {
        const kept = previous.get(id);
        const note = kept ? '; keeping its previous contents' : '';
        issues.push({ policyId: null, message: `cannot read policy file ${join(this.#dir, name)}: ${describe(err)}${note}` });
        if (kept) documents.push(kept);
      }
    }
    this.#documents = documents;
    this.#issues = issues;
    this.#signature = signatureOf(documents, issues);
    return documents;
  }

  /**
   * Starts watching. Throws when the directory cannot be watched (e.g. it
   * does not exist): that is a start-up configuration error.
   */
  start(): void {
    if (this.#watcher) return;
    this.#watcher = watch(this.#dir, { persistent: true }, () => this.#schedule());
    this.#watcher.on('error', (err) => {
      this.#issues = [{ policyId: null, message: `stopped watching policy directory ${this.#dir}: ${describe(err)}` }];
      this.#onChange({ documents: this.#documents, issues: this.#issues });
    });
    // Catch edits made between the caller's first read() and now.
    this.#schedule();
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#watcher?.close();
    this.#watcher = null;
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#reload();
    }, this.#debounceMs);
  }

  /** Re-reads and notifies only on a real change, so a touch or chmod does not flush the decision cache. */
  #reload(): void {
    if (!this.#watcher) return;
    const before = this.#signature;
    const documents = this.read();
    if (this.#signature !== before) this.#onChange({ documents, issues: this.#issues });
  }
}

/** Hidden names are editor scratch files (emacs `.#x.cedar` is a dangling symlink, vim `.x.cedar.swp`). */
function isPolicyFile(name: string): boolean {
  return name.endsWith(EXTENSION) && !name.startsWith('.') && name.length > EXTENSION.length;
}

function signatureOf(documents: PolicyDocument[], issues: ValidationIssue[]): string {
  return JSON.stringify([documents.map((d) => [d.id, d.text]), issues.map((i) => i.message)]);
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}
