import type { Config } from '../config/index.js';
import { deriveKey, type MasterKeyRing } from '../secrets/index.js';
import { Guard } from './guard.js';
import { InjectionDetector } from './injection.js';
import { PiiDetector } from './pii.js';
import { ContentScanner } from './scanner.js';
import { SecretsDetector } from './secrets.js';

export type { Detector, Finding, FindingCategory } from './finding.js';
export { Guard, type ActedFinding, type GuardAction, type GuardTarget, type GuardVerdict } from './guard.js';
export { InjectionDetector, INJECTION_THRESHOLD } from './injection.js';
export { InjectionModel } from './injection-model.js';
export { answerTexts, jsonInspectable, jsonTexts, payloadTexts, type AnswerFormat, type PayloadText, type TextSource } from './payload.js';
export { PiiDetector } from './pii.js';
export { riskLevel, riskScore, type Risk, type RiskInputs, type RiskLevel } from './risk.js';
export { ContentScanner, Redactor, type RecordedFinding } from './scanner.js';
export { SecretsDetector } from './secrets.js';

/**
 * The guardrails as configured, or null when off. Finding hashes are keyed
 * with a key derived from the master key (HKDF), so equal values can be
 * correlated across events of one installation but not looked up elsewhere.
 */
export function buildGuard(config: Config, ring: MasterKeyRing): Guard | null {
  if (!config.guard.enabled) return null;
  const hashKey = deriveKey(ring, 'warden guard finding hash v2');
  return new Guard(config.guard, new ContentScanner([new SecretsDetector(), new PiiDetector()], hashKey), new InjectionDetector());
}
