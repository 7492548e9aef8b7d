#!/usr/bin/env node
// The mmsim executable.
import { main } from './program.js';
import { exitQuietlyOnEpipe } from './stdout.js';

exitQuietlyOnEpipe();
process.exitCode = await main(process.argv);
