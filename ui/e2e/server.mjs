// A real lawbot serve on the fixture corpus for the end-to-end suites: built once per suite (so
// it embeds this very build of ui/dist, unless LAWBOT_BIN names a binary), in a temp state.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const uiDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repo = resolve(uiDir, '..');

function spawnServer(bin, state, flags) {
  return new Promise((resolveStart, reject) => {
    const args = ['serve', '--data', join(repo, 'state/testdata/corpus'), '--state', state, '--addr', '127.0.0.1:0', ...flags];
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const timer = setTimeout(() => reject(new Error('lawbot serve printed no URL in 60 s:\n' + buf)), 60_000);
    p.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolveStart({ p, url: m[1] });
      }
    });
    p.stderr.on('data', (d) => (buf += d));
    p.on('exit', (code) => reject(new Error(`lawbot serve exited ${code}:\n${buf}`)));
  });
}

async function waitReady(url) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url + '/readyz')).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the server did not become ready in 180 s');
}

/**
 * Builds (or takes $LAWBOT_BIN) and starts lawbot serve with extra flags, waits until it is
 * ready, and returns { url, tmp, stop }.
 */
export async function startLawbot(flags = []) {
  const tmp = mkdtempSync(join(tmpdir(), 'lawbot-e2e-'));
  const bin = process.env.LAWBOT_BIN ?? join(tmp, 'lawbot');
  if (!process.env.LAWBOT_BIN) execFileSync('go', ['build', '-o', bin, './cmd/lawbot'], { cwd: repo, stdio: 'inherit' });
  const { p, url } = await spawnServer(bin, join(tmp, 'state'), flags);
  await waitReady(url);
  return {
    url,
    tmp,
    async stop() {
      if (p.exitCode === null) {
        p.kill('SIGTERM');
        await new Promise((r) => p.once('exit', r));
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
