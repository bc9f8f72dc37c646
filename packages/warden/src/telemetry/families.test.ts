import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterFamily, HistogramFamily } from './families.js';

describe('metric families', () => {
  it('render counters and cumulative histogram buckets through a prom-client registry', async () => {
    const registry = new Registry();
    const c = new CounterFamily({ name: 'x_requests_total', help: 'Requests.', labelNames: ['route', 'status'] as const, registers: [registry] });
    const h = new HistogramFamily({ name: 'x_duration_seconds', help: 'Duration.', labelNames: ['route'] as const, buckets: [0.1, 1], registers: [registry] });
    c.labels('/a', '200').inc();
    c.labels('/a', '200').inc(2);
    c.labels('/b', '500').inc();
    for (const v of [0.05, 0.5, 5]) h.labels('/a').observe(v);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE x_requests_total counter');
    expect(text).toContain('x_requests_total{route="/a",status="200"} 3');
    expect(text).toContain('x_requests_total{route="/b",status="500"} 1');
    expect(text).toContain('# TYPE x_duration_seconds histogram');
    expect(text).toContain('x_duration_seconds_bucket{route="/a",le="0.1"} 1');
    expect(text).toContain('x_duration_seconds_bucket{route="/a",le="1"} 2');
    expect(text).toContain('x_duration_seconds_bucket{route="/a",le="+Inf"} 3');
    expect(text).toContain('x_duration_seconds_sum{route="/a"} 5.55');
    expect(text).toContain('x_duration_seconds_count{route="/a"} 3');
  });

  it('escapes label values a client chose', async () => {
    const registry = new Registry();
    const c = new CounterFamily({ name: 'x_total', help: 'h', labelNames: ['model'] as const, registers: [registry] });
    c.labels('we"ird\\model\n').inc();
    expect(await registry.metrics()).toContain('x_total{model="we\\"ird\\\\model\\n"} 1');
  });

  it('bounds memory: past 10,000 label sets new ones are counted under "other"', async () => {
    const registry = new Registry();
    const c = new CounterFamily({ name: 'x_total', help: 'h', labelNames: ['model'] as const, registers: [registry] });
    for (let i = 0; i < 10_050; i++) c.labels(`m${i}`).inc();
    const text = await registry.metrics();
    expect(text).toContain('x_total{model="other"} 50');
    expect(text.split('\n').filter((l) => l.startsWith('x_total{')).length).toBe(10_001);
  });
});
