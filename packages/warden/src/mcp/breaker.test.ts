import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError } from './breaker.js';
import { errorText } from './tools.js';

function breaker(failures = 3, cooldownMs = 10_000) {
  const clock = { t: 1_000_000 };
  return { b: new CircuitBreaker({ failures, cooldownMs }, () => clock.t), clock };
}

function refusal(b: CircuitBreaker): CircuitOpenError {
  try {
    b.admit();
  } catch (err) {
    if (err instanceof CircuitOpenError) return err;
    throw err;
  }
  throw new Error('the request was let through');
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold, and a success resets the count', () => {
    const { b } = breaker(3);
    b.failed(b.admit());
    b.failed(b.admit());
    b.succeeded();
    b.failed(b.admit());
    b.failed(b.admit());
    expect(b.state).toBe('closed');
    expect(b.failures).toBe(2);
  });

  it('opens after N failures in a row and refuses at once, saying how many and when it retries', () => {
    const { b, clock } = breaker(3, 30_000);
    for (let i = 0; i < 3; i++) b.failed(b.admit());
    expect(b.state).toBe('open');
    clock.t += 7_000;
    const err = refusal(b);
    expect(err.failures).toBe(3);
    expect(err.asked).toBe(false);
    expect(errorText(err)).toBe('it is unavailable (3 failures in a row); Warden retries it in 23 s');
  });

  it('lets one trial through after the cool-down (half-open) and refuses the others meanwhile', () => {
    const { b, clock } = breaker(2, 1_000);
    b.failed(b.admit());
    b.failed(b.admit());
    clock.t += 1_000;
    expect(b.state).toBe('half_open');
    expect(b.admit()).toBe(true);
    expect(refusal(b).message).toMatch(/Warden is trying it again now/);
    expect(b.state).toBe('half_open');
  });

  it('closes when the trial succeeds', () => {
    const { b, clock } = breaker(1, 1_000);
    b.failed(b.admit());
    clock.t += 1_500;
    b.admit();
    b.succeeded();
    expect(b.state).toBe('closed');
    expect(b.failures).toBe(0);
    expect(b.admit()).toBe(false);
  });

  it('reopens for a fresh cool-down when the trial fails', () => {
    const { b, clock } = breaker(1, 1_000);
    b.failed(b.admit());
    clock.t += 1_500;
    b.failed(b.admit());
    expect(b.state).toBe('open');
    expect(refusal(b).message).toMatch(/\(2 failures in a row\); Warden retries it in 1 s/);
    clock.t += 999;
    expect(b.state).toBe('open');
    clock.t += 1;
    expect(b.state).toBe('half_open');
  });

  it('a late failure of a request admitted before it opened does not extend the cool-down', () => {
    const { b, clock } = breaker(2, 1_000);
    const early = b.admit();
    b.failed(b.admit());
    b.failed(b.admit());
    clock.t += 900;
    b.failed(early);
    clock.t += 100;
    expect(b.state).toBe('half_open');
  });

  it('a trial that ended without an answer (cancelled) lets the next request be the trial', () => {
    const { b, clock } = breaker(1, 1_000);
    b.failed(b.admit());
    clock.t += 1_000;
    b.released(b.admit());
    expect(b.admit()).toBe(true);
  });
});
