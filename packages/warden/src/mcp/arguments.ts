import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** Compiled validators kept at most; a tool list fetched again brings the same schemas, found by their text. */
const MAX_VALIDATORS = 2000;

/**
 * Checks a tool call's arguments against the tool's `inputSchema` (JSON
 * Schema, as the server declared it) before anything else sees them.
 * Schemas are JSON Schema 2020-12 unless they name draft-07 or older in
 * `$schema` (MCP's default since 2025-11-25; older servers write draft-07).
 * Validators are compiled once per schema text and never registered with
 * ajv by their `$id` (two servers, or two refreshes, may use the same one).
 */
export class ArgumentValidator {
  // strict: false: servers write schemas with keywords ajv does not know (title, examples, vendor extensions).
  readonly #modern = new Ajv2020({ allErrors: false, strict: false, validateFormats: false, addUsedSchema: false });
  readonly #draft7 = new Ajv({ allErrors: false, strict: false, validateFormats: false, addUsedSchema: false });
  readonly #compiled = new Map<string, ValidateFunction | Error>();
  /** In front: by the schema object itself, so a cached tool list's calls skip serialising it. */
  readonly #byObject = new WeakMap<object, ValidateFunction | Error>();

  /** null when the arguments are valid, else a sentence naming the field and what is wrong with it. */
  check(schema: object, args: Record<string, unknown>): string | null {
    const v = this.#byObject.get(schema) ?? this.#validator(schema);
    if (v instanceof Error) return v.message;
    return v(args) ? null : describe(v.errors?.[0]);
  }

  #validator(schema: object): ValidateFunction | Error {
    const text = JSON.stringify(schema);
    let v = this.#compiled.get(text);
    if (v === undefined) {
      const draft = (schema as { $schema?: unknown }).$schema;
      const ajv = typeof draft === 'string' && /draft-0[4-7]/.test(draft) ? this.#draft7 : this.#modern;
      try {
        v = ajv.compile(schema);
      } catch (err) {
        v = new Error(`the tool's inputSchema is not a valid JSON Schema (${(err as Error).message})`);
      }
      // ajv keeps every schema it compiled, keyed by the object: dropped, so refreshed lists do not pile up.
      ajv.removeSchema(schema);
      if (this.#compiled.size >= MAX_VALIDATORS) this.#compiled.delete(this.#compiled.keys().next().value!);
      this.#compiled.set(text, v);
    }
    this.#byObject.set(schema, v);
    return v;
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
