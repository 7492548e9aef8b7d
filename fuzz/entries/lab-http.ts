// The lab over HTTP: `mmsim serve`'s server (src/lab/server.ts) started in-process on a loopback
// port, sent requests with fuzzed methods, paths, query strings, Host headers and bodies. Checked:
// no 500; an error answer is JSON {error} on one line with no temporary path in it; a foreign Host
// (a DNS-rebinding page) is not answered; GET endpoints do not answer other methods; an upload's
// temporary directory is gone when the answer comes; a 17 MiB body is not taken. Valid requests
// that are long by nature (see lab.ts) are left out; the per-request limit bounds those.
import { request } from 'node:http';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DESIGNS } from '../../src/designs/designs.js';
import { PRESETS } from '../../src/drivers/presets.js';
import { serveLab, type LabServer } from '../../src/lab/server.js';
import { scenarioSeeds } from '../corpus.js';
import { rarely } from '../gen.js';
import { defineEntry, normalizeMessage, OracleFailure, type FuzzContext } from '../harness.js';
import { HEAVY_PRESETS, JUNK, scenarioBody } from './lab.js';

type Host = 'own' | 'localhost' | 'foreign' | 'foreign-port' | 'no-port' | 'none';

interface HttpInput {
  readonly method: string;
  readonly path: string;
  readonly host: Host;
  readonly body: string | null;
  readonly origin: string;
}

/** An answer the server gave in time that is a refusal (4xx) or a closed connection: counted as refused, not as a finding. */
export class HttpRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpRefusal';
  }
}

const GET_ROUTES = ['/api/config', '/api/trace', '/api/timeline', '/api/example'];
const BIG = 17 * 2 ** 20;

const q = (v: string): string => encodeURIComponent(v);

function arbitrary(ctx: FuzzContext): fc.Arbitrary<HttpInput> {
  const designs = DESIGNS.map((d) => d.name);
  const light = PRESETS.map((p) => p.name).filter((p) => !HEAVY_PRESETS.includes(p));
  const junk = fc.oneof(fc.constantFrom(...JUNK), fc.string({ maxLength: 8 }));
  const get = fc.oneof(
    fc.constant('/api/config'),
    fc.oneof(fc.constantFrom(...designs), junk).map((d) => `/api/trace?scenario=seed-2019-hotplug&design=${q(d)}`),
    fc.tuple(fc.oneof(fc.constantFrom('seed-2019', 'seed-2019-subsection'), junk), junk).map(([s, d]) => `/api/trace?scenario=${q(s)}&design=${q(d)}`),
    fc
      .tuple(fc.constantFrom(...light), fc.array(fc.oneof(fc.constantFrom(...designs), junk), { minLength: 1, maxLength: 3 }))
      .map(([p, d]) => `/api/timeline?preset=${q(p)}&designs=${q(d.join(','))}`),
    fc.tuple(fc.oneof(fc.constantFrom(...HEAVY_PRESETS), junk), junk).map(([p, j]) => `/api/timeline?preset=${q(p)}&designs=${q(`${j === 'v5.3' ? 'x' : j},v5.3`)}`),
    fc.oneof(fc.constantFrom('dimm.scenario.yaml', 'chmem.scenario.yaml'), junk).map((n) => `/api/example?name=${q(n)}`),
    fc.constantFrom(
      '/',
      '/index.html',
      '/%',
      '/%zz',
      '/api/%',
      '/api/trace?scenario=%',
      '/..%2f..%2fetc%2fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/api/nope',
      '/api/config/',
      '//api/config',
      '/API/CONFIG',
      `/${'a'.repeat(10_000)}`,
      `/api/config?${'x=1&'.repeat(2000)}`,
      '/index.html?%',
      '/nope.js',
    ),
  );
  const seeds = scenarioSeeds(ctx);
  const post = fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constant('scenario.yaml') }, { weight: 1, arbitrary: fc.constantFrom('', '.', '..', '../../x.yaml', 'a b.yaml', 'x'.repeat(300)) }),
      fc.oneof({ weight: 30, arbitrary: scenarioBody(seeds) }, { weight: 1, arbitrary: fc.constant({ text: 'x'.repeat(BIG), origin: 'a 17 MiB body' }) }),
    )
    .map(([name, b]) => ({ path: `/api/scenario?name=${q(name)}`, body: b.text, origin: b.origin }));
  const method = fc.oneof({ weight: 10, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND') });
  const host = fc.oneof({ weight: 12, arbitrary: fc.constant<Host>('own') }, { weight: 1, arbitrary: fc.constantFrom<Host>('localhost', 'foreign', 'foreign-port', 'no-port', 'none') });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ method, path: get, host, body: rarely(fc.constant('{}'), 0.1), origin: fc.constant('') }) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(post, host, fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT') }))
        .map(([p, h, m]) => ({ method: m, host: h, ...p })),
    },
  );
}

let lab: LabServer | null = null;

async function server(ctx: FuzzContext): Promise<LabServer> {
  if (lab) return lab;
  const stat = join(ctx.tmp, 'lab-static');
  mkdirSync(stat, { recursive: true });
  writeFileSync(join(stat, 'index.html'), '<!doctype html><title>lab</title>\n');
  lab = await serveLab(stat, ctx.root, 0, null);
  lab.server.unref();
  return lab;
}

function hostHeader(h: Host, port: number): string | null {
  return { own: `127.0.0.1:${port}`, localhost: `localhost:${port}`, foreign: 'evil.example', 'foreign-port': `evil.example:${port}`, 'no-port': '127.0.0.1', none: null }[h];
}

function send(port: number, x: HttpInput): Promise<{ status: number; type: string; body: string }> {
  return new Promise((ok, fail) => {
    const host = hostHeader(x.host, port);
    const req = request({ host: '127.0.0.1', port, method: x.method, path: x.path, agent: false, setHost: false, headers: { connection: 'close', ...(host !== null ? { host } : {}) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 4_000_000) body += c;
      });
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
      res.on('error', fail);
    });
    req.on('error', (e: NodeJS.ErrnoException) => fail(new HttpRefusal(`connection closed: ${e.code ?? e.message}`)));
    req.end(x.body ?? undefined);
  });
}

export const labHttpEntry = defineEntry<HttpInput>({
  name: 'lab-http',
  summary: "the lab's HTTP server in-process on a loopback port: methods, paths, query strings, Host headers, bodies",
  accepts: [HttpRefusal],
  async prepare(ctx) {
    return Promise.resolve(arbitrary(ctx));
  },
  async run(x, ctx) {
    const { url } = await server(ctx);
    const port = Number(new URL(url).port);
    // The server's temporary directories (uploads) go to a directory of this run's own.
    const saved = process.env['TMPDIR'];
    const tmp = join(ctx.tmp, 'server-tmp');
    mkdirSync(tmp, { recursive: true });
    const before = new Set(readdirSync(tmp));
    process.env['TMPDIR'] = tmp;
    let r;
    try {
      r = await send(port, x);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
    const left = readdirSync(tmp).filter((f) => !before.has(f));
    for (const f of left) rmSync(join(tmp, f), { recursive: true, force: true });
    if (left.length) throw new OracleFailure("an upload's temporary directory left behind", left.join(', '));
    if (r.status >= 500) throw new OracleFailure(`HTTP ${r.status}: ${normalizeMessage(r.body.replace(/^\{"error":"(.*)"\}$/s, '$1'))}`, r.body.slice(0, 500));
    if (r.body.includes(ctx.tmp)) throw new OracleFailure('a temporary path in the answer', r.body.slice(0, 500));
    if (/json/.test(r.type) && r.status >= 400 && x.method !== 'HEAD') {
      let e: unknown;
      try {
        e = (JSON.parse(r.body) as { error?: unknown }).error;
      } catch {
        throw new OracleFailure('an error answer that is not JSON', r.body.slice(0, 500));
      }
      if (typeof e !== 'string') throw new OracleFailure('an error answer without {error}', r.body.slice(0, 500));
      if (/[\n\r]/.test(e)) throw new OracleFailure('an error answered on more than one line', e);
    }
    const ok = r.status >= 200 && r.status < 300;
    if (ok && x.host.startsWith('foreign')) throw new OracleFailure('a request with a foreign Host header answered (DNS rebinding)', `${x.method} ${x.path} Host ${hostHeader(x.host, port)}`);
    const route = x.path.split('?')[0] ?? '';
    if (ok && GET_ROUTES.includes(route) && x.method !== 'GET' && x.method !== 'HEAD') throw new OracleFailure(`${x.method} answered on a GET endpoint`, `${x.method} ${route}: ${r.status}`);
    if (ok && route === '/api/scenario' && x.method !== 'POST') throw new OracleFailure(`${x.method} answered on the POST endpoint`, `${x.method} ${route}: ${r.status}`);
    if (ok && x.body !== null && x.body.length >= BIG) throw new OracleFailure('a 17 MiB body accepted (no body limit)', `${x.method} ${route}: ${r.status}`);
    if (r.status >= 400) throw new HttpRefusal(`HTTP ${r.status}`);
  },
  save(x, base) {
    const files = [`${base}.txt`];
    let data = '';
    if (x.body !== null) {
      writeFileSync(`${base}.body`, x.body);
      files.push(`${base}.body`);
      data = ` --data-binary @${base}.body`;
    }
    const host = x.host === 'own' ? '' : ` -H 'Host: ${hostHeader(x.host, 0)?.replace(':0', ':PORT') ?? ''}'`;
    const command = `mmsim serve, then: curl -X ${x.method}${host}${data} 'http://127.0.0.1:PORT${x.path.length > 200 ? `${x.path.slice(0, 200)}…` : x.path}'`;
    writeFileSync(`${base}.txt`, `${x.method} ${x.path}\nHost: ${x.host}\n${x.origin}\n`);
    return { files, command };
  },
  size: (x) => x.path.length + (x.body?.length ?? 0),
  describe: (x) => `${x.method} ${x.path.length > 120 ? `${x.path.slice(0, 120)}…` : x.path} (Host ${x.host}${x.body !== null ? `, body: ${x.origin || `${x.body.length} bytes`}` : ''})`,
});
