// One long-lived node process that runs many `mmsim` command lines, one after another, for the
// CLI tests (test/cli_run.ts starts it with an IPC channel). Each message { id, argv, cwd } runs, in cwd, the
// built CLI's main(['node', 'mmsim', ...argv]) — what dist/cli/main.js runs — with this process's
// stdout and stderr writes captured, and answers { id, code, stdout, stderr }: the exit code,
// stdout and stderr a fresh `node dist/cli/main.js ARGV` would give, without a node start-up and a
// module load per command. main() resets what it keeps between calls (the profile warnings' "once").
import { main } from '../dist/cli/program.js';

const home = process.cwd();
const stdoutWrite = process.stdout.write.bind(process.stdout);
const stderrWrite = process.stderr.write.bind(process.stderr);

/** A stream's write that appends to `sink` instead, calling back as a finished write would. */
function capture(sink) {
  return (chunk, encoding, cb) => {
    const done = typeof encoding === 'function' ? encoding : cb;
    sink.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
    if (done) process.nextTick(done);
    return true;
  };
}

let queue = Promise.resolve();
process.on('message', (msg) => {
  queue = queue.then(async () => {
    const out = { text: '' };
    const err = { text: '' };
    process.stdout.write = capture(out);
    process.stderr.write = capture(err);
    let code;
    process.chdir(msg.cwd);
    try {
      code = await main(['node', 'mmsim', ...msg.argv]);
    } finally {
      process.stdout.write = stdoutWrite;
      process.stderr.write = stderrWrite;
      process.chdir(home);
    }
    process.send({ id: msg.id, code, stdout: out.text, stderr: err.text });
  });
});
// The parent closing the channel ends this process.
process.on('disconnect', () => process.exit(0));
