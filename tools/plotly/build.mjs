// Bundles index.js (plotly.js core + scatter, bar, parcoords) into one minified script for
// the HTML report, and records its version and sha256 beside it. Run by build.sh.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const out = join(here, '..', '..', 'hyperband', 'report', 'html');
const bundle = join(out, 'plotly-custom.min.js');
// The trace types index.js registers (its requires of plotly.js/lib/TYPE), for the header and
// the record.
const entry = readFileSync(join(here, 'index.js'), 'utf8');
const traces = [...entry.matchAll(/require\('plotly\.js\/lib\/(\w+)'\)/g)]
  .map((m) => m[1])
  .filter((name) => name !== 'core');
const version = require('plotly.js/package.json').version;
const esbuildVersion = require('esbuild/package.json').version;

// plotly.js' licence notice, kept at the top of the file as its own bundles keep it, and
// its LICENSE in full (the MIT licence asks for it in every copy).
const licence = readFileSync(require.resolve('plotly.js/LICENSE'), 'utf8').trim();
const banner = `/**
* plotly.js (hyperband custom: ${traces.join(', ')} - minified) v${version}
* Copyright 2012-2026, Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license
*
* Built by hyperband's tools/plotly/build.sh (esbuild ${esbuildVersion}) from the npm package
* plotly.js@${version}; rebuild: bash tools/plotly/build.sh (see tools/plotly/README.md).
*
${licence.split('\n').map((line) => `* ${line}`.trimEnd()).join('\n')}
*/`;

await esbuild.build({
  entryPoints: [join(here, 'index.js')],
  outfile: bundle,
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'Plotly',
  // The options of plotly.js' own esbuild-config.js that matter to these traces.
  alias: { regl: '@plotly/regl' },
  define: { global: 'window', 'define.amd': 'false' },
  target: 'es2016',
  // plotly.js' registry requires maplibre's stylesheet for map traces, which this bundle
  // lacks: drop it rather than write an unused .css file beside the bundle.
  loader: { '.css': 'empty' },
  banner: { js: banner },
  // The dependencies' licence comments, gathered at the end of the file.
  legalComments: 'eof',
  logLevel: 'warning',
});

const text = readFileSync(bundle);
const record = {
  'plotly.js': version,
  traces,
  esbuild: esbuildVersion,
  sha256: createHash('sha256').update(text).digest('hex'),
  bytes: text.length,
};
writeFileSync(join(out, 'plotly-custom.json'), JSON.stringify(record, null, 2) + '\n');
console.log(`${relative(process.cwd(), bundle)}: ${text.length} bytes, sha256 ${record.sha256}`);
