import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { SETTINGS_DOCUMENTS, settingsDocument } from '../../src/config-docs.js';
import { Settings } from '../../src/config-schema.js';

describe('hardening configuration', () => {
  it('defaults to closed CORS, per-process limits, no metrics and bounded time-outs', () => {
    const config = loadConfig({});
    expect(config.http).toEqual({
      rateLimit: { max: 600, windowMs: 60_000, redisUrl: undefined },
      corsOrigins: [],
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 75_000,
      trustProxy: false,
    });
    expect(config.metrics).toEqual({ port: undefined, token: undefined });
    expect(config.shutdownTimeoutMs).toBe(25_000);
    expect(config.databaseConnectTimeoutMs).toBe(2000);
    expect(config.databaseStatementTimeoutMs).toBe(5000);
  });

  it('reads the variables it documents', () => {
    const config = loadConfig({
      RATE_LIMIT_MAX: '50',
      RATE_LIMIT_WINDOW_MS: '10000',
      REDIS_URL: 'redis://127.0.0.1:6379',
      CORS_ORIGINS: 'https://a.example.com, http://localhost:5173',
      TRUST_PROXY: '10.0.0.0/8,192.168.1.1',
      METRICS_PORT: '9464',
      METRICS_TOKEN: 'a-long-enough-token',
    });
    expect(config.http.rateLimit).toEqual({ max: 50, windowMs: 10_000, redisUrl: 'redis://127.0.0.1:6379' });
    expect(config.http.corsOrigins).toEqual(['https://a.example.com', 'http://localhost:5173']);
    expect(config.http.trustProxy).toBe('10.0.0.0/8,192.168.1.1');
    expect(config.metrics).toEqual({ port: 9464, token: 'a-long-enough-token' });
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadConfig({ CORS_ORIGINS: '*' }).http.corsOrigins).toEqual(['*']);
  });

  it.each([
    [{ RATE_LIMIT_MAX: '0' }, 'RATE_LIMIT_MAX must be an integer from 1'],
    [{ RATE_LIMIT_WINDOW_MS: 'soon' }, 'RATE_LIMIT_WINDOW_MS must be an integer'],
    [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL must be a redis: or rediss: URL'],
    [{ CORS_ORIGINS: 'https://a.example.com/' }, 'CORS_ORIGINS must list origins'],
    [{ CORS_ORIGINS: 'a.example.com' }, 'CORS_ORIGINS must list origins'],
    [{ CORS_ORIGINS: '*,https://a.example.com' }, 'CORS_ORIGINS must be "*" alone'],
    [{ TRUST_PROXY: 'the-balancer' }, 'TRUST_PROXY must be false, a hop count'],
    [{ TRUST_PROXY: 'true' }, "TRUST_PROXY=true would believe any client's X-Forwarded-For"],
    [
      { HEADERS_TIMEOUT_MS: '40000' },
      'HEADERS_TIMEOUT_MS (40000) must not exceed REQUEST_TIMEOUT_MS (30000)',
    ],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN must be at least 16 characters'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT must be an integer from 0 to 65535'],
    [{ SHUTDOWN_TIMEOUT_MS: '-1' }, 'SHUTDOWN_TIMEOUT_MS must be an integer'],
    [{ DATABASE_CONNECT_TIMEOUT_MS: '10' }, 'DATABASE_CONNECT_TIMEOUT_MS must be an integer from 100'],
  ])('refuses %o with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('the settings documentation', () => {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');

  it.each(SETTINGS_DOCUMENTS)(
    '%s says what the settings schema says (npm run config:docs writes it)',
    async (file) => {
      const current = await readFile(path.join(root, file), 'utf8');
      expect(current).toBe(settingsDocument(file, current));
      for (const name of Object.keys(Settings.properties)) expect(current).toContain(name);
    },
  );
});

describe('variables that depend on another', () => {
  it('are required only while the other has the value that uses them, and unread otherwise', () => {
    expect(() => loadConfig({ MAIL: 'smtp' })).toThrow('SMTP_URL is required when MAIL=smtp');
    expect(loadConfig({ SMTP_URL: 'http://not-smtp.example' }).effects.mail).toEqual({
      transport: 'file',
      directory: path.resolve('data/mail'),
    });
    expect(() => loadConfig({ SYNC: 'webhook', SYNC_WEBHOOK_URL: 'https://sync.example' })).toThrow(
      'SYNC_WEBHOOK_SECRET is required when SYNC=webhook',
    );
    expect(loadConfig({ SYNC_WEBHOOK_SECRET: 'not-a-secret' }).effects.sync).toBeUndefined();
    expect(() => loadConfig({ IDP: 'kinde', KINDE_DOMAIN: 'acme.kinde.com' })).toThrow(
      'KINDE_CLIENT_ID is required when IDP=kinde',
    );
    expect(loadConfig({ KINDE_DOMAIN: 'acme.kinde.com' }).effects.kinde).toBeUndefined();
  });
});
