import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * Checks a tool call's arguments against the tool's `inputSchema` (JSON
 * Schema, as the server declared it) before anything else sees them.
 * Validators are compiled once per schema object: a tool list fetched again
 * brings new objects, and the old ones are collected with their validators.
 */
export class ArgumentValidator {
  // strict: false: servers write schemas with keywords ajv does not know (title, examples, vendor extensions).
  readonly #ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false });
  readonly #compiled = new WeakMap<object, ValidateFunction | Error>();

  /** null when the arguments are valid, else a sentence naming the field and what is wrong with it. */
  check(schema: object, args: Record<string, unknown>): string | null {
    let v = this.#compiled.get(schema);
    if (v === undefined) {
      try {
        v = this.#ajv.compile(schema);
      } catch (err) {
        v = new Error(`the tool's inputSchema is not a valid JSON Schema (${(err as Error).message})`);
      }
      this.#compiled.set(schema, v);
    }
    if (v instanceof Error) return v.message;
    return v(args) ? null : describe(v.errors?.[0]);
  }
}

/** `arguments.path: must be string`, the way a person reads a field path. */
function describe(e: ErrorObject | undefined): string {
  if (!e) return 'the arguments do not match the tool\'s inputSchema';
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : `${acc}.${p}`), 'arguments');
  if (e.keyword === 'required') return `${path}.${(e.params as { missingProperty: string }).missingProperty} is required`;
  if (e.keyword === 'additionalProperties') return `${path}.${(e.params as { additionalProperty: string }).additionalProperty} is not an argument of this tool`;
  if (e.keyword === 'enum') return `${path} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((x) => JSON.stringify(x)).join(', ')}`;
  return `${path} ${e.message ?? 'is not valid'}`;
}
