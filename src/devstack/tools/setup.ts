import { ensureChromium } from './chromium';
import { ensureTemporalCli } from './temporal-cli';
import { ensureTestServer } from './test-server';
import { ensureFfmpeg } from './ffmpeg-install';
import { ensureTemporalServer } from './temporal-server';
import { ensureUiServer } from './ui-server';
import { ensureVersitygw } from './versitygw';
import { ensureKafka } from './kafka';

export interface ToolNeeds {
  /** The Temporal CLI dev server (not needed when TEMPORAL_ADDRESS points at a cluster). */
  devServer: boolean;
  /** The Java time-skipping test server (tests only). */
  testServer: boolean;
  /** Chromium, for the test that drives the Web UI in a headless browser (tests only). */
  browser: boolean;
  /** Temporal Server, temporal-sql-tool and the UI server of the local cluster (npm run cluster, its tests). */
  cluster?: boolean;
  /** The Versity S3 gateway (npm start -- --s3, the object-store tests). */
  s3?: boolean;
  /** The Apache Kafka broker's jars (npm start -- --kafka, the Kafka tests). */
  kafka?: boolean;
}

export interface Tools {
  temporalCli?: string;
  testServer?: string;
  chromium?: string;
  temporalServer?: string;
  uiServer?: string;
  versitygw?: string;
  kafkaClasspath?: string;
  ffmpeg: string;
  ffprobe: string;
}

/**
 * The project's explicit, idempotent set-up: builds or fetches every tool through the package
 * registries into the git-ignored `.tools/` folder and reuses them afterwards.
 */
export async function ensureTools(needs: ToolNeeds, log: (line: string) => void): Promise<Tools> {
  const { ffmpeg, ffprobe } = await ensureFfmpeg(log);
  const tools: Tools = { ffmpeg, ffprobe };
  if (needs.devServer) tools.temporalCli = await ensureTemporalCli(log);
  if (needs.testServer) tools.testServer = await ensureTestServer(log);
  if (needs.browser) tools.chromium = await ensureChromium(log);
  if (needs.cluster) {
    tools.temporalServer = (await ensureTemporalServer(log)).server;
    tools.uiServer = await ensureUiServer(log);
  }
  if (needs.s3) tools.versitygw = await ensureVersitygw(log);
  if (needs.kafka) tools.kafkaClasspath = (await ensureKafka(log)).classpath;
  return tools;
}
