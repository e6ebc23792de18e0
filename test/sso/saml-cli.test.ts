import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { builtService, migratedDataDir, runCommand } from '../support/process.js';
import { IDP_KEYS, testIdp } from './saml/support.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const build = builtService();
const salesreps = (args: string[], env: Record<string, string>) =>
  runCommand(process.execPath, [build.cli, ...args], env);

const TENANT = '5d0f6a1e-3b9c-4e1a-8c2d-7f4e9a0b1c2d';
const entra = testIdp({
  entityId: `https://sts.windows.net/${TENANT}/`,
  ssoUrl: `https://login.microsoftonline.com/${TENANT}/saml2`,
  keys: IDP_KEYS.entra,
});

describe('salesreps sso set with a SAML IdP', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let metadataFile: string;
  let metadataServer: http.Server;
  let metadataUrl: string;

  beforeAll(async () => {
    dataDir = migratedDataDir('salesreps-saml-cli-');
    env = { DATA_DIR: dataDir, DEMO: 'false', SSO_ALLOW_PRIVATE_NETWORKS: 'true' };
    metadataFile = path.join(dataDir, 'federationmetadata.xml');
    fs.writeFileSync(metadataFile, entra.metadata());
    metadataServer = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(entra.metadata());
    });
    await new Promise<void>((resolve) => metadataServer.listen(0, '127.0.0.1', resolve));
    metadataUrl = `http://127.0.0.1:${(metadataServer.address() as AddressInfo).port}/federationmetadata.xml`;
    const created = await salesreps(
      ['org', 'create', '--name', 'Saml Cli Supply', '--identity-org', 'org_saml_cli'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(async () => {
    await new Promise((resolve) => metadataServer?.close(resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('--metadata-file stores a SAML connection and prints the values to register at the IdP', async () => {
    const set = await salesreps(
      [
        'sso',
        'set',
        '--org',
        'org_saml_cli',
        '--metadata-file',
        metadataFile,
        '--domain',
        'saml-cli.example',
      ],
      env,
    );
    expect(set.code, set.stderr).toBe(0);
    const connection = JSON.parse(set.stdout);
    expect(connection).toMatchObject({
      protocol: 'saml',
      idpEntityId: `https://sts.windows.net/${TENANT}/`,
      domains: ['saml-cli.example'],
      passwordSignIn: false,
    });
    expect(connection.spEntityId).toMatch(/\/signin\/sso\/saml\/[^/]+\/metadata$/);
    expect(connection.acsUrl).toBe(connection.spEntityId.replace(/metadata$/, 'acs'));
    const shown = await salesreps(['sso', 'show', '--org', 'org_saml_cli'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(connection);
  });

  it('--metadata-url fetches the metadata; the connection keeps its id and so its SP addresses', async () => {
    const before = JSON.parse((await salesreps(['sso', 'show', '--org', 'org_saml_cli'], env)).stdout);
    const set = await salesreps(
      ['sso', 'set', '--org', 'org_saml_cli', '--metadata-url', metadataUrl, '--password-sign-in'],
      env,
    );
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      protocol: 'saml',
      acsUrl: before.acsUrl,
      domains: [],
      passwordSignIn: true,
    });
  });

  it('metadata that cannot be used exits 2 naming the field; no IdP, or two, is a usage error', async () => {
    const notMetadata = path.join(dataDir, 'not-metadata.xml');
    fs.writeFileSync(notMetadata, '<html>not metadata</html>');
    const invalid = await salesreps(
      ['sso', 'set', '--org', 'org_saml_cli', '--metadata-file', notMetadata],
      env,
    );
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('metadataXml:');
    const unreachable = await salesreps(
      ['sso', 'set', '--org', 'org_saml_cli', '--metadata-url', 'http://127.0.0.1:9/metadata.xml'],
      env,
    );
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('metadataUrl:');
    const neither = await salesreps(['sso', 'set', '--org', 'org_saml_cli'], env);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('--metadata-file');
    const both = await salesreps(
      ['sso', 'set', '--org', 'org_saml_cli', '--metadata-file', metadataFile, '--metadata-url', metadataUrl],
      env,
    );
    expect(both.code).toBe(2);
  });
});
