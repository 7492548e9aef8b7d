// The lab server under abuse (issue 20, "the lab server"): each class of fault the fuzzing found,
// with its own small reproducer, against the server in this process on a free port, through plain
// node:http requests (so Host, method and body can be anything); then a bounded flood from
// another process over loopback — slow explores, malformed, oversized and refused requests — while
// a probe client's simple GETs are each answered within 2 s, and no upload directory is left
// behind. Each server gets a private parent for its upload directories (tmpDir), so the count of
// mmsim-* directories is this file's alone, whatever else runs on the machine.
// The worker threads run the built dist/lab/worker.js (npm run build first, as for lab.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, type IncomingHttpHeaders } from 'node:http';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import { networkInterfaces, tmpdir } from 'node:os';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveLab, uploadName, type LabOptions, type LabServer } from '../src/lab/server.js';
import { root } from './helpers.js';

const appDir = join(root, 'dist', 'lab-app');
const dimm = readFileSync(join(root, 'examples', 'dimm.scenario.yaml'), 'utf8');
/** examples/dimm.scenario.yaml has 7 steps (add, online, expect, offline, expect, remove, print): boot + 7 views. */
const DIMM_VIEWS = 8;
const MiB = 1 << 20;

/** Private parent directories for the servers' upload directories, so the count is this file's alone. */
const tmpRoots: string[] = [];
function tmpRoot(): string {
  const d = mkdtempSync(join(tmpdir(), 'lab-server-test-'));
  tmpRoots.push(d);
  return d;
}
/** The upload directories (mmsim-*) under a parent. */
const leftIn = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('mmsim-'));

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

interface Ask {
  method?: string;
  path: string;
  /** The Host header; default 127.0.0.1:PORT. */
  host?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Abort the request after this many ms. */
  abortAfterMs?: number;
}

function portOf(lab: LabServer): number {
  return Number(new URL(lab.url).port);
}

/** One request on a fresh connection: status, headers, body and how long the answer took. */
function ask(lab: LabServer, a: Ask): Promise<Reply> {
  const port = portOf(lab);
  const t0 = performance.now();
  return new Promise((ok, fail) => {
    const r = request({ host: '127.0.0.1', port, path: a.path, method: a.method ?? 'GET', agent: false, headers: { host: a.host ?? `127.0.0.1:${port}`, ...a.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      res.on('error', fail);
    });
    r.on('error', fail);
    if (a.abortAfterMs !== undefined) setTimeout(() => r.destroy(), a.abortAfterMs);
    r.end(a.body);
  });
}

const errorOf = (r: Reply): string => (JSON.parse(r.body) as { error: string }).error;

/** The pool's load, polled until `done` holds (or `ms` pass). */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

async function lab(options: LabOptions = {}): Promise<LabServer> {
  return serveLab(appDir, root, 0, null, options);
}

afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

describe('the lab server: its design file', () => {
  it('refuses, before it starts, a design file whose two runs of one schedule part (as explore --design does)', async () => {
    const dir = tmpRoot();
    const f = join(dir, 'flaky.mjs');
    writeFileSync(
      f,
      "let calls = 0;\nexport default { name: 'flaky', base: 'v5.3', steps: { *remove_pfn_range_from_zone(api, m, zone, start, end, search) { if (calls++ % 2) yield { op: 'might_sleep', where: 'flaky' }; yield* api.base(m, zone, start, end, search); } } };\n",
    );
    await expect(lab({ designFile: f })).rejects.toThrow(
      /flaky\.mjs: the design's steps ran differently on two runs of the same schedule \(step \d+ was "[^"]+", then "memunmap B: might_sleep flaky"\)/,
    );
  });
});

describe('the lab server: requests it refuses', () => {
  let s: LabServer;
  let tmp: string;
  beforeAll(async () => {
    tmp = tmpRoot();
    s = await lab({ tmpDir: tmp });
  });
  afterAll(() => s?.close());

  it('takes only GET (static files also HEAD) or POST where meant: 405 with Allow otherwise', async () => {
    for (const [method, path, allow] of [
      ['PUT', '/api/config', 'GET'],
      ['POST', '/api/trace', 'GET'],
      ['DELETE', '/api/timeline', 'GET'],
      ['POST', '/api/verdict', 'GET'],
      ['POST', '/api/file', 'GET'],
      ['HEAD', '/api/example?name=dimm.scenario.yaml', 'GET'],
      ['GET', '/api/scenario', 'POST'],
      ['PUT', '/api/scenario', 'POST'],
      ['POST', '/', 'GET, HEAD'],
      ['OPTIONS', '/index.html', 'GET, HEAD'],
    ] as const) {
      const r = await ask(s, { method, path });
      expect([method, path, r.status, r.headers.allow]).toEqual([method, path, 405, allow]);
      if (method !== 'HEAD') expect(errorOf(r)).toMatch(/takes/);
    }
    expect((await ask(s, { method: 'HEAD', path: '/index.html' })).status).toBe(200);
  });

  it('unknown paths are 404 as JSON, whatever the method', async () => {
    for (const [method, path] of [
      ['GET', '/nope.html'],
      ['GET', '/api/nope'],
      ['POST', '/api/nope'],
      ['GET', '/api/config/'],
      ['DELETE', '/nope'],
    ] as const) {
      const r = await ask(s, { method, path });
      expect([path, r.status, r.headers['content-type']]).toEqual([path, 404, 'application/json']);
      expect(typeof errorOf(r)).toBe('string');
    }
    expect((await ask(s, { path: '/api/example?name=../package.json' })).status).toBe(404);
  });

  it('/api/file plays only the scenario file given to mmsim serve and names none itself: 404 without one, a path in the query ignored', async () => {
    for (const path of ['/api/file', '/api/file?name=/etc/passwd', '/api/file?file=../package.json']) {
      const r = await ask(s, { path });
      expect([path, r.status, errorOf(r)]).toEqual([path, 404, 'no scenario file was given to mmsim serve']);
    }
    // A design is named, never a file: a path is not a name (400 before any work).
    for (const design of ['/tmp/x.mjs', '../examples/designs/pgmap-pfn-valid.mjs']) {
      const r = await ask(s, { path: `/api/verdict?scenario=seed-2019&design=${encodeURIComponent(design)}` });
      expect([design, r.status, errorOf(r)]).toEqual([design, 400, 'design: expected a name such as v5.3 (letters, digits, _ . + -)']);
    }
  });

  it('a malformed path is 400, not 500 (GET /% was "URI malformed" from decodeURIComponent)', async () => {
    for (const path of ['/%', '/%E0%A4%A', '/api/trace%', '/%00', '/a%0Ab']) {
      const r = await ask(s, { path });
      expect([path, r.status]).toEqual([path, 400]);
      expect(errorOf(r)).toMatch(/^malformed path/);
    }
  });

  it('the Host must be this server (127.0.0.1:PORT or localhost:PORT): a DNS-rebinding name or another port is 403', async () => {
    const port = portOf(s);
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `127.0.0.1`, `localhost.evil.example:${port}`, `[::1]:${port}`, ' ']) {
      const r = await ask(s, { path: '/api/config', host });
      expect([host, r.status]).toEqual([host, 403]);
      expect(errorOf(r)).toMatch(/^Host .* refused/);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) expect((await ask(s, { path: '/api/config', host })).status).toBe(200);
  });

  it('an HTTP/1.0 request with no Host at all is 403', async () => {
    const text = await new Promise<string>((ok, fail) => {
      const c = connect(portOf(s), '127.0.0.1', () => c.end('GET /api/config HTTP/1.0\r\n\r\n'));
      let got = '';
      c.on('data', (d: Buffer) => (got += d.toString('utf8')));
      c.on('end', () => ok(got));
      c.on('error', fail);
    });
    expect(text).toMatch(/^HTTP\/1\.1 403 /);
  });

  it("a request from another origin (a page elsewhere posting to the lab) is 403; the lab's own origin passes", async () => {
    const port = portOf(s);
    const r = await ask(s, { method: 'POST', path: '/api/scenario?name=a.yaml', headers: { origin: 'http://evil.example' }, body: dimm });
    expect(r.status).toBe(403);
    expect(errorOf(r)).toBe('cross-origin requests are refused');
    expect((await ask(s, { method: 'POST', path: '/api/scenario?name=a.yaml', headers: { origin: `http://127.0.0.1:${port}` }, body: dimm })).status).toBe(200);
  });

  it('bad query values are 400 with a one-line {error}, before any model work', async () => {
    const before = s.pool.load.accepted;
    const cases: [string, RegExp][] = [
      ['/api/trace?scenario=nope', /^lab: unknown scenario nope; the built-in ones are seed-2019, /],
      ['/api/trace?design=nope', /^lab: unknown design nope$/],
      ['/api/trace?scenario=a%0Ab', /^scenario: expected a name/],
      ['/api/timeline?preset=nope', /^lab: unknown preset nope$/],
      ['/api/timeline?designs=a,b,c,d,e,f,g,h,i', /^designs: at most 8/],
      ['/api/timeline?designs=', /^designs: expected names/],
    ];
    for (const [path, want] of cases) {
      const r = await ask(s, { path });
      expect([path, r.status]).toEqual([path, 400]);
      expect(errorOf(r)).toMatch(want);
    }
    expect(s.pool.load.accepted).toBe(before);
  });
});

describe('the lab server: request bodies', () => {
  let s: LabServer;
  let tmp: string;
  beforeAll(async () => {
    tmp = tmpRoot();
    s = await lab({ tmpDir: tmp });
  });
  afterAll(() => s?.close());

  it('a body of exactly 1 MiB is read; one byte more is 413', async () => {
    const pad = (n: number): string => dimm + '#'.repeat(n - Buffer.byteLength(dimm) - 1) + '\n';
    const at = await ask(s, { method: 'POST', path: '/api/scenario?name=pad.yaml', body: pad(MiB) });
    expect(at.status).toBe(200);
    const over = await ask(s, { method: 'POST', path: '/api/scenario?name=pad.yaml', body: pad(MiB + 1) });
    expect(over.status).toBe(413);
    expect(errorOf(over)).toBe("request body over the lab's limit of 1048576 bytes");
    expect(leftIn(tmp)).toEqual([]);
  });

  /** Stream a body of up to `total` bytes in 64 KiB writes until the server answers: the answer, the bytes sent by then, and whether the server closed the connection. */
  function stream(total: number, declare: boolean): Promise<{ status: number; body: string; sentAtAnswer: number; closed: boolean }> {
    const port = portOf(s);
    const chunk = Buffer.alloc(64 * 1024, 0x23);
    return new Promise((ok, fail) => {
      let sent = 0;
      let answered: { status: number; body: string; sentAtAnswer: number } | null = null;
      const headers: Record<string, string> = { host: `127.0.0.1:${port}` };
      if (declare) headers['content-length'] = String(total);
      const r = request({ host: '127.0.0.1', port, path: '/api/scenario?name=big.yaml', method: 'POST', agent: false, headers }, (res) => {
        const at = sent;
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => (answered = { status: res.statusCode ?? 0, body, sentAtAnswer: at }));
      });
      const finish = (closed: boolean): void => (answered ? ok({ ...answered, closed }) : fail(new Error(`no answer after ${sent} bytes`)));
      r.on('error', () => setTimeout(() => finish(true), 50));
      r.on('close', () => setTimeout(() => finish(true), 50));
      const pump = (): void => {
        while (answered === null && sent < total) {
          sent += chunk.length;
          if (!r.write(chunk)) return void r.once('drain', pump);
        }
        if (sent >= total) r.end();
      };
      pump();
      // The server closes the connection after a refusal; the client never has to send it all.
      setTimeout(() => finish(false), 10_000);
    });
  }

  it('300 MiB declared: 413 at once, the rest is not read (the server closes the connection)', async () => {
    const r = await stream(300 * MiB, true);
    expect(r.status).toBe(413);
    expect(r.closed).toBe(true);
    expect(r.sentAtAnswer).toBeLessThan(64 * MiB);
    expect(leftIn(tmp)).toEqual([]);
  }, 30_000);

  it('300 MiB chunked (no length given): counted while read, 413 past 1 MiB, the connection closed long before 300 MiB', async () => {
    const r = await stream(300 * MiB, false);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toEqual({ error: "request body over the lab's limit of 1048576 bytes" });
    expect(r.closed).toBe(true);
    expect(r.sentAtAnswer).toBeLessThan(64 * MiB);
    expect(leftIn(tmp)).toEqual([]);
  }, 30_000);

  // The CI failure of 2026-12-06 (the flood's 'oversized: 0 EPIPE'): the server closed with the
  // client's bytes unread, which resets the connection, and a client whose loop was busy saw the
  // reset (EPIPE on its write) before it read the 413. Here the client runs in a worker thread and
  // blocks its loop for 200 ms after each write, so the answer and any reset are waiting together
  // when it looks; before the lingering close 3 of these 4 saw EPIPE.
  it('a busy client whose 2 MiB body is refused reads its 413, never a reset: the server drops the rest of the body before it closes (lingering close)', async () => {
    const client = `
      const { request } = require('node:http');
      const { parentPort, workerData } = require('node:worker_threads');
      const one = (declare) => new Promise((ok) => {
        const headers = { host: '127.0.0.1:' + workerData.port };
        if (declare) headers['content-length'] = String(2 << 20);
        const seen = [];
        const r = request({ host: '127.0.0.1', port: workerData.port, path: '/api/scenario?name=big.yaml', method: 'POST', agent: false, headers }, (res) => {
          res.resume();
          res.on('end', () => seen.push(String(res.statusCode)));
        });
        r.on('error', (e) => seen.push(e.code));
        r.on('close', () => setTimeout(() => ok(seen.join(' ')), 50));
        r.end(Buffer.alloc(2 << 20, 0x23));
        const t = Date.now();
        while (Date.now() - t < 200);
      });
      (async () => { const seen = []; for (let i = 0; i < 4; i++) seen.push(await one(i % 2 === 0)); parentPort.postMessage(seen); })();
    `;
    const w = new Worker(client, { eval: true, workerData: { port: portOf(s) } });
    try {
      expect(await new Promise((ok) => w.once('message', ok))).toEqual(['413', '413', '413', '413']);
    } finally {
      await w.terminate();
    }
    expect(leftIn(tmp)).toEqual([]);
  }, 30_000);
});

describe('the lab server: posted scenarios', () => {
  let s: LabServer;
  let tmp: string;
  beforeAll(async () => {
    tmp = tmpRoot();
    s = await lab({ tmpDir: tmp });
  });
  afterAll(() => s?.close());

  const post = (name: string | null, body: string): Promise<Reply> => ask(s, { method: 'POST', path: `/api/scenario${name === null ? '' : `?name=${encodeURIComponent(name)}`}`, body });
  const scenario = (r: Reply): { file: string; steps: unknown[]; error: string | null } => JSON.parse(r.body) as { file: string; steps: unknown[]; error: string | null };

  it('examples/dimm.scenario.yaml posted as is plays (its machine: qemu-2node.yaml is found in examples/)', async () => {
    const r = await post('dimm.scenario.yaml', dimm);
    expect(r.status).toBe(200);
    const b = scenario(r);
    expect([b.file, b.steps.length, b.error]).toEqual(['dimm.scenario.yaml', DIMM_VIEWS, null]);
    expect(leftIn(tmp)).toEqual([]);
  });

  it('name= (empty) was EISDIR with a temp path: now the default name, and the directory is removed', async () => {
    const r = await post('', dimm);
    expect(r.status).toBe(200);
    expect([scenario(r).file, scenario(r).steps.length]).toEqual(['scenario.yaml', DIMM_VIEWS]);
    expect(r.body).not.toContain(tmp);
    expect(leftIn(tmp)).toEqual([]);
    expect(scenario(await post(null, dimm)).file).toBe('scenario.yaml');
  });

  it('the name is sanitised: its last path component, other characters as _, no leading dots', async () => {
    expect(uploadName('../../etc/evil name.yaml')).toBe('evil_name.yaml');
    expect(uploadName('..')).toBe('scenario.yaml');
    expect(uploadName('..\\..\\x.yaml')).toBe('x.yaml');
    expect(uploadName('.hidden')).toBe('hidden');
    expect(uploadName('a/')).toBe('scenario.yaml');
    expect(uploadName('x'.repeat(300))).toBe('x'.repeat(100));
    expect(uploadName('ü\n.yaml')).toBe('__.yaml');
    const r = await post('../../../tmp/evil name.yaml', dimm);
    expect([r.status, scenario(r).file]).toEqual([200, 'evil_name.yaml']);
    expect(leftIn(tmp)).toEqual([]);
  });

  it('a bad scenario is 400 with its one-line error as name:line:col, naming no temp path; its directory is removed', async () => {
    const r = await post('bad.yaml', 'machine: qemu-2node.yaml\nsteps:\n  - bogus: 1\n');
    expect(r.status).toBe(400);
    const b = scenario(r);
    expect(b.steps).toEqual([]);
    expect(b.error).toMatch(/^bad\.yaml:3:5: expected one step: add, remove/);
    expect(r.body).not.toMatch(/mmsim-lab|lab-server-test/);
    expect(r.body).not.toContain(tmpdir());
    const yaml = await post('y.yaml', 'machine: [\n');
    expect(yaml.status).toBe(400);
    expect(scenario(yaml).error).toMatch(/^y\.yaml:\d+:\d+: invalid YAML/);
    expect(leftIn(tmp)).toEqual([]);
  });

  it('a machine path outside examples/ is refused (400), absolute (/etc/passwd) or climbing out; inside examples/ it resolves', async () => {
    const withMachine = (m: string): string => dimm.replace('machine: qemu-2node.yaml', `machine: ${m}`);
    const cases: [string, RegExp][] = [
      ['/etc/passwd', /^m\.yaml:4:10: machine "\/etc\/passwd" is an absolute path; the lab opens machine files from examples\/ only/],
      ['../../../../../../../../etc/passwd', /^m\.yaml:4:10: machine "(\.\.\/)+etc\/passwd" leaves examples\/; the lab opens machine files from examples\/ only/],
      ['../package.json', /^m\.yaml:4:10: machine "\.\.\/package\.json" leaves examples\//],
      ['nope.yaml', /^m\.yaml:4:10: machine "nope\.yaml": no such file in examples\//],
      ['designs', /^m\.yaml:4:10: machine "designs": no such file in examples\//],
    ];
    for (const [m, want] of cases) {
      const r = await post('m.yaml', withMachine(m));
      expect([m, r.status]).toEqual([m, 400]);
      expect(scenario(r).steps).toEqual([]);
      expect(scenario(r).error).toMatch(want);
      expect(r.body).not.toContain('root:');
    }
    // The page's own test posts this form (a path from test/ to examples/): it stays inside examples/.
    const r = await post('m.yaml', withMachine('../examples/qemu-2node.yaml'));
    expect([r.status, scenario(r).steps.length]).toEqual([200, DIMM_VIEWS]);
    // A machine file's own error names it as examples/NAME, not by this machine's path.
    const wrong = await post('m.yaml', withMachine('dimm.scenario.yaml'));
    expect(wrong.status).toBe(400);
    expect(scenario(wrong).error).toMatch(/^examples\/dimm\.scenario\.yaml:\d+:\d+: /);
    expect(wrong.body).not.toContain(root);
    expect(leftIn(tmp)).toEqual([]);
  });
});

describe('the lab server: long work off the request loop', () => {
  it('while a slow explore runs, a config GET is answered within 1 s and a quick explore finishes first', async () => {
    const s = await lab({ tmpDir: tmpRoot() });
    try {
      const slow = ask(s, { path: '/api/trace?scenario=seed-2019-subsection&design=v5.3', abortAfterMs: 20_000 }).catch(() => null);
      expect(await until(() => s.pool.load.running === 1, 5000)).toBe(true);
      const cfg = await ask(s, { path: '/api/config' });
      expect(cfg.status).toBe(200);
      expect(cfg.ms).toBeLessThan(1000);
      const quick = await ask(s, { path: '/api/trace?scenario=seed-2019-hotplug&design=v5.3' });
      expect(quick.status).toBe(200);
      expect((JSON.parse(quick.body) as { scenario: string }).scenario).toBe('seed-2019-hotplug');
      expect(s.pool.load.running).toBe(1);
      void slow;
    } finally {
      await s.close();
    }
  }, 60_000);

  it('past the time limit the worker is terminated and the answer is 504 {error}', async () => {
    const s = await lab({ tmpDir: tmpRoot(), limits: { timeLimitMs: 1500 } });
    try {
      const r = await ask(s, { path: '/api/trace?scenario=seed-2019-subsection&design=v5.3' });
      expect(r.status).toBe(504);
      expect(errorOf(r)).toBe("the request took longer than the lab's limit of 1.5 s and was stopped");
      expect(r.ms).toBeLessThan(5000);
      expect(await until(() => s.pool.load.threads === 0, 5000)).toBe(true);
      expect((await ask(s, { path: '/api/config' })).status).toBe(200);
    } finally {
      await s.close();
    }
  }, 30_000);

  it("a job past its thread's heap limit ends that thread, not the server: 503 {error}", async () => {
    // 4 MiB of heap: not even the model's modules fit.
    const s = await lab({ tmpDir: tmpRoot(), limits: { memoryMb: 4 } });
    try {
      const r = await ask(s, { path: '/api/trace?scenario=seed-2019-hotplug&design=v5.3' });
      expect(r.status).toBe(503);
      expect(errorOf(r)).toBe("the request ran out of the lab's memory limit (4 MiB) and was stopped");
      expect((await ask(s, { path: '/api/config' })).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('beyond the workers and the queue a request is 503 at once, with Retry-After; a client that goes away frees its worker', async () => {
    const s = await lab({ tmpDir: tmpRoot(), limits: { workers: 1, queue: 1 } });
    try {
      const slow = '/api/trace?scenario=seed-2019-subsection&design=v5.3';
      const first = ask(s, { path: slow, abortAfterMs: 3000 }).catch((e: Error) => e);
      const second = ask(s, { path: slow, abortAfterMs: 3000 }).catch((e: Error) => e);
      expect(await until(() => s.pool.load.running === 1 && s.pool.load.queued === 1, 5000)).toBe(true);
      const third = await ask(s, { path: slow });
      expect(third.status).toBe(503);
      expect(third.headers['retry-after']).toBe('5');
      expect(errorOf(third)).toMatch(/^busy: /);
      expect(third.ms).toBeLessThan(1000);
      // Both clients give up after 3 s: the queued job is dropped and the running worker terminated.
      await Promise.all([first, second]);
      expect(await until(() => s.pool.load.running === 0 && s.pool.load.queued === 0 && s.pool.load.threads === 0, 5000)).toBe(true);
    } finally {
      await s.close();
    }
  }, 30_000);

  it('an mmsim bug is 500 with a generic message and no internal detail, its stack logged once', async () => {
    const dir = tmpRoot();
    const bugWorker = join(dir, 'bug-worker.mjs');
    writeFileSync(bugWorker, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => { throw new Error('boom at /secret/mmsim-x/file'); });\n");
    const logged: string[] = [];
    const s = await lab({ tmpDir: dir, workerFile: bugWorker, log: (l) => logged.push(l) });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await ask(s, { path: '/api/trace' });
        expect(r.status).toBe(500);
        expect(JSON.parse(r.body)).toEqual({ error: 'internal error in mmsim; the server logged it' });
      }
      expect(logged.length).toBe(1);
      expect(logged[0]).toMatch(/^mmsim lab: internal error \(an mmsim bug; please report it\): Error: boom at \/secret\/mmsim-x\/file/);
      // An upload's directory goes even when its job hits a bug.
      expect((await ask(s, { method: 'POST', path: '/api/scenario?name=a.yaml', body: dimm })).status).toBe(500);
      expect(leftIn(dir)).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

/** One request of a flood: as Ask, with a body of `bodyBytes` bytes ('#'), sent chunked or with its length. */
interface Shot {
  cls: string;
  want: number[];
  method?: string;
  path: string;
  host?: string;
  body?: string;
  bodyBytes?: number;
  chunked?: boolean;
}

/** The flood's client: a separate node process (as another program on this machine would be) that sends every shot at once over node:http. */
const FLOOD_CLIENT = `
import { request } from 'node:http';
const { port, shots, WAVE, PAUSE } = JSON.parse(process.argv[1]);
const big = new Map();
const one = (s) => new Promise((ok) => {
  const headers = { host: s.host ?? '127.0.0.1:' + port };
  if (s.chunked) headers['transfer-encoding'] = 'chunked';
  const r = request({ host: '127.0.0.1', port, path: s.path, method: s.method ?? 'GET', agent: false, headers }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => ok({ status: res.statusCode, body }));
    res.on('error', (e) => ok({ status: 0, body: String(e.code) }));
  });
  r.on('error', (e) => ok({ status: 0, body: String(e.code) }));
  if (s.bodyBytes !== undefined && !big.has(s.bodyBytes)) big.set(s.bodyBytes, Buffer.alloc(s.bodyBytes, 0x23));
  r.end(s.bodyBytes !== undefined ? big.get(s.bodyBytes) : s.body);
});
// In waves of WAVE requests, PAUSE ms apart; every request of every wave stays open until answered.
const pending = [];
for (let i = 0; i < shots.length; i += WAVE) {
  pending.push(...shots.slice(i, i + WAVE).map(one));
  await new Promise((ok) => setTimeout(ok, PAUSE));
}
process.stdout.write(JSON.stringify(await Promise.all(pending)));
`;

function floodFrom(port: number, shots: readonly Shot[], wave: number, pauseMs: number): Promise<{ status: number; body: string }[]> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', FLOOD_CLIENT, JSON.stringify({ port, shots, WAVE: wave, PAUSE: pauseMs })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok(JSON.parse(out) as { status: number; body: string }[]) : fail(new Error(`flood client exited with ${code}`))));
  });
}

describe('the lab server: a flood from loopback', () => {
  it('listens on loopback only: an address of this machine other than 127.0.0.1 refuses the connection', async () => {
    const s = await lab({ tmpDir: tmpRoot() });
    try {
      const addr = s.server.address();
      expect(typeof addr === 'object' && addr?.address).toBe('127.0.0.1');
      const other = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      if (other) {
        const refused = await new Promise<string>((ok) => {
          const c = connect(portOf(s), other, () => ok('connected'));
          c.on('error', (e: NodeJS.ErrnoException) => ok(e.code ?? 'error'));
        });
        expect(refused).toBe('ECONNREFUSED');
      }
    } finally {
      await s.close();
    }
  });

  it('a flood of 200 requests from another process (slow explores, oversized, malformed, refused, bad uploads): each answered as its class says, a probe answered within 2 s throughout, no upload directory left', async () => {
    const tmp = tmpRoot();
    const s = await lab({ tmpDir: tmp, limits: { workers: 2, queue: 4, timeLimitMs: 8000 } });
    const port = portOf(s);
    const classes: Shot[][] = [];
    const add = (n: number, cls: string, want: number[], make: (i: number) => Omit<Shot, 'cls' | 'want'>): void => {
      classes.push(Array.from({ length: n }, (_, i) => ({ cls, want, ...make(i) })));
    };
    const slow = ['seed-2019-subsection&design=v5.3', 'seed-2019&design=v5.3', 'seed-2019&design=v4.19', 'seed-2019-subsection&design=v4.19'];
    // Slow: explores of 3 to 40 s; 2 run, 4 wait, the rest are refused; each is stopped 8 s after it arrived.
    add(10, 'slow explore', [200, 503, 504], (i) => ({ path: `/api/trace?scenario=${slow[i % slow.length]}` }));
    add(30, 'oversized', [413], (i) => ({ method: 'POST', path: '/api/scenario?name=big.yaml', bodyBytes: 2 * MiB, chunked: i % 2 === 0 }));
    add(30, 'bad upload', [400, 503, 504], (i) => ({ method: 'POST', path: `/api/scenario?name=${i % 3 ? '' : '..'}`, body: i % 2 ? 'machine: /etc/passwd\nsteps:\n  - print: blocks\n' : '{{{{' }));
    add(30, 'malformed path', [400], (i) => ({ path: ['/%', '/%E0%A4%A', '/%00'][i % 3] as string }));
    add(30, 'foreign Host', [403], (i) => ({ path: '/api/config', host: i % 2 ? 'rebind.example' : `attacker.example:${port}` }));
    add(30, 'wrong method', [405], (i) => ({ method: ['PUT', 'DELETE', 'PATCH'][i % 3], path: ['/api/trace', '/api/config', '/'][i % 3] as string }));
    add(20, 'unknown path', [404], (i) => ({ path: `/api/x${i}` }));
    add(20, 'bad query', [400], (i) => ({ path: `/api/trace?scenario=no${i}` }));
    // Mixed: the slow explores first, then one of each class in turn.
    const shots: Shot[] = [];
    for (let i = 0; shots.length < 200; i++) for (const c of classes) if (i < c.length) shots.push(c[i] as Shot);
    expect(shots.length).toBe(200);

    // 100 requests a second, in waves of 20 (the slow ones stay open throughout): a burst of all 200
    // connections at once is, by itself, up to a second of node:http's work on a 2-core machine
    // shared with other jobs, whatever the server does with them.
    const t0 = Date.now();
    const flood = floodFrom(port, shots, 20, 200);
    // The probe: a simple GET every 100 ms (config, then a static file), each on a new connection and timed, until the flood is answered.
    const probes: { at: number; path: string; status: number; ms: number }[] = [];
    let flooding = true;
    void flood.finally(() => (flooding = false));
    for (let i = 0; flooding; i++) {
      const path = i % 2 ? '/index.html' : '/api/config';
      const r = await ask(s, { path });
      probes.push({ at: Date.now() - t0, path, status: r.status, ms: Math.round(r.ms) });
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const got = await flood;
    const elapsed = Date.now() - t0;
    try {
      expect(got.length).toBe(200);
      const wrong = got.map((r, i) => ({ r, shot: shots[i] as Shot })).filter(({ shot, r }) => !shot.want.includes(r.status));
      expect(wrong.map(({ shot, r }) => `${shot.cls}: ${r.status} ${r.body.slice(0, 120)}`)).toEqual([]);
      // Every refusal is JSON { error } in one line; a bad upload that reached a worker (the pool not
      // full when it came) is a scenario's error, with the file and the steps played before it (api.ts labJob).
      for (const r of got.filter((x) => x.status !== 200)) {
        const body = JSON.parse(r.body) as Record<string, unknown>;
        expect(body['error']).toMatch(/^[^\n]+$/);
        expect(['', 'file,steps']).toContain(
          Object.keys(body)
            .filter((k) => k !== 'error')
            .sort()
            .join(','),
        );
      }
      // Bounded: the slow ones are answered by the time limit (8 s from arrival), not after every explore ran.
      expect(elapsed).toBeLessThan(25_000);
      expect(probes.length).toBeGreaterThan(20);
      // An explore run on the server's own thread would hold a probe for the whole explore: 3 s
      // and more for the v5.3 and subsection ones. 2 s, not 1: under the full suite on 2 cores
      // (chromium in the next file) probes took 1041 and 1070 ms with the server working as meant.
      expect(probes.filter((p) => p.status !== 200 || p.ms >= 2000)).toEqual([]);
      expect(leftIn(tmp)).toEqual([]);
      expect(await until(() => s.pool.load.running === 0 && s.pool.load.queued === 0, 5000)).toBe(true);
      expect((await ask(s, { path: '/api/trace?scenario=seed-2019-hotplug&design=v5.3' })).status).toBe(200);
    } finally {
      await s.close();
    }
    expect(leftIn(tmp)).toEqual([]);
  }, 90_000);
});
