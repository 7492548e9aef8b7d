// User-facing errors. The CLI prints `message` as a single line and exits with code 2;
// anything else that escapes is a bug in mmsim and is reported as such.

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
