// Traces as the units see them: spans around their work, whatever records them (OpenTelemetry, src/tracing/).

/** What a span says of its work; names follow OpenTelemetry's conventions, or `salesreps.` for the service's own. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** The role of a span's work: a call to another system, an effect taken from the outbox, or work inside one. */
type SpanKind = 'client' | 'consumer' | 'internal';

export interface SpanOptions {
  kind: SpanKind;
  attributes?: SpanAttributes;
  /** When the work began (epoch milliseconds), for a span recorded once its work is over; now when absent. */
  startTime?: number;
  /** Only as part of a traced unit of work (a request, an effect): without a current span, none is made. */
  childOnly?: boolean;
}

/** A span being recorded. */
export interface OpenSpan {
  /** Runs the work with this span as the current one: the spans the work makes are its children. */
  run<T>(work: () => Promise<T>): Promise<T>;
  setAttributes(attributes: SpanAttributes): void;
  /** Marks the span failed, with the error's type and message. */
  fail(error: unknown): void;
  /** The W3C trace context of this span (`traceparent`, and `tracestate` when there is one), to send with a call. */
  traceHeaders(): Record<string, string>;
  end(): void;
}

/** Records spans; installed by the composition root when traces are exported, absent otherwise. */
export interface Tracing {
  startSpan(name: string, options: SpanOptions): OpenSpan | undefined;
  /** The trace id of an HTTP request (the framework's request object), for its log line. */
  requestTraceId(request: object): string | undefined;
}

let installed: Tracing | undefined;

/** Installs the tracing every unit then uses; once, before the database is opened and the app is built. */
export function installTracing(tracing: Tracing | undefined): void {
  installed = tracing;
}

/** The tracing installed, if any: a unit may check it once, when it is set up, and add nothing when it is absent. */
export function currentTracing(): Tracing | undefined {
  return installed;
}

const NO_SPAN: Pick<OpenSpan, 'setAttributes' | 'traceHeaders'> = {
  setAttributes: () => {},
  traceHeaders: () => ({}),
};

/**
 * Runs the work in a span (a child of the current one) that ends when the work settles, failed if it throws. With
 * no tracing installed, or `childOnly` and no current span, the work just runs.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Pick<OpenSpan, 'setAttributes' | 'traceHeaders'>) => Promise<T>,
): Promise<T> {
  const span = installed?.startSpan(name, options);
  if (!span) return work(NO_SPAN);
  try {
    return await span.run(() => work(span));
  } catch (error) {
    span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}
