// node-saml, loaded when the first SAML sign-in or metadata asks for it (decision 48).
import { createRequire } from 'node:module';

type NodeSaml = typeof import('@node-saml/node-saml');

let loaded: NodeSaml | undefined;

/**
 * node-saml and the XML signature libraries under it are a sizeable part of a started service's memory, and most
 * services never see a SAML connection: they are required (a CommonJS package, so synchronously) at first use.
 */
export function nodeSaml(): NodeSaml {
  loaded ??= createRequire(import.meta.url)('@node-saml/node-saml') as NodeSaml;
  return loaded;
}
