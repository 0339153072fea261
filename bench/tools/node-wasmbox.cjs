#!/usr/bin/env node
// A stand-in for `wasmbox run --invoke FUNC FILE ARGS...` backed by Node's WebAssembly (V8):
// it lets bench/run.sh be tested before the real CLI exists, and gives a JIT reference point
// (WASMBOX=bench/tools/node-wasmbox.cjs bash bench/run.sh). Integer arguments only.
'use strict';
const fs = require('fs');

const argv = process.argv.slice(2);
if (argv.length < 4 || argv[0] !== 'run' || argv[1] !== '--invoke') {
  process.stderr.write('usage: node-wasmbox.cjs run --invoke FUNC FILE [ARGS...]\n');
  process.exit(2);
}
const [, , func, file, ...args] = argv;
const wasm_module = new WebAssembly.Module(fs.readFileSync(file));
if (WebAssembly.Module.imports(wasm_module).length !== 0) {
  process.stderr.write(`node-wasmbox: ${file} has imports\n`);
  process.exit(1);
}
const instance = new WebAssembly.Instance(wasm_module, {});
const fn = instance.exports[func];
if (typeof fn !== 'function') {
  process.stderr.write(`node-wasmbox: no exported function \`${func}\`\n`);
  process.exit(1);
}
// The JS API takes i64 parameters as BigInt and i32 as Number; try Number first.
let result;
try {
  result = fn(...args.map(Number));
} catch (e) {
  if (!(e instanceof TypeError)) throw e;
  result = fn(...args.map(BigInt));
}
process.stdout.write(`${result}\n`);
