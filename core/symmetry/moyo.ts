// Loader for @spglib/moyo-wasm. The wasm is instantiated synchronously once per process
// (and once per worker thread).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as moyo from '@spglib/moyo-wasm';

let ready = false;

export function loadMoyo(): typeof moyo {
  if (!ready) {
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('@spglib/moyo-wasm/moyo_wasm_bg.wasm');
    moyo.initSync({ module: readFileSync(wasmPath) });
    ready = true;
  }
  return moyo;
}
