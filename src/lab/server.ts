// `mmsim serve`: the lab on 127.0.0.1 only — the Vite-built app from dist/lab-app and the JSON API
// (api.ts). Served with COOP/COEP so the page is cross-origin isolated. The server is built to hold
// under abuse from anything that can reach the loopback address (docs/architecture.md, "the lab"):
// - only a Host of 127.0.0.1:PORT or localhost:PORT (and a same-origin Origin where one is sent):
//   a DNS-rebinding page, whose requests name its own host, gets 403;
// - each path takes only its method (405 with Allow); unknown paths 404; a malformed path 400;
// - a request body is counted while it is read and refused past `bodyBytes` (413): none of it is
//   kept past the limit; the connection is closed after a lingering close (RFC 9112 section 9.6):
//   the rest of the body is read and dropped, up to `LINGER_BYTES` or `LINGER_MS`, so that a client
//   still sending reads its 413 rather than a reset;
// - the model's work runs in worker threads (pool.ts) under a time limit, a thread count, a queue
//   length and a heap limit, so one slow request never holds up the others;
// - every error is JSON `{ "error": "one line" }`: 400 for bad input, naming no path of this
//   machine; an mmsim bug is 500 with a generic message and its stack goes to the log (stderr) once;
// - a posted scenario is written to its own temporary directory, which is removed whatever happens,
//   and may name machine files from examples/ only.
import { builtScript } from '../drivers/explore_jobs.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { DESIGNS, loadDesignFile } from '../designs/designs.js';
import { checkDesignDeterministic, makeWorldOf } from '../drivers/explore_jobs.js';
import { checkJob, labExamples, LAB_MAX_DESIGNS, type LabJob, type LabReply } from './api.js';
import { JobRefused, LabPool, type PoolLimits } from './pool.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

export interface LabLimits extends PoolLimits {
  /** A request body, at most (POST /api/scenario). */
  readonly bodyBytes: number;
}

/** The limits `mmsim serve` runs under (docs/architecture.md). */
// 180 s: the page's first view (seed-2019 under v5.3, every interleaving) takes ~15 s on an idle 2-core
// machine and over 60 s on a loaded one.
export const LAB_LIMITS: LabLimits = { workers: 2, queue: 8, timeLimitMs: 180_000, memoryMb: 1024, bodyBytes: 1 << 20 };

export interface LabOptions {
  readonly limits?: Partial<LabLimits>;
  /** The worker thread's script: by default the built dist/lab/worker.js. */
  readonly workerFile?: string;
  /** Where posted scenarios get their temporary directories (default: os.tmpdir()). */
  readonly tmpDir?: string;
  /** Where an mmsim bug's stack is written, once per distinct bug (default: stderr). */
  readonly log?: (line: string) => void;
  /**
   * A scenario file given to `mmsim serve FILE` (the user's own argument, as they wrote it): the page
   * opens it through GET /api/file, which takes no path; machine files beside it or in examples/.
   */
  readonly scenarioFile?: string;
  /** A design file given to `mmsim serve FILE.mjs`: loaded (run) here at the start, offered by its name in the design list. No request can name a file to load. */
  readonly designFile?: string;
}

export interface LabServer {
  readonly server: Server;
  readonly url: string;
  readonly pool: LabPool;
  close(): Promise<void>;
}

/** An answer other than 200, as `{ error }`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Each API path and the one method it takes. */
const API: Record<string, 'GET' | 'POST'> = {
  '/api/config': 'GET',
  '/api/trace': 'GET',
  '/api/verdict': 'GET',
  '/api/timeline': 'GET',
  '/api/example': 'GET',
  '/api/file': 'GET',
  '/api/scenario': 'POST',
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

/** A query value that names something (a scenario, design, preset): letters, digits, `_ . -`, as the built-in names are. */
function name(q: URLSearchParams, key: string, fallback: string): string {
  const v = q.get(key) ?? fallback;
  if (!/^[\w.+-]{1,64}$/.test(v)) throw new HttpError(400, `${key}: expected a name such as ${fallback} (letters, digits, _ . + -)`);
  return v;
}

/** A posted scenario's file name: its last path component, other characters as `_`, no leading dots, at most 100 characters. */
export function uploadName(given: string | null): string {
  const base = (given ?? '').split(/[/\\]/).pop() ?? '';
  const clean = base
    .replace(/[^\w.-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 100);
  return clean === '' ? 'scenario.yaml' : clean;
}

/** The built worker script beside this file (dist/lab), or under the project's dist when this file runs from src (the tests). */
function defaultWorkerFile(repoRoot: string): string {
  return builtScript(import.meta.url, 'worker.js', 'lab', resolve(repoRoot));
}

/** Serve the lab from `staticRoot` with the repository's examples under `repoRoot`; port 0 picks one. */
export async function serveLab(staticRoot: string, repoRoot: string, port: number, opening: string | null, options: LabOptions = {}): Promise<LabServer> {
  const root = resolve(staticRoot);
  if (!existsSync(join(root, 'index.html'))) throw new InputError(`serve: ${root}/index.html is missing; build the lab first (npm run build)`);
  const workerFile = options.workerFile ?? defaultWorkerFile(repoRoot);
  if (!existsSync(workerFile)) throw new InputError(`serve: ${workerFile} is missing; build mmsim first (npm run build)`);
  const limits: LabLimits = { ...LAB_LIMITS, ...options.limits };
  const examplesDir = join(resolve(repoRoot), 'examples');
  const tmpRoot = options.tmpDir ?? tmpdir();
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const logged = new Set<string>();
  if (options.scenarioFile !== undefined && !existsSync(options.scenarioFile)) throw new InputError(`serve: ${options.scenarioFile}: no such file`);
  // The user's own design file, run here as `mmsim explore --design FILE` runs it: a bad one is its one-line error before the server starts.
  const userDesign = options.designFile === undefined ? null : await loadDesignFile(options.designFile);
  if (userDesign && options.designFile !== undefined) checkDesignDeterministic(options.designFile, makeWorldOf('seed-2019', userDesign, [userDesign], 'debug_vm', []));
  const designNames = [...DESIGNS.map((d) => d.name), ...(userDesign ? [userDesign.name] : [])];
  /** A design named by a request: the user design's file travels with the job (the page names only the design). */
  const designJob = (design: string): { design: string; designFile?: string } =>
    userDesign && design === userDesign.name && options.designFile !== undefined ? { design, designFile: options.designFile } : { design };
  const pool = new LabPool(workerFile, limits);
  /** Upload directories not yet removed: close() removes any a stopped server leaves. */
  const uploads = new Set<string>();
  let hosts = new Set<string>();
  let origins = new Set<string>();

  /** An mmsim bug: its stack to the log once, the client a generic 500. */
  function bug(res: ServerResponse, detail: string): void {
    if (!logged.has(detail)) {
      if (logged.size < 1000) logged.add(detail);
      log(`mmsim lab: internal error (an mmsim bug; please report it): ${detail}`);
    }
    if (!res.headersSent && !res.destroyed) send(res, 500, 'application/json', JSON.stringify({ error: 'internal error in mmsim; the server logged it' }));
  }

  function answer(res: ServerResponse, r: LabReply): void {
    if ('bug' in r) return bug(res, r.bug);
    send(res, r.status, 'application/json', r.body);
  }

  /** A job in a worker; a client that goes away cancels it. */
  async function run(res: ServerResponse, job: LabJob): Promise<LabReply> {
    try {
      checkJob(job);
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(400, e.message);
      throw e;
    }
    const gone = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) gone.abort();
    };
    res.once('close', onClose);
    try {
      return await pool.run(job, gone.signal);
    } finally {
      res.off('close', onClose);
    }
  }

  const server = createServer((req, res) => void respond(req, res));
  // Expect: 100-continue (curl's large uploads): the checks run before the client is told to send.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => void respond(req, res, true));
  // A client has 10 s to send its headers and 30 s for its whole request; connections are bounded.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxConnections = 512;

  async function respond(req: IncomingMessage, res: ServerResponse, expectsContinue = false): Promise<void> {
    try {
      await handle(req, res, expectsContinue);
    } catch (e) {
      if (res.headersSent || res.destroyed) return;
      if (e instanceof HttpError) send(res, e.status, 'application/json', JSON.stringify({ error: e.message }), e.headers);
      else if (e instanceof JobRefused) {
        if (e.status !== 499) send(res, e.status, 'application/json', JSON.stringify({ error: e.message }), e.status === 503 ? { 'retry-after': '5' } : {});
      } else bug(res, e instanceof Error ? (e.stack ?? e.message) : String(e));
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> {
    // Who may ask: a loopback peer naming this server as its Host (not a rebound DNS name), and
    // from this origin when the browser says where the request comes from.
    const peer = req.socket.remoteAddress ?? '';
    if (!/^(127\.|::1$|::ffff:127\.)/.test(peer)) throw new HttpError(403, 'the lab answers loopback clients only');
    const host = (req.headers.host ?? '').toLowerCase();
    if (!hosts.has(host)) throw new HttpError(403, `Host ${JSON.stringify(host.slice(0, 100))} refused: open the lab as ${[...hosts].map((h) => `http://${h}/`).join(' or ')}`);
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase())) throw new HttpError(403, 'cross-origin requests are refused');
    const raw = req.url ?? '/';
    if (!raw.startsWith('/')) throw new HttpError(400, 'the request target must be a path (/...)');
    let path: string;
    let url: URL;
    try {
      path = decodeURIComponent(raw.split('?')[0] ?? '/');
      url = new URL(`http://127.0.0.1${raw}`);
    } catch {
      throw new HttpError(400, 'malformed path (bad percent-encoding)');
    }
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    if (/[\u0000-\u001f\u007f]/.test(path)) throw new HttpError(400, 'malformed path (control characters)');
    // The raw path, before any URL normalisation: a request that climbs out of the root is refused.
    if (path.split('/').includes('..')) throw new HttpError(404, 'not found');
    const method = req.method ?? 'GET';
    const api = API[url.pathname];
    if (api === undefined && url.pathname.startsWith('/api/')) throw new HttpError(404, `no API ${url.pathname.slice(0, 100)}`);
    if (api !== undefined && method !== api) throw new HttpError(405, `${url.pathname} takes ${api} only`, { allow: api });
    const q = url.searchParams;
    if (url.pathname === '/api/config') {
      const config = {
        opening,
        examples: labExamples(repoRoot),
        designs: designNames,
        file: options.scenarioFile ?? null,
        userDesign: userDesign ? { name: userDesign.name, file: options.designFile, summary: userDesign.summary } : null,
      };
      return send(res, 200, 'application/json', JSON.stringify(config));
    }
    if (url.pathname === '/api/trace') return answer(res, await run(res, { kind: 'trace', scenario: name(q, 'scenario', 'seed-2019'), ...designJob(name(q, 'design', 'v5.3')) }));
    if (url.pathname === '/api/verdict') return answer(res, await run(res, { kind: 'verdict', scenario: name(q, 'scenario', 'seed-2019'), ...designJob(name(q, 'design', 'v5.3')) }));
    if (url.pathname === '/api/file') {
      // The scenario file of the command line, the only file of the user's this API plays: the request names none.
      if (options.scenarioFile === undefined) throw new HttpError(404, 'no scenario file was given to mmsim serve');
      return answer(res, await run(res, { kind: 'file', file: options.scenarioFile, name: options.scenarioFile, examplesDir }));
    }
    if (url.pathname === '/api/timeline') {
      const designs = (q.get('designs') ?? 'v4.19,v5.3,serialize').split(',');
      if (designs.length > LAB_MAX_DESIGNS) throw new HttpError(400, `designs: at most ${LAB_MAX_DESIGNS}, comma-separated`);
      if (!designs.every((d) => /^[\w.+-]{1,64}$/.test(d))) throw new HttpError(400, 'designs: expected names such as v4.19,v5.3 (letters, digits, _ . + -), comma-separated');
      const file = userDesign && designs.includes(userDesign.name) ? options.designFile : undefined;
      return answer(res, await run(res, { kind: 'timeline', preset: name(q, 'preset', 'seed-2019'), designs, ...(file === undefined ? {} : { designFile: file }) }));
    }
    if (url.pathname === '/api/example') {
      const example = q.get('name') ?? '';
      if (!labExamples(repoRoot).includes(example)) throw new HttpError(404, `no example ${JSON.stringify(example.slice(0, 100))}`);
      return answer(res, await run(res, { kind: 'example', examplesDir, name: example }));
    }
    if (url.pathname === '/api/scenario') {
      // A scenario opened from disk: written to a directory of its own, removed whatever happens; its
      // machine file is looked up in examples/ (api.ts labScenario).
      const file = uploadName(q.get('name'));
      const text = await readBody(req, res, limits.bodyBytes, expectsContinue);
      const dir = await mkdtemp(join(tmpRoot, 'mmsim-lab-'));
      uploads.add(dir);
      let reply: LabReply;
      try {
        await writeFile(join(dir, file), text);
        reply = await run(res, { kind: 'upload', file: join(dir, file), name: file, examplesDir });
      } finally {
        // Gone before the client has its answer, whatever the answer is.
        await rm(dir, { recursive: true, force: true });
        uploads.delete(dir);
      }
      return answer(res, reply);
    }
    // A static file of the built app.
    const rel = normalize(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = resolve(root, `.${rel}`);
    if (file !== root && !file.startsWith(root + sep)) throw new HttpError(404, 'not found');
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) throw new HttpError(404, 'not found');
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${url.pathname} takes GET or HEAD only`, { allow: 'GET, HEAD' });
    send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file));
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new InputError(`serve: port ${port}: ${e.code === 'EADDRINUSE' ? 'in use; give another with --port' : e.message}`)));
    server.listen(port, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  hosts = new Set([`127.0.0.1:${actual}`, `localhost:${actual}`]);
  origins = new Set([...hosts].map((h) => `http://${h}`));
  return {
    server,
    url: `http://127.0.0.1:${actual}/`,
    pool,
    close: async () => {
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await pool.close();
      await closed;
      for (const d of uploads) rmSync(d, { recursive: true, force: true });
      uploads.clear();
    },
  };
}

/**
 * A request body as text, refused with 413 once it passes `limit` bytes (or declares more): the
 * bytes are counted as they arrive and never kept past the limit; a refused body is dropped as it
 * arrives (lingerClose) and the answer says `connection: close`.
 */
function readBody(req: IncomingMessage, res: ServerResponse, limit: number, expectsContinue: boolean): Promise<string> {
  const tooBig = new HttpError(413, `request body over the lab's limit of ${limit} bytes`, { connection: 'close' });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(lingerClose(req, tooBig));
  if (expectsContinue) res.writeContinue();
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= limit) return void chunks.push(c);
      req.off('data', onData);
      chunks.length = 0;
      fail(lingerClose(req, tooBig));
    };
    req.on('data', onData);
    req.once('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    // A client gone before the end of its body (after 'end', a no-op).
    req.once('close', () => fail(new HttpError(400, 'the request body was cut off')));
  });
}

/** After a refused body: the most of it read and dropped, and for how long after the answer, before the connection is dropped (RST). */
export const LINGER_BYTES = 8 << 20;
export const LINGER_MS = 2000;

/**
 * A lingering close of a refused request (RFC 9112 section 9.6). Closing a connection with the
 * client's bytes unread resets it, and a client still writing then sees EPIPE or ECONNRESET in place
 * of the 413 it was sent. So the rest of the body is read and dropped, and once the answer is out
 * (node:http calls destroySoon for `connection: close`) the server half-closes and waits for the
 * body's end — at most LINGER_BYTES more bytes or LINGER_MS — before it closes.
 */
function lingerClose(req: IncomingMessage, e: HttpError): HttpError {
  const socket = req.socket;
  let dropped = 0;
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > LINGER_BYTES) socket.destroy();
  });
  req.resume();
  const closeNow = (): void => void (socket.writableFinished ? socket.destroy() : socket.once('finish', () => socket.destroy()));
  socket.destroySoon = (): void => {
    socket.end();
    if (req.complete) return closeNow();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    req.once('end', closeNow);
    socket.once('close', () => clearTimeout(timer));
  };
  return e;
}
