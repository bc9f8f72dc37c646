/** Compile a glob with `*` (any run) and `?` (one character) into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** A set of model globs, compiled once. */
export class ModelMatcher {
  private readonly res: RegExp[];
  constructor(readonly patterns: readonly string[]) {
    this.res = patterns.map(globToRegExp);
  }
  matches(model: string): boolean {
    return this.res.some((r) => r.test(model));
  }
}

/** Whether a key restricted to `allowed` globs (null = unrestricted) may use `model`. */
export function keyAllowsModel(allowed: readonly string[] | null, model: string): boolean {
  if (allowed === null) return true;
  // Key records are cached, so their pattern arrays are long-lived: compile each once.
  let m = compiled.get(allowed);
  if (!m) compiled.set(allowed, (m = new ModelMatcher(allowed)));
  return m.matches(model);
}

const compiled = new WeakMap<readonly string[], ModelMatcher>();
