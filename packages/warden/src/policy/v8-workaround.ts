import { setFlagsFromString } from 'node:v8';

/**
 * Node 20's V8 (11.3) crashes the whole process ("Fatal error ... unreachable
 * code" in Deoptimizer::DoComputeBuiltinContinuation) when TurboFan has
 * inlined a JS→Wasm call and that frame is lazily deoptimised on return. The
 * Cedar engine is such a call on every uncached decision; the crash is
 * reproducible within a few thousand decisions (bench/lib/policy-bench.mjs).
 * Turning the inlining off removes it; the cost is one wrapper call per
 * decision (not measurable next to Cedar's own ~250 µs). Imported for its
 * effect before the engine module, so no caller is compiled with the inlining.
 */
setFlagsFromString('--no-turbo-inline-js-wasm-calls');
