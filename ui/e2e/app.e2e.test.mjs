// End to end: the real lawbot server on the fixture corpus, the embedded web app, headless
// Chromium (Debian's /usr/bin/chromium) through playwright-core. Screenshots go to
// ui/test-output/. Run after `npm run build` (make test-ui does both).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startLawbot, uiDir } from './server.mjs';

const out = join(uiDir, 'test-output');
const chromePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const QUESTION = '전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?';

let tmp, server, base, context;
const consoleErrors = [];

before(async () => {
  assert.ok(existsSync(join(uiDir, 'dist/index.html')), 'ui/dist is not built: run npm run build (or make ui) first');
  assert.ok(existsSync(chromePath), `no Chromium at ${chromePath} (apt-get install chromium)`);
  mkdirSync(out, { recursive: true });
  server = await startLawbot();
  tmp = server.tmp;
  base = server.url;
  context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: chromePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    locale: 'ko-KR',
  });
  context.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  context.on('weberror', (e) => consoleErrors.push(String(e.error())));
});

after(async () => {
  await context?.close();
  await server?.stop();
});

async function newPage(viewport) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  return page;
}

const stage = (page, s) => page.locator(`.stage[data-stage="${s}"]`);

async function waitAnswered(page) {
  await page.locator('.stage[data-stage="ANSWER"][data-state="done"]').waitFor({ timeout: 30_000 });
}

test('ask a question: the stages stream in, then the answer, statutes, precedents and graph', async () => {
  const page = await newPage();
  const frames = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
  await page.goto(base + '/');
  await page.getByLabel('어떤 일이 있었나요?').fill(QUESTION);
  await page.getByRole('button', { name: '물어보기' }).click();
  await waitAnswered(page);
  for (const s of ['LEGAL_CHECK', 'SIMILAR_QUESTIONS', 'PRECEDENTS', 'STATUTES', 'ANSWER']) {
    assert.equal(await stage(page, s).getAttribute('data-state'), 'done', s);
  }
  // The answer came over graphql-transport-ws, in pieces.
  const stages = frames.map((f) => f.match(/"stage":"(\w+)"/)?.[1]).filter(Boolean);
  assert.deepEqual(stages.slice(0, 4), ['LEGAL_CHECK', 'SIMILAR_QUESTIONS', 'PRECEDENTS', 'STATUTES']);
  assert.ok(stages.filter((s) => s === 'ANSWER_DELTA').length >= 2, `deltas: ${stages}`);
  assert.equal(stages.at(-1), 'DONE');
  assert.match(new URL(page.url()).search, /^\?q=/, 'the question is in the URL, to share');

  const answer = page.locator('#sec-answer ~ .answer-text');
  assert.match(await answer.innerText(), /민법/);
  assert.ok((await page.locator('.answer-text a.cite').count()) > 0, 'citations in the answer are links');
  await page.locator('.statutes').getByRole('button', { name: /민법 제618조/ }).waitFor();
  assert.ok((await page.locator('.cards .card').count()) > 0, 'precedents are listed');
  assert.ok((await page.locator('.chip.unresolved').count()) > 0, 'unresolved 참조조문 are marked');
  // Similar Q&A answers expand.
  const qa = page.locator('.qa-list details').first();
  await qa.locator('summary').click();
  assert.equal(await qa.getAttribute('open'), '');
  // The graph is drawn, with the question at the centre.
  await page.locator('[data-testid="citation-graph"] canvas').first().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="citation-graph"]')?.cy);
  const centre = await page.evaluate(() => {
    const cy = document.querySelector('[data-testid="citation-graph"]').cy;
    const q = cy.getElementById('question').renderedPosition();
    return { q, w: cy.width(), h: cy.height(), n: cy.nodes().length };
  });
  assert.ok(centre.n >= 3, `graph nodes: ${centre.n}`);
  assert.ok(Math.abs(centre.q.x - centre.w / 2) < centre.w * 0.15 && Math.abs(centre.q.y - centre.h / 2) < centre.h * 0.15, 'question at the centre');
  await page.screenshot({ path: join(out, 'answer-desktop.png'), fullPage: true });
  await page.screenshot({ path: join(out, 'answer-desktop-top.png') });
  await page.locator('section[aria-labelledby="sec-graph"]').screenshot({ path: join(out, 'graph.png') });
  await page.close();
});

test('open a statute from the list, from the answer and from the graph; Escape closes it', async () => {
  const page = await newPage();
  await page.goto(base + '/?q=' + encodeURIComponent(QUESTION));
  await waitAnswered(page);
  await page.locator('.statutes').getByRole('button', { name: /민법 제618조/ }).click();
  const panel = page.getByRole('dialog');
  await panel.getByText('임대차는 당사자 일방이').waitFor();
  const text = await panel.innerText();
  for (const want of ['시행일', '이 조문을 보여 드린 이유', '이 조문을 인용한 판례', '98다8554', 'law.go.kr']) assert.ok(text.includes(want), `panel lacks ${want}`);
  assert.equal(decodeURIComponent(new URL(page.url()).pathname), '/statute/민법 제618조');
  assert.equal(await panel.getByRole('link', { name: /law\.go\.kr/ }).getAttribute('rel'), 'noopener noreferrer');
  await page.screenshot({ path: join(out, 'statute-panel.png') });
  // A precedent citing it opens in the same panel.
  await panel.getByRole('button', { name: '98다8554' }).click();
  await panel.getByText('판시사항').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  assert.equal(new URL(page.url()).pathname, '/');

  // A citation inside the answer.
  await page.locator('.answer-text p.sentence a.cite').first().click();
  await page.getByRole('dialog').getByText('조문 원문').waitFor();
  await page.getByRole('button', { name: '닫기' }).click();

  // A node of the graph, clicked where it is drawn — once the panel has gone and the graph has
  // settled into the width it gets back (a click computed mid-resize once missed the node).
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.querySelector('[data-testid="citation-graph"]')?.cy);
  const graph = page.locator('[data-testid="citation-graph"]');
  const nodeAt = () => page.evaluate(() => {
    // The precedent nearest the centre: one at the edge can sit under the sticky header.
    const cy = document.querySelector('[data-testid="citation-graph"]').cy;
    const dist = (n) => Math.hypot(n.renderedPosition().x - cy.width() / 2, n.renderedPosition().y - cy.height() / 2);
    const n = cy.nodes('[kind = "precedent"]').sort((a, b) => dist(a) - dist(b)).first();
    return { ...n.renderedPosition(), id: n.id(), w: cy.width() };
  });
  let pos;
  for (let attempt = 1; ; attempt++) {
    let prev = await nodeAt();
    for (let i = 0; i < 20; i++) {
      await page.waitForTimeout(100);
      pos = await nodeAt();
      if (pos.x === prev.x && pos.y === prev.y && pos.w === prev.w) break;
      prev = pos;
    }
    await graph.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    // Cytoscape learns of the scroll from the scroll event, a frame later: click after it.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.waitForTimeout(50);
    const box = await graph.boundingBox();
    assert.ok(box.width > 0);
    await page.mouse.click(box.x + pos.x, box.y + pos.y);
    try {
      await page.getByRole('dialog').getByText('판시사항').waitFor({ timeout: 5_000 });
      break;
    } catch (e) {
      const dialog = await page.getByRole('dialog').innerText({ timeout: 1_000 }).catch(() => '(no dialog)');
      console.log(`# graph click ${attempt} at ${JSON.stringify(pos)} opened no precedent; dialog: ${dialog.slice(0, 200)}`);
      if (attempt === 3) throw e;
    }
  }
  assert.equal(decodeURIComponent(new URL(page.url()).pathname), '/precedent/' + pos.id.replace('precedent:', ''));
  await page.close();
});

test('a shared ?q= link fills the box and asks, at 360 px', async () => {
  const page = await newPage({ width: 360, height: 780 });
  await page.goto(base + '/?q=' + encodeURIComponent('보증금을 돌려받지 못했어요'));
  assert.equal(await page.getByLabel('어떤 일이 있었나요?').inputValue(), '보증금을 돌려받지 못했어요');
  await waitAnswered(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 360 px`);
  await page.screenshot({ path: join(out, 'shared-link-360.png'), fullPage: true });
  await page.screenshot({ path: join(out, 'shared-link-360-top.png') });
  await page.locator('section[aria-labelledby="sec-answer"]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(out, 'shared-link-360-answer.png') });
  await page.locator('.statutes button').first().click();
  await page.getByRole('dialog').getByText('조문 원문').waitFor();
  await page.screenshot({ path: join(out, 'statute-panel-360.png') });
  await page.close();
});

test('/precedent/<case number> and /statute/<id> open directly', async () => {
  const page = await newPage();
  await page.goto(base + '/precedent/' + encodeURIComponent('98다8554'));
  const panel = page.getByRole('dialog');
  await panel.getByText('판결요지').waitFor();
  const text = await panel.innerText();
  for (const want of ['대법원', '1998-07-10', '판시사항', '참조조문', '민법 제618조']) assert.ok(text.includes(want), `panel lacks ${want}`);
  await page.screenshot({ path: join(out, 'precedent-direct.png') });
  await panel.getByRole('button', { name: /민법 제741조/ }).click();
  await panel.getByText('부당이득의 내용').first().waitFor();
  await page.goto(base + '/statute/' + encodeURIComponent('민법 제9999조'));
  await page.getByRole('dialog').getByText('없습니다').waitFor();
  await page.close();
});

test('GraphiQL is bundled and runs a query', async () => {
  const page = await newPage();
  const external = [];
  page.on('request', (r) => !r.url().startsWith(base) && !r.url().startsWith('data:') && external.push(r.url()));
  await page.goto(base + '/graphiql');
  const run = page.locator('.graphiql-execute-button');
  await run.waitFor({ timeout: 20_000 });
  // The editor must hold the default query before ▶ means anything; on a loaded machine the
  // bundle can show the button first.
  await page.locator('.graphiql-query-editor').getByText('query Advice').first().waitFor({ timeout: 20_000 });
  const result = page.locator('.result-window').getByText('isLegal').first();
  await run.click();
  await result.waitFor({ timeout: 10_000 }).catch(async () => {
    await run.click(); // a click the editor was not ready for is lost; once more
    await result.waitFor({ timeout: 20_000 });
  }).catch(async (e) => {
    console.log('result window:', (await page.locator('.result-window').innerText()).slice(0, 800));
    await page.screenshot({ path: join(out, 'graphiql-failed.png') });
    throw e;
  });
  assert.match(await page.locator('.result-window').innerText(), /민법 제618조/);
  await page.screenshot({ path: join(out, 'graphiql.png') });
  // A subscription runs over graphql-transport-ws inside GraphiQL too.
  await page.locator('.graphiql-query-editor .CodeMirror').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText('subscription Stream { adviceStream(question: "전세 보증금을 못 받았어요") { stage } }');
  await page.getByRole('tab', { name: /Stream/ }).waitFor();
  await page.waitForTimeout(1000); // GraphiQL picks up the new operation name after a debounce
  await run.click();
  await page.locator('.result-window').getByText('DONE').first().waitFor({ timeout: 20_000 }).catch(async (e) => {
    await page.screenshot({ path: join(out, 'graphiql-subscription-failed.png') });
    throw e;
  });
  await page.screenshot({ path: join(out, 'graphiql-subscription.png') });
  assert.deepEqual(external, [], 'GraphiQL loads nothing from elsewhere');
  await page.close();
});

test('no script or CSP errors in the browser console', () => {
  const bad = consoleErrors.filter((e) => !/favicon/.test(e));
  assert.deepEqual(bad, []);
});
