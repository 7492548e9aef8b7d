#!/usr/bin/env node
// The mmsim executable.
import { main } from './program.js';

// A closed pipe (mmsim ... | head) ends the output quietly, as for any Unix filter.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = main(process.argv);
