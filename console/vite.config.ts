import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Writes a Brotli and a gzip copy beside every built file: the service sends them as they are (src/http/console.ts). */
function precompress(): Plugin {
  return {
    name: 'salesreps-precompress',
    apply: 'build',
    async writeBundle(options, bundle) {
      const directory = options.dir ?? path.join(here, '../dist/console');
      await Promise.all(
        Object.values(bundle).map(async (file) => {
          const content = Buffer.from(file.type === 'chunk' ? file.code : file.source);
          const target = path.join(directory, file.fileName);
          const [br, gz] = await Promise.all([
            promisify(brotliCompress)(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
            promisify(gzip)(content, { level: 9 }),
          ]);
          await Promise.all([writeFile(`${target}.br`, br), writeFile(`${target}.gz`, gz)]);
        }),
      );
    },
  };
}

export default defineConfig({
  root: here,
  base: '/console/',
  plugins: [precompress()],
  oxc: { jsx: { runtime: 'automatic' } },
  // `npm run dev` (scripts/dev.js): the console from source, the service's own routes passed through to it.
  server: {
    host: '127.0.0.1',
    port: Number(process.env.CONSOLE_DEV_PORT ?? 5173),
    strictPort: true,
    proxy: Object.fromEntries(
      [
        '/api',
        '/oidc',
        '/signin',
        '/.well-known',
        '/console/config.json',
        '/docs',
        '/openapi.json',
        '/healthz',
        // The Host header stays Vite's, so that the sign-in's endpoints name the origin the browser is on.
      ].map((prefix) => [
        prefix,
        { target: `http://127.0.0.1:${process.env.PORT ?? 3000}`, changeOrigin: false },
      ]),
    ),
  },
  build: {
    outDir: path.join(here, '../dist/console'),
    emptyOutDir: true,
    // The service sets its own headers; no inline module-preload polyfill (the CSP allows no inline script).
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
    rolldownOptions: {
      // React Query marks its modules "use client" for server components, which a single page has none of; the
      // Brotli pass (quality 11) takes a second, which rolldown reports as slow plugin timings.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE' && warning.code !== 'PLUGIN_TIMINGS') warn(warning);
      },
    },
  },
});
