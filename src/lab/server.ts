// `mmsim serve`: the lab on 127.0.0.1 only — the Vite-built app from dist/lab-app and the JSON API
// (api.ts). Served with COOP/COEP so the page is cross-origin isolated; a path that leaves the
// static root is 404, as is anything not found.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { labExamples, labScenario, labTimeline, labTrace } from './api.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

export interface LabServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cache-control': 'no-store' });
  res.end(body);
}

function json(res: ServerResponse, status: number, v: unknown): void {
  send(res, status, 'application/json', JSON.stringify(v));
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Serve the lab from `staticRoot` with the repository's examples under `repoRoot`; port 0 picks one. */
export async function serveLab(staticRoot: string, repoRoot: string, port: number, opening: string | null): Promise<LabServer> {
  const root = resolve(staticRoot);
  if (!existsSync(join(root, 'index.html'))) throw new InputError(`serve: ${root}/index.html is missing; build the lab first (npm run build)`);
  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => json(res, e instanceof InputError ? 400 : 500, { error: e instanceof Error ? e.message.split('\n')[0] : String(e) }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    // The raw path, before any URL normalisation: a request that climbs out of the root is refused.
    const rawPath = decodeURIComponent(raw.split('?')[0] ?? '/');
    if (rawPath.split('/').includes('..')) return send(res, 404, 'text/plain', 'not found\n');
    const url = new URL(raw, 'http://127.0.0.1');
    const q = url.searchParams;
    if (url.pathname === '/api/config') return json(res, 200, { opening, examples: labExamples(repoRoot) });
    if (url.pathname === '/api/trace') return json(res, 200, labTrace(q.get('scenario') ?? 'seed-2019', q.get('design') ?? 'v5.3'));
    if (url.pathname === '/api/timeline') return json(res, 200, labTimeline(q.get('preset') ?? 'seed-2019', (q.get('designs') ?? 'v4.19,v5.3,serialize').split(',')));
    if (url.pathname === '/api/example') {
      const name = q.get('name') ?? '';
      if (!labExamples(repoRoot).includes(name)) return json(res, 404, { error: `no example ${name}` });
      return json(res, 200, { ...labScenario(join(repoRoot, 'examples', name)), file: name });
    }
    if (url.pathname === '/api/scenario' && req.method === 'POST') {
      // A scenario opened from disk: written beside the examples' machines so relative machine paths resolve there.
      const name = (q.get('name') ?? 'scenario.yaml').replace(/[^\w.-]/g, '_');
      const dir = mkdtempSync(join(tmpdir(), 'mmsim-lab-'));
      const file = join(dir, name);
      writeFileSync(file, await body(req));
      try {
        const r = labScenario(file);
        return json(res, 200, { ...r, file: name, error: r.error?.replaceAll(file, name).replaceAll(dir + sep, '') ?? null });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (url.pathname.startsWith('/api/')) return json(res, 404, { error: `no API ${url.pathname}` });
    const rel = normalize(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = resolve(root, `.${rel}`);
    if (file !== root && !file.startsWith(root + sep)) return send(res, 404, 'text/plain', 'not found\n');
    if (!existsSync(file) || !statSync(file).isFile()) return send(res, 404, 'text/plain', 'not found\n');
    send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
  }
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(new InputError(`serve: port ${port}: ${e.code === 'EADDRINUSE' ? 'in use; give another with --port' : e.message}`)));
    server.listen(port, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return {
    server,
    url: `http://127.0.0.1:${actual}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
