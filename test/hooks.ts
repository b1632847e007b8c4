import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { stopSharedDevServer } from './support/servers';
import { stopAll } from '../src/infra/processes';

// Workers and servers log warnings for every failure the tests cause on purpose: show errors only.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }), forward: {} } },
});

// Root hooks: whatever a suite started is stopped once all suites are done.
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopAll();
    await stopSharedDevServer();
  },
};
