// The deployment examples under deploy/ parse, hang together and name only settings the service has.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { Settings } from '../../src/config-schema.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KUBERNETES = path.join(ROOT, 'deploy/kubernetes');

type Node = Record<string, unknown>;
/** A path into parsed YAML: `at(doc, 'spec', 'template', 'spec')`; undefined where it does not lead. */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) current = (current as Record<string | number, unknown> | undefined)?.[key];
  return current;
}
const list = (value: unknown) => (Array.isArray(value) ? (value as Node[]) : []);

function parseAll(file: string): Node[] {
  const documents = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
  for (const document of documents) expect(document.errors, file).toEqual([]);
  return documents.map((document) => document.toJS() as Node);
}

const manifests = fs
  .readdirSync(KUBERNETES)
  .filter((name) => name.endsWith('.yaml'))
  .flatMap((name) => parseAll(path.join(KUBERNETES, name)).map((manifest) => ({ name, manifest })));
const ofKind = (kind: string) => {
  const found = manifests.filter(({ manifest }) => manifest.kind === kind).map(({ manifest }) => manifest);
  expect(found, kind).toHaveLength(1);
  return found[0] as Node;
};
const settingNames = Object.keys(Settings.properties);
const containerOf = (workload: Node) =>
  list(at(workload, 'spec', 'template', 'spec', 'containers'))[0] as Node;
const envNames = (container: Node) => list(container.env).map((variable) => String(variable.name));
const envValue = (container: Node, name: string) =>
  list(container.env).find((variable) => variable.name === name)?.value;

describe('the Kubernetes example (deploy/kubernetes)', () => {
  it('is YAML whose every object has an apiVersion, a kind and a name', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(4);
    for (const { name, manifest } of manifests) {
      expect(manifest.apiVersion, name).toEqual(expect.any(String));
      expect(manifest.kind, name).toEqual(expect.any(String));
      expect(at(manifest, 'metadata', 'name'), name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('has a Deployment with startup, readiness and liveness probes on the health routes, a preStop pause and no migration', () => {
    const deployment = ofKind('Deployment');
    expect(deployment.apiVersion).toBe('apps/v1');
    const labels = at(deployment, 'spec', 'template', 'metadata', 'labels') as Node;
    expect(labels).toMatchObject(at(deployment, 'spec', 'selector', 'matchLabels') as Node);
    const container = containerOf(deployment);
    const ports = list(container.ports).map((port) => port.name);
    const probe = (name: string) => at(container, name, 'httpGet') as Node;
    expect(probe('startupProbe')).toMatchObject({ path: '/healthz' });
    expect(probe('readinessProbe')).toMatchObject({ path: '/readyz' });
    expect(probe('livenessProbe')).toMatchObject({ path: '/healthz' });
    for (const name of ['startupProbe', 'readinessProbe', 'livenessProbe'])
      expect(ports).toContain(probe(name).port);
    const pause = at(container, 'lifecycle', 'preStop', 'exec', 'command') as string[];
    expect(pause[0]).toBe('sleep');
    // The grace period covers the pause and SHUTDOWN_TIMEOUT_MS's default.
    const grace = Number(at(deployment, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds'));
    expect(grace).toBeGreaterThan(
      Number(pause[1]) + Number(Settings.properties.SHUTDOWN_TIMEOUT_MS.default) / 1000,
    );
    expect(envValue(container, 'MIGRATE')).toBe('false');
    expect(at(deployment, 'spec', 'template', 'spec', 'securityContext', 'runAsNonRoot')).toBe(true);
    for (const name of envNames(container)) expect(settingNames, name).toContain(name);
  });

  it("has a migration Job that runs `salesreps migrate` from the Deployment's image", () => {
    const job = ofKind('Job');
    expect(job.apiVersion).toBe('batch/v1');
    expect(['Never', 'OnFailure']).toContain(at(job, 'spec', 'template', 'spec', 'restartPolicy'));
    const container = containerOf(job);
    expect(container.command).toEqual(['node', 'dist/cli.js', 'migrate']);
    expect(container.image).toBe(containerOf(ofKind('Deployment')).image);
    expect(envNames(container)).toContain('DATABASE_URL');
    for (const name of envNames(container)) expect(settingNames, name).toContain(name);
  });

  it("has a Service and a ServiceMonitor that reach the Deployment's pods and their metrics port", () => {
    const deployment = ofKind('Deployment');
    const service = ofKind('Service');
    const podLabels = at(deployment, 'spec', 'template', 'metadata', 'labels') as Node;
    expect(podLabels).toMatchObject(at(service, 'spec', 'selector') as Node);
    const containerPorts = list(containerOf(deployment).ports);
    for (const port of list(at(service, 'spec', 'ports'))) {
      expect(containerPorts.map((containerPort) => containerPort.name)).toContain(port.targetPort);
    }
    const metricsPort = containerPorts.find((port) => port.name === 'metrics');
    expect(String(metricsPort?.containerPort)).toBe(envValue(containerOf(deployment), 'METRICS_PORT'));
    const monitor = ofKind('ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(at(service, 'metadata', 'labels') as Node).toMatchObject(
      at(monitor, 'spec', 'selector', 'matchLabels') as Node,
    );
    const [endpoint] = list(at(monitor, 'spec', 'endpoints'));
    expect(endpoint).toMatchObject({ port: 'metrics', path: '/metrics' });
    expect(list(at(service, 'spec', 'ports')).map((port) => port.name)).toContain(endpoint?.port);
  });
});

describe('the compose file (deploy/compose.yaml)', () => {
  const file = path.join(ROOT, 'deploy/compose.yaml');
  const [compose = {}] = parseAll(file);
  const services = compose.services as Record<string, Node>;
  const environment = (name: string) => (services[name]?.environment ?? {}) as Record<string, string>;

  it('runs the service, PostgreSQL and PgBouncer, migrating first in a step of its own', () => {
    expect(Object.keys(services).sort()).toEqual(['migrate', 'pgbouncer', 'postgres', 'salesreps']);
    expect(services.migrate?.command).toEqual(['node', 'dist/cli.js', 'migrate']);
    expect(at(services.salesreps, 'depends_on', 'migrate', 'condition')).toBe(
      'service_completed_successfully',
    );
    expect(environment('salesreps').MIGRATE).toBe('false');
    expect(new URL(environment('salesreps').DATABASE_URL ?? '').hostname).toBe('pgbouncer');
    expect(environment('pgbouncer').POOL_MODE).toBe('transaction');
    for (const name of ['salesreps', 'migrate']) {
      for (const variable of Object.keys(environment(name)))
        expect(settingNames, variable).toContain(variable);
    }
  });

  it("builds the image from the project's Dockerfile", () => {
    const build = services.migrate?.build as { context: string; dockerfile: string };
    expect(fs.existsSync(path.join(path.dirname(file), build.context, build.dockerfile))).toBe(true);
    expect(services.salesreps?.image).toBe(services.migrate?.image);
  });
});
