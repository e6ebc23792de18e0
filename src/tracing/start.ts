// OpenTelemetry set up: the SDK, its OTLP/HTTP exporter, the request and PostgreSQL instrumentations, the service's spans.
import { FastifyOtelInstrumentation } from '@fastify/otel';
import {
  type Context,
  context,
  type SpanKind as OtelSpanKind,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import type { FastifyRequest } from 'fastify';
import type { TracingConfig } from '../config.js';
import { scrub } from '../kernel/scrub.js';
import type { OpenSpan, SpanOptions, Tracing } from '../kernel/tracing.js';

const KINDS: Record<SpanOptions['kind'], OtelSpanKind> = {
  client: SpanKind.CLIENT,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
};

/** What the composition root needs besides the settings: how a request's URL is written down (scrubbed). */
export interface TracingHooks {
  scrubUrl(url: string): string;
}

/** The running SDK: the tracing the units use, and the shutdown that exports the spans still buffered. */
export interface StartedTracing {
  tracing: Tracing;
  shutdown(): Promise<void>;
}

async function exporterFor(config: TracingConfig): Promise<SpanExporter> {
  // The signal's path appended to the base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT means it.
  const url = `${config.endpoint.replace(/\/+$/, '')}/v1/traces`;
  if (config.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter({ url });
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url });
}

/**
 * Starts OpenTelemetry: the global tracer provider, context manager (AsyncLocalStorage) and W3C propagator, the
 * Fastify instrumentation (picked up by every Fastify app created afterwards) and PostgreSQL's (patching `pg` when it
 * is loaded: so this runs before the database is opened, which loads `pg` then).
 */
export async function startTracing(config: TracingConfig, hooks: TracingHooks): Promise<StartedTracing> {
  const resource = resourceFromAttributes({ 'service.name': config.serviceName }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const provider = new TracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor({ exporter: await exporterFor(config) })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);

  const fastify = new FastifyOtelInstrumentation({
    registerOnInitialization: true,
    // One span for the request and one for its handler; the hooks' spans would add a dozen to every request.
    instrumentHooks: false,
    requestHook: (span, request) => {
      const route = request.routeOptions.url;
      span.updateName(route ? `${request.method} ${route}` : request.method);
      // The raw URL may hold a sign-in link's token or personal data: written as the request log writes it.
      span.setAttributes({ 'url.path': hooks.scrubUrl(request.url), 'salesreps.request.id': request.id });
    },
  });
  registerInstrumentations({
    // A statement is traced as part of a request or an effect; the background purges' statements are not.
    instrumentations: [new PgInstrumentation({ requireParentSpan: true })],
  });

  const tracer = trace.getTracer('salesreps');
  const tracing: Tracing = {
    startSpan(name, options) {
      const parent = context.active();
      if (options.childOnly && !trace.getSpan(parent)) return undefined;
      const span = tracer.startSpan(
        name,
        { kind: KINDS[options.kind], attributes: options.attributes, startTime: options.startTime },
        parent,
      );
      const spanContext: Context = trace.setSpan(parent, span);
      const open: OpenSpan = {
        run: (work) => context.with(spanContext, work),
        setAttributes: (attributes) => {
          span.setAttributes(attributes);
        },
        fail(error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          // A remote answer or a database error may quote personal data, as in the log.
          span.setStatus({ code: SpanStatusCode.ERROR, message: scrub(failure.message) });
          span.setAttribute('error.type', failure.name);
        },
        traceHeaders() {
          const headers: Record<string, string> = {};
          propagation.inject(spanContext, headers);
          return headers;
        },
        end: () => span.end(),
      };
      return open;
    },
    requestTraceId(request) {
      const requestContext = (request as Partial<FastifyRequest>).opentelemetry?.().context;
      return requestContext ? trace.getSpanContext(requestContext)?.traceId : undefined;
    },
  };
  return {
    tracing,
    async shutdown() {
      fastify.disable();
      await provider.shutdown();
    },
  };
}
