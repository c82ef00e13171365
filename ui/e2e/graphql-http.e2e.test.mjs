// GraphQL over HTTP: the graphql-http package's server audits against a real lawbot serve. Every
// MUST and SHOULD audit must pass ("ok"); a MAY may stay a notice. The audits send ~60 requests
// at once from one address, so the rate limit is off here: what they check is the protocol, and
// the limits have their own suite (test/abuse).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serverAudits } from 'graphql-http';
import { startLawbot } from './server.mjs';

let server;

before(async () => {
  server = await startLawbot(['--rate', '0']);
});

after(async () => {
  await server?.stop();
});

test('GraphQL over HTTP: every MUST and SHOULD audit of graphql-http passes', async () => {
  const failed = [];
  const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
  for (const audit of serverAudits({ url: server.url + '/graphql' })) {
    const result = await audit.fn();
    counts[result.status]++;
    if (result.status === 'warn' || result.status === 'error') failed.push(`${result.status}: ${audit.name} — ${result.reason}`);
  }
  console.log(`# graphql-http audits: ${JSON.stringify(counts)}`);
  assert.deepEqual(failed, []);
  assert.ok(counts.ok >= 50, `only ${counts.ok} audits ran ok`);
});
