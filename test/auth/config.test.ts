import { loadConfig } from '../../src/config';

describe('identity configuration', () => {
  it('refuses the development secrets in production, naming each variable', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /JWT_SECRET: must be set in production.*PUBLISH_TOKEN: must be set in production/,
    );
    expect(
      loadConfig({
        NODE_ENV: 'production',
        JWT_SECRET: 'config-test-secret-0123456789abcdef',
        PUBLISH_TOKEN: 'config-test-publish-1',
      }).AUTH_MODE,
    ).toBe('required');
  });

  it('needs a public key for RS256 and a TTL longer than two heartbeats', () => {
    expect(() => loadConfig({ JWT_ALG: 'RS256' })).toThrow(/JWT_PUBLIC_KEY: is required/);
    expect(() => loadConfig({ PRESENCE_TTL_MS: '1000', PRESENCE_HEARTBEAT_MS: '600' })).toThrow(
      /PRESENCE_TTL_MS/,
    );
  });
});
