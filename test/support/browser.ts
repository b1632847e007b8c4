/**
 * A headless browser for tests that check the Temporal Web UI the way a person would: Debian's
 * Chromium (found, or installed, by src/devstack/tools/chromium.ts) driven by puppeteer-core.
 */
import puppeteer, { Browser, Page } from 'puppeteer-core';
import { ensureChromium } from '../../src/devstack/tools/chromium';
import { waitFor } from '../../src/infra/wait';

/**
 * Flags for a browser that only talks to the local Web UI: nothing fetched from the network
 * (updates, sync, metrics, default apps), no GPU, /tmp instead of a small /dev/shm, and no
 * sandbox, which cannot start as root in a container. `headless: true` adds `--headless=new`.
 */
const offlineHeadlessFlags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--metrics-recording-only',
  '--disable-default-apps',
  '--mute-audio',
];

export async function launchHeadlessChromium(): Promise<Browser> {
  // Prints only when Debian's package has to be installed first (about 20 s, once).
  const executablePath = await ensureChromium((line) => console.log(`      ${line}`));
  return puppeteer.launch({ executablePath, headless: true, args: offlineHeadlessFlags });
}

/** The text a person sees on the page, frames included (the Web UI renders summaries in an iframe). */
async function visibleText(page: Page): Promise<string> {
  const texts = await Promise.all(
    // A frame that goes away while it is read (the page navigating) shows nothing.
    page.frames().map((frame) => frame.$eval('body', (body) => body.innerText as string).catch(() => '')),
  );
  return texts.join('\n');
}

/** Waits until the page shows every one of `texts` (the Web UI renders after its API calls return). */
export async function waitForTexts(page: Page, texts: string[], timeoutMs = 30_000): Promise<void> {
  let missing = texts;
  try {
    await waitFor(
      'texts on the page',
      async () => {
        const shown = await visibleText(page);
        missing = texts.filter((text) => !shown.includes(text));
        return missing.length === 0;
      },
      timeoutMs,
    );
  } catch {
    const quoted = missing.map((text) => JSON.stringify(text)).join(', ');
    throw new Error(`${page.url()} did not show ${quoted} within ${timeoutMs / 1000} s.`);
  }
}
