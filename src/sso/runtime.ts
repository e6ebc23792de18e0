// The enterprise connections' settings as the service runs them, made from the configuration.
import type { Config } from '../config.js';
import { createSecretBox } from './secret-box.js';
import type { SsoSettings } from './service.js';

export function ssoSettings(config: Pick<Config, 'publicUrl' | 'sso'>): SsoSettings {
  return {
    publicUrl: config.publicUrl,
    embedded: config.sso.enabled,
    allowPrivateNetworks: config.sso.allowPrivateNetworks,
    secrets: createSecretBox(config.sso),
  };
}
