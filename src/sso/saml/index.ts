// The SAML 2.0 service provider's API for enterprise connections: metadata in and out, a sign-in started and finished.
export {
  fetchIdpMetadata,
  parseIdpMetadata,
  type SamlIdp,
  SamlMetadataError,
  type SamlServiceProvider,
  serviceProviderMetadata,
} from './metadata.js';
export { finishSamlSignIn, type SamlRefusal, SamlResponseError, startSamlSignIn } from './sign-in.js';
