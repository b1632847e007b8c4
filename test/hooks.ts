import { stopSharedDevServer } from './support/servers';
import { stopAll } from '../src/runtime/processes';

// Root hooks: whatever a suite started is stopped once all suites are done.
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopAll();
    await stopSharedDevServer();
  },
};
