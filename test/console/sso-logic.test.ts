import { describe, expect, it } from 'vitest';
import type { Problem } from '../../console/src/logic/problems.js';
import {
  type ConnectionForm,
  connectionBody,
  connectionFieldMessages,
  missingFields,
  parseDomains,
} from '../../console/src/logic/sso.js';

// The "Single sign-on" form's own logic (console/src/logic/sso.ts): the body it sends and the errors it shows.

const FORM: ConnectionForm = {
  protocol: 'oidc',
  issuer: ' https://acme.okta.com ',
  clientId: '0oa1',
  clientSecret: ' a secret with spaces ',
  metadataSource: 'url',
  metadataUrl: '',
  metadataXml: '',
  domains: 'acme.com, acme.co.uk\nacme.de;  ',
  passwordSignIn: false,
};

const validation = (errors: { field: string; message: string }[]): Problem => ({
  type: 'urn:salesreps:problem:validation',
  title: 'Bad Request',
  status: 400,
  errors,
});

describe('the single sign-on form', () => {
  it('reads domains separated by commas, semicolons, spaces or lines', () => {
    expect(parseDomains(FORM.domains)).toEqual(['acme.com', 'acme.co.uk', 'acme.de']);
    expect(parseDomains('  ')).toEqual([]);
  });

  it('sends the chosen protocol\u2019s body only; the secret as typed, addresses trimmed', () => {
    expect(connectionBody(FORM)).toEqual({
      protocol: 'oidc',
      issuer: 'https://acme.okta.com',
      clientId: '0oa1',
      clientSecret: ' a secret with spaces ',
      domains: ['acme.com', 'acme.co.uk', 'acme.de'],
      passwordSignIn: false,
    });
    const saml = { ...FORM, protocol: 'saml' as const, metadataUrl: ' https://idp.example/m ' };
    expect(connectionBody(saml)).toEqual({
      protocol: 'saml',
      metadataUrl: 'https://idp.example/m',
      domains: ['acme.com', 'acme.co.uk', 'acme.de'],
      passwordSignIn: false,
    });
    expect(connectionBody({ ...saml, metadataSource: 'xml', metadataXml: '<EntityDescriptor/>' })).toEqual({
      protocol: 'saml',
      metadataXml: '<EntityDescriptor/>',
      domains: ['acme.com', 'acme.co.uk', 'acme.de'],
      passwordSignIn: false,
    });
  });

  it('names the empty fields the chosen protocol needs, before asking the API', () => {
    expect(missingFields({ ...FORM, issuer: ' ', clientSecret: '' })).toEqual({
      issuer: 'Enter the issuer, like https://acme.okta.com',
      clientSecret: 'Enter the client secret',
    });
    expect(missingFields({ ...FORM, protocol: 'saml', metadataSource: 'xml' })).toEqual({
      metadataXml: 'Paste the metadata XML',
    });
  });

  it("keeps only the chosen shape's errors of a union body, in plain words, the domain named", () => {
    const problem = validation([
      { field: 'domains[1]', message: 'must be An email domain (`example.com`)' },
      { field: 'metadataXml', message: 'is required' },
      { field: 'protocol', message: 'must be equal to constant' },
      { field: 'body', message: 'must match a schema in anyOf' },
      { field: 'issuer', message: 'is not a known field' },
      { field: 'clientId', message: 'must NOT have fewer than 1 characters' },
    ]);
    expect(connectionFieldMessages(problem, FORM)).toEqual({
      domains: '"acme.co.uk" is not an email domain: enter domains like acme.com, separated by commas',
      clientId: 'Enter the client ID',
    });
  });

  it("says the service's own finding about an IdP, and a taken domain beside the domains", () => {
    expect(
      connectionFieldMessages(
        validation([{ field: 'issuer', message: 'its discovery document could not be used: timeout' }]),
        FORM,
      ),
    ).toEqual({
      issuer: 'The service could not use this issuer: its discovery document could not be used: timeout.',
    });
    expect(
      connectionFieldMessages(validation([{ field: 'issuer', message: 'must be an absolute URL' }]), FORM),
    ).toEqual({ issuer: 'Enter the issuer as a whole address, like https://acme.okta.com' });
    const saml = { ...FORM, protocol: 'saml' as const };
    expect(
      connectionFieldMessages(
        validation([{ field: 'metadataUrl', message: 'the metadata URL could not be reached' }]),
        saml,
      ),
    ).toEqual({
      metadataUrl: 'The service could not use this metadata: the metadata URL could not be reached.',
    });
    expect(
      connectionFieldMessages(
        {
          type: 'urn:salesreps:problem:sso-domain-taken',
          title: 'Conflict',
          status: 409,
          detail: 'Another organization\'s connection serves "acme.de".',
        },
        FORM,
      ),
    ).toEqual({
      domains:
        'Another organization\'s connection serves "acme.de". A domain can be one organization\'s only: leave it out.',
    });
  });
});
