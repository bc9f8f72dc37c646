import {
  checkParsePolicySet,
  policyToJson,
  schemaToJson,
  validate as cedarValidate,
  type DetailedError,
  type Schema,
} from '@cedar-policy/cedar-wasm/nodejs';
import { WARDEN_CEDAR_SCHEMA } from './schema.js';
import { byteToCharOffset, leadingAnnotations, lineColumn, skipTrivia, splitStatements, type Statement } from './source.js';
import type { PolicyDocument, ValidationIssue } from './types.js';

/** One validated policy, ready to be placed in an org's policy set. */
export interface CompiledPolicy {
  id: string;
  text: string;
  documentId: string;
  orgId: string | null;
  /** Annotated `@approval`: a forbid that a person can lift for one call (docs/mcp.md#approvals). */
  approval: boolean;
}

interface ParsedPolicy extends CompiledPolicy {
  doc: PolicyDocument;
  statement: Statement;
}

export interface CompileResult {
  /** policies[i] belongs to docs[i]; empty for a document with issues. */
  policies: CompiledPolicy[][];
  issues: ValidationIssue[];
  /** issuesByDoc[i]: the issues of docs[i] alone. */
  issuesByDoc: ValidationIssue[][];
}

/**
 * Parses documents, gives every policy its id and validates them against the
 * Warden schema in strict mode (the only mode Cedar 4.13 offers).
 *
 * Policy ids: the `@id("…")` annotation when present, otherwise
 * `<documentId>#<n>` where n is the 0-based position of the policy in its
 * document. That is stable for as long as the document keeps its order,
 * needs no stored state, and tells a reader which document to open; anyone
 * who wants ids that survive reordering writes `@id`.
 *
 * Each document is parsed on its own (so syntax errors point into it), but
 * all policies are type-checked in one Cedar call: the schema is re-read on
 * every call (~2 ms), which made loading 200 documents take 1.1 s one by one
 * against ~0.1 s batched.
 */
export function compileDocuments(docs: readonly PolicyDocument[]): CompileResult {
  const parsed = docs.map(parseDocument);
  const candidates = parsed.flatMap((p) => p.policies);
  const typeIssues = validatePolicies(candidates);
  const failedDocs = new Set(typeIssues.map((t) => t.doc));
  const issuesByDoc = parsed.map((p, i) => [...p.issues, ...typeIssues.filter((t) => t.doc === docs[i]).map((t) => t.issue)]);
  const policies = parsed.map((p, i) =>
    p.issues.length > 0 || failedDocs.has(docs[i]!) ? [] : p.policies.map(({ id, text, documentId, orgId, approval }) => ({ id, text, documentId, orgId, approval })),
  );
  return { policies, issues: issuesByDoc.flat(), issuesByDoc };
}

function parseDocument(doc: PolicyDocument): { policies: ParsedPolicy[]; issues: ValidationIssue[] } {
  const parsed = checkParsePolicySet({ staticPolicies: doc.text });
  if (parsed.type === 'failure') {
    return { policies: [], issues: parsed.errors.map((e) => toIssue(doc, null, friendlier(e), { text: doc.text, start: 0 })) };
  }
  const policies: ParsedPolicy[] = [];
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  splitStatements(doc.text).forEach((statement, index) => {
    const annotations = leadingAnnotations(statement.text);
    const raw = annotations.get('id');
    if (raw === null || raw === '') {
      issues.push({ policyId: null, message: `${where(doc, statement)}: @id needs a value, e.g. @id("deny-etc")` });
      return;
    }
    const id = raw === undefined ? `${doc.id}#${index}` : raw.includes('\\') ? decodedId(statement.text, raw) : raw;
    if (seen.has(id)) {
      issues.push({ policyId: id, message: `${where(doc, statement)}: policy id "${id}" is used twice in this document` });
      return;
    }
    seen.add(id);
    policies.push({ id, text: statement.text, documentId: doc.id, orgId: doc.orgId, approval: annotations.has('approval'), doc, statement });
  });
  return { policies, issues };
}

/** Escapes in an @id are rare; let Cedar decode them rather than re-implement its string syntax. */
function decodedId(policyText: string, raw: string): string {
  const json = policyToJson(policyText);
  return json.type === 'success' ? (json.json.annotations?.id ?? raw) : raw;
}

let schemaJson: Schema | undefined;
/** Cedar reads its JSON schema form ~1 ms faster than the human syntax. */
function schema(): Schema {
  if (schemaJson === undefined) {
    const answer = schemaToJson(WARDEN_CEDAR_SCHEMA);
    schemaJson = answer.type === 'success' ? answer.json : WARDEN_CEDAR_SCHEMA;
  }
  return schemaJson;
}

interface TypeIssue {
  doc: PolicyDocument;
  issue: ValidationIssue;
}

/** Type-checks policies from any number of documents; issues come back in input order. */
function validatePolicies(policies: ParsedPolicy[]): TypeIssue[] {
  if (policies.length === 0) return [];
  // Ids may repeat across orgs, so Cedar gets positional keys and messages are mapped back.
  const keyOf = (n: number) => `__warden_${n}`;
  const staticPolicies: Record<string, string> = {};
  policies.forEach((p, n) => (staticPolicies[keyOf(n)] = p.statement.text));
  const answer = cedarValidate({ schema: schema(), validationSettings: { mode: 'strict' }, policies: { staticPolicies } });
  if (answer.type === 'failure') return batchFailure(policies, answer.errors);
  // Warnings (e.g. "policy is impossible", which every guarded test on
  // context.arguments triggers — see schema.ts) are not failures.
  return answer.validationErrors
    .map((v) => ({ n: Number(v.policyId.slice('__warden_'.length)), error: v.error, key: v.policyId }))
    .filter(({ n }) => policies[n] !== undefined)
    .sort((a, b) => a.n - b.n)
    .filter(onePerEntityType())
    .map(({ n, error, key }) => {
      const p = policies[n]!;
      const message = error.message.replaceAll(`\`${key}\``, `\`${p.id}\``);
      return { doc: p.doc, issue: toIssue(p.doc, p.id, { ...error, message }, p.statement) };
    });
}

/**
 * A policy whose principal or resource is unconstrained is checked once per
 * entity type, so one typo in `resource.colour` yields the same error for
 * Model, McpServer and Tool. Keep the first of such a family.
 */
function onePerEntityType(): (v: { n: number; error: DetailedError }) => boolean {
  const seen = new Set<string>();
  return ({ n, error }) => {
    const key = `${n}|${error.sourceLocations?.[0]?.start}|${error.message.replace(/`Warden::[A-Za-z_]+`/g, '`T`')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}

/** A whole-call failure cannot be pinned on a policy; narrow it to one document before reporting. */
function batchFailure(policies: ParsedPolicy[], errors: DetailedError[]): TypeIssue[] {
  const docs = [...new Set(policies.map((p) => p.doc))];
  if (docs.length > 1) return docs.flatMap((d) => validatePolicies(policies.filter((p) => p.doc === d)));
  const doc = docs[0]!;
  return errors.map((e) => ({ doc, issue: toIssue(doc, null, e, undefined) }));
}

function friendlier(e: DetailedError): DetailedError {
  if (e.message.includes('template')) {
    return { ...e, message: 'policy templates (?principal / ?resource slots) are not supported; name the entity instead' };
  }
  return { ...e, message: e.message.replace(/^failed to parse policies from string: /, '') };
}

/** `doc:line:col: message (label; help)` — the shape editors and people both read. */
function toIssue(doc: PolicyDocument, policyId: string | null, e: DetailedError, at: Statement | undefined): ValidationIssue {
  const loc = e.sourceLocations?.[0];
  const prefix = at && loc ? where(doc, at, loc.start) : doc.id;
  const notes = [loc?.label, e.help].filter((n): n is string => typeof n === 'string' && n.length > 0);
  const suffix = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  return { policyId, message: `${prefix}: ${e.message}${suffix}` };
}

/** Position of a Cedar byte offset within statement `s`; undefined = where the statement's first token is. */
function where(doc: PolicyDocument, s: Statement, byteOffset?: number): string {
  const inStatement = byteOffset === undefined ? skipTrivia(s.text, 0) : byteToCharOffset(s.text, byteOffset);
  const { line, column } = lineColumn(doc.text, s.start + inStatement);
  return `${doc.id}:${line}:${column}`;
}
