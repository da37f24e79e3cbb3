/**
 * A tiny Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format 0.0.4. Hand-written because the
 * format is simple and the hot path should cost a few map lookups: a series'
 * label text is escaped once, when the series first appears, and recording a
 * value allocates nothing.
 *
 *   const registry = new Registry();
 *   const requests = registry.counter('http_requests_total', 'Requests.', ['method', 'status']);
 *   requests.labels('GET', '200').inc();
 *   registry.render();
 *   // # HELP http_requests_total Requests.
 *   // # TYPE http_requests_total counter
 *   // http_requests_total{method="GET",status="200"} 1
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabelValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** `a="x",b="y"` for the label names and values, escaped. */
function renderPairs(names: readonly string[], values: readonly string[]): string {
  return names.map((name, i) => `${name}="${escapeLabelValue(values[i] ?? '')}"`).join(',');
}

/**
 * The series of one metric, one per combination of label values, found by
 * walking one Map per label: a hit allocates nothing.
 */
abstract class Metric<Child> {
  private readonly root = new Map<string, unknown>();
  private readonly series: { pairs: string; child: Child }[] = [];
  private unlabelled: Child | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label === 'le') throw new Error(`invalid label name "${label}" on ${name}`);
    }
  }

  protected abstract create(): Child;
  protected abstract writeSeries(out: string[], pairs: string, child: Child): void;
  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  /** The series with these label values (in labelNames order), created on first use. */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
    }
    if (values.length === 0) return this.only();
    let node: Map<string, unknown> = this.root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(values[i]!, next);
      }
      node = next;
    }
    let child = node.get(values[last]!) as Child | undefined;
    if (child === undefined) {
      child = this.create();
      node.set(values[last]!, child);
      this.series.push({ pairs: renderPairs(this.labelNames, values), child });
    }
    return child;
  }

  /** The single series of a metric without labels. */
  protected only(): Child {
    if (this.labelNames.length > 0) throw new Error(`${this.name} has labels; use labels(...)`);
    this.unlabelled ??= this.create();
    return this.unlabelled;
  }

  write(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    if (this.labelNames.length === 0) this.writeSeries(out, '', this.only());
    for (const s of this.series) this.writeSeries(out, s.pairs, s.child);
  }
}

export interface CounterChild {
  inc(by?: number): void;
  readonly value: number;
}

class CounterValue implements CounterChild {
  value = 0;
  inc(by = 1): void {
    if (by < 0) throw new Error('a counter only goes up');
    this.value += by;
  }
}

export class Counter extends Metric<CounterChild> {
  readonly type = 'counter';
  protected create(): CounterChild {
    return new CounterValue();
  }
  protected writeSeries(out: string[], pairs: string, child: CounterChild): void {
    out.push(`${this.name}${pairs ? `{${pairs}}` : ''} ${formatValue(child.value)}`);
  }
  inc(by = 1): void {
    this.only().inc(by);
  }
  get value(): number {
    return this.only().value;
  }
}

export interface GaugeChild {
  set(value: number): void;
  readonly value: number;
}

class GaugeValue implements GaugeChild {
  value = 0;
  set(value: number): void {
    this.value = value;
  }
}

/** A gauge; `collect` (if given) sets its values just before each render, for values read from elsewhere. */
export class Gauge extends Metric<GaugeChild> {
  readonly type = 'gauge';
  constructor(name: string, help: string, labelNames: readonly string[], private readonly collect?: (gauge: Gauge) => void) {
    super(name, help, labelNames);
  }
  protected create(): GaugeChild {
    return new GaugeValue();
  }
  protected writeSeries(out: string[], pairs: string, child: GaugeChild): void {
    out.push(`${this.name}${pairs ? `{${pairs}}` : ''} ${formatValue(child.value)}`);
  }
  override write(out: string[]): void {
    this.collect?.(this);
    super.write(out);
  }
  set(value: number): void {
    this.only().set(value);
  }
}

export interface HistogramChild {
  observe(value: number): void;
  readonly count: number;
  readonly sum: number;
}

class HistogramValue implements HistogramChild {
  /** Per bucket, not cumulative (the last one is +Inf); cumulated when rendered. */
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]! += 1;
    this.count += 1;
    this.sum += value;
  }
}

/** Default latency buckets in seconds (Prometheus' client defaults). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram extends Metric<HistogramChild> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];
  private readonly les: readonly string[];
  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = DEFAULT_BUCKETS) {
    super(name, help, labelNames);
    this.bounds = [...buckets].sort((a, b) => a - b);
    if (this.bounds.some((b, i) => !Number.isFinite(b) || b === this.bounds[i - 1])) {
      throw new Error(`${name}: buckets must be finite and distinct`);
    }
    this.les = [...this.bounds.map(formatValue), '+Inf'];
  }
  protected create(): HistogramChild {
    return new HistogramValue(this.bounds);
  }
  protected writeSeries(out: string[], pairs: string, child: HistogramChild): void {
    const h = child as HistogramValue;
    const prefix = pairs ? `${pairs},` : '';
    let cumulative = 0;
    for (let i = 0; i < this.les.length; i++) {
      cumulative += h.counts[i]!;
      out.push(`${this.name}_bucket{${prefix}le="${this.les[i]}"} ${formatValue(cumulative)}`);
    }
    const labels = pairs ? `{${pairs}}` : '';
    out.push(`${this.name}_sum${labels} ${formatValue(h.sum)}`, `${this.name}_count${labels} ${formatValue(h.count)}`);
  }
  observe(value: number): void {
    this.only().observe(value);
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric<unknown>>();

  private add<M extends Metric<unknown>>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric "${metric.name}" is already registered`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = [], collect?: (gauge: Gauge) => void): Gauge {
    return this.add(new Gauge(name, help, labelNames, collect));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** The text exposition format 0.0.4, ending with a newline. */
  render(): string {
    const out: string[] = [];
    for (const metric of this.metrics.values()) metric.write(out);
    return `${out.join('\n')}\n`;
  }
}
