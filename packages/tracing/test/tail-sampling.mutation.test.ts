// Issue 21 (mutation testing): the tail sampler's decisions, waits and bounds, on fake timers and
// explicit span times so no assertion races the clock. Trace ids are chosen: with ratio 0.5 a trace
// id ending in 00000000 falls in the ratio (kept) and one ending in ffffffff does not (dropped).
import { ROOT_CONTEXT, trace as otelTrace, TraceFlags, type HrTime, type Span } from '@opentelemetry/api';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { SpanStatusCode, type TailSamplingOptions, type Tracing } from '../src';
import { startMemory } from './helpers';

const GRACE = 1000;
const TIMEOUT = 10_000;
const SLOW = 250;

let tracing: Tracing | undefined;
let metrics: Metrics;
let serial = 0;

/** A fresh trace id, in the 0.5 ratio or out of it. */
const id = (inRatio: boolean) => `${(++serial).toString(16).padStart(24, '0')}${inRatio ? '00000000' : 'ffffffff'}`;

function start(tail: TailSamplingOptions = {}, extra: Parameters<typeof startMemory>[0] = {}): Tracing {
  jest.useFakeTimers();
  metrics = createMetrics();
  tracing = startMemory({
    tailSampling: { slowerThanMs: SLOW, graceMs: GRACE, ratio: 0.5, traceTimeoutMs: TIMEOUT, ...tail },
    metrics,
    spanMetrics: false,
    store: { maxTraces: 1000 },
    ...extra,
  });
  return tracing;
}

afterEach(async () => {
  jest.useRealTimers();
  await tracing?.close();
  tracing = undefined;
});

/** The local root of a trace continued from a remote (sampled) parent, so its trace id is ours to pick. */
function root(traceId: string, name = 'root', startTime?: HrTime): Span {
  const parent = otelTrace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: 'b'.repeat(16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
  return tracing!.tracer.startSpan(name, { startTime }, parent);
}

function child(parent: Span, name = 'child', startTime?: HrTime): Span {
  return tracing!.tracer.startSpan(name, { startTime }, otelTrace.setSpan(ROOT_CONTEXT, parent));
}

const fail = (s: Span) => s.setStatus({ code: SpanStatusCode.ERROR });
/** The names of a trace's spans in the store, sorted; [] when nothing of it was exported. */
const stored = (traceId: string) => (tracing!.store!.getTrace(traceId)?.spans.map((s) => s.name) ?? []).sort();

async function dropped(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const body = (await metrics.expose()).body;
  for (const m of body.matchAll(/periscope_tracing_dropped_spans_total\{reason="([^"]+)"\} (\d+)/g))
    if (m[2] !== '0') out[m[1]] = +m[2];
  return out;
}

/** A trace decided at once (its root ends last): root plus one child. */
function decidedTrace(inRatio: boolean): string {
  const traceId = id(inRatio);
  const r = root(traceId);
  child(r).end();
  r.end();
  return traceId;
}

describe('what the tail sampler keeps', () => {
  it('keeps a trace with an error in any span, or a slow root, or in the ratio; drops the rest as tail_sampled', async () => {
    start();
    const errorChild = id(false);
    let r = root(errorChild);
    const c = child(r, 'failing');
    fail(c);
    c.end();
    r.end();
    const errorRoot = id(false);
    r = root(errorRoot);
    child(r).end();
    fail(r);
    r.end();
    const slow = id(false);
    r = root(slow, 'root', [1000, 0]);
    child(r).end();
    r.end([1000, (SLOW + 1) * 1e6]);
    const atBound = id(false); // exactly slowerThanMs is not slower than it
    r = root(atBound, 'root', [1000, 0]);
    child(r).end();
    r.end([1000, SLOW * 1e6]);
    const ratio = decidedTrace(true);
    const plain = decidedTrace(false);

    for (const t of [errorChild, errorRoot, slow, ratio]) expect(stored(t)).toHaveLength(2);
    expect(stored(errorChild)).toEqual(['failing', 'root']);
    expect(stored(atBound)).toEqual([]);
    expect(stored(plain)).toEqual([]);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
    expect(await dropped()).toEqual({ tail_sampled: 4 });
  });

  it('a root that started no child is decided alone, at once, by error, slowness and ratio', async () => {
    start({ graceMs: 60_000 });
    const err = id(false);
    const r = root(err, 'error-alone');
    fail(r);
    r.end();
    const slow = id(false);
    root(slow, 'slow-alone', [5, 0]).end([5, (SLOW + 1) * 1e6]);
    const atBound = id(false);
    root(atBound, 'bound-alone', [5, 0]).end([5, SLOW * 1e6]);
    const inRatio = id(true);
    root(inRatio, 'ratio-alone').end();
    const plain = id(false);
    root(plain, 'plain-alone').end();

    expect(stored(err)).toEqual(['error-alone']);
    expect(stored(slow)).toEqual(['slow-alone']);
    expect(stored(inRatio)).toEqual(['ratio-alone']);
    expect(stored(atBound)).toEqual([]);
    expect(stored(plain)).toEqual([]);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
    expect(await dropped()).toEqual({ tail_sampled: 2 });
  });

  it('buffers a trace while its root is open, however long, and decides when the root ends', async () => {
    start();
    const traceId = id(false);
    const r = root(traceId);
    child(r, 'a').end();
    child(r, 'b').end();
    expect(tracing!.tailBuffer).toEqual({ traces: 1, spans: 2 });
    jest.advanceTimersByTime(GRACE * 3);
    expect(stored(traceId)).toEqual([]);
    expect(tracing!.tailBuffer).toEqual({ traces: 1, spans: 2 });
    fail(r); // the root's own error keeps the children already buffered
    r.end();
    expect(stored(traceId)).toEqual(['a', 'b', 'root']);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
  });
});

describe('children still open when the root ends', () => {
  it('waits for them, and an error in the last one keeps the whole trace', () => {
    start({ graceMs: 60_000 });
    const traceId = id(false);
    const r = root(traceId);
    const early = child(r, 'early');
    const late = child(r, 'late');
    early.end();
    r.end();
    expect(stored(traceId)).toEqual([]);
    expect(tracing!.tailBuffer.traces).toBe(1);
    fail(late);
    late.end(); // the last open span: decided now, not at the grace deadline
    expect(stored(traceId)).toEqual(['early', 'late', 'root']);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
  });

  it('decides at the grace deadline counted from the root end, not pushed back by children ending meanwhile', async () => {
    start();
    const traceId = id(true);
    const r = root(traceId);
    const a = child(r, 'a');
    const b = child(r, 'b');
    r.end();
    jest.advanceTimersByTime(GRACE / 2);
    a.end();
    jest.advanceTimersByTime(GRACE / 2 - 1);
    expect(stored(traceId)).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(stored(traceId)).toEqual(['a', 'root']);
    b.end(); // after the decision: follows it at once
    expect(stored(traceId)).toEqual(['a', 'b', 'root']);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
    expect(await dropped()).toEqual({});
  });

  it('each trace waits out its own grace period, also after the queue emptied', async () => {
    start();
    const first = id(true);
    const second = id(true);
    const third = id(false);
    const r1 = root(first);
    const c1 = child(r1);
    r1.end();
    jest.advanceTimersByTime(GRACE / 2);
    const r2 = root(second);
    const c2 = child(r2);
    r2.end();
    jest.advanceTimersByTime(GRACE / 2);
    expect(stored(first)).toEqual(['root']);
    expect(stored(second)).toEqual([]); // its deadline is half a grace period later
    jest.advanceTimersByTime(GRACE / 2 - 1);
    expect(stored(second)).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(stored(second)).toEqual(['root']);
    // Nothing is waiting now; a trace ending later still gets its own timer.
    jest.advanceTimersByTime(GRACE * 5);
    const r3 = root(third);
    const c3 = child(r3, 'late-error');
    r3.end();
    jest.advanceTimersByTime(GRACE - 1);
    expect(tracing!.tailBuffer.traces).toBe(1);
    jest.advanceTimersByTime(1);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
    expect(await dropped()).toEqual({ tail_sampled: 1 });
    // Children ending after their trace's decision follow it (kept, kept, dropped).
    c1.end();
    c2.end();
    fail(c3);
    c3.end();
    expect(stored(first)).toEqual(['child', 'root']);
    expect(stored(second)).toEqual(['child', 'root']);
    expect(stored(third)).toEqual([]);
    expect(await dropped()).toEqual({ tail_sampled: 2 });
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
  });

  it('forceFlush decides a trace in its grace period once: its timer later delivers nothing twice', async () => {
    start();
    const traceId = id(true);
    const r = root(traceId);
    child(r, 'done').end();
    const open = child(r, 'open');
    r.end();
    const other = root(id(true), 'still-open'); // keeps a trace buffered across the flush
    child(other).end();
    await tracing!.forceFlush();
    expect(stored(traceId)).toEqual(['done', 'root']);
    jest.advanceTimersByTime(GRACE * 2);
    expect(tracing!.store!.getTrace(traceId)!.spanCount).toBe(2);
    expect(tracing!.tailBuffer).toEqual({ traces: 1, spans: 1 });
    open.end();
    expect(stored(traceId)).toEqual(['done', 'open', 'root']);
    other.end();
  });
});

describe('decisions remembered for late children', () => {
  it('a child started after its trace was decided follows the decision at once, and is counted when dropped', async () => {
    start();
    const kept = id(true);
    const keptRoot = root(kept);
    child(keptRoot).end();
    keptRoot.end();
    const gone = id(false);
    const goneRoot = root(gone);
    child(goneRoot).end();
    goneRoot.end();
    expect(await dropped()).toEqual({ tail_sampled: 2 });
    child(keptRoot, 'after').end();
    const failing = child(goneRoot, 'after');
    fail(failing); // too late to change the decision
    failing.end();
    expect(stored(kept)).toEqual(['after', 'child', 'root']);
    expect(stored(gone)).toEqual([]);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
    expect(await dropped()).toEqual({ tail_sampled: 3 });
  });

  it('remembers between 2 × maxTraces and 4 × maxTraces decisions', async () => {
    start({ maxTraces: 1 });
    const roots: Span[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const traceId = id(true);
      const r = root(traceId);
      child(r).end();
      r.end();
      roots.push(r);
      ids.push(traceId);
    }
    // Two generations of two: the 3rd to 5th decisions are remembered. The 1st is forgotten: its
    // late child starts a new buffered trace (the sweep will decide it), so the 2nd's finds no room.
    for (const r of roots) child(r, 'late').end();
    expect(ids.map((t) => stored(t).length)).toEqual([2, 2, 3, 3, 3]);
    expect(tracing!.tailBuffer).toEqual({ traces: 1, spans: 1 });
    expect(await dropped()).toEqual({ tail_buffer_full: 1 });
  });

  it('a late child of a trace that never found room is dropped as tail_buffer_full', async () => {
    start({ maxTraces: 1 });
    const r1 = root(id(true));
    child(r1).end(); // r1's trace takes the only slot
    const other = id(true);
    const r2 = root(other);
    const c = child(r2, 'no-room');
    fail(c);
    c.end();
    expect(tracing!.tailBuffer).toEqual({ traces: 1, spans: 1 });
    r2.end(); // a local root with nothing buffered: decided alone
    expect(stored(other)).toEqual(['root']);
    expect(await dropped()).toEqual({ tail_buffer_full: 1 });
    r1.end();
  });
});

describe('bounds', () => {
  it('maxTraces traces are buffered, not one more', async () => {
    start({ maxTraces: 2 });
    const roots = [id(true), id(true), id(true)].map((t) => root(t));
    for (const r of roots) child(r).end();
    expect(tracing!.tailBuffer).toEqual({ traces: 2, spans: 2 });
    expect(await dropped()).toEqual({ tail_buffer_full: 1 });
    for (const r of roots) r.end();
  });

  it('maxSpans spans are buffered, not one more, but the root always gets in', async () => {
    start({ maxSpans: 2 });
    const traceId = id(false);
    const r = root(traceId);
    for (const name of ['c1', 'c2', 'c3']) {
      const c = child(r, name);
      fail(c);
      c.end();
    }
    expect(tracing!.tailBuffer).toEqual({ traces: 1, spans: 2 });
    expect(await dropped()).toEqual({ tail_buffer_full: 1 });
    r.end();
    expect(stored(traceId)).toEqual(['c1', 'c2', 'root']);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
  });
});

describe('traces whose root never ends', () => {
  it('are decided by the sweep after one to two traceTimeoutMs, not before', () => {
    start();
    const traceId = id(false);
    const leaked = root(traceId, 'leaked');
    const c = child(leaked, 'failing');
    fail(c);
    c.end();
    jest.advanceTimersByTime(TIMEOUT);
    expect(tracing!.tailBuffer.traces).toBe(1);
    const fresh = id(false);
    const fr = root(fresh);
    const fc = child(fr, 'failing');
    fail(fc);
    fc.end();
    jest.advanceTimersByTime(TIMEOUT);
    expect(stored(traceId)).toEqual(['failing']);
    // The trace first seen one tick ago is not old enough yet.
    expect(tracing!.tailBuffer).toEqual({ traces: 1, spans: 1 });
    jest.advanceTimersByTime(TIMEOUT);
    expect(stored(fresh)).toEqual(['failing']);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
  });
});

describe('flush and close', () => {
  it('forceFlush decides traces whose root ended; close decides every open one, by the same rules', async () => {
    start({ graceMs: 60_000 });
    const ended = id(true);
    const er = root(ended);
    const waiting = child(er, 'waiting');
    er.end();
    const open = id(false);
    const or = root(open);
    const oc = child(or, 'failing');
    fail(oc);
    oc.end();
    const openDrop = id(false);
    const dr = root(openDrop);
    child(dr, 'ok').end();
    await tracing!.forceFlush();
    expect(stored(ended)).toEqual(['root']);
    expect(tracing!.tailBuffer).toEqual({ traces: 2, spans: 2 });
    await tracing!.close();
    expect(stored(open)).toEqual(['failing']);
    expect(stored(openDrop)).toEqual([]);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
    waiting.end();
  });
});

describe('spans dropped upstream by minDurationMs', () => {
  it('stop counting as open: the trace is decided when the last one ends, and they are not exported', async () => {
    start({ graceMs: 60_000 }, { minDurationMs: 5 });
    const traceId = id(true);
    const r = root(traceId, 'root', [100, 0]);
    const short = child(r, 'short', [100, 0]);
    r.end([100, 50e6]);
    expect(stored(traceId)).toEqual([]);
    short.end([100, 1e6]); // 1 ms: under minDurationMs
    expect(stored(traceId)).toEqual(['root']);
    expect(tracing!.tailBuffer).toEqual({ traces: 0, spans: 0 });
    // A short child of the decided trace is dropped upstream too, quietly.
    child(r, 'short-late', [100, 0]).end([100, 1e6]);
    expect(stored(traceId)).toEqual(['root']);
    expect(await dropped()).toEqual({ min_duration: 2 });
  });

  it('a short child ending while another child is still open does not decide the trace early', () => {
    start({ graceMs: 60_000 }, { minDurationMs: 5 });
    const traceId = id(false);
    const r = root(traceId, 'root', [100, 0]);
    const short = child(r, 'short', [100, 0]);
    const long = child(r, 'long', [100, 0]);
    r.end([100, 50e6]);
    short.end([100, 1e6]); // dropped upstream; 'long' is still open
    expect(tracing!.tailBuffer.traces).toBe(1);
    fail(long);
    long.end([100, 40e6]);
    expect(stored(traceId)).toEqual(['long', 'root']);
  });
});

describe('timers', () => {
  it('neither the sweep nor the grace timer keeps the process alive', () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    tracing = startMemory({ tailSampling: { graceMs: 60_000, traceTimeoutMs: 60_000 } });
    const r = tracing.tracer.startSpan('root');
    const c = tracing.tracer.startSpan('child', {}, otelTrace.setSpan(ROOT_CONTEXT, r));
    r.end(); // the child is still open: the grace timer starts
    expect(tracing.tailBuffer.traces).toBe(1);
    expect(timers()).toBe(before);
    c.end();
  });
});
