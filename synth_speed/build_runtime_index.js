'use strict';
// Builds the jsii kernel's runtime index of a package cache entry, with the kernel's own worker
// (lib/runtime-index-worker.js of the jsii runtime), before the kernel first loads the entry.
// Usage: node build_runtime_index.js <runtime-index-worker.js> <package dir> <supported features, JSON>
//
// Without an index, the kernel's first load of a cached package parses the whole assembly (130 MB for
// @cdktf/provider-aws) and then starts this same worker, which parses it again to write the index for the
// next load, while the synth runs (and which the kernel's exit may cut short). Run here, the parse happens
// once and the first load already reads the index.
const path = require('path');
const { Worker } = require('worker_threads');

const [workerFile, packageDir, features] = process.argv.slice(2);
const worker = new Worker(path.resolve(workerFile), { workerData: { packageDir, supportedFeatures: JSON.parse(features) } });
const fail = (message) => {
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
};
worker.on('message', (message) => message?.error != null && fail(message.error));
worker.on('error', (error) => fail(error?.stack ?? String(error)));
