/**
 * The Temporal Web UI as a person uses it, in headless Chromium: a finished pipeline run is found
 * by its search attributes, opened from the list and from the link the CLI prints, and shows its
 * summary and its partition child workflows. The dev server is the one `npm start` runs
 * (startDevServer, Web UI on a free port), because the shared test server has no Web UI.
 * Screenshots go to test-output/web-ui/.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser, Page } from 'puppeteer-core';
import { runPipeline } from '../src/client/pipeline-run';
import { ensureSearchAttributes } from '../src/client/search-attributes';
import { loadPipelineSpecFile } from '../src/pipelines/load';
import { BatchConfig, workflowUrl } from '../src/infra/config';
import { startDevServer } from '../src/devstack/dev-server';
import { repoRoot } from '../src/infra/paths';
import { ManagedProcess } from '../src/infra/processes';
import { ensureTemporalCli } from '../src/devstack/tools/temporal-cli';
import { freePort, waitFor } from '../src/infra/wait';
import { readPipelineItems } from '../src/sources/pipeline-items';
import { launchHeadlessChromium, waitForTexts } from './support/browser';
import { isolatedConfig } from './support/config';
import { outputFolder } from './support/media';
import { withPipelineWorkers } from './support/pipeline-workers';

const exampleSpec = path.join(repoRoot, 'pipelines', 'examples', 'tagging-report.json');
const exampleItems = path.join(repoRoot, 'pipelines', 'items', 'tagged-images.jsonl');

/** The Web UI's workflow list filtered by a visibility query, as typed into its search box. */
function workflowListUrl(config: BatchConfig, query: string): string {
  return `${config.webUiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows?query=${encodeURIComponent(query)}`;
}

/** Workflow IDs in the list's table: each row links its ID cell to `/workflows/<id>/<runId>/history`. */
async function listedWorkflowIds(page: Page): Promise<string[]> {
  const links = await page.$$eval('table a[href*="/workflows/"]', (anchors) =>
    anchors.map((a) => ({ href: a.getAttribute('href') as string, text: (a.textContent as string).trim() })),
  );
  const ids = links
    .filter(({ href, text }) => decodeURIComponent(/\/workflows\/([^/]+)\//.exec(href)?.[1] ?? '') === text)
    .map(({ text }) => text);
  return [...new Set(ids)].sort();
}

/** Clicks one of the run page's tabs (History, Relationships, User Metadata, ...) by its label. */
async function openTab(page: Page, label: string): Promise<void> {
  const labels: string[] = [];
  for (const tab of await page.$$('[role="tab"]')) {
    const text = (await tab.evaluate((element) => element.textContent as string)).trim();
    if (text.startsWith(label)) return tab.click();
    labels.push(text);
  }
  throw new Error(`${page.url()} has no "${label}" tab; its tabs are: ${labels.join(', ')}.`);
}

describe('the Temporal Web UI in a headless browser', function () {
  let outputDir: string;
  const runName = 'web-ui';
  const runId = `tagging-report/${runName}`;
  // 40 items in partitions of 15: three partition child workflows.
  const partitions = ['p0', 'p1', 'p2'].map((p) => `${runId}/${p}`);
  let server: ManagedProcess | undefined;
  let env: TestWorkflowEnvironment | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let config: BatchConfig;

  const screenshot = (name: string) => page.screenshot({ path: path.join(outputDir, `${name}.png`), fullPage: true });

  before(async function () {
    outputDir = outputFolder('web-ui');
    const [port, uiPort] = [await freePort(), await freePort()];
    config = { ...isolatedConfig(`127.0.0.1:${port}`), webUiUrl: `http://127.0.0.1:${uiPort}` };
    server = await startDevServer({
      cliPath: await ensureTemporalCli(() => undefined),
      port,
      uiPort,
      namespace: config.namespace,
      dbFile: path.join(outputDir, 'temporal.db'),
      logFile: path.join(outputDir, 'temporal-server.log'),
    });
    const testEnv = await TestWorkflowEnvironment.createFromExistingServer({ address: `127.0.0.1:${port}` });
    env = testEnv;
    await ensureSearchAttributes(testEnv.connection, config.namespace);

    const spec = { ...(await loadPipelineSpecFile(exampleSpec)), partitionSize: 15 };
    const items = await readPipelineItems(exampleItems);
    assert.equal(items.length, 40, `${exampleItems} changed: this test expects 40 items (three partitions of 15)`);
    // A second run of the same pipeline, so finding the first by BatchRun has something to leave out.
    await withPipelineWorkers(testEnv, config, [], () =>
      Promise.all([
        runPipeline(testEnv.client, config, spec, items, { runName }),
        runPipeline(testEnv.client, config, spec, items.slice(0, 5), { runName: 'another-run' }),
      ]),
    );
    // Visibility records are written after the executions close; the list reads them. Six: each
    // run and its partitions (three, and one for the five items of the other run).
    const query = `BatchPipeline = "tagging-report"`;
    await waitFor(
      'both runs and their partitions in the visibility store',
      async () => (await testEnv.client.workflow.count(query)).count === 6,
      30_000,
    );

    browser = await launchHeadlessChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && browser)
      await screenshot(`failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
  });

  after(async function () {
    await browser?.close();
    await env?.teardown();
    await server?.stop();
  });

  it('lists the run and its partitions when searched by BatchPipeline and BatchRun, and opens it', async () => {
    await page.goto(workflowListUrl(config, `BatchPipeline = "tagging-report" AND BatchRun = "${runName}"`));
    await waitForTexts(page, [runId, ...partitions]);
    await screenshot('1-runs-found-by-search-attributes');
    assert.deepEqual(await listedWorkflowIds(page), [runId, ...partitions]);

    const runPath = `/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(runId)}/`;
    await page.click(`table a[href^="${runPath}"]`);
    await waitFor('the run page to open', async () => page.url().endsWith('/history'), 30_000);
    await waitForTexts(page, ['Completed', runId, 'pipelineRun', 'Relationships']);
  });

  it("shows the run's summary and its partition child workflows", async () => {
    // The link `npm run cli -- run ...` prints (no run ID: the UI opens the latest run).
    await page.goto(workflowUrl(config, runId));
    await waitForTexts(page, ['Relationships']);

    await openTab(page, 'Relationships');
    await waitForTexts(page, ['Child Count', ...partitions]);
    await screenshot('2-relationships-partition-children');

    await openTab(page, 'User Metadata');
    await waitForTexts(page, [
      'Summary',
      'tagging-report run web-ui: 40 items',
      'tagging-report web-ui: partition 1 of 3, items 1–15',
      'tagging-report web-ui: partition 2 of 3, items 16–30',
      'tagging-report web-ui: partition 3 of 3, items 31–40',
    ]);
    await screenshot('3-summaries');

    await openTab(page, 'Search Attributes');
    await waitForTexts(page, ['"BatchPipeline": "tagging-report"', `"BatchRun": "${runName}"`, '"BatchStage": "done"']);
    await screenshot('4-search-attributes');
  });
});
